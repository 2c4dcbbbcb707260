"""The median's variance from the spread of row medians (evaluation.stats.median_spread): the
pooled estimate against statsmodels' weighted least squares and against the textbook asymptotic
variance of a median, 1 / (4 f(m)^2 r) (Serfling 1980, 2.3.3)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.stats import median_spread


def test_pooled_spread_is_the_weighted_anova_residual_variance():
    """The within-group weighted variance equals the scale of statsmodels' WLS of the medians on
    group dummies with the counts as weights (an independent implementation)."""
    rng = np.random.default_rng(3)
    groups = np.repeat(["a", "b", "c", "d"], [3, 5, 2, 6])
    counts = rng.integers(1, 30, len(groups)).astype(float)
    medians = 30 + rng.normal(0, 8, len(groups)) / np.sqrt(counts) + (groups == "b") * 9
    found, df = median_spread.per_count_variance(medians, counts, groups)
    dummies = pd.get_dummies(groups).astype(float)
    fit = sm.WLS(medians, dummies, weights=counts).fit()
    assert df == len(groups) - 4 == fit.df_resid
    assert found == pytest.approx(fit.scale, rel=1e-12)


@pytest.mark.parametrize(
    ("draw", "textbook"),
    [
        # exponential with median 40: f(m) = ln 2 / (2 m), so 1 / (4 f^2) = (m / ln 2)^2
        (lambda rng, size: rng.exponential(40 / math.log(2), size), (40 / math.log(2)) ** 2),
        # normal with sd 10: f(m) = 1 / (sd sqrt(2 pi)), so 1 / (4 f^2) = pi sd^2 / 2
        (lambda rng, size: rng.normal(35, 10, size), math.pi * 100 / 2),
    ],
)
def test_spread_of_medians_recovers_the_asymptotic_variance(draw, textbook):
    """Rows holding the median of r draws (r 41-81) from one distribution per group: the pooled
    spread estimates 1 / (4 f(m)^2), the textbook asymptotic variance of a median times r."""
    rng = np.random.default_rng(11)
    counts = rng.integers(20, 41, 3000) * 2 + 1
    groups = np.arange(3000) // 6
    shifts = rng.normal(0, 5, 500)[groups]  # each group its own location, same shape
    medians = np.array([np.median(draw(rng, r)) for r in counts]) + shifts
    found, df = median_spread.per_count_variance(medians, counts, groups)
    assert df == 3000 - 500
    # the se of a variance estimate on 2500 df is about 3 %; small-sample medians add a little
    assert found == pytest.approx(textbook, rel=0.08)


def test_no_replication_gives_no_estimate_and_the_exponential_se():
    found, df = median_spread.per_count_variance([30.0, 40.0], [10, 5], ["a", "b"])
    assert (math.isnan(found), df) == (True, 0)
    # the exponential's se, median / (ln 2 sqrt(n)), when the spread is unknown
    se = median_spread.median_se([15.0, 15.0], [30.0, 30.0], [np.nan, 6.0])
    assert se[0] == pytest.approx(30 / (math.log(2) * math.sqrt(15)))
    assert se[1] == pytest.approx(math.sqrt(6.0))


def test_weighted_median_variance_against_textbook_limits():
    """One row: the row median's own variance s2 / r. Many equal rows: the sample median of
    normals, whose variance is pi / 2 times the mean's (Serfling 1980, 2.3.3)."""
    assert median_spread.weighted_median_variance([10.0], 100.0) == pytest.approx(10.0)
    many = median_spread.weighted_median_variance([10.0] * 201, 100.0)
    assert many == pytest.approx(math.pi / 2 * 100.0 / 2010, rel=0.1)
    assert math.isnan(median_spread.weighted_median_variance([10.0, 5.0], math.nan))


def bootstrap_by_definition(counts, per_count, draws=median_spread.DRAWS, seed=0):
    """The bootstrap literally, one group at a time: its own generator, every draw sorted and
    the first row where the cumulated counts reach half their total taken."""
    counts = np.asarray(counts, dtype=float)
    counts = counts[counts > 0]
    if not np.isfinite(per_count) or counts.size == 0:
        return math.nan
    if counts.size == 1:
        return float(per_count / counts[0])
    drawn = np.random.default_rng(seed).standard_normal((draws, counts.size))
    drawn = drawn * np.sqrt(per_count / counts)
    medians = []
    for row in drawn:
        order = np.argsort(row)
        first = np.argmax(np.cumsum(counts[order]) >= counts.sum() / 2)
        medians.append(row[order[first]])
    return float(np.var(np.array(medians), ddof=1))


@pytest.mark.parametrize("batch_elements", [median_spread.BATCH_ELEMENTS, 3_000])
def test_batched_variances_equal_the_bootstrap_group_by_group(monkeypatch, batch_elements):
    """All groups at once (normals drawn once, groups of a size sorted together, in batches)
    give bit for bit the numbers of each group's own bootstrap: sizes 0-60 and one of 450,
    counts with zeros and fractions, unknown spreads."""
    monkeypatch.setattr(median_spread, "BATCH_ELEMENTS", batch_elements)
    rng = np.random.default_rng(5)
    groups = []
    for size in [*rng.integers(0, 12, 60), *rng.integers(12, 61, 15), 450, 2, 2, 1, 0]:
        counts = rng.integers(0, 40, size).astype(float)
        if size % 3 == 0:
            counts = counts + rng.random(size)
        spread = float(rng.uniform(10, 400)) if size % 7 else math.nan
        groups.append((counts, spread))
    expected = [bootstrap_by_definition(counts, spread) for counts, spread in groups]
    found = median_spread.weighted_median_variances(groups)
    assert np.array_equal(np.array(found), np.array(expected), equal_nan=True)
    assert sum(np.isfinite(found)) > 50  # most groups have a variance to compare
    single = [median_spread.weighted_median_variance(c, s, draws=200, seed=4) for c, s in groups]
    by_definition = [bootstrap_by_definition(c, s, draws=200, seed=4) for c, s in groups]
    assert np.array_equal(np.array(single), np.array(by_definition), equal_nan=True)


def test_rows_with_ties_are_sorted_as_argsort_sorts_them():
    """Rows whose values the integer keys cannot tell apart (equal values, zeros, values a last
    bit apart) take argsort's order; the medians are those of a row by row argsort."""
    rng = np.random.default_rng(8)
    normals = rng.standard_normal((300, 6))
    normals[::3, 2] = normals[::3, 4]  # equal values
    normals[1::7, 0] = 0.0
    normals[2::5, 1] = np.nextafter(normals[2::5, 3], np.inf)  # a last bit apart
    counts, per_count = np.array([7.0, 12.0, 5.0, 12.0, 5.0, 20.0]), 50.0  # ties kept scaled
    order, unclear = median_spread.value_order(normals)
    assert unclear.sum() >= 100 and (~unclear).sum() >= 100
    assert np.array_equal(order[~unclear], np.argsort(normals[~unclear], axis=1))
    found = median_spread.weighted_medians_drawn(normals, [(counts, per_count)])[0]
    drawn = normals * np.sqrt(per_count / counts)
    assert median_spread.value_order(drawn)[1].sum() >= 100  # the argsort path is taken
    for row, median in zip(drawn, found, strict=True):
        order = np.argsort(row)
        first = np.argmax(np.cumsum(counts[order]) >= counts.sum() / 2)
        assert median == row[order[first]]
