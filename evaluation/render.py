"""Render report notebooks to offline HTML: `workbench render` and `workbench verify`.

Planning a run, reusing up-to-date reports, the progress display, the manifest and `verify` live
here; the worker kernels in evaluation.workers, HTML conversion and key figures in
evaluation.convert, the index page in evaluation.index_page. This module is imported inside report
kernels too (for `record_key_figures`), so its top level imports only the standard library and
those modules; nbconvert, papermill and rich are imported where used.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluation import config, manifest

# Re-exported: notebooks call render.record_key_figures; tests and benchmarks use the others.
from evaluation.convert import (  # noqa: F401
    KEY_FIGURES_MIME,
    convert_notebook_to_html,
    read_key_figures,
    record_key_figures,
    to_plain_json,
)
from evaluation.errors import ParameterError
from evaluation.index_page import build_index_html
from evaluation.workers import RenderJob, describe_error, execute_jobs

MAX_REPORT_BYTES = 1_500_000  # a report must open quickly on a municipal laptop

# --- the report registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class RenderSettings:
    """What every report of one run shares; validated against the warehouse before use."""

    year: int
    language: str
    warehouse: str
    min_n: int
    clusters: tuple[str, ...]
    clusters_chosen: bool = False  # --cluster given: render only those cluster reports
    municipality: str = ""  # --source public: the municipality of the public report


@dataclass(frozen=True)
class ReportSpec:
    """One kind of report: its notebook and how to build the parameters of each copy.

    `build_parameters` returns one parameter dict per report to render (e.g. one per cluster);
    the renderer adds `tables_dir`.
    """

    name: str
    notebook: str
    build_parameters: Callable[[RenderSettings], list[dict]]
    source: str = "warehouse"  # "public": the ministry's public files (evaluation.public)
    needs_pupil_level: bool = False  # skipped for a warehouse of published aggregates only

    def notebook_path(self) -> Path:
        path = Path(self.notebook)
        return path if path.is_absolute() else config.notebooks_dir() / path


def build_cluster_parameters(settings: RenderSettings) -> list[dict]:
    """One cluster report per cluster of the year."""
    return [
        {
            "cluster": cluster,
            "year": settings.year,
            "language": settings.language,
            "warehouse": settings.warehouse,
            "min_n": settings.min_n,
        }
        for cluster in settings.clusters
    ]


def build_municipality_parameters(settings: RenderSettings) -> list[dict]:
    """One report for the whole municipality (skipped when only some clusters were asked for)."""
    if settings.clusters_chosen:
        return []
    return [
        {
            "year": settings.year,
            "language": settings.language,
            "warehouse": settings.warehouse,
            "min_n": settings.min_n,
        }
    ]


def build_public_parameters(settings: RenderSettings) -> list[dict]:
    """One public report for the chosen municipality (settings.warehouse is the data folder)."""
    return [
        {
            "municipality": settings.municipality,
            "language": settings.language,
            "data_dir": settings.warehouse,
            "min_n": settings.min_n,
        }
    ]


REPORTS: list[ReportSpec] = [
    ReportSpec("cluster_report", "cluster_report.ipynb", build_cluster_parameters),
    ReportSpec("leader_summary", "leader_summary.ipynb", build_municipality_parameters),
    # the effect estimate needs years of pupil-level answers or registers, not one public year
    ReportSpec(
        "evaluation_report",
        "evaluation_report.ipynb",
        build_municipality_parameters,
        needs_pupil_level=True,
    ),
    ReportSpec("public_report", "public_report.ipynb", build_public_parameters, source="public"),
]


def make_report_id(name: str, parameters: dict) -> str:
    """File-name-safe id: the report name, plus the cluster for per-cluster reports."""
    for key in ("cluster", "municipality"):
        if key in parameters:
            return f"{name}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', str(parameters[key]))}"
    return name


def plan_jobs(registry: list[ReportSpec], settings: RenderSettings) -> list[RenderJob]:
    """Every report of the run, in registry order; refuses a registered notebook that is missing."""
    missing = [str(s.notebook_path()) for s in registry if not s.notebook_path().is_file()]
    if missing:
        raise ParameterError(
            "report notebooks not found: " + ", ".join(missing) + ". Fix: restore them from git "
            "(git checkout -- notebooks/) or run from the project checkout."
        )
    jobs = []
    for spec in registry:
        for parameters in spec.build_parameters(settings):
            jobs.append(
                RenderJob(
                    report_id=make_report_id(spec.name, parameters),
                    name=spec.name,
                    notebook=str(spec.notebook_path()),
                    parameters=parameters,
                    language=settings.language,
                )
            )
    return jobs


# --- what the warehouse holds --------------------------------------------------------------------


@dataclass
class WarehouseFacts:
    years: list[int]
    clusters_by_year: dict[int, list[str]]
    all_clusters: list[str]
    ingest_log: list[dict] = field(default_factory=list)
    pupil_level: bool = True  # False: only the ministry's published aggregates


def read_warehouse_facts(path: Path) -> WarehouseFacts:
    """Years, clusters per year and the ingest log, read without locking the warehouse."""
    import duckdb

    if not path.is_file():
        raise ParameterError(
            f"no warehouse at {path}. Fix: run `workbench demo-data` and "
            "`workbench ingest data/raw/demo` (or ingest your own exports) first."
        )
    con = duckdb.connect(str(path), read_only=True)
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
            cursor = con.execute("SELECT DISTINCT file, sha256, table_name FROM ingest_log")
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


# --- progress ------------------------------------------------------------------------------------


class PlainProgress:
    """One log line per report event: for logs, CI and anything that is not a terminal."""

    def __init__(self, total: int, label: str = "render"):
        self.total, self.done, self.label = total, 0, label

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def started(self, report_id: str) -> None:
        print(f"[{self.label}] started  {report_id}", flush=True)

    def finished(self, result: dict) -> None:
        self.done += 1
        print(f"[{self.label}] {self.done}/{self.total} {describe_result(result)}", flush=True)


class TerminalProgress(PlainProgress):
    """A rich progress bar with the running reports, and a line per finished report."""

    def __enter__(self):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.running: list[str] = []
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        self.progress.__enter__()
        self.task = self.progress.add_task(self.label, total=self.total)
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def show_running(self) -> None:
        text = ", ".join(self.running[:3]) + (" ..." if len(self.running) > 3 else "")
        self.progress.update(self.task, description=f"{self.label}: {text or 'done'}")

    def started(self, report_id: str) -> None:
        self.running.append(report_id)
        self.show_running()

    def finished(self, result: dict) -> None:
        if result["report_id"] in self.running:
            self.running.remove(result["report_id"])
        style = {"ok": "green", "reused": "cyan"}.get(result["status"], "bold red")
        self.progress.console.print(f"[{style}]{describe_result(result)}[/]", highlight=False)
        self.progress.advance(self.task)
        self.show_running()


def make_progress(total: int, label: str):
    return TerminalProgress(total, label) if sys.stdout.isatty() else PlainProgress(total, label)


def describe_result(result: dict) -> str:
    line = f"{result['status']:<7} {result['report_id']} ({result.get('seconds', 0):.1f} s)"
    if result["status"] == "reused":
        line += f" up to date, reused from {result.get('reused_from')}"
    if result["status"] == "failed":
        line += " - " + describe_error(result.get("error"))
    return line


# --- the run: plan, reuse, execute, index, manifest, publish ------------------------------------


@dataclass
class RenderOptions:
    """The render command's choices (from the command line or a test)."""

    year: int | None = None
    clusters: list[str] | None = None
    language: str = "da"
    jobs: int | None = None
    out: Path | None = None
    force: bool = False
    warehouse: Path | None = None
    min_n: int = config.MIN_N_DEFAULT
    source: str = "warehouse"
    municipality: str | None = None  # with source="public"
    warm: bool = True  # False: a fresh kernel per report, as verify uses


