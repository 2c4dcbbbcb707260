"""Random-effects meta-analysis by the DerSimonian-Laird moment estimate.

The same moment estimate of the between-unit variance tau^2 serves the funnel plots'
over-dispersion (`evaluation.stats.compare`, with N phi in place of Q) and a plain pooling of
estimates with their variances (`random_effects_meta`). References:

- DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical Trials
  7:177-188. (Moment estimate of tau^2, clipped at zero; random-effects weights 1 / (v + tau^2).)
- Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Statistics in
  Medicine 21:1539-1558. (I^2 = (Q - df) / Q, clipped at zero.)
- Checked against Rubin (1981)'s eight schools and metafor's DL results (Kacker 2004 example).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.errors import ParameterError


def dersimonian_laird(effects, variances) -> tuple[float, float, float]:
    """DerSimonian-Laird tau^2 for a plain meta-analysis: returns (tau2, tau2_unclipped, Q).

    Q = sum w (y - y_w)^2 with w = 1 / v and y_w the inverse-variance weighted mean; the estimate
    is the same moment formula as `dersimonian_laird_tau2` with N phi = Q.
    """
    y, v = np.asarray(effects, dtype=float), np.asarray(variances, dtype=float)
    w = 1 / v
    q = float(np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2))
    tau2, raw = dersimonian_laird_tau2(len(y), q / len(y), np.sqrt(v))
    return tau2, raw, q


def dersimonian_laird_tau2(n_units: int, phi: float, se) -> tuple[float, float]:
    """Between-unit variance tau^2 by the DerSimonian-Laird moment estimate.

    tau^2 = (N phi - (N - 1)) / (sum w - sum w^2 / sum w), with w = 1 / se^2 and N phi the
    (trimmed) chi-square statistic (Spiegelhalter 2005 section 6.4; DerSimonian & Laird
    1986). Returns (clipped, unclipped): a variance cannot be negative, so the estimate used is
    max(0, .); statsmodels' `combine_effects` does not clip it.
    """
    w = 1 / np.asarray(se, dtype=float) ** 2
    denom = w.sum() - (w**2).sum() / w.sum()
    raw = float((n_units * phi - (n_units - 1)) / denom)
    return max(0.0, raw), raw


@dataclass(frozen=True)
class MetaResult:
    """A random-effects pooled estimate (DerSimonian & Laird 1986)."""

    pooled: float  # sum w* y / sum w*, with w* = 1 / (v + tau^2)
    se: float  # sqrt(1 / sum w*)
    tau2: float  # between-study variance, clipped at zero
    tau2_unclipped: float
    q: float  # Cochran's Q with the fixed-effect weights 1 / v
    df: int  # number of estimates - 1
    i2: float  # share of the variation beyond chance, max(0, (Q - df) / Q)


def random_effects_meta(effects, variances) -> MetaResult:
    """Pool estimates with their sampling variances by DerSimonian-Laird random effects.

    When tau^2 is clipped to zero the result is the fixed-effect (inverse-variance) pool.
    """
    y, v = np.asarray(effects, dtype=float), np.asarray(variances, dtype=float)
    if len(y) < 2 or len(y) != len(v) or not (v > 0).all():
        raise ParameterError(
            "give at least two estimates, each with a positive variance (one variance per estimate)"
        )
    tau2, raw, q = dersimonian_laird(y, v)
    w = 1 / (v + tau2)
    df = len(y) - 1
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return MetaResult(
        float(np.sum(w * y) / w.sum()), float(np.sqrt(1 / w.sum())), tau2, raw, q, df, i2
    )
