"""Pupils answering in both years (evaluation.values.year_overlap and followup.change_variance):
the covariance of a group's two years' means, checked on simulated panels of known correlation
against the textbook variance of a change on overlapping samples (Kish 1965, ch. 12):
Var(mean_a - mean_b) = s_b^2/n_b + s_a^2/n_a - 2 n_common rho s_b s_a / (n_b n_a)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import followup
from evaluation.values.year_overlap import covariances_from_pupils

RHO, N_COMMON, N_ONLY = 0.6, 120, 80  # 200 answers a year, 120 of them the same pupils


def overlapping_samples(rng, reps: int):
    """(before, now) values, reps x 200: the first N_COMMON pupils answer both years with
    correlation RHO, the others only one year (independent)."""
    common = rng.multivariate_normal([0, 0], [[1, RHO], [RHO, 1]], size=(reps, N_COMMON))
    only = rng.standard_normal((reps, 2, N_ONLY))
    before = np.concatenate([common[..., 0], only[:, 0]], axis=1)
    now = np.concatenate([common[..., 1], only[:, 1]], axis=1)
    return before, now


def estimated_change_variance(before: np.ndarray, now: np.ndarray) -> np.ndarray:
    """change_variance with overlap_covariance from each replicate's own sample."""
    n = before.shape[1]
    b, a = before[:, :N_COMMON], now[:, :N_COMMON]
    covariance = followup.overlap_covariance(
        N_COMMON, b.sum(axis=1), a.sum(axis=1), (b * a).sum(axis=1), n, n
    )
    return followup.change_variance(
        before.var(axis=1, ddof=1) / n, now.var(axis=1, ddof=1) / n, covariance
    )


@pytest.mark.parametrize("shares", [False, True])
def test_the_change_variance_matches_the_overlapping_samples_formula(shares):
    before, now = overlapping_samples(np.random.default_rng(15), 8000)
    if shares:  # 0/1 values: p = 1/2, covariance arcsin(rho) / (2 pi) (Sheppard's formula)
        before, now = (before > 0) * 1.0, (now > 0) * 1.0
        variance, covariance = 0.25, math.asin(RHO) / (2 * math.pi)
    else:
        variance, covariance = 1.0, RHO
    n = N_COMMON + N_ONLY
    published = 2 * variance / n - 2 * N_COMMON * covariance / n**2
    changes = now.mean(axis=1) - before.mean(axis=1)
    assert changes.var(ddof=1) == pytest.approx(published, rel=0.05)
    assert estimated_change_variance(before, now).mean() == pytest.approx(published, rel=0.02)
    # the four-independent-variances rule overstates it by more than the tolerance
    assert 2 * variance / n > published * 1.3


def test_no_overlap_leaves_the_variance_unchanged_and_the_floor_holds():
    assert followup.overlap_covariance(0, 0.0, 0.0, 0.0, 100, 100) == 0.0
    assert followup.overlap_covariance(1, 0.3, 0.4, 0.12, 100, 100) == 0.0
    assert followup.change_variance(0.002, 0.003) == pytest.approx(0.005)
    assert followup.change_variance(0.002, 0.003, math.nan) == pytest.approx(0.005)
    tiny = followup.change_variance(0.002, 0.002, 0.0025)
    assert tiny == pytest.approx(followup.FLOOR_SHARE * 0.004) and tiny > 0
    groups = [followup.Summary("mean", 100, v, sd=1.0) for v in (3.0, 3.1, 3.2, 3.4)]
    plain = followup.follow_up(*groups)
    assert plain.se == pytest.approx(math.sqrt(4 / 100))
    assert followup.follow_up(*groups, covariances=(0.0, 0.0)).se == plain.se
    tied = followup.follow_up(*groups, covariances=(0.004, 0.002))
    assert tied.se == pytest.approx(math.sqrt(4 / 100 - 2 * 0.006))


def pupil_rows(year: int, keys, clusters, values, unit="u") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": year, "unit_id": [f"{unit}{c}" for c in clusters], "cluster_id": clusters,
            "municipality": "By", "pupil_key": keys, "score": values,
        }
    )  # fmt: skip


