"""`workbench render`: plan a run, reuse up-to-date reports, render the rest, publish the folder.

The report kinds are in evaluation.render.registry, the sources of figures in
evaluation.render.sources, the worker pool in evaluation.render.workers (its warm kernels in
evaluation.render.kernels), HTML conversion in evaluation.render.convert and the index page in
evaluation.render.index_page.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path

from evaluation import config, files
from evaluation.errors import ParameterError
from evaluation.render import links, manifest, registry, reports_folder
from evaluation.render.index_page import build_index_html
from evaluation.render.kernels import BLOCK_SLOW_IMPORTS
from evaluation.render.progress import make_progress
from evaluation.render.registry import ReportSpec, plan_jobs
from evaluation.render.sources import get_source
from evaluation.render.workers import Preparation, RenderJob, describe_error, execute_jobs
from evaluation.reports.public_credit import credit_tables, uses_public_figures
from evaluation.values import load_indicator_values

MAX_REPORT_BYTES = 1_500_000  # a report must open quickly on a municipal laptop


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
    scheduler: str | None = None  # a Dask scheduler address or "local" (render/distributed.py)
    tls: dict | None = None  # ca_file, cert, key for a tls:// scheduler


def render_run(options: RenderOptions, specs: list[ReportSpec] | None = None) -> dict:
    """Render every planned report into reports/<run-id>/ and return the manifest.

    The run is built in reports/.<run-id>.partial and renamed into place only when every report
    has finished (failed ones included: they are listed on the index page). Ctrl-C removes the
    partial folder; published runs and `reports/latest` are never touched until the rename.
    """
    specs = [s for s in (specs or registry.REPORTS) if s.source == options.source]
    if not specs:
        raise ParameterError(f"--source {options.source}: no report uses this source yet.")
    # absolute: kernels run in the notebooks' folder, so a relative tables path would land there
    root = (Path(options.out) if options.out else config.reports_dir()).resolve()
    reports_folder.check_reports_folder(root)
    check_scheduler(options)
    source = get_source(options.source)
    warehouse, facts, settings = source.plan(options)
    if not facts.pupil_level:
        specs = without_pupil_level_reports(specs)
    jobs = plan_jobs(specs, settings)
    if not jobs:
        raise ParameterError("nothing to render: no report matches these choices.")
    started = datetime.now().astimezone()
    inputs = manifest.describe_inputs(warehouse, facts.ingest_log)
    environment = manifest.build_environment()
    code_notebooks = [s.notebook_path() for s in specs]
    code_sha256 = manifest.hash_code(code_notebooks)
    # a report links to the run's other reports (evaluation.render.links), so it is up to date
    # only in a run of the same reports
    run_reports = sorted(job.report_id for job in jobs)
    jobs = [fingerprint_job(job, code_sha256, inputs, environment, run_reports) for job in jobs]
    reusable = {} if options.force else manifest.find_reusable_reports(root)
    to_reuse = [j for j in jobs if can_reuse(reusable.get(j.fingerprint))]
    to_run = order_longest_first([j for j in jobs if j not in to_reuse], root)
    workers = options.jobs or os.cpu_count() or 1
    prepare = None
    if to_run:  # while the workers start their kernels (issue 17), not before they start
        prepare = plan_preparation(source.uses_values_cache, warehouse, settings, to_run, workers)
    reports_folder.remove_stale_partials(root)
    run_id = manifest.new_run_id(root)
    with reports_folder.building_lock(root, run_id), manifest.building_run(root, run_id) as run_dir:
        with make_progress(len(jobs), "render") as progress:
            results = reuse_reports(to_reuse, reusable, run_dir, progress)
            results.update(run_jobs(options, to_run, run_dir, workers, progress, prepare))
        links.prune_run_links(run_dir, results)
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
                "scheduler": options.scheduler,
                "warehouse": settings.warehouse,
                "public_figures": uses_public_figures(options.source, facts.ingest_log),
            },
            "inputs": inputs,
            "code_sha256": code_sha256,
            "code_notebooks": [str(p) for p in code_notebooks],
            **environment,
            "reports": [build_report_entry(job, results[job.report_id]) for job in jobs],
        }
        if record["parameters"]["public_figures"]:  # the ministry's terms: credit in every CSV
            credit_tables(run_dir / "tables", settings.language)
        files.write_json_atomically(run_dir / manifest.MANIFEST_NAME, record)
        files.write_text_atomically(run_dir / "index.html", build_index_html(record))
        manifest.publish_run(root, run_id)
    return record


def check_scheduler(options: RenderOptions) -> None:
    """Refuse a --scheduler address or TLS setting the render may not use, before any work."""
    if options.scheduler:
        # why: dask is an optional extra; only a render that asks for it imports it
        from evaluation.render.distributed import check_options

        check_options(options.scheduler, options.tls)


def without_pupil_level_reports(specs: list[ReportSpec]) -> list[ReportSpec]:
    """The reports a warehouse of published aggregates can feed; says which were skipped."""
    skipped = [s.name for s in specs if s.needs_pupil_level]
    if skipped:
        print(
            f"note: {', '.join(skipped)} skipped: the warehouse holds only published "
            "aggregates (no pupil-level answers or registers)."
        )
    return [s for s in specs if not s.needs_pupil_level]


def run_jobs(
    options: RenderOptions,
    jobs,
    run_dir: Path,
    workers: int,
    progress,
    prepare: Preparation | None = None,
) -> dict:
    """The local pool of worker processes, or a Dask cluster with --scheduler. `prepare` (the
    values cache, the run's shared precomputation) runs while the workers start their kernels."""
    if not options.scheduler:
        return execute_jobs(jobs, run_dir, workers, options.warm, progress, prepare)
    # why: dask is an optional extra; only a render that asks for it imports it
    from evaluation.render.distributed import execute_jobs_on_dask

    return execute_jobs_on_dask(
        jobs,
        run_dir,
        options.jobs,
        options.warm,
        progress,
        options.scheduler,
        options.tls,
        prepare,
    )


def plan_preparation(
    uses_values_cache: bool, warehouse: Path, settings, jobs: list[RenderJob], workers: int
) -> Preparation:
    """The parent's work while the workers start their kernels: the page's font subset, the
    values cache (every min_n the run's reports use), then the shared precomputation; a report
    that does not wait for the latter (the evaluation report) starts in between."""
    if not uses_values_cache:
        return Preparation(first=cut_font_subset)
    shown = shown_clusters(jobs)
    strict = shown is None  # a report of the whole municipality: the evaluation report's too
    processes = min(workers, len(jobs))

    def font_and_values() -> None:
        cut_font_subset()
        warm_values_cache(warehouse, settings.min_n, strict)

    return Preparation(
        first=font_and_values,
        shared=partial(
            precompute_shared, warehouse, settings.min_n, settings.year, shown, processes
        ),
    )


def cut_font_subset() -> None:
    """The page's font subset, cut first: reports.fonts.subset_woff keeps it on disk, so each
    kernel's warm-up reads it instead of cutting it again (~0.65 s of CPU a kernel; the index
    page needs it anyway)."""
    from evaluation.reports.fonts import font_face_css  # why: fontTools loads only for a render

    try:
        font_face_css()
    except Exception:  # noqa: BLE001 - each kernel then cuts it and meets the error itself
        pass


def warm_values_cache(warehouse: Path, min_n: int, strict: bool = False) -> None:
    """Compute the suppressed indicator values once, while the workers start their kernels
    (plan_preparation), before any report runs; with `strict`, also those at the evaluation
    report's stricter min_n (its sensitivity check), from the same unsuppressed table in memory.

    Every report of a run reads the same table; with the disk cache filled here
    (`evaluation.values.load.find_cached_values`) each report reads it in milliseconds instead
    of recomputing it (about 2 s on the demo, 5 s at national size).
    """
    try:
        load_indicator_values(warehouse, min_n)
        if strict:
            # why: pandas and scipy load only for a render
            from evaluation.reports import inputs, shared

            shared.precompute_strict_values(inputs.load_report_data(Path(warehouse), min_n))
    except Exception:  # noqa: BLE001 - the reports meet the same error and show it per report
        pass


def shown_clusters(jobs: list[RenderJob]) -> list[str] | None:
    """The clusters of a run of cluster reports only; None when a report of the whole
    municipality is among the jobs (it shows every cluster)."""
    clusters = [job.parameters.get("cluster") for job in jobs]
    return None if None in clusters else sorted(set(clusters))


def precompute_shared(
    warehouse: Path, min_n: int, year: int, clusters=None, workers: int = 1
) -> None:
    """Compute what several reports show (comparisons, funnels, follow-ups, the effect) once,
    beside the values cache, while the workers start (evaluation.reports.shared); only for
    `clusters` when the run shows only them. With `workers` > 1 and several municipalities,
    the municipalities are shared out over that many processes (`precompute_in_parallel`)."""
    from evaluation.reports import shared  # why: pandas and scipy load only for a render
    from evaluation.values import load  # why: its memory is let go below, not a start-up cost

    try:
        if workers > 1:
            precompute_in_parallel(warehouse, min_n, year, clusters, workers)
        else:
            shared.precompute_shared(warehouse, min_n, year, clusters)
    except Exception:  # noqa: BLE001 - without the file each report computes (and meets) it
        pass
    finally:  # every min_n of the run is suppressed and cached: the unsuppressed table can go
        load.UNSUPPRESSED.clear()


def precompute_in_parallel(warehouse: Path, min_n: int, year: int, clusters, workers: int):
    """reports.shared.precompute_shared with its loop over municipalities (one file each,
    written atomically) shared out round-robin over `workers` processes: this one, which has
    the data loaded already, and spawned ones for the other shares (the strict values are
    computed before, by warm_values_cache). The national demo's 98 municipalities took 688 s
    serially (issue 17)."""
    from evaluation.reports import inputs, shared  # why: pandas loads only for a render

    if inputs.shared_results_path(Path(warehouse), min_n) is None:
        return
    everything = inputs.load_report_data(Path(warehouse), min_n)
    municipalities = shared.run_municipalities(everything, clusters)
    own_share, *other_shares = [municipalities[i::workers] for i in range(workers)]
    other_shares = [share for share in other_shares if share]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max(1, len(other_shares)), mp_context=context) as pool:
        done = [
            pool.submit(precompute_municipalities, warehouse, min_n, year, clusters, share)
            for share in other_shares
        ]
        for municipality in own_share:
            shared.precompute_municipality(inputs.scoped(everything, municipality), year, clusters)
        for future in done:
            future.result()


