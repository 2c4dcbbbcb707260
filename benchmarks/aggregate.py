"""Benchmark: aggregate every catalog indicator over ten years of national-size data.

    .venv/bin/python benchmarks/aggregate.py            # build once (cached), then time
    .venv/bin/python benchmarks/aggregate.py --rebuild  # rebuild the national data first

Build (once, cached in benchmarks/output/, git-ignored): `evaluation.data.demo.write_demo_data` with
98 municipalities (about 550,000 pupils a year, nine survey years and ten register years), loaded
straight into a DuckDB warehouse with the table definitions of `evaluation.data.warehouse` (read_csv
and read_parquet in DuckDB; the validation of `workbench ingest` is not part of what is timed).

Then, in one run, each way runs in a fresh child process so its peak memory is its own:
- ours: `aggregate.compute_indicator_values` (numpy scoring per year, bincount sums, roll-ups)
  and, timed apart, `privacy.suppress_values`;
- naive: the plain pandas way: per year read the wide answers into pandas, melt to long format
  (pupil x item), merge the item key, group by pupil and indicator, then group by unit, cluster
  and municipality. Register and daycare indicators by plain groupby as well.
Peak memory is the child's `resource.getrusage(RUSAGE_SELF).ru_maxrss` (peak resident set size,
Linux KiB; it includes DuckDB's own buffers, which tracemalloc would miss).
The two results are compared cell by cell so the timings are of the same work.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "benchmarks" / "output"
RAW = OUTPUT / "national_raw"
WAREHOUSE = OUTPUT / "national.duckdb"
WAREHOUSE_FULL = OUTPUT / "national_full.duckdb"
MUNICIPALITIES = 98
CSV_TABLES = (
    "units",
    "clusters",
    "cluster_membership",
    "cluster_programme",
    "register",
    "daycare_language",
)


# ----------------------------------------------------------------------------------- build


def build_national(rebuild: bool) -> None:
    """Write the national demo data and load it into a DuckDB file (skipped when cached)."""
    from evaluation.data import demo, warehouse

    if WAREHOUSE.is_file() and not rebuild:
        return
    WAREHOUSE_FULL.unlink(missing_ok=True)
    if rebuild or not (RAW / "units.csv").is_file():
        started = time.perf_counter()
        demo.write_demo_data(RAW, municipalities=MUNICIPALITIES)
        print(f"demo data written in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    tmp = WAREHOUSE.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    warehouse.create_schema(con)
    for name in CSV_TABLES:
        columns = ", ".join(warehouse.TABLE_COLUMNS[name])
        con.execute(
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM read_csv("
            f"'{RAW / (name + '.csv')}', delim=';', decimal_separator=',', header=true)"
        )
    parts = RAW / "responses" / "*.parquet"
    columns = ", ".join(warehouse.TABLE_COLUMNS["responses"])
    con.execute(
        f"INSERT INTO responses ({columns}) SELECT {columns} FROM read_parquet('{parts}') "
        "ORDER BY year, unit_id"
    )
    con.close()
    tmp.replace(WAREHOUSE)
    print(f"warehouse loaded in {time.perf_counter() - started:.0f} s")


def build_full_years() -> Path:
    """A copy of the national warehouse with ten survey years of about 550,000 pupils each.

    The demo skips the 2020 survey (as happened) and draws about 505,000 pupils a year; here
    2020 is filled with 2019's answers and every year gets a 9 % sample of its own rows again
    (new pupil keys), so the target "ten years of national data" is measured, not extrapolated.
    """
    if WAREHOUSE_FULL.is_file():
        return WAREHOUSE_FULL
    tmp = WAREHOUSE_FULL.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute(f"ATTACH '{WAREHOUSE}' AS src (READ_ONLY)")
    for name in CSV_TABLES:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM src.{name}")
    con.execute(
        """
        CREATE TABLE responses AS
        WITH ten AS (
            SELECT * FROM src.responses
            UNION ALL
            SELECT * REPLACE (2020 AS year, pupil_key || '-20' AS pupil_key)
            FROM src.responses WHERE year = 2019
        )
        SELECT * FROM (
            SELECT * FROM ten
            UNION ALL
            SELECT * REPLACE (pupil_key || '-x' AS pupil_key) FROM ten
            WHERE hash(pupil_key, year) % 100 < 9
        ) ORDER BY year, unit_id
        """
    )
    con.close()
    tmp.replace(WAREHOUSE_FULL)
    return WAREHOUSE_FULL


def describe_data(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    pupils = con.execute("SELECT count(*), count(DISTINCT year) FROM responses").fetchone()
    register = con.execute("SELECT count(*), count(DISTINCT year) FROM register").fetchone()
    units = con.execute("SELECT count(*) FROM units").fetchone()[0]
    munis = con.execute("SELECT count(DISTINCT municipality) FROM units").fetchone()[0]
    con.close()
    return (
        f"{munis} municipalities, {units} units; responses: {pupils[0]:,} pupil-years over "
        f"{pupils[1]} survey years ({pupils[0] / pupils[1]:,.0f} a year); register: "
        f"{register[0]:,} rows over {register[1]} years"
    )


# ----------------------------------------------------------------------------------- ours


def run_ours(path: Path) -> dict:
    """compute_indicator_values then suppress_values, in this (fresh) process."""
    from evaluation.catalog import load_catalog
    from evaluation.values import aggregate, privacy

    catalog = load_catalog()
    started = time.perf_counter()
    values = aggregate.compute_indicator_values(path, catalog)
    computed = time.perf_counter()
    suppressed = privacy.suppress_values(values, min_n=5, catalog=catalog)
    done = time.perf_counter()
    values.to_parquet(OUTPUT / "values_ours.parquet")
    return {
        "seconds": computed - started,
        "suppress_seconds": done - computed,
        "rows": len(values),
        "suppressed": int(suppressed["suppressed"].sum()),
        "secondary": int((suppressed["suppression_reason"] == "secondary").sum()),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


# ----------------------------------------------------------------------------------- naive


def item_key(catalog) -> pd.DataFrame:
    """(band, item, indicator, reverse, k, min_answered) for every item-based survey indicator."""
    rows = []
    for ind in catalog.from_source("survey"):
        if ind.based_on:
            continue
        form = catalog.forms[ind.grade_band]
        for item in ind.items:
            rows.append(
                (
                    ind.grade_band,
                    item,
                    ind.id,
                    form.items[item].reverse,
                    len(ind.items),
                    ind.min_answered,
                )
            )
    return pd.DataFrame(
        rows, columns=["band", "item", "indicator_id", "reverse", "k", "min_answered"]
    )


def naive_pupil_scores(wide: pd.DataFrame, catalog, key: pd.DataFrame) -> pd.DataFrame:
    """Long format: one row per pupil x item, then per pupil x indicator."""
    from evaluation.catalog import ITEM_COLUMNS

    wide = wide.assign(pupil=np.arange(len(wide)))
    long = wide.melt(
        id_vars=["year", "unit_id", "grade", "pupil"],
        value_vars=list(ITEM_COLUMNS),
        var_name="item",
        value_name="answer",
    )
    long = long[long["answer"].notna() & (long["answer"] > 0)]
    long["band"] = np.where(long["grade"] <= 3, "0-3", "4-9")
    long = long.merge(key, on=["band", "item"])
    long["answer"] = np.where(long["reverse"], 6 - long["answer"], long["answer"])
    pupil = (
        long.groupby(["year", "unit_id", "pupil", "indicator_id"])
        .agg(
            total=("answer", "sum"),
            count=("answer", "size"),
            k=("k", "first"),
            min_answered=("min_answered", "first"),
        )
        .reset_index()
    )
    pupil = pupil[pupil["count"] >= pupil["min_answered"] * pupil["k"] - 1e-9]
    pupil["score"] = pupil["total"] / pupil["count"]
    for ind in catalog.from_source("survey"):
        if ind.kind == "proportion" and not ind.based_on:
            is_it = pupil["indicator_id"] == ind.id
            pupil.loc[is_it, "score"] = (pupil.loc[is_it, "score"] >= ind.favourable_at) * 1.0
    for ind in catalog.from_source("survey"):
        if ind.based_on:
            base = pupil[pupil["indicator_id"] == ind.based_on].copy()
            base["score"] = (base["score"] > ind.threshold) * 1.0
            base["indicator_id"] = ind.id
            pupil = pd.concat([pupil, base])
    return pupil[["year", "unit_id", "indicator_id", "score"]]


def naive_summaries(scores: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = scores.groupby([*keys, "indicator_id"])["score"].agg(["size", "sum", "mean", "std"])
    return out.reset_index().rename(columns={"size": "n", "mean": "value", "std": "sd"})


def run_naive(path: Path) -> dict:
    """The plain pandas way, in this (fresh) process."""
    from evaluation.catalog import load_catalog

    catalog = load_catalog()
    key = item_key(catalog)
    started = time.perf_counter()
    con = duckdb.connect(str(path), read_only=True)
    units = con.execute("SELECT unit_id, municipality FROM units").df()
    membership = con.execute("SELECT * FROM cluster_membership").df()
    years = [r[0] for r in con.execute("SELECT DISTINCT year FROM responses").fetchall()]
    frames = []
    for year in sorted(years):
        wide = con.execute("SELECT * FROM responses WHERE year = ?", [year]).df()
        scores = naive_pupil_scores(wide, catalog, key)
        member = membership[
            (membership["from_year"] <= year)
            & (membership["to_year"].isna() | (membership["to_year"] >= year))
        ]
        scores = scores.merge(units, on="unit_id").merge(
            member[["unit_id", "cluster_id"]], on="unit_id", how="left"
        )
        frames.append(naive_summaries(scores, ["year", "unit_id"]).assign(level="unit"))
        frames.append(naive_summaries(scores, ["year", "cluster_id"]).assign(level="cluster"))
        frames.append(
            naive_summaries(scores, ["year", "municipality"]).assign(level="municipality")
        )
    register = con.execute("SELECT * FROM register").df().merge(units, on="unit_id")
    register["special"] = register["in_special_class"] + register["in_special_school"]
    for keys, level in (
        (["year", "unit_id"], "unit"),
        (["year", "home_cluster"], "cluster"),
        (["year", "municipality"], "municipality"),
    ):
        sums = (
            register.groupby(keys)[
                [
                    "pupils",
                    "in_general_setting",
                    "special",
                    "special_in_own_cluster",
                    "returned_to_general",
                    "pupils_over_10pct_absence",
                ]
            ]
            .sum()
            .reset_index()
        )
        sums["level"] = level
        frames.append(sums)
    daycare = con.execute("SELECT * FROM daycare_language").df().merge(units, on="unit_id")
    frames.append(daycare.groupby(["year", "municipality"])[["assessed", "fokuseret"]].sum())
    con.close()
    elapsed = time.perf_counter() - started
    survey = pd.concat([f for f in frames if "score" not in f and "value" in f])
    survey["entity_id"] = (
        survey["unit_id"].fillna(survey["cluster_id"]).fillna(survey["municipality"])
    )
    survey[["year", "level", "entity_id", "indicator_id", "n", "value", "sd"]].to_parquet(
        OUTPUT / "values_naive.parquet"
    )
    return {
        "seconds": elapsed,
        "rows": len(survey),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


# ----------------------------------------------------------------------------------- run


def in_fresh_process(func, *args) -> dict:
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


def compare_results() -> str:
    """Largest difference between the two ways on the survey cells both computed."""
    ours = pd.read_parquet(OUTPUT / "values_ours.parquet")
    naive = pd.read_parquet(OUTPUT / "values_naive.parquet")
    keys = ["year", "level", "entity_id", "indicator_id"]
    both = ours.merge(naive, on=keys, suffixes=("", "_naive"))
    survey_cells = ours["indicator_id"].isin(naive["indicator_id"].unique()).sum()
    value_diff = (both["value"] - both["value_naive"]).abs().max()
    sd_diff = (both["sd"] - both["sd_naive"]).abs().max()
    n_same = (both["n"].astype(float) == both["n_naive"].astype(float)).all()
    return (
        f"survey cells matched: {len(both):,} of {survey_cells:,}; n equal: {n_same}; "
        f"max |value diff| {value_diff:.2e}; max |sd diff| {sd_diff:.2e}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="rebuild the national data")
    parser.add_argument("--skip-naive", action="store_true", help="time only our way")
    parser.add_argument(
        "--full-years",
        action="store_true",
        help="ten survey years of ~550,000 pupils (2020 and 9 %% more rows filled in)",
    )
    args = parser.parse_args(argv)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    build_national(args.rebuild)
    path = build_full_years() if args.full_years else WAREHOUSE
    print(describe_data(path))
    print(f"cores: {os.cpu_count()}; python {sys.version.split()[0]}; duckdb {duckdb.__version__}")
    ours = in_fresh_process(run_ours, path)
    print(
        f"ours : aggregation {ours['seconds']:6.1f} s, peak RSS {ours['maxrss_kib'] / 2**20:.2f}"
        f" GiB, {ours['rows']:,} cells; suppression {ours['suppress_seconds']:.1f} s more "
        f"({ours['suppressed']:,} suppressed, {ours['secondary']:,} of them secondary)"
    )
    if args.skip_naive:
        return 0
    naive = in_fresh_process(run_naive, path)
    print(
        f"naive: aggregation {naive['seconds']:6.1f} s, peak RSS "
        f"{naive['maxrss_kib'] / 2**20:.2f} GiB (melt + groupby, one year at a time)"
    )
    print(
        f"ratio naive / ours: time {naive['seconds'] / ours['seconds']:.1f}x, "
        f"peak memory {naive['maxrss_kib'] / ours['maxrss_kib']:.1f}x"
    )
    print(compare_results())
    target = ours["seconds"] < 20 and ours["maxrss_kib"] < 4 * 2**20
    print(f"target (< 20 s and < 4 GiB for ours): {'met' if target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
