"""The Dask lines of benchmarks/render.py (issue 17): the same reports on a Dask LocalCluster.

Demo set: one line, `workbench render --scheduler local` with --jobs workers, and whether its key
figures equal the local pool's. --national: Dask with 1 worker (--limit reports if given) and 2
workers, reports per second, and an EXTRAPOLATION to N workers from a plain model:

    T(N) = F + R * c / N + R * o

R reports; c the per-report cost (the mean of the manifest's per-report seconds, measured on a
worker); o the scheduler's overhead per task (measured: no-op tasks through a one-worker
LocalCluster); F the rest (start-up: cluster, warm kernels, values cache, index), taken from the
1-worker run as F = T(1) - R * (c + o). The model is checked against the measured 2-worker run.
It assumes N real cores and storage that serves N readers as fast as one.
"""

from __future__ import annotations

import time
from pathlib import Path

from evaluation.render import run as render

OVERHEAD_TASKS = 200


def render_on_local_cluster(warehouse: Path, out: Path, specs, workers: int, clusters=None):
    """One forced render through a LocalCluster of `workers`; returns (seconds, manifest)."""
    options = render.RenderOptions(
        warehouse=warehouse, out=out, jobs=workers, force=True, clusters=clusters, scheduler="local"
    )
    started = time.perf_counter()
    record = render.render_run(options, specs)
    return time.perf_counter() - started, record


def summarise(seconds: float, record: dict) -> dict:
    """The shape benchmarks/render.py prints (print_result)."""
    failed = [r["id"] for r in record["reports"] if r["status"] != "ok"]
    return {
        "seconds": seconds,
        "reports": len(record["reports"]),
        "failed": failed,
        "cpu": cpu_figures(record),
    }


def cpu_figures(record: dict) -> dict:
    """Mean and max CPU seconds of the cluster reports, kernel and worker (the manifest's
    kernel_cpu_seconds / worker_cpu_seconds; issue 17 asks < 0.5 s of kernel CPU a report)."""
    figures = {}
    for field in ("kernel_cpu_seconds", "worker_cpu_seconds"):
        values = [
            r[field]
            for r in record["reports"]
            if r["status"] == "ok" and r["name"] == "cluster_report" and r.get(field) is not None
        ]
        if values:
            figures[field] = (sum(values) / len(values), max(values), len(values))
    return figures


def key_figures(record: dict) -> dict:
    return {r["id"]: r["key_figures"] for r in record["reports"]}


def time_dask_way(warehouse: Path, folder: Path, specs, workers: int) -> dict:
    """The demo set on a LocalCluster, in the shape benchmarks/render.py's EXTRA_WAYS return."""
    seconds, record = render_on_local_cluster(warehouse, folder, specs, workers)
    return {**summarise(seconds, record), "figures": key_figures(record)}


def measure_task_overhead() -> float:
    """Seconds of scheduler overhead per task: no-op tasks through a one-worker LocalCluster."""
    from distributed import wait

    from evaluation.render.distributed import connect

    with connect("local", workers=1) as client:
        client.submit(int, 0, pure=False).result()  # the worker is up and has the function
        started = time.perf_counter()
        wait([client.submit(int, i, pure=False) for i in range(OVERHEAD_TASKS)])
        return (time.perf_counter() - started) / OVERHEAD_TASKS


def time_dask_national(warehouse, folder, specs, chosen, print_result) -> None:
    """--national: 1 worker on `chosen` clusters (all when None), 2 workers on all; the model."""
    seconds_1, record_1 = render_on_local_cluster(warehouse, folder / "dask1", specs, 1, chosen)
    print_result("Dask LocalCluster, 1 worker", summarise(seconds_1, record_1))
    seconds_2, record_2 = render_on_local_cluster(warehouse, folder / "dask2", specs, 2)
    print_result("Dask LocalCluster, 2 workers", summarise(seconds_2, record_2))
    for label, seconds, record in (("1", seconds_1, record_1), ("2", seconds_2, record_2)):
        print(f"Dask, {label} worker(s): {len(record['reports']) / seconds:.2f} reports/s")
    per_report = [r["seconds"] for r in record_1["reports"] if r["status"] == "ok"]
    cost = sum(per_report) / max(len(per_report), 1)
    overhead = measure_task_overhead()
    reports_1, reports = len(record_1["reports"]), len(record_2["reports"])
    fixed = seconds_1 - reports_1 * (cost + overhead)
    print(
        f"measured: c = {cost:.2f} s per report (on a worker), o = {overhead * 1000:.1f} ms "
        f"scheduler overhead per task, F = {fixed:.1f} s start-up and the rest"
    )
    predicted = fixed + reports * cost / 2 + reports * overhead
    print(f"model check, 2 workers: predicted {predicted:.1f} s, measured {seconds_2:.1f} s")
    print(f"EXTRAPOLATION (not measured), {reports} reports, T(N) = F + R*c/N + R*o:")
    for workers in (4, 8, 16, 32, 64):
        estimate = fixed + reports * cost / workers + reports * overhead
        print(
            f"  {workers:3d} workers: {estimate / 60:6.1f} min, {reports / estimate:6.2f} reports/s"
        )
