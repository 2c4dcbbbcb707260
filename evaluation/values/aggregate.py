"""The indicator catalog turned into indicator values per unit, cluster, municipality and year.

`compute_indicator_values()` aggregates everything in the warehouse into the "Indicator values"
table of docs/architecture.md (not yet suppressed; `evaluation.values.load` adds that).

How the work is cut, so national size stays fast:
- survey answers are read one year at a time from DuckDB as small integer arrays (0 = missing),
  scored with numpy column arithmetic (`evaluation.values.scores`), and reduced to per-unit
  sufficient statistics (n, sum, sum of squares) with `np.bincount`;
- clusters and municipalities are sums of those unit statistics (means, SDs and proportions all
  follow from n, sum and sum of squares), so pupil rows are read once;
- register and daycare tables are small and are summed with pandas.

Standard errors:
- mean: sd / sqrt(n) with the pupil-level SD;
- proportion: sqrt(p (1 - p) / n);
- rate (absence %): the pupil-level SD pooled from the register's per-row absence_sd
  ((n-1) s^2 summed within rows plus the spread of row means), se = sd / sqrt(pupils);
- median (waiting days): rows carry a median and a count (referrals); a group's value is the
  referral-weighted median of the row medians (exact when a group is one row, an approximation of
  the pooled median otherwise). Its se comes from s2, the municipality's variance of a row
  median times its count in that year, estimated from the spread of the row medians within each
  home cluster (evaluation.stats.median_spread: r (median - m)^2 estimates 1 / (4 f(m)^2), the
  asymptotic variance of a median, without the waits): the variance of the group's weighted
  median when its rows' medians vary by s2 / r (a parametric bootstrap). Below
  MEDIAN_SPREAD_MIN_DF degrees of freedom: median / (ln 2 * sqrt(n)), the asymptotic se when
  waiting times are exponential (f(m) = ln 2 / m), a rough guide.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from evaluation import config
from evaluation.catalog import ITEM_COLUMNS, Catalog, load_catalog
from evaluation.data import warehouse
from evaluation.stats import median_spread
from evaluation.values import published as public_values
from evaluation.values.scores import score_arrays

VALUE_COLUMNS = [
    "year",
    "level",
    "entity_id",
    "municipality",
    "cluster_id",
    "grade_band",
    "indicator_id",
    "kind",
    "n",
    "numerator",
    "value",
    "sd",
    "se",
    "suppressed",
    "suppression_reason",
]
LEVELS = ("unit", "cluster", "municipality")
# degrees of freedom below which a median's spread is not trusted (rows less home clusters)
MEDIAN_SPREAD_MIN_DF = 10


# --------------------------------------------------------------------------------------------
# Reading the warehouse
# --------------------------------------------------------------------------------------------


def open_warehouse(con_or_path) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A DuckDB connection and whether we opened it (and so must close it)."""
    if isinstance(con_or_path, duckdb.DuckDBPyConnection):
        return con_or_path, False
    path = Path(con_or_path) if con_or_path else config.warehouse_path()
    return warehouse.connect(path), True


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def read_units(con, tables: set[str]) -> pd.DataFrame:
    if "units" not in tables:
        return pd.DataFrame(columns=["unit_id", "municipality"])
    return con.execute("SELECT unit_id, municipality FROM units").df()


def read_cluster_municipality(con, tables: set[str]) -> pd.DataFrame:
    if "clusters" not in tables:
        return pd.DataFrame(columns=["cluster_id", "municipality"])
    return con.execute("SELECT cluster_id, municipality FROM clusters").df()


