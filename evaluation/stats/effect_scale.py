"""How large an effect is and how much it leans on single clusters: the smallest effect the design
could detect, the overall estimate with each cluster left out, and an effect in standard
deviations.

Companions to evaluation.stats.effect (the estimator); they reuse its cells and aggregation so
the numbers are the same estimate, only rescaled or recomputed on fewer clusters.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evaluation.errors import ParameterError
from evaluation.stats import distribution_functions as dist
from evaluation.stats.effect import check_panel, overall_att_wide


def minimal_detectable_effect(
    se: float, n_clusters: int, alpha: float = 0.05, power: float = 0.80
) -> float:
    """The smallest true effect a two-sided test at level `alpha` finds with probability
    `power`, given the estimate's standard error and t(G-1) critical values:

        MDE = (t_{1 - alpha/2, G-1} + t_{power, G-1}) * se

    (Bloom 1995, "Minimum detectable effects: a simple way to report the statistical power of
    experimental designs", Evaluation Review 19:547-556). NaN when there is no standard error.
    """
    if n_clusters < 2:
        raise ParameterError(f"n_clusters={n_clusters}: at least 2 clusters are needed")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ParameterError(f"alpha={alpha}, power={power}: both must lie between 0 and 1")
    if se is None or not math.isfinite(se) or se < 0:
        return math.nan
    df = n_clusters - 1
    return float((dist.t_ppf(1 - alpha / 2, df) + dist.t_ppf(power, df)) * se)


def leave_one_cluster_out(panel: pd.DataFrame) -> pd.DataFrame:
    """The overall effect (Callaway & Sant'Anna's simple aggregation, not-yet-started
    comparison, as evaluation.stats.effect) recomputed with each cluster left out in turn.

    One row per cluster: cluster_id, start_year (NaN = never started) and estimate, NaN when
    nothing is left to estimate without it (say it was the only started or the only
    comparison cluster). A jackknife of the point estimate only: no intervals.
    """
    df = check_panel(panel)
    wide = df.pivot(index="cluster_id", columns="year", values="value")
    start = df.groupby("cluster_id")["start_year"].first().reindex(wide.index)
    rows = []
    for cluster in wide.index:
        keep = wide.index != cluster
        rows.append(
            {
                "cluster_id": cluster,
                "start_year": float(start[cluster]),
                "estimate": overall_att_wide(wide[keep], start[keep]),
            }
        )
    return pd.DataFrame(rows, columns=["cluster_id", "start_year", "estimate"])


def pupil_sd(kind: str, value: float, sd: float) -> float:
    """The pupil-level standard deviation an effect is divided by to give it in SD units:
    the stored SD for a mean or a rate, sqrt(p (1 - p)) for a share p (the SD of a 0/1
    variable), NaN for a median (no pupil-level SD)."""
    if kind == "proportion":
        if value is None or not 0 <= value <= 1:
            return math.nan
        return float(np.sqrt(value * (1 - value)))
    if kind in ("mean", "rate"):
        return math.nan if sd is None else float(sd)
    return math.nan
