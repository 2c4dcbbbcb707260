"""The cluster-year panel the effect estimator reads: checked before anything is estimated."""

from __future__ import annotations

import pandas as pd

from evaluation.errors import Problem, ValidationError


def check_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """Validate a cluster-year panel (cluster_id, year, value, start_year; NaN = never started).

    Returns a copy with one row per cluster and year and a float start_year.
    """
    needed = ["cluster_id", "year", "value", "start_year"]
    problems = [
        Problem("panel", None, c, "no such column", f"columns {needed}", "add the column")
        for c in needed
        if c not in panel.columns
    ]
    if problems:
        raise ValidationError(problems)
    df = panel.dropna(subset=["value"]).copy()
    df["start_year"] = df["start_year"].astype(float)
    starts = df.groupby("cluster_id")["start_year"].nunique(dropna=False)
    if (starts > 1).any():
        bad = starts[starts > 1].index[0]
        raise ValidationError(
            [
                Problem(
                    "panel",
                    None,
                    "start_year",
                    f"several start years for cluster {bad}",
                    "one start year per cluster",
                    "take start_year from the cluster_programme table",
                )
            ]
        )
    if df.duplicated(["cluster_id", "year"]).any():
        raise ValidationError(
            [
                Problem(
                    "panel",
                    None,
                    "year",
                    "duplicate cluster-year rows",
                    "one row per cluster and year",
                    "aggregate to cluster-year first",
                )
            ]
        )
    return df