def read_membership_by_year(con, tables: set[str], years: list[int]) -> pd.DataFrame:
    """(year, unit_id, cluster_id) for the given years.

    `to_year` is read as the last year of membership (inclusive); NULL = still a member. Where
    two memberships overlap in a year (a hand-over year written as both the old cluster's to_year
    and the new cluster's from_year), the one that started later wins.
    """
    if "cluster_membership" not in tables or not years:
        return pd.DataFrame(columns=["year", "unit_id", "cluster_id"])
    year_list = ", ".join(f"({int(y)})" for y in years)
    return con.execute(
        f"""
        SELECT year, unit_id, cluster_id FROM (
            SELECT y.year, m.unit_id, m.cluster_id,
                   row_number() OVER (PARTITION BY y.year, m.unit_id
                                      ORDER BY m.from_year DESC, m.cluster_id) AS pick
            FROM (VALUES {year_list}) AS y(year)
            JOIN cluster_membership m
              ON m.from_year <= y.year AND (m.to_year IS NULL OR y.year <= m.to_year)
        ) WHERE pick = 1
        """
    ).df()


def survey_unit_stats(con, catalog: Catalog) -> pd.DataFrame:
    """Per year, unit and survey indicator: n, s1 (sum of scores), s2 (sum of squares)."""
    codes = con.execute("SELECT DISTINCT unit_id FROM responses ORDER BY unit_id").fetchnumpy()
    unit_ids = np.asarray(codes["unit_id"], dtype=object)
    years = [r[0] for r in con.execute("SELECT DISTINCT year FROM responses ORDER BY 1").fetchall()]
    items = ", ".join(f"coalesce(r.{q}, 0)::UTINYINT AS {q}" for q in ITEM_COLUMNS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE unit_codes AS "
        "SELECT unit_id, (row_number() OVER (ORDER BY unit_id) - 1)::INTEGER AS code "
        "FROM (SELECT DISTINCT unit_id FROM responses)"
    )
    frames = []
    for year in years:
        arrays = con.execute(
            f"SELECT c.code, r.grade::TINYINT AS grade, {items} "
            "FROM responses r JOIN unit_codes c USING (unit_id) WHERE r.year = ?",
            [year],
        ).fetchnumpy()
        code = np.asarray(arrays["code"], dtype=np.int64)
        answers = {q: np.asarray(arrays[q], dtype=np.uint8) for q in ITEM_COLUMNS}
        scores = score_arrays(answers, np.asarray(arrays["grade"]), catalog)
        frames.extend(sum_by_code(year, code, unit_ids, scores))
    con.execute("DROP TABLE IF EXISTS unit_codes")
    if not frames:
        return empty_stats()
    return pd.concat(frames, ignore_index=True)


def sum_by_code(year: int, code: np.ndarray, unit_ids: np.ndarray, scores: dict) -> list:
    """Sufficient statistics per unit code for one year, one frame per indicator."""
    size = len(unit_ids)
    out = []
    for ind_id, x in scores.items():
        valid = ~np.isnan(x)
        x0 = np.where(valid, x, 0.0)
        n = np.bincount(code, weights=valid, minlength=size)
        keep = n > 0
        out.append(
            pd.DataFrame(
                {
                    "year": year,
                    "unit_id": unit_ids[keep],
                    "indicator_id": ind_id,
                    "n": n[keep],
                    "s1": np.bincount(code, weights=x0, minlength=size)[keep],
                    "s2": np.bincount(code, weights=x0 * x0, minlength=size)[keep],
                }
            )
        )
    return out


def empty_stats() -> pd.DataFrame:
    return pd.DataFrame(columns=["year", "unit_id", "indicator_id", "n", "s1", "s2"])


