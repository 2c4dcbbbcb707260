"""Follow-up of one decision: did the cluster's target indicator move more than the rest of the
municipality's since the decision, and is that clear?

The estimate is a difference in differences of two independent changes (the cluster and the
rest are disjoint pupils),

    (cluster now - cluster before) - (rest now - rest before),

so its variance is the sum of the two changes' variances: the SE of a difference of two
independent estimates is sqrt(se1^2 + se2^2) (Altman & Bland 2003, "Interaction revisited: the
difference between two estimates", BMJ 326:219). Proportions take their Wald variance p(1-p)/n
from the numerator and denominator; means and rates sd/sqrt(n); medians their own se. The
interval is estimate +- 1.96 se (normal). Pupils answering in both years (grades 4-9 overlap
across years) make the two years of one group positively correlated: the variance of each change
is var_before + var_now - 2 Cov, with Cov(mean_b, mean_a) = n_common c / (n_b n_a) for
overlapping samples, c the covariance of the common pupils' two values (Kish 1965, "Survey
Sampling", ch. 12 on overlapping samples; Cochran 1977, "Sampling Techniques", ch. 12 on sampling
on successive occasions). `change_variance` is the one home of that rule: the follow-up and the
drift estimate's sampling part both use it. Where no pupil is matched (register and daycare
figures, answers without pupil_key) the covariance is 0 and the two years count as independent.
A median is not additive, so its group is compared with the whole municipality, which holds it:
each year's Var(group - whole) is Var(group) - Var(whole) (`nested_variance`), not their sum.

Groups also drift apart from year to year beyond sampling (a school's weight in its cluster
changes as cohorts turn over, a school changes cluster, a neighbour's own action moves the
rest), so the four sampling errors alone made the interval too narrow over long spans: the
validation (validation/README.md) covered 0.977 over 2 years but 0.895 over 6. `drift_variance`
estimates that extra variance FROM THE DATA, the years before the decision with the
municipality's groups pooled: every pair of years of one group gives the squared change of
group-minus-rest beyond what sampling explains, and a straight line in the pair's gap is fitted
to those excesses (an empirical variogram, Diggle, Heagerty, Liang & Zeger 2002, "Analysis of
Longitudinal Data", ch. 3), read at the decision's span and truncated at 0 as the
method-of-moments between-study variance of DerSimonian & Laird (1986) is. The line nests both
shapes the brief weighed: a random walk (slope = its variance per year: the excess grows with
the span) and an i.i.d. group-year shock (slope 0, level 2 tau^2). The generator has no explicit
shock but its sources accumulate with the span, and the demo's variograms do rise with the gap,
so the slope carries most of it. The sampling part it subtracts is `change_variance`, with the
overlap's covariance, so the common pupils are not counted as drift's negative intercept.

The verdict is decided by the printed interval only: it excludes zero on the good side of the
indicator (its direction; lower_better reversed) -> clear progress, on the bad side -> clear
decline, else no clear change. No measurement since the decision -> too early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the normal 97.5 % quantile

TOO_EARLY, PROGRESS, NO_CHANGE, DECLINE = (
    "too_early",
    "clear_progress",
    "no_clear_change",
    "clear_decline",
)
VERDICTS = (TOO_EARLY, PROGRESS, NO_CHANGE, DECLINE)
# a change's variance never falls below this share of its two variances' sum: the covariance is
# estimated, and a change measured on (nearly) the same pupils is still not known exactly
FLOOR_SHARE = 0.01


@dataclass(frozen=True)
class Summary:
    """One group's value in one year with what its standard error needs.

    kind: proportion (value = numerator / n), mean or rate (sd = pupil SD), median (se given)."""

    kind: str
    n: float
    value: float
    numerator: float = math.nan
    sd: float = math.nan
    se: float = math.nan

    def variance(self) -> float:
        """The squared standard error: p(1-p)/n for a proportion, else se^2 (sd^2/n if no se)."""
        if self.kind == "proportion":
            p = self.numerator / self.n if self.n > 0 else math.nan
            return p * (1 - p) / self.n if self.n > 0 else math.nan
        if not math.isnan(self.se):
            return self.se**2
        return self.sd**2 / self.n if self.n > 0 else math.nan


@dataclass(frozen=True)
class FollowUp:
    """The two changes, their difference with its 95 % interval, and the verdict."""

    cluster_change: float
    rest_change: float
    estimate: float
    se: float
    low: float
    high: float
    verdict: str


def rest_of(whole: Summary, part: Summary) -> Summary | None:
    """The whole minus a part, from sufficient statistics (n, sum, sum of squares): the rest of
    a municipality without one cluster. None for medians (not additive) or a rest of < 2."""
    n = whole.n - part.n
    if whole.kind == "median" or not n >= 2:
        return None
    if whole.kind == "proportion":
        numerator = whole.numerator - part.numerator
        return Summary("proportion", n, numerator / n, numerator=numerator)
    sum1 = whole.n * whole.value - part.n * part.value
    sum2 = sum_of_squares(whole) - sum_of_squares(part)
    mean = sum1 / n
    variance = max((sum2 - n * mean**2) / (n - 1), 0.0)
    return Summary(whole.kind, n, mean, sd=math.sqrt(variance))


def sum_of_squares(s: Summary) -> float:
    """Sum of x^2 from n, mean and SD: (n - 1) sd^2 + n mean^2."""
    return (s.n - 1) * s.sd**2 + s.n * s.value**2


def follow_up(
    cluster_before: Summary,
    cluster_now: Summary,
    rest_before: Summary,
    rest_now: Summary,
    direction: str = "higher_better",
    drift: float = 0.0,
    covariances: tuple[float, float] = (0.0, 0.0),
    nested: bool = False,
) -> FollowUp:
    """The difference in differences with its 95 % interval and the verdict it decides.

    `covariances`: Cov(before, now) of the cluster's means and of the rest's (pupils in both
    years, overlap_covariance); `drift` (from drift_variance, at the follow-up's span) is added
    to the two changes' sampling variances. `nested`: the "rest" is the whole municipality,
    which holds the group (a median, not additive): see nested_variance."""
    cluster_change = cluster_now.value - cluster_before.value
    rest_change = rest_now.value - rest_before.value
    estimate = cluster_change - rest_change
    own, rest = covariances
    variance = change_variance(cluster_before.variance(), cluster_now.variance(), own)
    if nested:
        variance = nested_variance(variance, rest_before.variance() + rest_now.variance())
    else:
        variance += change_variance(rest_before.variance(), rest_now.variance(), rest)
    variance += drift
    se = math.sqrt(variance) if variance >= 0 else math.nan
    low, high = estimate - Z95 * se, estimate + Z95 * se
    return FollowUp(
        cluster_change, rest_change, estimate, se, low, high, verdict(low, high, direction)
    )


def nested_variance(group: float, whole: float) -> float:
    """Var(group - whole) when the whole holds the group: a mean, or a median through its
    Bahadur representation (Serfling 1980, 2.5: a sample median is a mean of indicators to first
    order), is a linear statistic, so Cov(group, whole) = Var(whole) and Var(group - whole) =
    Var(group) - Var(whole). Numbers or arrays; never below FLOOR_SHARE of Var(group)."""
    group = np.asarray(group, dtype=float)
    out = np.maximum(group - np.asarray(whole, dtype=float), FLOOR_SHARE * group)
    return float(out) if out.ndim == 0 else out


def change_variance(before: float, now: float, covariance: float = 0.0) -> float:
    """Var(now - before) = var_before + var_now - 2 Cov (Kish 1965 ch. 12), never below
    FLOOR_SHARE of var_before + var_now; an unknown covariance counts as 0. Numbers or arrays."""
    independent = np.asarray(before, dtype=float) + np.asarray(now, dtype=float)
    covariance = np.nan_to_num(np.asarray(covariance, dtype=float))
    out = np.maximum(independent - 2 * covariance, FLOOR_SHARE * independent)
    return float(out) if out.ndim == 0 else out


def overlap_covariance(n_common, sum_before, sum_now, sum_products, n_before, n_now):
    """Cov(mean_before, mean_now) of two overlapping samples: n_common c / (n_before n_now), c the
    sample covariance of the common members' two values (Kish 1965 ch. 12; Cochran 1977 ch. 12).
    Arrays or numbers; 0 where fewer than 2 are common."""
    n_common = np.asarray(n_common, dtype=float)
    enough = n_common >= 2
    safe = np.where(enough, n_common, 2.0)
    c = (sum_products - sum_before * sum_now / safe) / (safe - 1)
    out = np.where(enough, n_common * c / (np.asarray(n_before) * np.asarray(n_now)), 0.0)
    return float(out) if out.ndim == 0 else out


def drift_variance(gaps, changes, sampling_variances, span: float) -> float:
    """The groups' variance beyond sampling over `span` years (method of moments, truncated at 0).

    Per pair of years of one group: `change` of group-minus-rest, `gap` in years and the change's
    sampling variance. Its excess change^2 - sampling variance has expectation a + b * gap (a
    random walk with b per year, plus a for errors the two years share); a and b by least
    squares, and a + b * span returned, at least 0. With one gap only: the mean excess per year
    times the span. 0 without pairs."""
    gaps = np.asarray(gaps, dtype=float)
    excess = np.asarray(changes, dtype=float) ** 2 - np.asarray(sampling_variances, dtype=float)
    keep = np.isfinite(excess) & (gaps > 0)
    gaps, excess = gaps[keep], excess[keep]
    if gaps.size == 0:
        return 0.0
    if np.unique(gaps).size < 2:
        return max(float(excess.sum() / gaps.sum() * span), 0.0)
    slope, intercept = np.polyfit(gaps, excess, 1)
    return max(float(intercept + slope * span), 0.0)


def verdict(low: float, high: float, direction: str = "higher_better") -> str:
    """clear_progress / clear_decline when the interval excludes zero on the good / bad side of
    the indicator, else no_clear_change (also when the interval is unknown)."""
    if math.isnan(low) or math.isnan(high) or low <= 0 <= high:
        return NO_CHANGE
    up = low > 0
    return PROGRESS if up == (direction != "lower_better") else DECLINE
