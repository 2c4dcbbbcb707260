"""Render speed: `workbench render` against the naive way, in one run (issue 7).

    python benchmarks/render.py                       # demo set: naive, local pool (+ Dask)
    python benchmarks/render.py --skip-naive          # only the render command
    python benchmarks/render.py --no-dask             # naive and the local pool only
    python benchmarks/render.py --national --limit 8  # 98 municipalities, 8 cluster reports timed
    python benchmarks/render.py --compare-python /tmp/venv-lab/bin/python   # with jupyterlab

Each way also runs on a Dask LocalCluster (benchmarks/render_dask.py, issue 17).

The naive way is what an analyst does by hand: for each report, serially, `papermill` on the
command line, then `jupyter nbconvert --to html`. Every way renders the same reports from the same
warehouse, each from a cold values cache (the render's shared precomputation counts in its time);
the machine's load is printed beside each, and whether the key figures agree across the ways.
Nothing here is asserted; the figures are printed. Never run in CI.

With --national the demo country (98 municipalities) is generated and ingested into a temporary
folder first (that time is printed separately); the run's fixed cost (values cache and shared
precomputation, from a cold cache) is measured apart, then every cluster report is rendered, or
with --limit N only the first N: the full time is then an EXTRAPOLATION from the fixed cost and
the per-report cost, printed as such.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from render_dask import cpu_figures, time_dask_national, time_dask_way  # beside this file

from evaluation import config
from evaluation.data import demo, ingest
from evaluation.render import registry, sources, workers
from evaluation.render import run as render


def build_demo_warehouse(folder: Path, municipalities: int) -> Path:
    """Demo raw files and a warehouse in `folder`; prints how long that took."""
    started = time.perf_counter()
    raw = demo.write_demo_data(folder / "raw", municipalities=municipalities)
    warehouse = folder / "workbench.duckdb"
    ingest.ingest_paths([raw], warehouse, replace=True)
    print(f"demo data ({municipalities} municipalities) + ingest: {seconds_since(started):.1f} s")
    return warehouse


def seconds_since(started: float) -> float:
    return time.perf_counter() - started


def plan(warehouse: Path, specs: list[registry.ReportSpec]) -> list[workers.RenderJob]:
    specs = [s for s in specs if s.source == "warehouse"]
    facts = sources.read_warehouse_facts(warehouse)
    settings = sources.resolve_settings(facts, warehouse, None, None, "da")
    return registry.plan_jobs(specs, settings)


def time_render(warehouse: Path, out: Path, specs, jobs: int, limit: int | None) -> dict:
    """The render command (warm workers, in-process conversion), all reports rendered afresh."""
    chosen = None
    if limit:
        chosen = [j.parameters["cluster"] for j in plan(warehouse, specs)[:limit]]
    options = render.RenderOptions(
        warehouse=warehouse, out=out, jobs=jobs, force=True, clusters=chosen
    )
    started = time.perf_counter()
    record = render.render_run(options, specs)
    elapsed = seconds_since(started)
    failed = [r["id"] for r in record["reports"] if r["status"] != "ok"]
    figures = {r["id"]: r.get("key_figures") or {} for r in record["reports"]}
    return {
        "seconds": elapsed,
        "report_seconds": [r.get("seconds", 0.0) for r in record["reports"] if r["status"] == "ok"],
        "reports": len(record["reports"]),
        "failed": failed,
        "figures": figures,
        "cpu": cpu_figures(record),
    }


def cli_path(name: str) -> str:
    """The console script beside this interpreter (the venv's papermill / jupyter)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def time_naive(warehouse: Path, out: Path, specs) -> dict:
    """Serially: `papermill` CLI, then `jupyter nbconvert --to html` CLI, per report."""
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    started = time.perf_counter()
    jobs = plan(warehouse, specs)
    for job in jobs:
        executed = out / f"{job.report_id}.ipynb"
        parameters = {**job.parameters, "tables_dir": str(out / "tables" / job.report_id)}
        command = [cli_path("papermill"), job.notebook, str(executed), "--no-progress-bar"]
        for key, value in parameters.items():
            command += ["-p", key, str(value)]
        steps = [command, [cli_path("jupyter"), "nbconvert", "--to", "html", str(executed)]]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                failed.append(job.report_id)
                break
    return {"seconds": seconds_since(started), "reports": len(jobs), "failed": failed}


def print_result(label: str, result: dict) -> None:
    per = result["seconds"] / max(result["reports"], 1)
    line = f"{label:<34} {result['seconds']:8.1f} s  {result['reports']:4d} reports"
    line += f"  {per:6.2f} s/report"
    if result["failed"]:
        line += f"  (FAILED: {', '.join(result['failed'])})"
    print(line)
    for field, (mean, most, count) in result.get("cpu", {}).items():
        what = field.removesuffix("_cpu_seconds")
        print(f"  {what} CPU per cluster report: mean {mean:.2f} s, max {most:.2f} s ({count})")


def machine_load() -> str:
    """The load averages (1, 5, 15 min): the machine may be shared, so every figure says it."""
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def clear_values_cache(warehouse: Path) -> None:
    """Start a way cold: no cached values and no shared results (evaluation.values.load)."""
    shutil.rmtree(warehouse.parent / "cache", ignore_errors=True)


def naive_key_figures(out: Path) -> dict[str, dict]:
    """Key figures per report id from the naive way's executed notebooks."""
    import nbformat

    from evaluation.render.convert import read_key_figures

    return {
        path.stem: read_key_figures(nbformat.read(path, as_version=4))
        for path in sorted(out.glob("*.ipynb"))
    }


def same_figures(label: str, figures: dict[str, dict], reference: dict[str, dict]) -> bool:
    """Print whether every report's key figures equal the reference's (as JSON: NaN == NaN)."""
    import json

    differ = [
        r
        for r in reference
        if json.dumps(figures.get(r), sort_keys=True) != json.dumps(reference[r], sort_keys=True)
    ]
    verdict = "identical" if not differ else f"DIFFERENT in {', '.join(differ)}"
    print(f"key figures, {label}: {verdict} ({len(reference)} reports)")
    return not differ


# More ways to render the demo set, each (label, function(warehouse, out, specs, jobs) -> result
# dict as time_render gives, with "figures": key figures per report id): Dask's LocalCluster
# (`workbench render --scheduler local`).
EXTRA_WAYS: list = [("dask LocalCluster", time_dask_way)]


def run_demo_set(args, folder: Path) -> None:
    """Naive, the local pool and any EXTRA_WAYS, each from a cold values cache (the run's
    shared precomputation is inside the render's time), then the ratios and key figures."""
    warehouse = Path(args.warehouse) if args.warehouse else build_demo_warehouse(folder, 1)
    print(f"cores: {os.cpu_count()}, workers: {args.jobs}, python: {sys.executable}")
    timings, figures = {}, {}
    if not args.skip_naive:
        clear_values_cache(warehouse)
        print(f"naive starts: {machine_load()}")
        timings["naive"] = time_naive(warehouse, folder / "naive", registry.REPORTS)
        print_result("naive: papermill + nbconvert CLI", timings["naive"])
        figures["naive"] = naive_key_figures(folder / "naive")
    clear_values_cache(warehouse)
    print(f"local pool starts: {machine_load()}")
    timings["pool"] = time_render(warehouse, folder / "reports", registry.REPORTS, args.jobs, None)
    print_result("workbench render (local pool)", timings["pool"])
    figures["pool"] = timings["pool"]["figures"]
    for label, way in [] if args.no_dask else EXTRA_WAYS:
        clear_values_cache(warehouse)
        print(f"{label} starts: {machine_load()}")
        timings[label] = way(
            warehouse, folder / label.replace(" ", "-"), registry.REPORTS, args.jobs
        )
        print_result(label, timings[label])
        figures[label] = timings[label]["figures"]
    print(f"finished: {machine_load()}")
    if "naive" in timings:
        for label in timings.keys() - {"naive"}:
            ratio = timings["naive"]["seconds"] / timings[label]["seconds"]
            print(f"ratio naive / {label}: {ratio:.1f}x faster")
        for label in figures.keys() - {"naive"}:
            same_figures(f"{label} vs naive", figures[label], figures["naive"])


def time_fixed_cost(warehouse: Path, clusters: list[str] | None) -> dict:
    """The run's fixed cost, measured apart from a cold cache: the values cache and the shared
    precomputation for `clusters` (None: every cluster), serially as the render does them."""
    from evaluation.render.run import precompute_shared, warm_values_cache

    settings = sources.resolve_settings(
        sources.read_warehouse_facts(warehouse), warehouse, None, None, "da"
    )
    clear_values_cache(warehouse)
    started = time.perf_counter()
    warm_values_cache(warehouse, settings.min_n, clusters is None)
    values = seconds_since(started)
    started = time.perf_counter()
    precompute_shared(warehouse, settings.min_n, settings.year, clusters)
    return {"values": values, "shared": seconds_since(started)}


def extrapolate(fixed: dict, result: dict, chosen: int, total: int, workers: int) -> float:
    """Seconds for `total` cluster reports: the fixed cost of all of them (measured), the run's
    start-up (kernels) once and the reports' own seconds (the manifest's mean over the `chosen`
    rendered with the cache warm) spread over the workers."""
    per_report = sum(result["report_seconds"]) / max(len(result["report_seconds"]), 1)
    start_up = max(0.0, result["seconds"] - chosen * per_report / workers)
    return fixed["values"] + fixed["shared"] + start_up + total * per_report / workers


def run_national(args, folder: Path) -> None:
    warehouse = Path(args.warehouse) if args.warehouse else build_demo_warehouse(folder, 98)
    clusters = [s for s in registry.REPORTS if s.name == "cluster_report"]
    total = len(plan(warehouse, clusters))
    print(f"national demo: {total} cluster reports; cores: {os.cpu_count()}, workers: {args.jobs}")
    every = [j.parameters["cluster"] for j in plan(warehouse, clusters)]
    chosen = every[: args.limit or None]
    fixed = time_fixed_cost(warehouse, every)  # what a render of every cluster report needs
    print(
        f"fixed cost of all {total} cluster reports, measured apart: values cache "
        f"{fixed['values']:.1f} s, shared precomputation {fixed['shared']:.1f} s"
    )
    result = time_render(warehouse, folder / "reports", clusters, args.jobs, args.limit)
    print_result("workbench render, cluster reports (cache warm)", result)
    if result["reports"] < total:
        estimate = extrapolate(fixed, result, len(chosen), total, args.jobs)
        print(
            f"EXTRAPOLATION, not measured: {total} cluster reports in {estimate / 60:.1f} minutes"
            " (the fixed cost above, start-up once, each report's own seconds over the"
            " workers)"
        )
    else:
        measured = fixed["values"] + fixed["shared"] + result["seconds"]
        print(f"every cluster report of the country: {measured / 60:.1f} minutes (measured)")
    time_dask_national(warehouse, folder, clusters, chosen, print_result)


def time_render_under(python: str, warehouse: Path, jobs: int) -> float:
    """Seconds of the render command run by another interpreter (e.g. a venv with jupyterlab)."""
    command = [python, __file__, "--skip-naive", "--warehouse", str(warehouse), "--jobs", str(jobs)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("workbench render"))
    return float(line.split()[4])


def has_jupyterlab(python: str) -> bool:
    probe = [python, "-c", "import importlib.util as u; print(bool(u.find_spec('jupyterlab')))"]
    return subprocess.run(probe, capture_output=True, text=True).stdout.strip() == "True"


def run_comparison(args, folder: Path) -> None:
    """The same render, alternately under this interpreter and another; best of --repeat."""
    warehouse = Path(args.warehouse) if args.warehouse else build_demo_warehouse(folder, 1)
    pythons = [sys.executable, args.compare_python]
    best = {p: float("inf") for p in pythons}
    for _ in range(args.repeat):
        for python in pythons:
            best[python] = min(best[python], time_render_under(python, warehouse, args.jobs))
    for python in pythons:
        lab = "with jupyterlab" if has_jupyterlab(python) else "without jupyterlab"
        print(f"render, best of {args.repeat}, {lab:<19} {best[python]:7.1f} s  ({python})")
    print(f"ratio other / this: {best[args.compare_python] / best[sys.executable]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--warehouse", help="use this warehouse instead of building demo data")
    parser.add_argument("--skip-naive", action="store_true", help="time only workbench render")
    parser.add_argument("--no-dask", action="store_true", help="demo set: naive and pool only")
    parser.add_argument("--national", action="store_true", help="98 municipalities")
    parser.add_argument("--limit", type=int, help="with --national: time only N cluster reports")
    parser.add_argument("--compare-python", help="also time render under this interpreter")
    parser.add_argument("--repeat", type=int, default=2, help="with --compare-python")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("WORKBENCH_HOME", str(folder))  # keep the user's reports/ as is
        (folder / "data").mkdir(exist_ok=True)
        print(f"notebooks: {config.notebooks_dir()}")
        if args.compare_python:
            run_comparison(args, folder)
        else:
            (run_national if args.national else run_demo_set)(args, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