def register_row_stats(register: pd.DataFrame, catalog: Catalog, source: str) -> pd.DataFrame:
    """Long per register row and indicator: n, s1, s2 (s1 = numerator for proportions) and the
    row value for medians. Keys: year, unit_id and home_cluster (register only)."""
    keys = [c for c in ("year", "unit_id", "home_cluster") if c in register]
    frames = []
    for ind in catalog.from_source(source):
        f = register[keys].copy()
        f["indicator_id"] = ind.id
        if ind.kind == "proportion":
            f["n"] = sum_columns(register, ind.denominator)
            f["s1"] = sum_columns(register, ind.numerator)
            f["s2"] = np.nan
        else:
            w = pd.to_numeric(register[ind.weight]).astype(float)
            v = pd.to_numeric(register[ind.value_column]).astype(float)
            f["n"] = w.where(v.notna(), 0.0).fillna(0.0)
            f["s1"] = (w * v).fillna(0.0)
            f["median_value"] = v
            if ind.sd_column:
                s = pd.to_numeric(register[ind.sd_column]).astype(float)
                # sum of squares of pupil values: (n-1) s^2 + n m^2
                f["s2"] = (w - 1).clip(lower=0) * s * s + w * v * v
            else:
                f["s2"] = np.nan
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else empty_stats()


def sum_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    total = pd.Series(0.0, index=frame.index)
    for col in columns:
        total = total + pd.to_numeric(frame[col]).astype(float).fillna(0.0)
    return total


