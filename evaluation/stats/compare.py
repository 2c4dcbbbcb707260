"""Fair comparison of units against the municipality: funnel limits and over-dispersion.

A funnel plot puts each unit's value against its size, with control limits around a target
(usually the municipality value) that narrow as units grow. A unit is "above" or "below" only
when it lies outside the limits. References:

- Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. Statistics in
  Medicine 24:1185-1202. (Limits, exact binomial limits with interpolation, appendix A.1.1;
  over-dispersion, section 6.)
- Spiegelhalter DJ, Sherlaw-Johnson C, Bardsley M, et al. (2012). Statistical methods for
  healthcare regulation: rating, screening and surveillance. JRSS A 175:1-47. (Winsorised
  z-scores at 10 % each end for the over-dispersion estimate, the default here; multiplicative
  and additive adjustments.)
- NHS Digital, SHMI methodology, as coded in FunnelPlotR's `truncation`: the z-scores in the
  lowest and highest 10 % are dropped (truncated) instead of winsorised, `trim="truncate"`.
- DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical Trials
  7:177-188. (Moment estimate of the between-unit variance tau^2, clipped at zero.)
- FunnelPlotR (NHS-R community, R package): Poisson limits for ratios of observed to expected
  counts from chi-square quantiles, matched to its published test values; its SHMI method
  (log ratio, z = sqrt(E) log(O/E), truncation) reproduced on its medpar example. Unlike
  FunnelPlotR, expected counts are not rounded to 2 decimals first (its SHMI_rounding; a
  difference in the fourth digit of phi there) and a zero count is taken as 0.5.

The public entry point is `compare_units`, which does the funnel, the over-dispersion check and
the classification for one indicator, one year and one set of units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.errors import ParameterError, Problem, ValidationError
from evaluation.stats import distribution_functions as dist
from evaluation.stats.meta import (  # noqa: F401 - dersimonian_laird is read from here too
    dersimonian_laird,
    dersimonian_laird_tau2,
)

LEVELS = (0.95, 0.998)  # the two funnel limits every report shows
EXACT_BELOW_N = 100  # proportions: exact binomial limits below this denominator, normal above
WINSOR_FRACTION = 0.10  # Spiegelhalter et al. 2012: winsorise z-scores at 10 % each end
TRIM_RULES = ("winsorise", "truncate")  # the default first (DESIGN.md); truncate as SHMI
DISPERSION_ALPHA = 0.05  # the chi-square test for over-dispersion rejects below this p-value
KINDS = ("mean", "rate", "proportion", "median", "ratio")
ADJUSTMENTS = ("auto", "none", "additive", "multiplicative")


def z_for_level(level: float) -> float:
    """Two-sided normal quantile: 0.95 -> 1.959964, 0.998 -> 3.090232."""
    if not 0 < level < 1:
        raise ParameterError(f"level must be between 0 and 1, got {level}; use e.g. 0.95")
    return float(dist.norm_ppf(0.5 + level / 2))


# ---------------------------------------------------------------------------------------------
# Funnel limits without over-dispersion
# ---------------------------------------------------------------------------------------------


def binomial_quantile_interpolated(p: float, n, target: float) -> np.ndarray:
    """The p-quantile of Binomial(n, target)/n, interpolated between the discrete steps.

    Spiegelhalter (2005), appendix A.1.1: with r_p the smallest r where P(R <= r) >= p,
    alpha = (P(R <= r_p) - p) / (P(R <= r_p) - P(R <= r_p - 1)) and the limit is (r_p - alpha)/n.
    Without interpolation the limit would be r_p / n (R's qbinom(p, n, target) / n).
    """
    n = np.asarray(n, dtype=float)
    r_p = dist.binom_ppf(p, n, target)
    cdf = dist.binom_cdf(r_p, n, target)
    step = dist.binom_pmf(r_p, n, target)
    alpha = np.divide(cdf - p, step, out=np.zeros_like(cdf), where=step > 0)
    return (r_p - alpha) / n


def binomial_limits(n, target: float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial funnel limits (lower, upper) for a proportion, interpolated.

    Spiegelhalter (2005) appendix A.1.1; used for small denominators where the normal
    approximation is poor.
    """
    tail = (1 - level) / 2
    lower = binomial_quantile_interpolated(tail, n, target)
    upper = binomial_quantile_interpolated(1 - tail, n, target)
    return lower, upper


def proportion_null_se(n, target: float) -> np.ndarray:
    """Standard error of a proportion under the target: sqrt(target (1 - target) / n)."""
    return np.sqrt(target * (1 - target) / np.asarray(n, dtype=float))


def proportion_limits(
    n, target: float, level: float = 0.95, exact_below_n: int = EXACT_BELOW_N
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for proportions: exact binomial below `exact_below_n`, normal otherwise.

    Spiegelhalter (2005) section 3 and appendix A.1.1. Limits are clipped to [0, 1].
    """
    n = np.asarray(n, dtype=float)
    half = z_for_level(level) * proportion_null_se(n, target)
    lower, upper = target - half, target + half
    small = n < exact_below_n
    if small.any():
        ex_lower, ex_upper = binomial_limits(n[small], target, level)
        lower, upper = lower.copy(), upper.copy()
        lower[small], upper[small] = ex_lower, ex_upper
    return np.clip(lower, 0, 1), np.clip(upper, 0, 1)


def mean_limits(n, target: float, sd: float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for a mean (e.g. of a 1-5 scale): target +/- z * sd / sqrt(n).

    Spiegelhalter (2005) section 3, normal outcome with known within-unit sd.
    """
    half = z_for_level(level) * sd / np.sqrt(np.asarray(n, dtype=float))
    return target - half, target + half


def poisson_ratio_limits(
    expected, level: float = 0.95, target: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for a ratio of observed to expected counts (exact Poisson).

    As FunnelPlotR's `calculate_limits` for standardised ratios: the lower limit is
    qchisq(tail, 2E) / 2 / E and the upper qchisq(1 - tail, 2(E + 1)) / 2 / E, which interpolates
    the discrete Poisson quantiles smoothly (Spiegelhalter 2005, appendix A.1.2).
    """
    e = np.asarray(expected, dtype=float)
    tail = (1 - level) / 2
    lower = dist.chi2_ppf(tail, 2 * e) / 2 / e
    upper = dist.chi2_ppf(1 - tail, 2 * (e + 1)) / 2 / e
    return target * lower, target * upper


# ---------------------------------------------------------------------------------------------
# z-scores and over-dispersion
# ---------------------------------------------------------------------------------------------


def proportion_z_scores(numerator, denominator, target: float) -> np.ndarray:
    """z = (p - target) / sqrt(target (1 - target) / n), as funnelR's `funscore`."""
    d = np.asarray(denominator, dtype=float)
    p = np.asarray(numerator, dtype=float) / d
    return (p - target) / proportion_null_se(d, target)


def winsorise(z, fraction: float = WINSOR_FRACTION) -> np.ndarray:
    """Pull z-scores below the `fraction` quantile and above the 1 - `fraction` quantile in to
    those quantiles (Spiegelhalter et al. 2012; quantiles as R's type 7, as FunnelPlotR's
    `winsorisation`)."""
    z = np.asarray(z, dtype=float)
    low, high = np.quantile(z, [fraction, 1 - fraction])
    return np.clip(z, low, high)


def truncate(z, fraction: float = WINSOR_FRACTION) -> np.ndarray:
    """The z-scores with the lowest and highest `fraction` set to NaN (dropped, not pulled in).

    As FunnelPlotR's `truncation` for the SHMI method: with k = 1 / fraction rank groups,
    group = floor(rank k / (N + 1)) (ranks with ties averaged), and the first and the last
    group are dropped. With fraction 0.10 that is about 10 % at each end (5 of 54 units each).
    """
    from scipy import stats  # why: scipy.stats (~0.7 s to import) only for this rare rule

    z = np.asarray(z, dtype=float)
    k = 1 / fraction
    group = np.floor(stats.rankdata(z) * k / (len(z) + 1))
    kept = (group > 0) & (group < k - 1)
    return np.where(kept, z, np.nan)


def check_trim(trim: str) -> None:
    if trim not in TRIM_RULES:
        raise ParameterError(f"trim={trim!r} is not known; use one of {TRIM_RULES}")


def trim_z(z, fraction: float = WINSOR_FRACTION, trim: str = "winsorise") -> np.ndarray:
    """Winsorise (default) or truncate z-scores before phi is estimated; NaN marks a dropped
    unit."""
    check_trim(trim)
    return winsorise(z, fraction) if trim == "winsorise" else truncate(z, fraction)


@dataclass(frozen=True)
class Dispersion:
    """The over-dispersion check for one comparison (Spiegelhalter et al. 2012)."""

    n_units: int
    phi: float  # mean of squared trimmed z-scores; 1 when units vary only by chance
    chi2: float  # n_used * phi
    df: int
    p_value: float  # chi-square test of no over-dispersion
    tau2: float  # additive between-unit variance, clipped at zero
    tau2_unclipped: float
    trim_fraction: float  # share trimmed at each end
    rejects: bool  # p_value < DISPERSION_ALPHA
    trim: str = "winsorise"  # "winsorise" (Spiegelhalter 2012) or "truncate" (SHMI)
    n_used: int = 0  # units behind phi and tau^2: all when winsorised, fewer when truncated


def check_dispersion(
    z,
    se,
    target_estimated: bool = True,
    fraction: float = WINSOR_FRACTION,
    trim: str = "winsorise",
) -> Dispersion:
    """Trim z-scores, estimate phi and tau^2, and test for over-dispersion.

    trim="winsorise" (default) pulls the outer `fraction` at each end in (Spiegelhalter et al.
    2012); trim="truncate" drops them, as the SHMI method in FunnelPlotR, and phi and tau^2 are
    then estimated on the units kept only. phi = mean(z_trimmed^2); N phi (N = units used) is
    compared with chi-square on N - 1 degrees of freedom when the target is estimated from the
    same units (N when it is given from outside), Spiegelhalter (2005) section 6.3; after
    truncation the test is conservative. `se` are the units' standard errors on the scale of
    the z-scores.
    """
    check_trim(trim)
    z = np.asarray(z, dtype=float)
    n_units = len(z)
    if n_units < 3:
        return Dispersion(
            n_units, np.nan, np.nan, 0, np.nan, 0.0, np.nan, fraction, False, trim, n_units
        )
    zt = trim_z(z, fraction, trim)
    used = ~np.isnan(zt)
    n_used = int(used.sum())
    phi = float(np.mean(zt[used] ** 2))
    chi2 = n_used * phi
    df = n_used - 1 if target_estimated else n_used
    p_value = float(dist.chi2_sf(chi2, df))
    tau2, raw = dersimonian_laird_tau2(n_used, phi, np.asarray(se, dtype=float)[used])
    rejects = p_value < DISPERSION_ALPHA
    return Dispersion(n_units, phi, chi2, df, p_value, tau2, raw, fraction, rejects, trim, n_used)


def choose_adjustment(adjust: str, dispersion: Dispersion) -> str:
    """Resolve `adjust="auto"`: the additive adjustment when the test rejects, else none."""
    if adjust not in ADJUSTMENTS:
        raise ParameterError(f"adjust={adjust!r} is not known; use one of {ADJUSTMENTS}")
    if adjust == "auto":
        return "additive" if dispersion.rejects and dispersion.tau2 > 0 else "none"
    return adjust


def adjusted_half_width(se, level: float, method: str, dispersion: Dispersion) -> np.ndarray:
    """Half-width of over-dispersed normal limits: z sqrt(se^2 + tau^2) (additive) or
    z sqrt(phi) se (multiplicative, only when phi > 1). Spiegelhalter (2005) section 6."""
    se = np.asarray(se, dtype=float)
    z = z_for_level(level)
    if method == "additive":
        return z * np.sqrt(se**2 + dispersion.tau2)
    if method == "multiplicative":
        return z * np.sqrt(max(dispersion.phi, 1.0)) * se
    return z * se


# ---------------------------------------------------------------------------------------------
# The comparison of one indicator for one year
# ---------------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Result of `compare_units`: one row per unit plus the over-dispersion check.

    `units` columns: entity_id, n, value, target, se0 (standard error under the target), z,
    z_winsorised, lower_95, upper_95, lower_998, upper_998, classification (at 95 %),
    classification_998, limits (how the limits were made), adjustment; the intervals that decided
    the classification (`deciding_interval`): decided_low_95, decided_high_95, and for difference
    = value - target difference_low_95 = value - upper_95, difference_high_95 (and _998 each).
    """

    kind: str
    target: float
    adjustment: str
    dispersion: Dispersion
    units: pd.DataFrame
    excluded: list[str] = field(default_factory=list)  # suppressed or empty rows left out

    def summary(self) -> dict:
        """A flat record of how the comparison was made (for the methods section)."""
        d = self.dispersion
        return {
            "kind": self.kind,
            "target": self.target,
            "adjustment": self.adjustment,
            "n_units": d.n_units,
            "phi": d.phi,
            "chi2": d.chi2,
            "df": d.df,
            "p_overdispersion": d.p_value,
            "tau2": d.tau2,
            "tau2_unclipped": d.tau2_unclipped,
            "trim": d.trim,
            "trim_fraction": d.trim_fraction,
            "n_used": d.n_used,
            "n_excluded": len(self.excluded),
        }


def classify(value, lower, upper) -> np.ndarray:
    """ "below" / "within" / "above" the limits (a value on a limit counts as within)."""
    value = np.asarray(value, dtype=float)
    return np.where(value < lower, "below", np.where(value > upper, "above", "within"))


def deciding_interval(kind, value, target, lower, upper, classification):
    """The interval that decides a verdict: the limits reflected around the unit's value.

    [value - (upper - target), value + (target - lower)] holds the target exactly when the value
    lies inside the limits, also for asymmetric exact limits: an interval for the unit's value
    including the usual variation between units (tau^2, when the adjustment is on), i.e. the
    funnel of Spiegelhalter (2005) turned around the unit. Shares stay in 0-1 and ratios at or
    above 0 (so does the target); the last lines only mend last-digit rounding, so the interval
    and `classification` never disagree, also for a value exactly on a limit."""
    value, lower, upper = (np.asarray(x, dtype=float) for x in (value, lower, upper))
    low, high = value - (upper - target), value + (target - lower)
    if kind in ("proportion", "ratio"):
        top = 1 if kind == "proportion" else None
        low, high = np.clip(low, 0, top), np.clip(high, 0, top)
    verdict = np.asarray(classification)
    low = np.where(verdict == "within", np.minimum(low, target), low)
    high = np.where(verdict == "within", np.maximum(high, target), high)
    low = np.where(verdict == "above", np.maximum(low, np.nextafter(target, np.inf)), low)
    high = np.where(verdict == "below", np.minimum(high, np.nextafter(target, -np.inf)), high)
    return low, high


def check_values_frame(values: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Keep usable rows and check the columns `compare_units` needs for this kind."""
    if kind not in KINDS:
        raise ParameterError(f"kind={kind!r} is not known; use one of {KINDS}")
    needed = {"entity_id", "n", "value"}
    if kind in ("mean", "rate"):
        needed.add("sd")
    if kind == "median":
        needed.add("se")
    missing = sorted(needed - set(values.columns))
    if missing:
        raise ValidationError(
            [
                Problem(
                    "indicator values",
                    None,
                    col,
                    "no such column",
                    f"columns {sorted(needed)} for kind={kind!r}",
                    "pass the indicator-value table of docs/architecture.md",
                )
                for col in missing
            ]
        )
    return values


def pooled_sd(n, sd) -> float:
    """Pooled within-unit sd: sqrt(sum (n-1) sd^2 / sum (n-1))."""
    n, sd = np.asarray(n, dtype=float), np.asarray(sd, dtype=float)
    return float(np.sqrt(np.sum((n - 1) * sd**2) / np.sum(n - 1)))


def compare_units(
    values: pd.DataFrame,
    target: float | None = None,
    kind: str = "mean",
    adjust: str = "auto",
    sd: float | None = None,
    exact_below_n: int = EXACT_BELOW_N,
    trim: str = "winsorise",
) -> Comparison:
    """Funnel limits, over-dispersion check and classification for one indicator and year.

    `values` has the columns of the indicator-value table (docs/architecture.md): entity_id, n,
    value, and per kind: sd (mean, rate), numerator (proportion; else value * n is used),
    se (median). For kind="ratio", `value` is observed / expected and `n` the expected count.
    Rows with a missing value (suppressed) are left out and listed in `excluded`.

    target: the municipality value; when None it is the pooled value of the units (then the
    chi-square test uses N - 1 degrees of freedom). adjust: "auto" (additive random-effects
    limits when the over-dispersion test rejects at 5 %, else none), "none", "additive",
    "multiplicative". trim: how outlying z-scores are handled before phi and tau^2 are
    estimated, "winsorise" (default) or "truncate" (`check_dispersion`); the column
    z_winsorised is the winsorised z either way. Methods: Spiegelhalter (2005); Spiegelhalter
    et al. (2012).
    """
    check_values_frame(values, kind)
    usable = values["value"].notna() & values["n"].notna() & (values["n"] > 0)
    if kind == "median":
        usable &= values["se"].notna() & (values["se"] > 0)
    excluded = values.loc[~usable, "entity_id"].astype(str).tolist()
    df = values.loc[usable].reset_index(drop=True)
    n = df["n"].to_numpy(dtype=float)
    value = df["value"].to_numpy(dtype=float)
    target_estimated = target is None
    if len(df) == 0:
        raise ParameterError("no unsuppressed units to compare; check the year and indicator")
    target, scale_value, se0, limits_label = null_scale(kind, df, target, sd, exact_below_n)

    z = (scale_value - (0.0 if kind == "ratio" else target)) / se0
    dispersion = check_dispersion(z, se0, target_estimated=target_estimated, trim=trim)
    method = choose_adjustment(adjust, dispersion)

    out = pd.DataFrame(
        {
            "entity_id": df["entity_id"].to_numpy(),
            "n": n,
            "value": value,
            "target": target,
            "se0": se0,
            "z": z,
            "z_winsorised": winsorise(z) if len(z) >= 3 else z,
        }
    )
    for level, tag in zip(LEVELS, ("95", "998"), strict=True):
        lower, upper = unit_limits(kind, n, target, se0, level, method, dispersion, exact_below_n)
        verdict = classify(value, lower, upper)
        out[f"lower_{tag}"], out[f"upper_{tag}"] = lower, upper
        out["classification" if tag == "95" else f"classification_{tag}"] = verdict
        low, high = deciding_interval(kind, value, target, lower, upper, verdict)
        out[f"decided_low_{tag}"], out[f"decided_high_{tag}"] = low, high
        out[f"difference_low_{tag}"], out[f"difference_high_{tag}"] = value - upper, value - lower
    out["difference"] = value - target
    out["limits"] = limits_label if method == "none" else f"{method} over-dispersion, normal"
    out["adjustment"] = method
    return Comparison(kind, float(target), method, dispersion, out, excluded)


def null_scale(kind: str, df: pd.DataFrame, target, sd, exact_below_n: int):
    """Per kind: the target (pooled over the units when None), the values on the scale they are
    compared on, their standard errors at the target, and how the limits are computed."""
    n = df["n"].to_numpy(dtype=float)
    value = df["value"].to_numpy(dtype=float)
    if kind == "proportion":
        numerator = (
            df["numerator"].to_numpy(dtype=float) if "numerator" in df else np.round(value * n)
        )
        if target is None:
            target = float(numerator.sum() / n.sum())
        label = f"exact binomial (interpolated) for n < {exact_below_n}, else normal"
        return target, value, proportion_null_se(n, target), label
    if kind in ("mean", "rate"):
        if target is None:
            target = float(np.sum(n * value) / n.sum())
        sd_used = sd if sd is not None else pooled_sd(n, df["sd"].to_numpy(dtype=float))
        label = f"normal, target +/- z * {sd_used:.4g} / sqrt(n)"
        return target, value, sd_used / np.sqrt(n), label
    if kind == "median":
        se0 = df["se"].to_numpy(dtype=float)
        if target is None:
            target = float(np.sum(value / se0**2) / np.sum(1 / se0**2))
        return target, value, se0, "normal, target +/- z * se (the unit's own standard error)"
    # ratio: observed/expected on the log scale, z = sqrt(E) log(O/E) (FunnelPlotR's SHMI method)
    if target is None:
        target = 1.0
    observed = np.maximum(value * n, 0.5)  # a zero count would give log(0)
    label = "exact Poisson (chi-square quantiles)"
    return target, np.log(observed / n / target), 1 / np.sqrt(n), label


def unit_limits(kind, n, target, se0, level, method, dispersion, exact_below_n):
    """Limits at one level for each unit, with or without the over-dispersion adjustment."""
    if method == "none":
        if kind == "proportion":
            return proportion_limits(n, target, level, exact_below_n)
        if kind == "ratio":
            return poisson_ratio_limits(n, level, target)
        half = z_for_level(level) * se0
        return target - half, target + half
    half = adjusted_half_width(se0, level, method, dispersion)
    if kind == "ratio":
        return target * np.exp(-half), target * np.exp(half)
    lower, upper = target - half, target + half
    if kind == "proportion":
        lower, upper = np.clip(lower, 0, 1), np.clip(upper, 0, 1)
    return lower, upper


def funnel_curve(
    kind: str, target: float, n_max: float, sd: float | None = None, points: int = 200
) -> pd.DataFrame:
    """Unadjusted funnel limits along n = 1..n_max, for drawing the funnel lines."""
    n = np.unique(np.round(np.geomspace(1, max(n_max, 2), points)))
    out = pd.DataFrame({"n": n})
    for level, tag in zip(LEVELS, ("95", "998"), strict=True):
        if kind == "proportion":
            lower, upper = proportion_limits(n, target, level)
        elif kind == "ratio":
            lower, upper = poisson_ratio_limits(n, level, target)
        elif kind in ("mean", "rate") and sd is not None:
            lower, upper = mean_limits(n, target, sd, level)
        else:
            raise ParameterError("funnel_curve needs kind proportion/ratio, or mean/rate with sd")
        out[f"lower_{tag}"], out[f"upper_{tag}"] = lower, upper
    return out
