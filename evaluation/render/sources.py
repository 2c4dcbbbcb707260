"""Where a run's figures come from: a registry of sources, as papermill registers engines.

Each source turns the render options into (the input file to hash, the facts the index and
manifest record, the settings every report shares). `warehouse` reads the DuckDB warehouse;
`public` reads the ministry's three public files directly. A new source is one `register_source`
call, not an `if` in the renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evaluation import config, files
from evaluation.data import public_files, warehouse
from evaluation.errors import ParameterError
from evaluation.render.registry import RenderSettings
from evaluation.values.privacy import check_min_n


@dataclass
class WarehouseFacts:
    years: list[int]
    clusters_by_year: dict[int, list[str]]
    all_clusters: list[str]
    ingest_log: list[dict] = field(default_factory=list)
    pupil_level: bool = True  # False: only the ministry's published aggregates


def read_warehouse_facts(path: Path) -> WarehouseFacts:
    """Years, clusters per year and the ingest log, read without locking the warehouse."""
    con = warehouse.connect(path)
    try:
        query = "SELECT table_name FROM information_schema.tables"
        tables = {row[0] for row in con.execute(query).fetchall()}
        years: set[int] = set()
        # "aggregates": a warehouse built from the ministry's public school figures
        for table in ("responses", "register", "aggregates"):
            if table in tables:
                years |= {
                    int(r[0]) for r in con.execute(f"SELECT DISTINCT year FROM {table}").fetchall()
                }
        all_clusters = []
        if "clusters" in tables:
            query = "SELECT cluster_id FROM clusters ORDER BY cluster_id"
            all_clusters = [str(r[0]) for r in con.execute(query).fetchall()]
        clusters_by_year: dict[int, list[str]] = {}
        if "cluster_membership" in tables:
            for year in years:
                rows = con.execute(
                    "SELECT DISTINCT cluster_id FROM cluster_membership WHERE from_year <= ? "
                    "AND (to_year IS NULL OR to_year >= ?) ORDER BY cluster_id",
                    [year, year],
                ).fetchall()
                clusters_by_year[year] = [str(r[0]) for r in rows]
        ingest_log = []
        if "ingest_log" in tables:
            cursor = con.execute(  # sorted: the index page and the manifest list them alike
                "SELECT DISTINCT file, sha256, table_name FROM ingest_log ORDER BY ALL"
            )
            names = [d[0] for d in cursor.description]
            ingest_log = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        pupil_level = any(
            con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchone()[0]
            for table in ("responses", "register")
            if table in tables
        )
    finally:
        con.close()
    return WarehouseFacts(sorted(years), clusters_by_year, all_clusters, ingest_log, pupil_level)


def resolve_settings(
    facts: WarehouseFacts,
    warehouse: Path,
    year: int | None,
    clusters: list[str] | None,
    language: str,
    min_n: int = config.MIN_N_DEFAULT,
) -> RenderSettings:
    """Check --year and --cluster against the warehouse; errors list the valid values."""
    if not facts.years:
        raise ParameterError(
            f"the warehouse {warehouse} holds no survey or register year. "
            "Fix: ingest the survey and register exports first (workbench ingest PATH)."
        )
    if year is None:
        year = facts.years[-1]
    elif year not in facts.years:
        valid = ", ".join(str(y) for y in facts.years)
        raise ParameterError(f"--year {year} is not in the warehouse. Valid years: {valid}.")
    in_year = facts.clusters_by_year.get(year) or facts.all_clusters
    if clusters:
        unknown = [c for c in clusters if c not in in_year]
        if unknown:
            raise ParameterError(
                f"--cluster {' '.join(unknown)}: no such cluster in {year}. "
                f"Valid clusters in {year}: {', '.join(in_year) or '(none)'}."
            )
        chosen = tuple(dict.fromkeys(clusters))
    else:
        chosen = tuple(in_year)
    return RenderSettings(year, language, str(warehouse), min_n, chosen, bool(clusters))


def plan_warehouse_render(options) -> tuple[Path, WarehouseFacts, RenderSettings]:
    """The warehouse source: years and clusters from the DuckDB file (default config's)."""
    warehouse = Path(options.warehouse or config.warehouse_path()).resolve()
    facts = read_warehouse_facts(warehouse)
    check_min_n(options.min_n)
    settings = resolve_settings(
        facts, warehouse, options.year, options.clusters, options.language, options.min_n
    )
    return warehouse, facts, settings


def plan_public_render(options) -> tuple[Path, WarehouseFacts, RenderSettings]:
    """The public source: the ministry's files stand in for the warehouse.

    The wellbeing file stands in for the warehouse in the manifest; all three files are listed
    as inputs, so `workbench verify` notices when one changes.
    """
    data = public_files.read_public_data(config.real_data_dir())
    if not options.municipality:
        valid = ", ".join(public_files.list_municipalities(data))
        raise ParameterError(f"--source public needs --municipality NAME. Valid names: {valid}")
    options.municipality = public_files.check_municipality(options.municipality, data)
    check_min_n(options.min_n)
    year = int(data.wellbeing["year"].max())
    if options.year not in (None, year):
        raise ParameterError(f"--year {options.year}: the public files hold only {year}.")
    if options.clusters:
        raise ParameterError("--cluster is not used with --source public; leave it out.")
    inputs = [data.data_dir / name for name in public_files.PUBLIC_FILES]
    log = [{"file": str(f), "sha256": files.hash_file(f), "table_name": "public"} for f in inputs]
    published = public_warehouse(options)
    if published:  # its answers and years enter the report, so a change re-renders it
        log.append(
            {"file": published, "sha256": files.hash_file(published), "table_name": "public"}
        )
    facts = WarehouseFacts([year], {}, [], log)
    settings = RenderSettings(
        year=year,
        language=options.language,
        warehouse=str(data.data_dir),
        min_n=int(options.min_n),
        clusters=(),
        municipality=options.municipality,
        public_warehouse=published,
    )
    return inputs[0].resolve(), facts, settings


def public_warehouse(options) -> str:
    """The warehouse the public report reads the ministry's respondent counts (TRIVSP) and
    earlier years from (issue 16): `--warehouse` when given, else the default warehouse when it
    exists and holds published figures only; "" for none (the report reads the CSV files alone).
    A pupil-level warehouse is never used by default: it holds no published figures."""
    if options.warehouse:
        return str(warehouse.require_warehouse(options.warehouse).resolve())
    default = Path(config.warehouse_path())
    if not default.is_file():
        return ""
    facts = read_warehouse_facts(default)
    return str(default.resolve()) if facts.years and not facts.pupil_level else ""


@dataclass(frozen=True)
class Source:
    """One source of figures: how to plan a run on it, and whether the values cache applies."""

    name: str
    plan: Callable
    uses_values_cache: bool = False


SOURCES: dict[str, Source] = {}


def register_source(name: str, plan: Callable, uses_values_cache: bool = False) -> None:
    SOURCES[name] = Source(name, plan, uses_values_cache)


def get_source(name: str) -> Source:
    if name not in SOURCES:
        raise ParameterError(f"--source {name}: unknown; sources: {', '.join(SOURCES)}")
    return SOURCES[name]


register_source("warehouse", plan_warehouse_render, uses_values_cache=True)
register_source("public", plan_public_render)