def weighted_medians(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Referral-weighted median of the row medians per group (rows with weight > 0 only)."""
    rows = rows[(rows["n"] > 0) & rows["median_value"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "median_value"])
    rows = rows.sort_values([*keys, "median_value"])
    cum = rows.groupby(keys, sort=False)["n"].cumsum()
    total = rows.groupby(keys, sort=False)["n"].transform("sum")
    first = rows[cum >= total / 2].drop_duplicates(keys)[[*keys, "median_value"]]
    if "median_spread" not in rows:
        return first
    return first.merge(median_variances(rows, keys), on=keys, how="left")


def median_variances(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group: the variance of its weighted median from its rows' counts and their
    municipality's spread (evaluation.stats.median_spread.weighted_median_variances)."""
    counts = rows["n"].to_numpy(float)
    spreads = rows["median_spread"].to_numpy(float)
    parts = rows.groupby(keys, sort=False).indices  # positions of each group's rows, in order
    groups = [(counts[at], float(spreads[at[0]])) for at in parts.values()]
    variances = median_spread.weighted_median_variances(groups)
    out = [(*key, variance) for key, variance in zip(parts, variances, strict=True)]
    return pd.DataFrame(out, columns=[*keys, "median_variance"])


def group_stats(stats: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum n, s1, s2 by keys (+ indicator); medians get their weighted median."""
    # a group's sum of squares is unknown if any of its rows lacks one (e.g. no absence_sd)
    stats = stats.assign(s2_missing=stats["s2"].isna() & (stats["n"] > 0))
    agg = (
        stats.groupby([*keys, "indicator_id"], dropna=False)[["n", "s1", "s2", "s2_missing"]]
        .sum()
        .reset_index()
    )
    agg["s2"] = agg["s2"].where(agg["s2_missing"] == 0)
    agg = agg.drop(columns="s2_missing")
    if "median_value" in stats:
        meds = weighted_medians(stats, [*keys, "indicator_id"])
        agg = agg.merge(meds, on=[*keys, "indicator_id"], how="left")
    return agg


def roll_up(
    stats: pd.DataFrame,
    membership: pd.DataFrame,
    units: pd.DataFrame,
    cluster_municipality: pd.DataFrame,
    cluster_key: str | None,
) -> pd.DataFrame:
    """Unit, cluster and municipality statistics from per-row statistics.

    cluster_key None: clusters are the units' membership of that year; otherwise the column of
    `stats` naming the cluster (register: home_cluster).
    """
    if stats.empty:
        return pd.DataFrame()
    stats = stats.merge(units, on="unit_id", how="left")
    if "median_value" in stats and cluster_key is not None and cluster_key in stats:
        stats = stats.merge(median_spreads(stats, cluster_key), how="left")
    unit = group_stats(stats, ["year", "unit_id", "municipality"])
    unit = unit.merge(membership, on=["year", "unit_id"], how="left")
    unit = unit.rename(columns={"unit_id": "entity_id"}).assign(level="unit")

    if cluster_key is None:
        with_cluster = stats.merge(membership, on=["year", "unit_id"], how="inner")
        cluster_key = "cluster_id"
    else:
        with_cluster = stats[stats[cluster_key].notna()]
    cluster = group_stats(with_cluster.drop(columns="municipality"), ["year", cluster_key])
    cluster = cluster.rename(columns={cluster_key: "entity_id"})
    cluster = cluster.merge(
        cluster_municipality.rename(columns={"cluster_id": "entity_id"}), on="entity_id", how="left"
    )
    cluster = cluster.assign(level="cluster", cluster_id=cluster["entity_id"])

    muni = group_stats(stats[stats["municipality"].notna()], ["year", "municipality"])
    muni = muni.assign(level="municipality", entity_id=muni["municipality"], cluster_id=None)
    return pd.concat([unit, cluster, muni], ignore_index=True)


def median_spreads(stats: pd.DataFrame, cluster_key: str) -> pd.DataFrame:
    """Per year, municipality and median indicator: the variance of a row median times its count
    (evaluation.stats.median_spread), from the spread of the rows of one home cluster; nan with
    fewer than MEDIAN_SPREAD_MIN_DF degrees of freedom (the exponential's se is used then)."""
    rows = stats[stats["median_value"].notna() & stats["municipality"].notna()]
    out = []
    for (year, muni, ind), part in rows.groupby(["year", "municipality", "indicator_id"]):
        spread, df = median_spread.per_count_variance(
            part["median_value"], part["n"], part[cluster_key].astype(str)
        )
        out.append((year, muni, ind, spread if df >= MEDIAN_SPREAD_MIN_DF else np.nan))
    return pd.DataFrame(out, columns=["year", "municipality", "indicator_id", "median_spread"])


def finish_values(stats: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """n, numerator, value, sd, se from the sufficient statistics, per kind (module docstring)."""
    meta = pd.DataFrame(
        {
            "indicator_id": [i.id for i in catalog.indicators],
            "kind": [i.kind for i in catalog.indicators],
            "grade_band": [i.grade_band for i in catalog.indicators],
        }
    )
    v = stats.merge(meta, on="indicator_id", how="left")
    v = v[v["n"] > 0].copy()
    n, s1, s2 = v["n"].astype(float), v["s1"].astype(float), v["s2"].astype(float)
    is_prop = v["kind"] == "proportion"
    is_median = v["kind"] == "median"
    has_sd = v["kind"].isin(["mean", "rate"])

    mean = s1 / n
    var = ((s2 - s1 * s1 / n) / (n - 1)).clip(lower=0)
    sd = np.sqrt(var).where(has_sd & (n > 1))
    p = mean.clip(0, 1)
    median = v["median_value"] if "median_value" in v else pd.Series(np.nan, index=v.index)
    spread = v["median_variance"] if "median_variance" in v else pd.Series(np.nan, index=v.index)

    v["value"] = mean.where(~is_median, median.astype(float))
    v["sd"] = sd
    v["se"] = np.select(
        [is_prop, is_median],
        [np.sqrt(p * (1 - p) / n), median_spread.median_se(n, median, spread)],
        default=sd / np.sqrt(n),
    )
    v["numerator"] = np.where(is_prop, np.round(s1), np.nan)
    v["n"] = np.round(n)
    v["suppressed"] = False
    v["suppression_reason"] = None
    out = v[VALUE_COLUMNS].copy()
    out["year"] = out["year"].astype("int64")
    out["n"] = out["n"].astype("Int64")
    out["numerator"] = out["numerator"].astype("Float64").round().astype("Int64")
    for col in ("value", "sd", "se"):
        out[col] = out[col].astype("float64")
    out["suppression_reason"] = out["suppression_reason"].astype(object)
    order = pd.Categorical(out["level"], categories=list(LEVELS), ordered=True)
    out = out.assign(_lvl=order).sort_values(["indicator_id", "year", "_lvl", "entity_id"])
    return out.drop(columns="_lvl").reset_index(drop=True)


def compute_indicator_values(con_or_path=None, catalog: Catalog | None = None) -> pd.DataFrame:
    """Every catalog indicator per year x level x entity (docs/architecture.md, Indicator values).

    Not suppressed: pass the result through `privacy.suppress_values` before showing it.
    Cluster rows: survey and daycare indicators use the units' cluster membership of that year;
    register indicators use the pupils' home_cluster. Unit rows carry the unit's cluster that year.
    """
    catalog = catalog or load_catalog()
    con, opened = open_warehouse(con_or_path)
    try:
        tables = table_names(con)
        units = read_units(con, tables)
        cluster_muni = read_cluster_municipality(con, tables)
        parts = []
        sources = [
            ("responses", lambda: survey_unit_stats(con, catalog), None),
            (
                "register",
                lambda: register_row_stats(
                    con.execute("SELECT * FROM register").df(), catalog, "register"
                ),
                "home_cluster",
            ),
            (
                "daycare_language",
                lambda: register_row_stats(
                    con.execute("SELECT * FROM daycare_language").df(), catalog, "daycare_language"
                ),
                None,
            ),
        ]
        for table, read_stats, cluster_key in sources:
            if table not in tables:
                continue
            stats = read_stats()
            if stats.empty:
                continue
            stats["unit_id"] = stats["unit_id"].astype(object)
            years = sorted(int(y) for y in stats["year"].unique())
            membership = read_membership_by_year(con, tables, years)
            parts.append(roll_up(stats, membership, units, cluster_muni, cluster_key))
        published = aggregate_rows(con, tables, catalog, units, cluster_muni)
    finally:
        if opened:
            con.close()
    parts = [p for p in parts if not p.empty]
    if not parts and published.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    values = finish_values(pd.concat(parts, ignore_index=True), catalog) if parts else None
    if published.empty:
        return values
    return add_aggregate_rows(values, published)


def aggregate_rows(con, tables: set[str], catalog: Catalog, units, cluster_muni) -> pd.DataFrame:
    """Rows from published aggregates for (year, unit) without responses (public_values)."""
    if "aggregates" not in tables:
        return pd.DataFrame()
    published = [t for t in ("aggregates", "public_answers", "public_inclusion") if t in tables]
    query = " UNION ".join(f"SELECT DISTINCT year FROM {t}" for t in published)
    years = [int(r[0]) for r in con.execute(query).fetchall()]
    membership = read_membership_by_year(con, tables, years)
    return public_values.aggregate_values(con, tables, catalog, units, membership, cluster_muni)


def add_aggregate_rows(values: pd.DataFrame | None, published: pd.DataFrame) -> pd.DataFrame:
    """The published rows typed like finish_values' output, added and sorted the same way.

    Their n is a pupil count, not respondents: the result says so in attrs["n_basis"].
    """
    out = published[VALUE_COLUMNS].copy()
    out["year"] = out["year"].astype("int64")
    out["n"] = pd.to_numeric(out["n"]).round().astype("Int64")
    # statements from published answer distributions carry a numerator (values.public_answers)
    out["numerator"] = pd.to_numeric(out["numerator"]).round().astype("Int64")
    for col in ("value", "sd", "se"):
        out[col] = out[col].astype("float64")
    out["suppression_reason"] = out["suppression_reason"].astype(object)
    if values is not None and len(values):
        out = pd.concat([values, out], ignore_index=True)
    order = pd.Categorical(out["level"], categories=list(LEVELS), ordered=True)
    out = out.assign(_lvl=order).sort_values(["indicator_id", "year", "_lvl", "entity_id"])
    out = out.drop(columns="_lvl").reset_index(drop=True)
    out.attrs["n_basis"] = "pupils"
    return out
