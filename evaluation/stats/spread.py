"""The spread of published school values when no respondent count is published.

The ministry publishes no n; the only size proxy is the school's pupil count (all grades). We do
not turn it into a respondent count with an assumed response rate. Instead the size-dependent
spread of school values is *estimated from the data*: Var(value) = tau2 + b / pupils + 0.1^2/12,
fitted by least squares of squared deviations on 1/pupils (method of moments). b / pupils plays
the part that sampling variance plays in an ordinary funnel (it also holds any real extra spread
of small schools, so it is not "chance" alone). Values are published with one decimal: rounding
adds variance 0.1^2/12 (= 0.00083) to every school value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROUNDING_VARIANCE = 0.1**2 / 12  # a value published with one decimal: uniform rounding error

# What a naive, sampling-only funnel would need and the ministry does not publish. Used only to
# measure the over-dispersion (phi, tau): pupils in grades 4-9 are about 6 of 10 grades, about
# 85 % of them answer, and a pupil's index score has sd about 0.6 on the 1-5 scale (schools
# explain about 4 % of pupil variance, DESIGN.md). Absence is over all pupils, pupil sd ~6 points.
ASSUMED_RESPONDENT_SHARE = {"4-9": 0.6 * 0.85, "all": 1.0}
ASSUMED_PUPIL_SD = {"mean": 0.6, "rate": 6.0}


@dataclass(frozen=True)
class SizeVariance:
    """Var(value) = intercept + b / pupils, fitted to one indicator's school values.

    intercept estimates tau2 + rounding variance; b / pupils is the size-dependent spread (it
    holds the sampling noise that an ordinary funnel takes from n, plus any extra spread of small
    schools: the two cannot be told apart without n).
    """

    indicator_id: str
    target: float  # pupil-weighted mean of the school values (the national value)
    intercept: float  # at least the rounding variance
    b: float  # clipped at zero
    b_se: float
    n_schools: int

    def variance(self, pupils) -> np.ndarray:
        return self.intercept + self.b / np.asarray(pupils, dtype=float)


def estimate_size_variance(values, pupils, indicator_id: str = "") -> SizeVariance:
    """Fit Var(value) = a + b / pupils by least squares of squared deviations (method of moments).

    The deviations are from the pupil-weighted mean. a is kept at least the rounding variance and
    b at least zero (variances cannot be negative).
    """
    y = np.asarray(values, dtype=float)
    p = np.asarray(pupils, dtype=float)
    target = float(np.sum(p * y) / p.sum())
    dev2 = (y - target) ** 2
    design = np.column_stack([np.ones_like(p), 1 / p])
    coef, *_ = np.linalg.lstsq(design, dev2, rcond=None)
    resid = dev2 - design @ coef
    sigma2 = float(resid @ resid) / max(len(y) - 2, 1)
    cov = sigma2 * np.linalg.inv(design.T @ design)
    return SizeVariance(
        indicator_id=indicator_id,
        target=target,
        intercept=max(float(coef[0]), ROUNDING_VARIANCE),
        b=max(float(coef[1]), 0.0),
        b_se=float(np.sqrt(cov[1, 1])),
        n_schools=len(y),
    )


def assumed_sampling_se(pupils, grade_band: str, kind: str) -> np.ndarray:
    """The se a naive funnel would use: assumed pupil sd / sqrt(assumed respondents) + rounding.

    Only for measuring over-dispersion; the report's limits do not depend on these assumptions.
    """
    respondents = np.asarray(pupils, dtype=float) * ASSUMED_RESPONDENT_SHARE[grade_band]
    return np.sqrt(ASSUMED_PUPIL_SD[kind] ** 2 / respondents + ROUNDING_VARIANCE)


def loaded_tau2(n_units: int, phi: float, se, loading) -> tuple[float, float]:
    """DerSimonian-Laird moment estimate of a shared variance tau2 that enters unit k's
    variance with a known loading c_k: Var(y_k) = se_k^2 + c_k tau2.

    tau2 = (N phi - (N - 1)) / (sum w c - sum w^2 c / sum w), w = 1 / se^2: the expectation of
    the chi-square statistic N phi (DerSimonian & Laird 1986) with c_k tau2 in place of tau2.
    With every c_k = 1 it is `evaluation.stats.compare.dersimonian_laird_tau2`. Used for
    municipal means of school values: a municipality effect shared by its schools, whose
    fitted school spread v_i already holds it, adds tau2 (1 - H_k) to the mean's variance
    sum w^2 v_i / W^2 (H_k = sum w^2 / W^2; 0 for a one-school municipality, whose mean is its
    school). Returns (clipped at zero, unclipped).
    """
    w = 1 / np.asarray(se, dtype=float) ** 2
    c = np.asarray(loading, dtype=float)
    denom = float(np.sum(w * c) - np.sum(w**2 * c) / w.sum())
    if denom <= 0:
        return 0.0, float("nan")
    raw = float((n_units * phi - (n_units - 1)) / denom)
    return max(0.0, raw), raw


def counted_limits(target: float, respondents, pupil_sd: float, tau2: float, level: float):
    """Funnel limits of school means whose respondent count is published: target +/- z sqrt(
    tau2 + pupil_sd^2 / respondents + rounding) (a random-effects funnel, Spiegelhalter 2005,
    Statistics in Medicine 24:1185, section 6: the between-school variance tau2 added to the
    sampling variance of a mean of `respondents` answers). Returns (lower, upper) arrays."""
    # why: scipy.special loads only when a report asks for these limits
    from evaluation.stats.distribution_functions import norm_ppf

    n = np.asarray(respondents, dtype=float)
    se = np.sqrt(tau2 + pupil_sd**2 / n + ROUNDING_VARIANCE)
    half = norm_ppf(0.5 + level / 2) * se
    return target - half, target + half
