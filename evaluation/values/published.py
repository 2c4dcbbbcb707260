"""Indicator values from published school aggregates (the ministry's public figures).

`evaluation.values.aggregate.compute_indicator_values` calls `aggregate_values` for the
(year, unit) pairs that have `aggregates` rows but no pupil-level `responses`. The rows follow
the indicator table of docs/architecture.md, with these differences, because no n is published:

- unit rows: `value` as published (one decimal); `n` = the school's pupil count (all grades,
  `aggregates` rows with indicator_id `pupils`), a size proxy, NOT respondents; NULL when the
  overview has no count; `sd` NULL; `se` = sqrt(intercept + b / pupils), the size-dependent
  spread of school values fitted over the country (`aggregate_spread`, evaluation.stats.spread).
  It is where schools of that size lie, not sampling precision (it holds real spread between
  schools);
- cluster and municipality rows: pupil-weighted means of their schools' values,
  se = sqrt(sum w^2 se_i^2) / sum w with w = pupils (as the public report's municipal means),
  n = the sum of the pupils. Schools without a pupil count cannot be weighted and are left out of
  these means (their own unit row is kept, with n NULL).

Without `aggregate_spread` (aggregates loaded without the overview), the spread is fitted on the
warehouse's own schools when at least 3 have a pupil count; else se is NULL.
The result has `attrs["n_basis"] = "pupils"`: n is a pupil count, not a respondent count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.stats.spread import estimate_size_variance
from evaluation.values import public_absence, public_answers, public_inclusion

PUPILS_INDICATOR = "pupils"
N_BASIS = "pupils"


def read_aggregates(con, tables: set[str], indicator_ids: list[str]) -> pd.DataFrame:
    """Published values of the given indicators for (year, unit) without responses."""
    if "aggregates" not in tables:
        return pd.DataFrame()
    skip = "responses" in tables
    covered = (
        "AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.year = a.year AND r.unit_id = a.unit_id)"
        if skip
        else ""
    )
    marks = ", ".join("?" for _ in indicator_ids)
    return con.execute(
        "SELECT a.year, a.unit_id, a.grade_band, a.indicator_id, a.value FROM aggregates a "
        f"WHERE a.indicator_id IN ({marks}) AND a.value IS NOT NULL {covered}",
        list(indicator_ids),
    ).df()


def read_pupils(con) -> pd.DataFrame:
    return con.execute(
        "SELECT year, unit_id, max(value) AS pupils FROM aggregates WHERE indicator_id = ? "
        "GROUP BY year, unit_id",
        [PUPILS_INDICATOR],
    ).df()


def read_spread(con, tables: set[str]) -> pd.DataFrame:
    if "aggregate_spread" not in tables:
        return pd.DataFrame(columns=["year", "grade_band", "indicator_id", "intercept", "b"])
    return con.execute(
        "SELECT year, grade_band, indicator_id, intercept, b FROM aggregate_spread"
    ).df()


def local_spread(values: pd.DataFrame) -> pd.DataFrame:
    """The fit on the warehouse's own schools, for indicators without a national fit."""
    rows = []
    keys = ["year", "grade_band", "indicator_id"]
    for key, group in values.dropna(subset=["pupils"]).groupby(keys):
        if len(group) >= 3:
            fit = estimate_size_variance(group["value"], group["pupils"], key[2])
            rows.append(dict(zip(keys, key, strict=True), intercept=fit.intercept, b=fit.b))
    return pd.DataFrame(rows, columns=[*keys, "intercept", "b"])


def unit_values(con, tables: set[str], catalog, units: pd.DataFrame) -> pd.DataFrame:
    """One row per school and indicator: value, pupils, se from the fitted spread."""
    # absence (kind "rate": a mean of pupils' absence %) comes from the school overview
    means = [i.id for i in catalog.indicators if i.kind in ("mean", "rate")]
    values = read_aggregates(con, tables, means)
    if values.empty:
        return values
    values = values.merge(read_pupils(con), on=["year", "unit_id"], how="left")
    keys = ["year", "grade_band", "indicator_id"]
    spread = read_spread(con, tables)
    have = values[keys].drop_duplicates().merge(spread[keys], on=keys, how="left", indicator=True)
    if (have["_merge"] == "left_only").any():
        spread = pd.concat([spread, local_spread(values)]).drop_duplicates(keys)
    values = values.merge(spread, on=keys, how="left")
    values["se"] = np.sqrt(values["intercept"] + values["b"] / values["pupils"])
    return values.merge(units, on="unit_id", how="left")


def weighted_rows(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Pupil-weighted means and their se per group (schools with pupils and se only)."""
    usable = frame.dropna(subset=["pupils", "se"])
    usable = usable.assign(
        wy=usable["pupils"] * usable["value"], w2v=usable["pupils"] ** 2 * usable["se"] ** 2
    )
    grouped = usable.groupby([*keys, "grade_band", "indicator_id"], dropna=False)
    out = grouped.agg(n=("pupils", "sum"), wy=("wy", "sum"), w2v=("w2v", "sum")).reset_index()
    out["value"] = out["wy"] / out["n"]
    out["se"] = np.sqrt(out["w2v"]) / out["n"]
    return out.drop(columns=["wy", "w2v"])


def aggregate_values(con, tables: set[str], catalog, units, membership, cluster_muni):
    """Unit, cluster and municipality rows from published aggregates (module docstring)."""
    values = unit_values(con, tables, catalog, units)
    if values.empty:
        return pd.DataFrame()
    values = values.merge(membership, on=["year", "unit_id"], how="left")
    unit = values.rename(columns={"unit_id": "entity_id", "pupils": "n"}).assign(level="unit")
    cluster = weighted_rows(values[values["cluster_id"].notna()], ["year", "cluster_id"])
    cluster = cluster.merge(cluster_muni, on="cluster_id", how="left")
    cluster = cluster.assign(level="cluster", entity_id=cluster["cluster_id"])
    muni = weighted_rows(values[values["municipality"].notna()], ["year", "municipality"])
    muni = muni.assign(level="municipality", entity_id=muni["municipality"], cluster_id=None)
    out = pd.concat([unit, cluster, muni], ignore_index=True)
    counted = [  # shares with published counts: statements, inclusion, absence over 10 %
        source(con, tables, catalog, units, membership, cluster_muni)
        for source in (
            public_answers.statement_values,
            public_inclusion.inclusion_values,
            public_absence.over_10_values,
        )
    ]
    counted = [frame for frame in counted if len(frame)]
    kinds = {i.id: i.kind for i in catalog.indicators}
    out = out.assign(kind=out["indicator_id"].map(kinds).fillna("mean"))
    out = out.assign(numerator=pd.NA, sd=np.nan, suppressed=False)
    out["suppression_reason"] = None
    return pd.concat([out, *counted], ignore_index=True)