def render_run(options: RenderOptions, registry: list[ReportSpec] | None = None) -> dict:
    """Render every planned report into reports/<run-id>/ and return the manifest.

    The run is built in reports/.<run-id>.partial and renamed into place only when every report
    has finished (failed ones included: they are listed on the index page). Ctrl-C removes the
    partial folder; published runs and `reports/latest` are never touched until the rename.
    """
    registry = [
        s for s in (registry or REPORTS) if getattr(s, "source", "warehouse") == options.source
    ]
    if not registry:
        raise ParameterError(f"--source {options.source}: no report uses this source yet.")
    root = Path(options.out) if options.out else config.reports_dir()
    if options.source == "public":  # the public files stand in for the warehouse
        from evaluation import public

        warehouse, facts, settings = public.plan_public_render(options)
    else:
        warehouse = Path(options.warehouse or config.warehouse_path()).resolve()
        facts = read_warehouse_facts(warehouse)
        settings = resolve_settings(
            facts, warehouse, options.year, options.clusters, options.language, options.min_n
        )
    if not facts.pupil_level:
        skipped = [s.name for s in registry if s.needs_pupil_level]
        registry = [s for s in registry if not s.needs_pupil_level]
        if skipped:
            print(
                f"note: {', '.join(skipped)} skipped: the warehouse holds only published "
                "aggregates (one year, no pupil-level answers or registers)."
            )
    jobs = plan_jobs(registry, settings)
    if not jobs:
        raise ParameterError("nothing to render: no report matches these choices.")
    started = datetime.now().astimezone()
    inputs = manifest.describe_inputs(warehouse, facts.ingest_log)
    environment = manifest.build_environment()
    code_notebooks = [s.notebook_path() for s in registry]
    code_sha256 = manifest.hash_code(code_notebooks)
    jobs = [fingerprint_job(job, code_sha256, inputs, environment) for job in jobs]
    reusable = {} if options.force else manifest.find_reusable_reports(root)
    to_reuse = [j for j in jobs if can_reuse(reusable.get(j.fingerprint))]
    to_run = order_longest_first([j for j in jobs if j not in to_reuse], root)
    workers = options.jobs or os.cpu_count() or 1
    if options.source == "warehouse" and to_run:
        warm_values_cache(warehouse, settings.min_n)
    run_id = manifest.new_run_id(root)
    with manifest.building_run(root, run_id) as run_dir:
        with make_progress(len(jobs), "render") as progress:
            results = reuse_reports(to_reuse, reusable, run_dir, progress)
            results.update(execute_jobs(to_run, run_dir, workers, options.warm, progress))
        record = {
            "run_id": run_id,
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
            "seconds": round((datetime.now().astimezone() - started).total_seconds(), 3),
            "parameters": {
                "year": settings.year,
                "clusters": list(settings.clusters),
                "language": settings.language,
                "min_n": settings.min_n,
                "source": options.source,
                "jobs": workers,
                "force": options.force,
                "kernels": "warm" if options.warm else "fresh",
                "warehouse": settings.warehouse,
            },
            "inputs": inputs,
            "code_sha256": code_sha256,
            "code_notebooks": [str(p) for p in code_notebooks],
            **environment,
            "reports": [build_report_entry(job, results[job.report_id]) for job in jobs],
        }
        manifest.write_json_atomically(run_dir / manifest.MANIFEST_NAME, record)
        manifest.write_text_atomically(run_dir / "index.html", build_index_html(record))
        manifest.publish_run(root, run_id)
    return record


