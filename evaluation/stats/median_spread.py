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
BATCH_ELEMENTS = 4_000_000  # normals sorted at once in weighted_median_variances (32 MB)


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
    return weighted_median_variances([(counts, per_count)], draws, seed)[0]


def weighted_median_variances(groups, draws: int = DRAWS, seed: int = 0) -> list[float]:
    """weighted_median_variance of every (counts, per_count) in `groups`, the same numbers
    faster (issue 17: the values cache asks for ~1,100 groups): the normals are drawn once, as
    a group of k rows draws the first draws * k of its generator's stream, and the groups of
    one size are sorted together in one array."""
    groups = list(groups)
    kept = [positive_counts(counts) for counts, _ in groups]
    variances = [float("nan")] * len(groups)
    by_size: dict[int, list[int]] = {}
    for index, (counts, (_, per_count)) in enumerate(zip(kept, groups, strict=True)):
        if not np.isfinite(per_count) or counts.size == 0:
            continue
        if counts.size == 1:
            variances[index] = float(per_count / counts[0])
        else:
            by_size.setdefault(counts.size, []).append(index)
    if not by_size:
        return variances
    normals = np.random.default_rng(seed).standard_normal(draws * max(by_size))
    for size, members in by_size.items():
        drawn = normals[: draws * size].reshape(draws, size)
        step = max(1, BATCH_ELEMENTS // (draws * size))
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            batch = [(kept[i], groups[i][1]) for i in chunk]
            for index, medians in zip(chunk, weighted_medians_drawn(drawn, batch), strict=True):
                variances[index] = float(medians.var(ddof=1))
    return variances


def positive_counts(counts) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    return counts[counts > 0]


def weighted_medians_drawn(normals: np.ndarray, batch) -> np.ndarray:
    """Per group of `batch` ((counts, per_count), all of one size k) and per row of `normals`
    (draws x k): the weighted median of the row scaled to the group's se (groups x draws)."""
    counts = np.stack([counts for counts, _ in batch])
    scales = np.stack([np.sqrt(per_count / counts) for counts, per_count in batch])
    drawn = normals * scales[:, None, :]
    order, unclear = value_order(drawn)
    if unclear.any():
        order[unclear] = np.argsort(drawn[unclear], axis=-1)
    offsets = (np.arange(len(batch)) * counts.shape[1])[:, None, None]
    sorted_counts = np.take(counts.ravel(), order + offsets)
    halves = np.array([group_counts.sum() / 2 for group_counts, _ in batch])
    first = np.argmax(np.cumsum(sorted_counts, axis=2) >= halves[:, None, None], axis=2)
    chosen = np.take_along_axis(order, first[..., None], axis=2)
    return np.take_along_axis(drawn, chosen, axis=2)[..., 0]


def value_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the argsort of each row of `values` along its last axis, the rows it may have ordered
    otherwise): each float's bits as an integer of the same order, its column written into the
    lowest bits, sorted as integers (~4x faster than argsort on rows of 10). Two values whose
    integers differ only in those bits (or are equal, or zeros) mark their row as unclear; any
    other row's order is the one order of its distinct values, as argsort's."""
    size = values.shape[-1]
    width = max(1, (size - 1).bit_length())
    bits = np.ascontiguousarray(values).view(np.int64)
    keys = bits ^ ((bits >> 63) & np.int64(0x7FFF_FFFF_FFFF_FFFF))  # negatives: order flipped
    lowest = np.int64((1 << width) - 1)
    keys &= ~lowest
    keys |= np.arange(size, dtype=np.int64)
    keys.sort(axis=-1)
    high = keys >> width
    unclear = (high[..., 1:] == high[..., :-1]).any(axis=-1) | (values == 0).any(axis=-1)
    return keys & lowest, unclear


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
