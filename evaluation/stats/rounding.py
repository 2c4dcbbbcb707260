"""Classifying published values that were rounded before we saw them.

A value published as v with d decimals stands for every true value in the closed interval
[v - h, v + h], h = 0.5 * 10^-d (the ministry publishes its indices with one decimal: 3,5 means
somewhere in 3,45-3,55). Such a value is called above (below) a limit only when its whole
rounding interval lies above (below) it; when a limit falls inside the interval the published
figure cannot tell which side the true value is on, and the state is "at_limit". A true value
exactly on a limit counts as within, as in `evaluation.stats.compare.classify`.
"""

from __future__ import annotations

import numpy as np

from evaluation.errors import ParameterError

STATES = ("below", "at_limit", "within", "above")  # low to high; "at_limit" is either limit
PUBLISHED_DECIMALS = 1  # the ministry's school figures (uddannelsesstatistik.dk)


def rounding_half_width(decimals: int) -> float:
    """Half the width of the interval a value rounded to `decimals` decimals stands for."""
    if decimals < 0:
        raise ParameterError(f"decimals must be 0 or more, got {decimals}")
    return 0.5 * 10.0 ** (-decimals)


def classify_rounded(value, lower, upper, decimals: int = PUBLISHED_DECIMALS) -> np.ndarray:
    """ "below" / "at_limit" / "within" / "above" for published values against their limits.

    above: v - h > upper (the whole interval beyond the upper limit); below: v + h < lower;
    within: lower <= v - h and v + h <= upper; at_limit otherwise (a limit inside the interval).
    An interval edge within 1e-9 h of a limit counts as on it (so 11,0 against 10,95 is at the
    limit, not above, whatever the binary rounding of 11.0 - 0.05). Missing limits or values
    give "within", like `compare.classify`.
    """
    value = np.asarray(value, dtype=float)
    lower = np.broadcast_to(np.asarray(lower, dtype=float), value.shape)
    upper = np.broadcast_to(np.asarray(upper, dtype=float), value.shape)
    half = rounding_half_width(decimals)
    tol = 1e-9 * half
    low_edge, high_edge = value - half, value + half
    above = low_edge - upper > tol
    below = lower - high_edge > tol
    inside = (low_edge - lower >= -tol) & (upper - high_edge >= -tol)
    known = np.isfinite(value) & np.isfinite(lower) & np.isfinite(upper)
    at_limit = known & ~above & ~below & ~inside
    return np.select([above, below, at_limit], ["above", "below", "at_limit"], "within")