def warm_values_cache(warehouse: Path, min_n: int) -> None:
    """Compute the suppressed indicator values once, before the workers start.

    Every report of a run reads the same table; with the disk cache filled here
    (`indicators.find_cached_values`) each report reads it in milliseconds instead of
    recomputing it (about 2 s on the demo, 5 s at national size).
    """
    from evaluation import indicators

    try:
        indicators.load_indicator_values(warehouse, min_n)
    except Exception:  # noqa: BLE001 - the reports meet the same error and show it per report
        pass


def order_longest_first(jobs: list[RenderJob], root: Path) -> list[RenderJob]:
    """Start the reports that took longest last time first, so no worker idles at the end.

    Reports never timed before go first (they might be long); ties keep registry order.
    """
    runs = manifest.list_complete_runs(root)
    if not runs:
        return jobs
    try:
        previous = {
            r["id"]: r.get("seconds") or 0 for r in manifest.read_manifest(runs[0])["reports"]
        }
    except (OSError, ValueError, KeyError):
        return jobs
    return sorted(jobs, key=lambda j: -previous.get(j.report_id, float("inf")))


def fingerprint_job(job: RenderJob, code_sha256: str, inputs: dict, environment: dict):
    notebook_sha256 = manifest.hash_file(Path(job.notebook))
    fingerprint = manifest.fingerprint_report(
        notebook_sha256,
        code_sha256,
        inputs["warehouse"]["sha256"],
        {"name": job.name, **job.parameters},
        environment["packages"],
    )
    return replace(job, notebook_sha256=notebook_sha256, fingerprint=fingerprint)


