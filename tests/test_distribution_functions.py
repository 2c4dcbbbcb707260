"""evaluation.stats.distribution_functions against scipy.stats itself: bit for bit (nan where
scipy gives nan, the same sign of zero) on wide grids of quantiles, points and shapes, the
invalid ones and the ends of the supports included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaluation.stats import distribution_functions as df

PROBABILITIES = np.concatenate(
    [
        [0.0, 1.0, -0.1, 1.1, np.nan, 1e-300, 1e-12, 0.5, 1 - 1e-12, 0.975, 0.999, 0.025],
        np.linspace(0, 1, 201),
        np.random.default_rng(1).random(300),
    ]
)
POINTS = np.concatenate(
    [
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 1e6, -1e6],
        np.linspace(-40, 40, 321),
        np.random.default_rng(2).normal(0, 5, 300),
    ]
)
DEGREES = np.array([-1.0, 0.0, np.nan, 0.3, 1.0, 1.5, 2.0, 3.0, 7.0, 29.0, 120.0, 1e6, np.inf])


def assert_same(found, expected):
    found, expected = np.asarray(found), np.asarray(expected)
    assert found.shape == expected.shape and found.dtype == expected.dtype
    assert np.array_equal(found, expected, equal_nan=True)
    assert np.array_equal(np.signbit(found), np.signbit(expected))


def grid(values, shapes):
    """Every value with every shape: two arrays of the same length."""
    a, b = np.meshgrid(values, shapes, indexing="ij")
    return a.ravel(), b.ravel()


def test_normal_quantile():
    assert_same(df.norm_ppf(PROBABILITIES), stats.norm.ppf(PROBABILITIES))
    for q in (0.975, 0.999, 0.5, 0.0, 1.0, np.nan):
        assert_same(df.norm_ppf(q), stats.norm.ppf(q))
        assert type(df.norm_ppf(q)) is type(stats.norm.ppf(q))


@pytest.mark.parametrize(
    ("ours", "theirs", "values"),
    [
        (df.t_ppf, stats.t.ppf, PROBABILITIES),
        (df.t_sf, stats.t.sf, POINTS),
        (df.chi2_ppf, stats.chi2.ppf, PROBABILITIES),
        (df.chi2_sf, stats.chi2.sf, np.abs(POINTS) * 3),
        (df.chi2_sf, stats.chi2.sf, POINTS),
    ],
)
def test_one_shape_distributions(ours, theirs, values):
    x, shape = grid(values, DEGREES)
    assert_same(ours(x, shape), theirs(x, shape))
    assert_same(ours(0.975, 4), theirs(0.975, 4))  # scalars as the callers pass them
    assert_same(ours(values, 5.0), theirs(values, 5.0))


def test_f_survival():
    x, dfn = grid(np.abs(POINTS), DEGREES)
    for dfd in DEGREES:
        assert_same(df.f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))
    assert_same(df.f_sf(2.5, 3, 11), stats.f.sf(2.5, 3, 11))


COUNTS = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.5, 5.0, 9.0, 17.0, 29.0, 60.0, 250.0, np.nan])
SHARES = np.array([-0.1, 0.0, 1e-9, 0.01, 0.1, 0.25, 0.5, 0.77, 0.9, 0.999, 1.0, 1.2, np.nan])


def test_binomial_functions():
    q, n = grid(PROBABILITIES, COUNTS)
    k, n_k = grid(np.concatenate([np.arange(-2, 62, 0.5), [np.inf, -np.inf, np.nan]]), COUNTS)
    for p in SHARES:
        assert_same(df.binom_ppf(q, n, p), stats.binom.ppf(q, n, p))
        assert_same(df.binom_cdf(k, n_k, p), stats.binom.cdf(k, n_k, p))
        assert_same(df.binom_pmf(k, n_k, p), stats.binom.pmf(k, n_k, p))
    # as compare.binomial_quantile_interpolated calls them: one q, many n, one target
    n = np.arange(1.0, 80.0)
    r = stats.binom.ppf(0.025, n, 0.3)
    assert_same(df.binom_ppf(0.025, n, 0.3), r)
    assert_same(df.binom_cdf(r, n, 0.3), stats.binom.cdf(r, n, 0.3))
    assert_same(df.binom_pmf(r, n, 0.3), stats.binom.pmf(r, n, 0.3))


def test_the_binomial_falls_back_to_scipy_stats_where_the_fast_path_is_missing(monkeypatch):
    # the Boost functions are private to scipy: another scipy may keep them elsewhere
    for name in ("_binom_ppf", "_binom_cdf", "_binom_pmf"):
        monkeypatch.setattr(df, name, None)
    n = np.arange(1.0, 30.0)
    assert_same(df.binom_ppf(0.025, n, 0.3), stats.binom.ppf(0.025, n, 0.3))
    assert_same(df.binom_cdf(3.0, n, 0.3), stats.binom.cdf(3.0, n, 0.3))
    assert_same(df.binom_pmf(3.0, n, 0.3), stats.binom.pmf(3.0, n, 0.3))
