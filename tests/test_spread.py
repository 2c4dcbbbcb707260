"""evaluation.stats.spread: Var(value) = a + b / pupils for published school values without n."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.stats import spread


def test_size_variance_matches_a_reference_least_squares_fit():
    rng = np.random.default_rng(7)
    pupils = rng.integers(20, 1200, 400).astype(float)
    values = 3.6 + rng.normal(0, np.sqrt(0.01 + 2.5 / pupils))
    fit = spread.estimate_size_variance(values, pupils)
    target = np.average(values, weights=pupils)
    slope, intercept = np.polyfit(1 / pupils, (values - target) ** 2, 1)
    assert fit.target == pytest.approx(target)
    assert fit.b == pytest.approx(slope) and fit.intercept == pytest.approx(intercept)


def test_size_variance_recovers_known_components_in_a_large_sample():
    rng = np.random.default_rng(11)
    pupils = rng.integers(20, 1200, 40_000).astype(float)
    values = 3.6 + rng.normal(0, np.sqrt(0.01 + 2.5 / pupils))
    fit = spread.estimate_size_variance(values, pupils)
    assert fit.intercept == pytest.approx(0.01, abs=0.002)
    assert fit.b == pytest.approx(2.5, rel=0.1)


def test_rounding_variance_is_that_of_one_decimal():
    assert spread.ROUNDING_VARIANCE == pytest.approx(0.1**2 / 12)


# Four schools worked by hand: pupils 100, 100, 400, 400; values 3.8, 3.2, 3.7, 3.3.
# Pupil-weighted mean: (380 + 320 + 1480 + 1320) / 1000 = 3.5. Squared deviations 0.09, 0.09,
# 0.04, 0.04 against 1/pupils = 0.01, 0.01, 0.0025, 0.0025: two x values, so the least-squares
# line runs through (0.01, 0.09) and (0.0025, 0.04): b = 0.05 / 0.0075 = 20/3,
# a = 0.04 - (20/3) * 0.0025 = 7/300; it fits every school exactly, so b_se = 0.
PUPILS = [100, 100, 400, 400]


def test_size_variance_of_four_schools_by_hand():
    fit = spread.estimate_size_variance([3.8, 3.2, 3.7, 3.3], PUPILS, "generel_trivsel")
    assert fit.indicator_id == "generel_trivsel" and fit.n_schools == 4
    assert fit.target == pytest.approx(3.5)
    assert fit.intercept == pytest.approx(7 / 300)
    assert fit.b == pytest.approx(20 / 3)
    assert fit.b_se == pytest.approx(0, abs=1e-9)
    # Var at 100 pupils: 7/300 + 20/300 = 0.09; at 400: 7/300 + 5/300 = 0.04
    assert fit.variance([100, 400]) == pytest.approx([0.09, 0.04])


def test_size_variance_keeps_the_intercept_at_the_rounding_and_b_at_zero():
    # small schools spread more: 0.09 at 1/100, 0.01 at 1/400 -> b = 0.08 / 0.0075 = 32/3,
    # a = 0.01 - (32/3) * 0.0025 = -1/60 < 0: kept at the rounding variance 0.01 / 12
    fit = spread.estimate_size_variance([3.8, 3.2, 3.6, 3.4], PUPILS)
    assert fit.b == pytest.approx(32 / 3)
    assert fit.intercept == pytest.approx(0.01 / 12)
    # large schools spread more: 0.01 at 1/100, 0.09 at 1/400 -> b < 0 is kept at 0;
    # a = (4 * 0.09 - 0.01) / 3 = 0.35 / 3
    fit = spread.estimate_size_variance([3.6, 3.4, 3.8, 3.2], PUPILS)
    assert fit.b == 0.0
    assert fit.intercept == pytest.approx(0.35 / 3)


def test_assumed_sampling_se_uses_the_stated_assumptions():
    # grades 4-9: 0.6 * 0.85 = 0.51 of 100 pupils answer, pupil sd 0.6, plus the rounding
    se = spread.assumed_sampling_se([100], "4-9", "mean")
    assert se == pytest.approx([np.sqrt(0.36 / 51 + 0.01 / 12)])
    # absence: all 200 pupils, pupil sd 6 points
    assert spread.assumed_sampling_se([200], "all", "rate") == pytest.approx(
        [np.sqrt(36 / 200 + 0.01 / 12)]
    )


def test_loaded_tau2_with_unit_loadings_is_dersimonian_laird():
    from evaluation.stats import compare

    se = np.array([0.1, 0.2, 0.15, 0.3, 0.25])
    for phi in (0.5, 1.8, 4.0):
        expected = compare.dersimonian_laird_tau2(5, phi, se)
        assert spread.loaded_tau2(5, phi, se, np.ones(5)) == pytest.approx(expected)


def test_loaded_tau2_by_hand_and_recovered_by_simulation():
    # w = 1/se^2 = (100, 25), c = (1, 0.5): denominator 100 + 12.5 - (10000 + 312.5)/125 = 30
    tau2, raw = spread.loaded_tau2(2, 2.0, [0.1, 0.2], [1.0, 0.5])
    assert raw == pytest.approx((4 - 1) / 30) and tau2 == pytest.approx(0.1)
    assert spread.loaded_tau2(2, 0.2, [0.1, 0.2], [1.0, 0.5])[0] == 0.0  # clipped
    assert spread.loaded_tau2(2, 2.0, [0.1, 0.2], [0.0, 0.0])[0] == 0.0  # nothing shared
    # y_k = effect * sqrt(c_k) + noise: the moment estimate is unbiased for tau2 on average
    rng = np.random.default_rng(7)
    se = rng.uniform(0.05, 0.2, 400)
    c = rng.uniform(0.2, 1.0, 400)
    estimates = []
    for _ in range(200):
        y = rng.normal(0, np.sqrt(0.01 * c)) + rng.normal(0, se)
        z = (y - np.average(y, weights=1 / se**2)) / se
        estimates.append(spread.loaded_tau2(400, float(np.mean(z**2)), se, c)[1])
    assert np.mean(estimates) == pytest.approx(0.01, rel=0.05)


def test_counted_limits_are_a_normal_interval_with_tau2_sampling_and_rounding():
    """Independent check: scipy's normal interval with the random-effects se (Spiegelhalter
    2005, section 6): sqrt(tau2 + sd^2 / n + 0.1^2 / 12)."""
    from scipy import stats

    lower, upper = spread.counted_limits(3.6, [100, 400], 0.6, 0.01, 0.95)
    for i, n in enumerate((100, 400)):
        se = np.sqrt(0.01 + 0.36 / n + 0.1**2 / 12)
        lo, hi = stats.norm.interval(0.95, loc=3.6, scale=se)
        assert (lower[i], upper[i]) == pytest.approx((lo, hi))
    assert upper[1] - lower[1] < upper[0] - lower[0]  # more respondents, narrower