def can_reuse(found: tuple[Path, dict] | None) -> bool:
    """A previous report can be reused only if all its files are still there."""
    if found is None:
        return False
    run_dir, entry = found
    files = [entry.get("html"), entry.get("executed"), *entry.get("tables", [])]
    return bool(entry.get("html")) and all((run_dir / f).is_file() for f in files if f)


def reuse_reports(jobs: list[RenderJob], reusable: dict, run_dir: Path, progress) -> dict:
    """Hard-link (or copy) up-to-date reports from the run that made them."""
    results = {}
    for job in jobs:
        started = time.perf_counter()
        old_run, entry = reusable[job.fingerprint]
        progress.started(job.report_id)
        for name in [entry["html"], entry["executed"], *entry.get("tables", [])]:
            manifest.link_or_copy(old_run / name, run_dir / name)
        results[job.report_id] = {
            **{
                k: entry.get(k)
                for k in ("html", "html_bytes", "executed", "tables", "key_figures", "title")
            },
            "report_id": job.report_id,
            "status": "reused",
            "reused_from": old_run.name,
            "error": None,
            "seconds": round(time.perf_counter() - started, 3),
        }
        progress.finished(results[job.report_id])
    return results


def build_report_entry(job: RenderJob, result: dict) -> dict:
    parameters = {**job.parameters, "tables_dir": f"tables/{job.report_id}"}
    return {
        "id": job.report_id,
        "name": job.name,
        "title": result.get("title") or job.report_id,
        "notebook": job.notebook,
        "notebook_sha256": job.notebook_sha256,
        "parameters": parameters,
        "fingerprint": job.fingerprint,
        "status": result["status"],
        "reused_from": result.get("reused_from"),
        "seconds": result.get("seconds"),
        "html": result.get("html"),
        "html_bytes": result.get("html_bytes"),
        "executed": result.get("executed"),
        "tables": result.get("tables", []),
        "key_figures": result.get("key_figures", {}),
        "error": result.get("error"),
    }


# --- the commands --------------------------------------------------------------------------------


def print_summary(record: dict, root: Path) -> None:
    reports = record["reports"]
    run_dir = root / record["run_id"]
    counts = {s: sum(r["status"] == s for r in reports) for s in ("ok", "reused", "failed")}
    print(
        f"Run {record['run_id']}: {counts['ok']} rendered, {counts['reused']} up to date "
        f"(reused), {counts['failed']} failed, in {record['seconds']:.1f} s."
    )
    if counts["reused"]:
        print(
            f"{counts['reused']} reports were up to date (same warehouse, parameters and code) "
            "and were reused from an earlier run; use --force to render them again."
        )
    for r in reports:
        if r["status"] == "failed":
            print(f"FAILED {r['id']}: {describe_error(r['error'])}")
            if r.get("executed"):
                print(f"       executed notebook: {run_dir / r['executed']}")
    for r in reports:
        if (r.get("html_bytes") or 0) > MAX_REPORT_BYTES:
            print(f"warning: {r['id']}.html is {r['html_bytes'] / 1e6:.1f} MB (aim: under 1.5 MB)")
    print(f"Open {run_dir / 'index.html'}")


