"""The groups' drift beyond sampling (evaluation.values.decision_drift): group minus rest from
values rows, only the years up to the decision's before year, and the drift over a span
recovered from simulated clusters whose shares follow a random walk of known variance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.values.decision_drift import difference_series, drift_before, year_pairs
from evaluation.values.decisions import summary_of

MUNI = "By"


def share_values(counts: dict, n: int) -> pd.DataFrame:
    """Proportion rows of clusters (n pupils each) and their municipality, per year."""
    rows = []
    for year, by_cluster in counts.items():
        total = sum(by_cluster.values())
        groups = [("cluster", c, n, k) for c, k in by_cluster.items()]
        groups.append(("municipality", MUNI, n * len(by_cluster), total))
        for level, entity, size, numerator in groups:
            rows.append(
                {
                    "year": year, "level": level, "entity_id": entity, "municipality": MUNI,
                    "kind": "proportion", "n": size, "numerator": numerator,
                    "value": numerator / size, "sd": np.nan, "se": np.nan, "suppressed": False,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_difference_is_the_cluster_minus_the_other_clusters_with_both_variances():
    values = share_values({2019: {"nord": 40, "syd": 60, "vest": 80}}, 200)
    series = difference_series(values, "cluster", MUNI, 2025, summary_of).set_index("entity_id")
    rest = (60 + 80) / 400
    assert series.loc["nord", "difference"] == pytest.approx(0.2 - rest)
    variance = 0.2 * 0.8 / 200 + rest * (1 - rest) / 400
    assert series.loc["nord", "variance"] == pytest.approx(variance)
    pairs = year_pairs(
        pd.DataFrame(
            {
                "entity_id": ["a", "a", "a"],
                "year": [2016, 2018, 2021],
                "difference": [0.1, 0.2, 0.0],
                "variance": [1.0, 2.0, 3.0],
            }
        )  # fmt: skip
    )
    assert sorted(zip(pairs.gap, pairs.change.round(9), pairs.variance, strict=True)) == [
        (2, 0.1, 3.0), (3, -0.2, 5.0), (5, -0.1, 4.0)
    ]  # fmt: skip


def random_walk_counts(rng, clusters: int, years: list[int], tau: float, n: int) -> dict:
    """Binomial counts around shares that each take a random-walk step of sd tau per year."""
    share = rng.uniform(0.3, 0.5, clusters)
    counts = {}
    for i, year in enumerate(years):
        if i:
            share = share + rng.normal(0, tau * np.sqrt(year - years[i - 1]), clusters)
        counts[year] = {f"k{c}": int(rng.binomial(n, share[c])) for c in range(clusters)}
    return counts


def test_random_walk_drift_is_recovered_and_none_without_it():
    rng = np.random.default_rng(5)
    years, clusters, tau = [2016, 2017, 2018, 2019, 2021], 40, 0.02
    estimates = []
    for _ in range(20):
        values = share_values(random_walk_counts(rng, clusters, years, tau, 600), 600)
        estimates.append(drift_before(values, "cluster", MUNI, 2021, 4, summary_of))
    # a cluster minus the mean of the other K-1 equal clusters: each walks with tau^2 per year
    truth = 4 * tau**2 * clusters / (clusters - 1)
    assert np.mean(estimates) == pytest.approx(truth, rel=0.1)
    flat = [
        drift_before(
            share_values(random_walk_counts(rng, clusters, years, 0.0, 600), 600),
            "cluster",
            MUNI,
            2021,
            4,
            summary_of,
        )
        for _ in range(20)
    ]
    assert np.mean(flat) < truth / 5  # only the truncation at 0 keeps it above 0


def test_only_the_years_up_to_the_before_year_count():
    counts = {y: {"nord": 100, "syd": 100} for y in (2016, 2017, 2018, 2019)}
    values = share_values(counts | {2021: {"nord": 190, "syd": 10}}, 400)
    assert drift_before(values, "cluster", MUNI, 2019, 2, summary_of) == 0.0
    assert drift_before(values, "cluster", MUNI, 2021, 2, summary_of) > 0.01
    hidden = values.assign(suppressed=values["year"] == 2021)
    assert drift_before(hidden, "cluster", MUNI, 2021, 2, summary_of) == 0.0


def test_a_median_is_compared_with_the_whole_municipality():
    """Medians are not additive, so the drift's series is the group minus the whole, whose
    variance is Var(group) - Var(whole) (the whole holds the group: followup.nested_variance)."""
    rows = [
        ("cluster", "nord", 40, 30.0, 3.0),
        ("cluster", "syd", 60, 36.0, 2.0),
        ("municipality", MUNI, 100, 34.0, 1.5),
    ]
    values = pd.DataFrame(
        [
            {
                "year": 2022, "level": level, "entity_id": entity, "municipality": MUNI,
                "kind": "median", "n": n, "numerator": np.nan, "value": value, "sd": np.nan,
                "se": se, "suppressed": False,
            }
            for level, entity, n, value, se in rows
        ]
    )  # fmt: skip
    series = difference_series(values, "cluster", MUNI, 2025, summary_of).set_index("entity_id")
    assert series.loc["nord", "difference"] == pytest.approx(30.0 - 34.0)
    assert series.loc["nord", "variance"] == pytest.approx(3.0**2 - 1.5**2)
    assert series.loc["syd", "variance"] == pytest.approx(2.0**2 - 1.5**2)


def test_years_a_groups_own_decision_can_show_are_left_out_of_the_drift():
    """A cluster whose decision moved it from 2018 on: those years are not drift."""
    rng = np.random.default_rng(2)
    counts = {
        y: {c: int(rng.binomial(400, 0.4)) for c in ("nord", "syd", "vest", "oest")}
        for y in (2016, 2017, 2018, 2019)
    }
    for year in (2018, 2019):
        counts[year]["nord"] = 280  # a 0.3 jump from about 0.4
    values = share_values(counts, 400)
    moved = drift_before(values, "cluster", MUNI, 2019, 2, summary_of)
    left_out = drift_before(values, "cluster", MUNI, 2019, 2, summary_of, None, {"nord": 2018})
    without = values[~((values["entity_id"] == "nord") & (values["year"] >= 2018))]
    assert left_out == pytest.approx(drift_before(without, "cluster", MUNI, 2019, 2, summary_of))
    # the others' series still carry nord's jump through their rest (a third of it each)
    assert left_out < moved / 2
