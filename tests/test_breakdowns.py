"""Breakdowns by grade band and gender: the suppression of parts (hand-made small counts and a
property test of the subtraction attack), and the part means against plain pandas."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import (  # noqa: E402
    MEMBERSHIP,
    MUNICIPALITY,
    build_fixture_warehouse,
    build_responses,
)

from evaluation.catalog import load_catalog  # noqa: E402
from evaluation.values import breakdowns as bd  # noqa: E402
from evaluation.values.distributions import MUNICIPALITY as MUNI_ROW  # noqa: E402
from evaluation.values.distributions import REST  # noqa: E402

CATALOG = load_catalog()


def table(cells: dict[tuple[str, str], int], positive: float = 0.5) -> pd.DataFrame:
    """n per (entity, part); a numerator of `positive` x n (rounded) for proportions."""
    index = pd.MultiIndex.from_tuples(list(cells), names=["entity", "part"])
    n = np.array(list(cells.values()), dtype=float)
    return pd.DataFrame({"n": n, "s1": np.round(n * positive)}, index=index)


def with_municipality(cells: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    out = dict(cells)
    for (_, part), n in cells.items():
        out[(MUNI_ROW, part)] = out.get((MUNI_ROW, part), 0) + n
    return out


def test_a_band_beside_the_total_and_a_hidden_band_is_hidden_too():
    cells = with_municipality(
        {("A", "4-6"): 20, ("A", "7-9"): 3, ("B", "4-6"): 30, ("B", "7-9"): 30}
    )
    hidden = bd.protect_dimension(table(cells), "mean", 5, set())
    assert hidden[("A", "7-9")] and hidden[("A", "4-6")]
    # the municipality's 7-9 less B's would give A's 3 pupils: B's 7-9 goes as well
    assert hidden[("B", "7-9")] or hidden[(MUNI_ROW, "7-9")]


def test_few_pupils_without_a_gender_hide_a_gender():
    cells = with_municipality(
        {("A", "girl"): 20, ("A", "boy"): 22, ("A", bd.UNKNOWN): 2, ("B", "girl"): 30}
    )
    hidden = bd.protect_dimension(table(cells), "mean", 5, set())
    assert hidden[("A", "girl")] != hidden[("A", "boy")]  # one goes with the 2 unknown


def test_a_hidden_total_hides_every_part():
    cells = with_municipality({("A", "4-6"): 20, ("A", "7-9"): 20, ("B", "4-6"): 30})
    hidden = bd.protect_dimension(table(cells), "mean", 5, {"A"})
    assert hidden[("A", "4-6")] and hidden[("A", "7-9")]


def test_proportions_need_their_numerator_and_complement():
    cells = with_municipality({("A", "4-6"): 40, ("A", "7-9"): 40})
    assert not bd.protect_dimension(table(cells, 0.5), "proportion", 5, set()).any()
    hidden = bd.protect_dimension(table(cells, 0.95), "proportion", 5, set())  # 2 not positive
    assert hidden[("A", "4-6")] and hidden[("A", "7-9")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=4),
    st.tuples(st.integers(0, 4), st.integers(0, 4)),
    st.integers(3, 6),
)
def test_no_hidden_part_is_found_by_subtraction(clusters, rest, min_n):
    """Every sum whose whole is shown (a cluster's total over its bands; the municipality's
    band over the clusters and the rest): its hidden pieces together are empty or pass the rule.
    A total under min_n is hidden in the published values, as the caller passes it."""
    cells = {}
    for i, (young, old) in enumerate(clusters):
        cells[(f"K{i}", "4-6")], cells[(f"K{i}", "7-9")] = young, old
    cells[(REST, "4-6")], cells[(REST, "7-9")] = rest
    frame = table(with_municipality(cells))
    entity = frame.index.get_level_values(0)
    part = frame.index.get_level_values(1)
    totals = frame.groupby(level=0)["n"].sum()
    hidden_totals = set(totals.index[totals < min_n])
    hidden = bd.protect_dimension(frame, "mean", min_n, hidden_totals).to_numpy()
    sums = [entity == e for e in set(entity) - {REST} - hidden_totals]
    sums += [
        (part == p) & (entity != MUNI_ROW)
        for p in ("4-6", "7-9")
        if not hidden[(entity == MUNI_ROW) & (part == p)].any()
    ]
    for members in sums:
        n = frame.loc[members & hidden, "n"].sum()
        assert n == 0 or n >= min_n


def test_band_means_match_plain_pandas(tmp_path):
    path = build_fixture_warehouse(tmp_path / "w.duckdb")
    stats = bd.part_stats(path, CATALOG, ["ro_og_orden"], 2024, MUNICIPALITY)
    out = bd.protected_breakdowns(stats, CATALOG, 5)
    frame = build_responses()
    frame = frame[frame["year"] == 2024]
    members = MEMBERSHIP[(MEMBERSHIP["cluster_id"] == "nord") & (MEMBERSHIP["from_year"] <= 2024)]
    members = members[members["to_year"].isna() | (members["to_year"] >= 2024)]
    nord = frame[frame["unit_id"].isin(members["unit_id"])]
    score = nord[["q24", "q31", "q32", "q33"]].mean(axis=1)  # every item answered here
    young = score[nord["grade"].between(4, 6)]
    row = out[(out["entity"] == "nord") & (out["part"] == "4-6")].iloc[0]
    assert row["n"] == len(young)
    assert abs(row["value"] - young.mean()) < 1e-12
    assert abs(row["se"] - young.std(ddof=1) / np.sqrt(len(young))) < 1e-12
    assert set(out["dimension"]) == {"band"}  # the fixture has no gender column