def precompute_municipalities(
    warehouse: Path, min_n: int, year: int, clusters, municipalities: list[str]
) -> None:
    """In a spawned process: the shared results of these municipalities, one file each."""
    exec(BLOCK_SLOW_IMPORTS)  # before pandas and altair import jsonschema
    from evaluation.reports import inputs, shared  # why: pandas loads only for a render

    everything = inputs.load_report_data(Path(warehouse), min_n)
    for municipality in municipalities:
        shared.precompute_municipality(inputs.scoped(everything, municipality), year, clusters)


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


def fingerprint_job(
    job: RenderJob, code_sha256: str, inputs: dict, environment: dict, run_reports: list[str]
):
    notebook_sha256 = files.hash_file(Path(job.notebook))
    fingerprint = manifest.fingerprint_report(
        notebook_sha256,
        code_sha256,
        inputs["warehouse"]["sha256"],
        {"name": job.name, **job.parameters, "run_reports": run_reports},
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
                for k in (
                    "html",
                    "html_bytes",
                    "executed",
                    "tables",
                    "key_figures",
                    "key_figure_decimals",
                    "title",
                )
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
        # CPU the report cost its kernel and its worker (issue 17; None: not measured)
        "kernel_cpu_seconds": result.get("kernel_cpu_seconds"),
        "worker_cpu_seconds": result.get("worker_cpu_seconds"),
        "html": result.get("html"),
        "html_bytes": result.get("html_bytes"),
        "executed": result.get("executed"),
        "tables": result.get("tables", []),
        "key_figures": result.get("key_figures", {}),
        # the printed decimals of each key figure; verify compares at them (absent in old runs)
        "key_figure_decimals": result.get("key_figure_decimals") or {},
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
        warehouse=Path(args.warehouse) if getattr(args, "warehouse", None) else None,
        min_n=getattr(args, "min_n", config.MIN_N_DEFAULT),
        scheduler=getattr(args, "scheduler", None),
        tls={
            "ca_file": getattr(args, "tls_ca_file", None),
            "cert": getattr(args, "tls_cert", None),
            "key": getattr(args, "tls_key", None),
        },
    )
    if options.jobs is not None and options.jobs < 1:
        raise ParameterError(f"--jobs {options.jobs}: give 1 or more workers.")
    record = render_run(options)
    print_summary(record, Path(options.out) if options.out else config.reports_dir())
    return 1 if any(r["status"] == "failed" for r in record["reports"]) else 0
