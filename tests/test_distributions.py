"""Answer distributions: the merge rule with small counts, one partition per relation, the
secondary suppression of the rest, and the counts read from a warehouse."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.catalog import load_catalog
from evaluation.data import warehouse
from evaluation.values import distributions as dist
from evaluation.values.distributions import MUNICIPALITY, REST, common_partition

CATALOG = load_catalog()


def relation(rows: dict[str, list[int]]) -> pd.DataFrame:
    """Counts per entity: [refused, answer 1, ..., answer 5]."""
    return pd.DataFrame.from_dict(rows, orient="index", columns=[0, 1, 2, 3, 4, 5])


def test_a_small_category_merges_with_its_smaller_neighbour():
    # answer 2 has 2 pupils; its neighbours have 10 (answer 1) and 20 (answer 3)
    assert common_partition([[10, 2, 20, 30, 10]], 5) == ((1, 2), (3, 3), (4, 4), (5, 5))


def test_merging_goes_on_until_every_group_has_min_n():
    # 3 pupils per answer: 1+2 (6), then 3 (3) joins 4 (3, the smaller neighbour), then 5 joins
    assert common_partition([[3, 3, 3, 3, 3]], 5) == ((1, 2), (3, 5))
    assert common_partition([[1, 1, 1, 2, 12]], 5) == ((1, 4), (5, 5))


def test_one_group_left_means_nothing_is_shown():
    # a group holding everybody would need a complement of min_n: it has none
    assert common_partition([[1, 1, 1, 1, 12]], 5) == ()
    assert common_partition([[0, 0, 0, 0, 40]], 5) == ()


def test_the_partition_is_common_to_every_row():
    # the second row forces 4 and 5 together; 5 (20) is the smaller neighbour
    groups = common_partition([[10, 10, 10, 10, 10], [10, 10, 14, 2, 10]], 5)
    assert groups == ((1, 1), (2, 2), (3, 3), (4, 5))


def test_refusals_need_their_count_and_complement():
    # cluster A: 6 refused of 30 who saw the question: shown; B: 4 refused: hidden for all
    shown = dist.protect_relation(
        relation(
            {"A": [6, 5, 5, 5, 5, 4], "B": [6, 6, 6, 6, 6, 6], MUNICIPALITY: [12] + [11] * 4 + [10]}
        ),
        5,
    )
    assert shown["A"].refused_share == 6 / 30
    hidden = dist.protect_relation(
        relation({"A": [6, 5, 5, 5, 5, 5], "B": [4, 6, 6, 6, 6, 6], MUNICIPALITY: [10] + [11] * 5}),
        5,
    )
    assert all(d.refused_share is None for d in hidden.values())


def test_a_small_rest_hides_the_smallest_cluster_too():
    counts = relation(
        {
            "A": [0, 10, 10, 10, 10, 10],
            "B": [0, 6, 6, 6, 6, 6],
            REST: [0, 1, 0, 1, 0, 1],
        }
    )
    counts.loc[MUNICIPALITY] = counts.sum()
    out = dist.protect_relation(counts, 5)
    assert set(out) == {"A", MUNICIPALITY}  # B (30 pupils) goes with the 3 unclustered pupils
    assert out["A"].groups == out[MUNICIPALITY].groups


def published_counts(d: dist.Distribution) -> np.ndarray:
    return np.round(np.array(d.shares) * d.n)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 12), min_size=5, max_size=5), min_size=1, max_size=4),
    st.lists(st.integers(0, 3), min_size=5, max_size=5),
    st.integers(3, 6),
)
def test_no_hidden_group_is_found_by_subtraction(clusters, rest, min_n):
    """The attack: municipality minus the shown clusters, group by group. What it finds must
    be empty or itself pass the rule (count and complement at least min_n)."""
    rows = {f"K{i}": [0, *c] for i, c in enumerate(clusters)}
    rows[REST] = [0, *rest]
    counts = relation(rows)
    counts.loc[MUNICIPALITY] = counts.sum()
    out = dist.protect_relation(counts, min_n)
    for d in out.values():
        shown = published_counts(d)
        assert all(c >= min_n and d.n - c >= min_n for c in shown)
    if MUNICIPALITY not in out or not out[MUNICIPALITY].groups:
        return
    left = published_counts(out[MUNICIPALITY])
    for entity, d in out.items():
        if entity != MUNICIPALITY:
            left = left - published_counts(d)
    if left.sum() > 0:
        assert all(c >= min_n and left.sum() - c >= min_n for c in left)


def test_counts_from_the_warehouse_turn_reversed_items(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    warehouse.create_schema(con)
    warehouse.write_table(
        con,
        "units",
        pd.DataFrame(
            {"unit_id": ["s1", "s2"], "name": ["A", "B"], "kind": "school", "municipality": "By"}
        ),
    )
    warehouse.write_table(
        con,
        "cluster_membership",
        pd.DataFrame({"unit_id": ["s1", "s2"], "cluster_id": ["k1", "k2"], "from_year": 2020}),
    )
    # q09 "Føler du dig ensom?" is reversed: raw 1 (never) becomes 5
    answers = [1] * 12 + [5] * 12 + [0] * 6 + [None] * 3
    frame = pd.DataFrame(
        {
            "year": 2024,
            "unit_id": ["s1"] * len(answers) + ["s2"] * len(answers),
            "grade": 5,
            "pupil_key": [f"p{i}" for i in range(2 * len(answers))],
            "q09": answers * 2,
        }
    )
    warehouse.write_table(con, "responses", frame)
    con.close()
    out = dist.answer_distributions(path, CATALOG, "4-9", ["q09"], [2024], "By", 5)
    k1 = out[(2024, "q09")]["k1"]
    assert k1.n == 24  # skipped answers (NULL) do not count; refusals are apart
    assert k1.groups == ((1, 4), (5, 5))  # raw 5 -> 1 (12), raw 1 -> 5 (12)
    assert k1.shares == (0.5, 0.5)
    assert k1.refused_share == 6 / 30
    assert out[(2024, "q09")][MUNICIPALITY].n == 48
