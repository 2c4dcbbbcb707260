"""Privacy: min_n floor, primary and secondary suppression, and property-based attacks.

The property tests build small random hierarchies with their own list of additive relations
(the truth of how the numbers were summed, written here independently of
`privacy.build_relations`) and then try every single-difference attack, plus a full linear-algebra
check that no hidden count is determined by the published ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.catalog import load_catalog
from evaluation.errors import PrivacyError
from evaluation.values import privacy
from evaluation.values.aggregate import VALUE_COLUMNS

CATALOG = load_catalog()
MEAN = "social_trivsel"  # survey mean: clusters are sums of their member units
PROP = "udsagn_god_ven"  # survey proportion
REGISTER = "inklusionsgrad"  # register proportion: units by school, clusters by home cluster


def row(year, level, entity, indicator, n, numerator=None, cluster=None, muni="By"):
    kind = CATALOG.get(indicator).kind
    band = CATALOG.get(indicator).grade_band
    value = (numerator / n if kind == "proportion" else 3.5) if n else np.nan
    return {
        "year": year,
        "level": level,
        "entity_id": entity,
        "municipality": muni,
        "cluster_id": entity if level == "cluster" else cluster,
        "grade_band": band,
        "indicator_id": indicator,
        "kind": kind,
        "n": n,
        "numerator": numerator,
        "value": value,
        "sd": 0.8 if kind == "mean" else np.nan,
        "se": 0.1,
        "suppressed": False,
        "suppression_reason": None,
    }


def table(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    frame["n"] = frame["n"].astype("Int64")
    frame["numerator"] = pd.array(frame["numerator"].tolist(), dtype="Int64")
    return frame


def suppress(frame, min_n=5, extra=None):
    return privacy.suppress_values(frame, min_n=min_n, catalog=CATALOG, extra_relations=extra)


def status(out) -> dict:
    return dict(
        zip(
            out["entity_id"] + "/" + out["year"].astype(str), out["suppression_reason"], strict=True
        )
    )


# ------------------------------------------------------------------------------- min_n


@pytest.mark.parametrize("bad", [2, 1, 0, -5, 2.5, "five", None])
def test_min_n_below_three_or_not_whole_is_refused(bad):
    with pytest.raises(PrivacyError, match="from 3 upwards"):
        privacy.check_min_n(bad)


@pytest.mark.parametrize("ok", [3, 5, 10, 50])
def test_min_n_three_or_more_is_allowed(ok):
    assert privacy.check_min_n(ok) == ok


def test_suppress_values_refuses_low_min_n():
    with pytest.raises(PrivacyError):
        suppress(table([row(2024, "unit", "A", MEAN, 10)]), min_n=2)


# ------------------------------------------------------------------------------- primary


def test_primary_rule_for_means_and_proportions():
    rows = [
        row(2024, "municipality", "By", MEAN, 4),  # mean n 4 < 5 -> hidden
        row(2025, "municipality", "By", MEAN, 5),  # n 5 -> shown
        row(2024, "municipality", "By", PROP, 20, 4),  # numerator 4 -> hidden
        row(2025, "municipality", "By", PROP, 20, 16),  # complement 4 -> hidden
        row(2026, "municipality", "By", PROP, 10, 5),  # 5 and 5 -> shown
        row(2027, "municipality", "By", PROP, 30, 0),  # 0 % of 30 discloses everyone -> hidden
    ]
    out = suppress(table(rows))
    assert out["suppressed"].tolist() == [True, False, True, True, False, True]
    assert out["suppression_reason"].tolist() == [
        "primary",
        None,
        "primary",
        "primary",
        None,
        "primary",
    ]
    hidden = out[out["suppressed"]]
    for col in ("n", "numerator", "value", "sd", "se"):
        assert hidden[col].isna().all(), col
    # keys stay
    assert hidden["year"].tolist() == [2024, 2024, 2025, 2027]
    assert privacy.find_privacy_leaks(out).empty


def test_raising_min_n_hides_more():
    frame = table([row(2024, "municipality", "By", MEAN, 8)])
    assert not suppress(frame, min_n=5)["suppressed"].iloc[0]
    assert suppress(frame, min_n=10)["suppressed"].iloc[0]


# ------------------------------------------------------------------------------- secondary


def cluster_of_units(units: dict[str, int], cluster="K1", year=2024, indicator=MEAN):
    rows = [row(year, "unit", u, indicator, n, cluster=cluster) for u, n in units.items()]
    rows.append(row(year, "cluster", cluster, indicator, sum(units.values())))
    return rows


def test_one_hidden_unit_takes_its_smallest_sibling_along():
    rows = cluster_of_units({"A": 3, "B": 9, "C": 7, "D": 20})
    rows.append(row(2024, "municipality", "By", MEAN, 39))
    out = status(suppress(table(rows)))
    # A primary; C (7) is the smallest published sibling; B, D, cluster and municipality stay
    assert out == {
        "A/2024": "primary",
        "B/2024": None,
        "C/2024": "secondary",
        "D/2024": None,
        "K1/2024": None,
        "By/2024": None,
    }


def test_hidden_cluster_hides_a_sibling_cluster_and_then_one_of_its_units():
    rows = cluster_of_units({"A": 4}, cluster="K1")  # K1 = A alone: both n 4, both primary
    rows += cluster_of_units({"B": 30, "C": 25}, cluster="K2")
    rows += cluster_of_units({"D": 12, "E": 40}, cluster="K3")
    rows.append(row(2024, "municipality", "By", MEAN, 111))
    out = status(suppress(table(rows)))
    assert out["A/2024"] == "primary" and out["K1/2024"] == "primary"
    # municipality = K1 + K2 + K3: K1 hidden alone there, so the smaller of K2 (55) and
    # K3 (52) goes too, and then one unit of K3 (the smaller, D) so K3 cannot be summed
    assert out["K3/2024"] == "secondary" and out["K2/2024"] is None
    assert out["D/2024"] == "secondary" and out["E/2024"] is None
    assert out["By/2024"] is None


def test_register_units_and_home_clusters_both_sum_to_the_municipality():
    # units by school attended; clusters by home cluster: not nested, both add up to By
    rows = [
        row(2024, "unit", "S1", REGISTER, 100, 95, cluster="K1"),
        row(2024, "unit", "S2", REGISTER, 60, 54, cluster="K1"),
        row(2024, "unit", "S3", REGISTER, 12, 12, cluster="K2"),  # complement 0 -> primary
        row(2024, "cluster", "K1", REGISTER, 150, 139),
        row(2024, "cluster", "K2", REGISTER, 22, 22),  # complement 0 -> primary
        row(2024, "municipality", "By", REGISTER, 172, 161),
    ]
    out = status(suppress(table(rows)))
    assert out["S3/2024"] == "primary" and out["K2/2024"] == "primary"
    # S3 alone among the units: S2 (the smaller of S1, S2) goes too; K2 already has no partner
    # in the cluster relation: K1 goes (the only other cluster)
    assert out["S2/2024"] == "secondary" and out["K1/2024"] == "secondary"
    assert out["S1/2024"] is None and out["By/2024"] is None
    # the register cluster rows are not sums of their member units: K1 (home) != S1 + S2
    assert privacy.find_privacy_leaks(suppress(table(rows))).empty


def test_find_privacy_leaks_reports_each_kind_of_leak():
    rows = cluster_of_units({"A": 3, "B": 9, "C": 7})
    frame = table(rows)
    frame.loc[0, ["n", "value", "sd", "se"]] = [pd.NA, np.nan, np.nan, np.nan]
    frame.loc[0, ["suppressed", "suppression_reason"]] = [True, "primary"]
    frame.loc[1, "n"] = 2  # published with n 2
    frame.loc[2, ["suppressed", "suppression_reason"]] = [True, None]  # hidden, shows numbers
    leaks = privacy.find_privacy_leaks(frame)
    found = set(zip(leaks["entity_id"], leaks["leak"], strict=True))
    assert ("B", "published cell breaks the primary rule") in found
    assert ("C", "suppressed cell shows a number") in found
    assert ("C", "suppressed cell lacks a reason") in found
    # A and C hidden, B and K1 published: nothing alone, so no subtraction leak yet
    assert not any(leak.startswith("suppressed cell recoverable") for _, leak in found)
    frame.loc[2, ["suppressed", "suppression_reason"]] = [False, None]
    leaks = privacy.find_privacy_leaks(frame)
    assert ("A", "suppressed cell recoverable by subtraction in its relation") in set(
        zip(leaks["entity_id"], leaks["leak"], strict=True)
    )


# ------------------------------------------------------------------------------- properties


@st.composite
def hierarchies(draw):
    """Two years of one municipality: membership clusters (survey) and register home clusters,
    with units that may change cluster between the years, plus pooled two-year totals.

    Returns the values table, the true relations [(parent_row, [child_rows])] and the extra
    relations for the pooled totals (labels = row positions).
    """
    n_clusters = draw(st.integers(1, 3))
    n_units = draw(st.integers(1, 6))
    indicator = draw(st.sampled_from([MEAN, PROP, REGISTER]))
    small = st.integers(0, 14)
    rows, relations, pooled_rel = [], [], []
    position: dict[tuple, int] = {}

    def add(r):
        position[(r["year"], r["level"], r["entity_id"])] = len(rows)
        rows.append(r)
        return len(rows) - 1

    for year in (2024, 2025):
        member = [draw(st.integers(0, n_clusters - 1)) for _ in range(n_units)]
        if indicator == REGISTER:
            # register rows: (unit, home cluster) with a count and a numerator
            cells = {}
            for u in range(n_units):
                for c in range(n_clusters):
                    if draw(st.booleans()):
                        n = draw(small)
                        cells[(u, c)] = (n, draw(st.integers(0, n)))
            units = {u: [v for (uu, _), v in cells.items() if uu == u] for u in range(n_units)}
            homes = {c: [v for (_, cc), v in cells.items() if cc == c] for c in range(n_clusters)}
        else:
            leaf = {}
            for u in range(n_units):
                n = draw(small)
                leaf[u] = [(n, draw(st.integers(0, n)))]
            units = leaf
            homes = {
                c: [leaf[u][0] for u in range(n_units) if member[u] == c] for c in range(n_clusters)
            }

        def total(parts):
            return sum(p[0] for p in parts), sum(p[1] for p in parts)

        unit_pos, cluster_pos = [], {}
        for u, parts in units.items():
            n, k = total(parts)
            if n > 0:
                unit_pos.append(
                    (
                        u,
                        add(
                            row(
                                year,
                                "unit",
                                f"U{u}",
                                indicator,
                                n,
                                k if indicator != MEAN else None,
                                cluster=f"K{member[u]}",
                            )
                        ),
                    )
                )
        for c, parts in homes.items():
            n, k = total(parts)
            if n > 0:
                cluster_pos[c] = add(
                    row(year, "cluster", f"K{c}", indicator, n, k if indicator != MEAN else None)
                )
        n, k = total([p for parts in units.values() for p in parts])
        if n == 0:
            continue
        muni = add(row(year, "municipality", "By", indicator, n, k if indicator != MEAN else None))
        if indicator == REGISTER:
            relations.append((muni, [p for _, p in unit_pos]))
        else:
            for c, pos in cluster_pos.items():
                relations.append((pos, [p for u, p in unit_pos if member[u] == c]))
        relations.append((muni, list(cluster_pos.values())))

    # pooled 2024+2025 totals for clusters and the municipality (published beside the years)
    for level, entity in [("municipality", "By")] + [
        ("cluster", f"K{c}") for c in range(n_clusters)
    ]:
        parts = [
            position[(y, level, entity)] for y in (2024, 2025) if (y, level, entity) in position
        ]
        if not parts:
            continue
        n = sum(rows[p]["n"] for p in parts)
        k = None if indicator == MEAN else sum(rows[p]["numerator"] for p in parts)
        pooled = add(row(0, f"{level}_pooled", entity, indicator, n, k))
        pooled_rel.append((pooled, parts))
    muni_pooled = position.get((0, "municipality_pooled", "By"))
    kids = [position[k] for k in position if k[1] == "cluster_pooled"]
    if muni_pooled is not None and kids:
        pooled_rel.append((muni_pooled, kids))
    return table(rows), relations + pooled_rel, pooled_rel


def single_difference_leaks(out: pd.DataFrame, relations) -> list:
    """Relations where exactly one of parent and children is hidden (a one-step subtraction)."""
    hidden = out["suppressed"].to_numpy()
    leaks = []
    for parent, children in relations:
        cells = [parent, *children]
        if sum(hidden[c] for c in cells) == 1:
            leaks.append((parent, children))
    return leaks


def determined_hidden_cells(out: pd.DataFrame, relations) -> list[int]:
    """Hidden cells whose count follows from the published ones by any linear combination."""
    hidden = np.flatnonzero(out["suppressed"].to_numpy())
    if len(hidden) == 0 or not relations:
        return []
    a = np.zeros((len(relations), len(out)))
    for i, (parent, children) in enumerate(relations):
        a[i, parent] = -1
        for c in children:
            a[i, c] += 1
    a_hidden = a[:, hidden]
    rank = np.linalg.matrix_rank(a_hidden)
    found = []
    for j, cell in enumerate(hidden):
        unit = np.zeros(len(hidden))
        unit[j] = 1
        if np.linalg.matrix_rank(np.vstack([a_hidden, unit])) == rank:
            found.append(int(cell))
    return found


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hierarchies(), st.sampled_from([3, 5]))
def test_no_published_cell_breaks_primary_and_no_hidden_cell_is_recoverable(case, min_n):
    frame, relations, pooled = case
    extra = [(frame.index[p], [frame.index[c] for c in kids]) for p, kids in pooled]
    out = suppress(frame, min_n=min_n, extra=extra)
    # (i) primary: every published cell meets the rule, checked here from the raw counts
    shown = ~out["suppressed"]
    n, k = frame["n"].astype(float), frame["numerator"].astype(float)
    is_prop = frame["kind"] == "proportion"
    ok = np.where(is_prop, (k >= min_n) & (n - k >= min_n), n >= min_n)
    assert ok[shown.to_numpy()].all()
    assert out.loc[~shown, ["n", "numerator", "value", "sd", "se"]].isna().all().all()
    # (ii) no single subtraction (within a year, or across the two years via a pooled total)
    assert single_difference_leaks(out, relations) == []
    # (iii) nor any linear combination of all published relations
    assert determined_hidden_cells(out, relations) == []
    assert privacy.find_privacy_leaks(
        out, min_n=min_n, catalog=CATALOG, extra_relations=extra
    ).empty


def test_the_attacks_find_a_leak_when_secondary_suppression_is_skipped():
    """The attack functions above are not vacuous: with primary suppression only, they recover
    the hidden unit of a cluster (A = K1 - B - C) and, across years, a hidden year from a pooled
    total."""
    rows = cluster_of_units({"A": 3, "B": 9, "C": 7})  # positions 0-3, K1 = 3
    rows.append(row(2025, "cluster", "K1", MEAN, 4))  # 4: hidden in 2025
    rows.append(row(0, "cluster_pooled", "K1", MEAN, 23))  # 5: 2024 + 2025 published
    frame = table(rows)
    hidden = frame.assign(suppressed=[True, False, False, False, True, False])
    relations = [(3, [0, 1, 2]), (5, [3, 4])]
    assert single_difference_leaks(hidden, relations) == relations
    assert determined_hidden_cells(hidden, relations) == [0, 4]
    # and the real suppression closes both
    out = suppress(frame, extra=[(5, [3, 4])])
    assert single_difference_leaks(out, relations) == []
    assert determined_hidden_cells(out, relations) == []