def test_cluster_and_rest_covariances_from_pupil_rows():
    """Direct: common pupils of cluster A (1-5), of the rest (7-10; pupil 6 moves from A to B
    and counts in neither), one value missing (pupil 5 now), one pupil only before (11)."""
    before_values = [3.0, 2.0, 4.0, 5.0, 1.0, 2.0, 4.0, 3.0, 5.0, 2.0, 4.0]
    now_values = [3.5, 2.0, 3.0, 5.0, np.nan, 3.0, 4.5, 2.0, 4.0, 2.5]
    before = pupil_rows(2021, range(1, 12), list("AAAAAABBBBB"), before_values)
    now = pupil_rows(2022, range(1, 11), list("AAAAABBBBB"), now_values)
    found = covariances_from_pupils(pd.concat([before, now]), ["score"])
    cluster = found[found["level"] == "cluster"].set_index("entity_id")
    assert set(found["year_from"]) == {2021} and set(found["year_to"]) == {2022}
    a_b, a_a = np.array(before_values[:4]), np.array(now_values[:4])  # pupils 1-4
    expected_a = 4 * np.cov(a_b, a_a)[0, 1] / (6 * 4)  # 6 counted before, 4 now (5 missing)
    assert cluster.loc["A", "covariance"] == pytest.approx(expected_a)
    r_b, r_a = np.array(before_values[6:10]), np.array(now_values[6:10])  # pupils 7-10
    expected_rest = 4 * np.cov(r_b, r_a)[0, 1] / (5 * 5)  # the rest: 7-11 before, 6-10 now
    assert cluster.loc["A", "rest_covariance"] == pytest.approx(expected_rest)
    unit = found[found["level"] == "unit"].set_index("entity_id")
    assert unit.loc["uA", "covariance"] == pytest.approx(expected_a)
    disjoint = now.assign(pupil_key=now["pupil_key"] + 100)
    assert covariances_from_pupils(pd.concat([before, disjoint]), ["score"]).empty


def simulated_municipality(rng) -> pd.DataFrame:
    """Three clusters of 150 pupils answering both years (rho 0.7) plus 50 newcomers each."""
    rows = []
    for c, cluster in enumerate("ABC"):
        pair = rng.multivariate_normal([c * 0.1, c * 0.1], [[1, 0.7], [0.7, 1]], size=150)
        keys = [f"{cluster}{i}" for i in range(200)]
        fresh = rng.standard_normal(50)
        rows.append(pupil_rows(2021, keys[:150], [cluster] * 150, pair[:, 0]))
        rows.append(pupil_rows(2022, keys, [cluster] * 200, np.r_[pair[:, 1], fresh]))
    return pd.concat(rows, ignore_index=True)


def summary(values: np.ndarray) -> followup.Summary:
    return followup.Summary("mean", len(values), values.mean(), sd=values.std(ddof=1))


def test_the_follow_up_variance_matches_the_spread_of_the_estimate_on_a_simulated_panel():
    """Cluster A against B and C over 400 simulated municipalities: the mean squared se with
    the overlap equals the variance of the estimate (within its Monte Carlo error, about 7 %);
    without it the se^2 is about twice too large."""
    rng = np.random.default_rng(2026)
    estimates, tied, plain = [], [], []
    for _ in range(400):
        pupils = simulated_municipality(rng)
        found = covariances_from_pupils(pupils, ["score"]).query("level == 'cluster'")
        own = found.set_index("entity_id").loc["A"]
        groups = []
        for year in (2021, 2022):
            in_year = pupils[pupils["year"] == year]
            mine = in_year["cluster_id"] == "A"
            groups += [summary(in_year.loc[mine, "score"].to_numpy())]
            groups += [summary(in_year.loc[~mine, "score"].to_numpy())]
        cluster_b, rest_b, cluster_a, rest_a = groups
        covariances = (own["covariance"], own["rest_covariance"])
        result = followup.follow_up(cluster_b, cluster_a, rest_b, rest_a, covariances=covariances)
        estimates.append(result.estimate)
        tied.append(result.se**2)
        plain.append(followup.follow_up(cluster_b, cluster_a, rest_b, rest_a).se ** 2)
    spread = np.var(estimates, ddof=1)
    assert np.mean(tied) == pytest.approx(spread, rel=0.2)
    assert np.mean(plain) > 1.5 * spread


def test_group_sums_equal_numpy_bincount_to_the_last_bit():
    """group_sum (one sparse product) adds each group's rows in order as np.bincount does per
    column, so the cached covariances stay byte for byte what they were; NaN stays NaN, code -1
    is left out, an empty group sums to 0."""
    from evaluation.values.year_overlap import group_sum

    rng = np.random.default_rng(17)
    values = rng.standard_normal((5000, 12)) * 7.3
    values[rng.random(values.shape) < 0.2] = 0.0
    values[0, 3] = np.nan
    codes = rng.integers(-1, 40, 5000)
    codes[codes == 7] = 8  # group 7 has no row
    codes[0] = 5  # the NaN row's group
    kept = codes >= 0
    expected = np.column_stack(
        [np.bincount(codes[kept], weights=values[kept, j], minlength=41) for j in range(12)]
    )
    got = group_sum(values, codes, 41)
    assert got.shape == (41, 12) and got.dtype == np.float64
    assert got.tobytes() == expected.tobytes()
    assert np.isnan(got[5, 3]) and not np.isnan(got[5, 2])
    assert (got[7] == 0).all()
    assert group_sum(values[:, :0], codes, 41).shape == (41, 0)
