"""The sampling variance of a median when only medians and their counts are known.

A register row gives the median waiting time of its r referrals, never the waits. The median of
r values from one distribution has the asymptotic variance 1 / (4 f(m)^2 r) (Serfling 1980,
"Approximation Theorems of Mathematical Statistics", 2.3.3; f the density at the median m), so
r (median - m)^2 has expectation 1 / (4 f(m)^2) whatever the distribution. Pooling that over
rows that share a distribution (the rows of one group: a home cluster's pupils at its schools)
estimates the constant without a density estimate and without the waits: the within-group
weighted variance of one-way analysis of variance with weights r, each group's own weighted
mean taken out (its degrees of freedom the rows less the groups). Rows whose groups differ in
their true median only make it larger (a wider interval, never a narrower one).

An interval from order statistics (Maritz & Jarrett 1978; a binomial interval on the order
statistics) needs the waits themselves, which the register does not hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DRAWS = 1000  # bootstrap draws: the variance to about 4.5 % (its sd: sqrt(2 / draws))


def per_count_variance(medians, counts, groups) -> tuple[float, int]:
    """(sigma^2, degrees of freedom) with Var(median of r values) ~ sigma^2 / r: the weighted
    within-group variance sum r_i (m_i - mean_g)^2 / (rows - groups), mean_g the r-weighted mean
    of the group's medians. Rows without a median or with r <= 0 are left out; nan with 0
    degrees of freedom when no group has two rows."""
    frame = pd.DataFrame({"m": medians, "r": counts, "g": groups})
    frame = frame[frame["m"].notna() & (frame["r"] > 0)]
    df = len(frame) - frame["g"].nunique()
    if df <= 0:
        return float("nan"), 0
    weighted = frame.assign(rm=frame["r"] * frame["m"])
    sums = weighted.groupby("g")[["rm", "r"]].transform("sum")
    group_mean = sums["rm"] / sums["r"]
    squares = float((frame["r"] * (frame["m"] - group_mean) ** 2).sum())
    return squares / df, int(df)


def weighted_median_variance(counts, per_count: float, draws: int = DRAWS, seed: int = 0) -> float:
    """Var of the count-weighted median of rows whose medians are N(m, per_count / r_i) (a
    parametric bootstrap, Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 6).

    The weighted median is the first row, in sorted order, where the cumulated counts reach half
    their total (evaluation.values.aggregate.weighted_medians): one row gives per_count / r; many
    equal rows give the sample median's pi/2 times the mean's variance; a few rows pick one of
    the middle ones, which no formula of n alone describes. nan when per_count is unknown."""
    counts = np.asarray(counts, dtype=float)
    counts = counts[counts > 0]
    if not np.isfinite(per_count) or counts.size == 0:
        return float("nan")
    if counts.size == 1:
        return float(per_count / counts[0])
    rng = np.random.default_rng(seed)
    drawn = rng.standard_normal((draws, counts.size)) * np.sqrt(per_count / counts)
    order = np.argsort(drawn, axis=1)
    cumulated = np.cumsum(counts[order], axis=1)
    first = np.argmax(cumulated >= counts.sum() / 2, axis=1)
    medians = np.take_along_axis(drawn, order, axis=1)[np.arange(draws), first]
    return float(medians.var(ddof=1))


def median_se(n, median, variance=None):
    """The median's se: the square root of its variance where known, else the exponential's
    median / (ln 2 sqrt(n)) (1 / (2 f(m) sqrt(n)) with f(m) = ln 2 / m)."""
    n = np.asarray(n, dtype=float)
    median = np.asarray(median, dtype=float)
    exponential = median / (np.log(2) * np.sqrt(n))
    if variance is None:
        return exponential
    variance = np.asarray(variance, dtype=float)
    return np.where(np.isfinite(variance), np.sqrt(np.abs(variance)), exponential)
