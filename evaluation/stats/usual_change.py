"""A band of usual year-to-year variation for a published value that has no n (issue 16).

A published index or absence (one decimal, no respondent count, no sd) gets no sampling
interval for its change. What can be said is how much a school's value usually moves from one
year to the next: the root mean square of the schools' own published changes, widened for
one-decimal publication. Each published value carries a rounding error uniform on +/- 0.05,
variance 0.05^2 / 3, so a difference of two carries 2 * 0.05^2 / 3 more (the variance of a
uniform distribution, (b - a)^2 / 12). The observed changes hold that rounding already, so the
widening errs on the wide side, as the issue asks. A mean of several schools (a cluster, the
municipality) moves less: with weights w its band's variance is H times the school's,
H = sum w^2 / (sum w)^2 (the variance of a weighted mean of independent changes).

This is never a sampling interval: a change outside the band is "larger than the usual
swings", not a clear change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.errors import ParameterError
from evaluation.stats.change import z_two_sided

PUBLISHED_HALF_STEP = 0.05  # one decimal: a published value lies within +/- 0.05 of the true one
ROUNDING_DIFFERENCE_VARIANCE = 2 * PUBLISHED_HALF_STEP**2 / 3
MIN_CHANGES = 5  # fewer schools' changes give no band


@dataclass(frozen=True)
class UsualBand:
    """The band of usual changes of one published value: 0 +/- half_width."""

    sd: float  # sd of a school's change: sqrt(mean square change + rounding term)
    half_width: float
    changes: int  # the schools' changes it rests on
    level: float

    def scaled(self, concentration: float) -> UsualBand:
        """The band of a weighted mean of schools with H = `concentration` (1 for a school)."""
        factor = float(np.sqrt(concentration))
        return UsualBand(self.sd * factor, self.half_width * factor, self.changes, self.level)


def usual_change_band(changes, level: float = 0.95) -> UsualBand | None:
    """The band from the schools' year-to-year changes (NaN left out); None below MIN_CHANGES."""
    values = np.asarray(changes, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < MIN_CHANGES:
        return None
    sd = float(np.sqrt(np.mean(values**2) + ROUNDING_DIFFERENCE_VARIANCE))
    return UsualBand(sd, z_two_sided(level) * sd, len(values), level)


def concentration(weights) -> float:
    """H = sum w^2 / (sum w)^2 of positive weights (1 / H is the effective number of schools)."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0 or np.any(~(w > 0)):
        raise ParameterError("weights must be positive numbers, at least one")
    return float(np.sum(w**2) / np.sum(w) ** 2)


def against_usual(change: float, band: UsualBand | None) -> str:
    """'larger_increase' / 'larger_decrease' beyond the band, 'usual' inside it (a change on the
    band's edge is usual), 'missing' without a change or a band."""
    if band is None or change is None or np.isnan(change):
        return "missing"
    if change > band.half_width:
        return "larger_increase"
    if change < -band.half_width:
        return "larger_decrease"
    return "usual"