def main(args) -> int:
    """`workbench render`: exit 0 when every report rendered, 1 when any failed."""
    options = RenderOptions(
        year=args.year,
        clusters=args.cluster or None,
        language=args.language,
        jobs=args.jobs,
        out=Path(args.out) if args.out else None,
        force=args.force,
        source=getattr(args, "source", "warehouse"),
        municipality=getattr(args, "municipality", None),
    )
    if options.jobs is not None and options.jobs < 1:
        raise ParameterError(f"--jobs {options.jobs}: give 1 or more workers.")
    record = render_run(options)
    print_summary(record, Path(options.out) if options.out else config.reports_dir())
    return 1 if any(r["status"] == "failed" for r in record["reports"]) else 0


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare_key_figures(recorded: Any, now: Any, where: str) -> list[str]:
    """Every difference between two key-figure trees; floats equal to 1e-9 relative."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        diffs = []
        for key in sorted(set(recorded) | set(now)):
            if key not in now:
                diffs.append(f"{where}.{key}: recorded {recorded[key]!r}, now missing")
            elif key not in recorded:
                diffs.append(f"{where}.{key}: not recorded, now {now[key]!r}")
            else:
                diffs += compare_key_figures(recorded[key], now[key], f"{where}.{key}")
        return diffs
    if isinstance(recorded, list) and isinstance(now, list) and len(recorded) == len(now):
        return [
            d
            for i, (a, b) in enumerate(zip(recorded, now, strict=True))
            for d in compare_key_figures(a, b, f"{where}[{i}]")
        ]
    if is_number(recorded) and is_number(now):
        if math.isclose(recorded, now, rel_tol=1e-9, abs_tol=1e-12):
            return []
    elif type(recorded) is type(now) and recorded == now:
        return []
    return [f"{where}: recorded {recorded!r}, now {now!r}"]


def verify_run(run_dir: Path, workers: int | None = None) -> int:
    """`workbench verify`: re-execute every report of a run in fresh kernels and compare.

    Prints "identical" or each difference; returns 1 on a difference or a changed input.
    """
    run_dir = Path(run_dir)
    if not (run_dir / manifest.MANIFEST_NAME).is_file():
        raise ParameterError(
            f"{run_dir} has no {manifest.MANIFEST_NAME}: give a folder reports/<run-id> "
            "made by `workbench render`."
        )
    record = manifest.read_manifest(run_dir)
    problems = manifest.compare_inputs(record["inputs"])
    for path in manifest.list_missing_inputs(record["inputs"]):
        print(f"note: input file {path} is no longer there and cannot be checked")
    entries = [r for r in record["reports"] if r["status"] in ("ok", "reused")]
    for r in record["reports"]:
        if r["status"] == "failed":
            print(f"note: {r['id']} failed in the run; nothing to compare")
    for r in entries:
        path = Path(r["notebook"])
        if not path.is_file():
            problems.append(f"{r['id']}: notebook {path} is missing")
        elif manifest.hash_file(path) != r["notebook_sha256"]:
            print(f"note: {r['id']}: notebook {path} changed since the run")
    notebooks = [Path(p) for p in record.get("code_notebooks", [])]
    if all(p.is_file() for p in notebooks) and record.get("code_sha256"):
        if manifest.hash_code(notebooks) != record["code_sha256"]:
            print("note: the evaluation/ code or a notebook changed since the run")
    jobs = [
        RenderJob(
            report_id=r["id"],
            name=r["name"],
            notebook=r["notebook"],
            parameters={k: v for k, v in r["parameters"].items() if k != "tables_dir"},
            language=record["parameters"]["language"],
        )
        for r in entries
        if Path(r["notebook"]).is_file()
    ]
    differences: list[str] = []
    # Re-execute from the warehouse itself, not from cached indicator values; the kernels
    # inherit this environment.
    os.environ["WORKBENCH_VALUES_CACHE"] = "0"
    if Path(record["inputs"]["warehouse"]["path"]).is_file():
        with tempfile.TemporaryDirectory(prefix="workbench-verify-") as tmp:
            with make_progress(len(jobs), "verify") as progress:
                results = execute_jobs(
                    jobs, Path(tmp), workers or os.cpu_count() or 1, False, progress
                )
        for r in entries:
            result = results.get(r["id"])
            if result is None:
                continue
            if result["status"] != "ok":
                differences.append(f"{r['id']}: failed now: {describe_error(result['error'])}")
            else:
                differences += compare_key_figures(
                    r["key_figures"], result.get("key_figures", {}), r["id"]
                )
    for line in problems + differences:
        print(line)
    if problems or differences:
        print(
            f"verify {run_dir.name}: {len(problems)} input problems, {len(differences)} differences"
        )
        return 1
    print(f"verify {run_dir.name}: identical ({len(jobs)} reports re-executed in fresh kernels)")
    return 0
