"""Empirical-Bayes shrinkage of small units' values toward their cluster or municipality mean.

A small school's value jumps about by chance. The empirical-Bayes estimate pulls it toward the
mean of similar units by a factor that depends on how noisy the unit's own value is compared
with how much units really differ. Reports show it beside the raw value, never instead of it.

Reference: Morris CN (1983). Parametric empirical Bayes inference: theory and applications.
JASA 78:47-65 (unequal variances, section 4; with equal variances it is the James-Stein rule
of Efron & Morris 1975/1977, which the tests check against their published baseball example).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import ParameterError

MAX_ITER = 200


@dataclass(frozen=True)
class ShrinkageFit:
    """How the shrinkage was fitted: the between-unit variance A and degrees of freedom."""

    between_variance: float  # A: variance of true unit values around their group mean
    n_units: int
    n_means: int  # r: number of group means estimated
    converged: bool


def group_means(y, w, groups) -> tuple[np.ndarray, int]:
    """Weighted mean of each unit's group; units alone in their group get the grand mean.

    Returns the fitted mean per unit and the number of means estimated (r in Morris 1983).
    """
    y, w = np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    grand = np.sum(w * y) / np.sum(w)
    if groups is None:
        return np.full_like(y, grand), 1
    g = pd.Series(np.asarray(groups)).astype(str).to_numpy()
    counts = pd.Series(g).value_counts()
    shared = counts[counts >= 2].index
    mean = np.full_like(y, grand)
    for name in shared:
        m = g == name
        mean[m] = np.sum(w[m] * y[m]) / np.sum(w[m])
    r = len(shared) + int((counts < 2).any())
    return mean, r


def fit_between_variance(y, v, groups=None) -> tuple[float, np.ndarray, int, bool]:
    """Morris (1983) moment iteration for A with w = 1 / (V + A):

    A = sum w [ k/(k-r) (y - mu)^2 - V ] / sum w, clipped at 0, mu the weighted group means.
    Returns (A, mu, r, converged).
    """
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    k = len(y)
    a = max(np.var(y, ddof=1) - np.mean(v), 0.0)
    converged = False
    for _ in range(MAX_ITER):
        w = 1 / (v + a)
        mu, r = group_means(y, w, groups)
        if k - r <= 0:
            raise ParameterError("too few units for shrinkage: need more units than group means")
        new = max(0.0, float(np.sum(w * (k / (k - r) * (y - mu) ** 2 - v)) / np.sum(w)))
        if abs(new - a) <= 1e-12 + 1e-9 * a:
            a, converged = new, True
            break
        a = new
    w = 1 / (v + a)
    mu, r = group_means(y, w, groups)
    return a, mu, r, converged


def shrink_estimates(values, variances, groups=None) -> tuple[pd.DataFrame, ShrinkageFit]:
    """Empirical-Bayes estimates (Morris 1983) of unit values with known sampling variances.

    B_i = (k - r - 2)/(k - r) * V_i / (V_i + A) is the shrinkage toward the (group) mean mu_i;
    the estimate is mu_i + (1 - B_i)(y_i - mu_i) and its variance
    V_i (1 - (k - r)/k B_i) + 2/(k - r - 2) B_i^2 (y_i - mu_i)^2 (Morris 1983, section 4, with
    r estimated means). reliability = A / (A + V_i): the share of the unit's observed spread
    that is real difference rather than noise.
    """
    y, v = np.asarray(values, dtype=float), np.asarray(variances, dtype=float)
    if len(y) != len(v) or np.any(v <= 0) or np.any(~np.isfinite(y)):
        raise ParameterError("shrinkage needs finite values and positive variances, same length")
    k = len(y)
    a, mu, r, converged = fit_between_variance(y, v, groups)
    if k - r - 2 <= 0:
        raise ParameterError(f"shrinkage needs at least {r + 3} units here, got {k}")
    b = np.clip((k - r - 2) / (k - r) * v / (v + a), 0, 1)
    shrunk = mu + (1 - b) * (y - mu)
    var = v * (1 - (k - r) / k * b) + 2 / (k - r - 2) * b**2 * (y - mu) ** 2
    table = pd.DataFrame(
        {
            "value": y,
            "se": np.sqrt(v),
            "prior_mean": mu,
            "shrinkage": b,
            "reliability": a / (a + v),
            "shrunk": shrunk,
            "shrunk_se": np.sqrt(var),
        }
    )
    return table, ShrinkageFit(a, k, r, converged)


def shrink_values(
    values: pd.DataFrame, by: str | None = "cluster_id"
) -> tuple[pd.DataFrame, ShrinkageFit]:
    """Shrink one indicator's unit values (indicator-value table rows) toward their cluster
    mean (`by`), or the municipality mean when by=None. Uses the `se` column as sampling error;
    suppressed rows (no value) are left out. Adds the result columns to entity_id (and `by`)."""
    usable = values.dropna(subset=["value", "se"])
    usable = usable[usable["se"] > 0].reset_index(drop=True)
    groups = usable[by].to_numpy() if by else None
    table, fit = shrink_estimates(usable["value"], usable["se"] ** 2, groups)
    keys = ["entity_id"] + ([by] if by else [])
    return pd.concat([usable[keys], table], axis=1), fit
