"""The worker pool: worker processes, each with one warm kernel (evaluation.render.kernels), run
one report at a time in a clean namespace (evaluation.render.run plans the run and uses these).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation import files
from evaluation.errors import raise_if_stop_requested
from evaluation.render.convert import (
    convert_notebook_to_html,
    find_title,
    read_key_figure_decimals,
    read_key_figures,
)
from evaluation.render.kernels import (
    BLOCK_SLOW_IMPORTS,
    KERNEL_ARGUMENTS,
    WarmKernel,
    kill_process,
    register_warm_engine,
)

# papermill's storage handlers import pyarrow.fs for hdfs:// paths when they can, and with it
# pyarrow and numpy (~0.3 s of CPU a worker, issue 17). A worker reads and writes local files
# only, so it makes that optional import fail: papermill then keeps hdfs:// as a path it would
# refuse, naming the missing pyarrow. (Kernels and the parent import pyarrow as usual.)
WORKER_BLOCKED_IMPORTS = BLOCK_SLOW_IMPORTS + "; sys.modules.setdefault('pyarrow.fs', None)"


@dataclass(frozen=True)
class RenderJob:
    """One report to render: plain data, so it can be sent to a worker process."""

    report_id: str
    name: str
    notebook: str
    parameters: dict
    language: str
    fingerprint: str = ""
    notebook_sha256: str = ""
    waits_for_shared: bool = True  # registry.ReportSpec.waits_for_shared


def nothing() -> None:
    pass


@dataclass(frozen=True)
class Preparation:
    """The parent's work while the workers start their kernels (issue 17), in two steps:
    `first` before any report starts (the values cache), `shared` (the run's shared
    precomputation) before the reports that wait for it (RenderJob.waits_for_shared). The
    others start in between, on a kernel that would otherwise sit idle."""

    first: Callable[[], None] = nothing
    shared: Callable[[], None] = nothing


def describe_error(error: dict | None) -> str:
    if not error:
        return ""
    where = f"cell {error['cell']}: " if error.get("cell") else ""
    return f"{where}{error.get('ename')}: {error.get('evalue')}"


# --- one report, inside a worker -----------------------------------------------------------------

# A cell running longer than this fails its report, so a hanging notebook cannot hang the run.
# The slowest cell seen on national-size data takes seconds; WORKBENCH_CELL_TIMEOUT overrides.
CELL_TIMEOUT_SECONDS = 1800


def cell_timeout_seconds() -> int:
    return int(os.environ.get("WORKBENCH_CELL_TIMEOUT", CELL_TIMEOUT_SECONDS))


def render_one(job: RenderJob, run_dir: Path, kernel: WarmKernel | None) -> dict:
    """Execute one report notebook and convert it; never raises for a failing notebook.

    Files appear only complete: the executed notebook (kept also on failure, for the analyst),
    the HTML (only on success) and the chart tables, each renamed into place when done. The
    result also holds the CPU seconds the report cost its kernel and this worker (issue 17).
    """
    started = time.perf_counter()
    cpu = CpuMeter(kernel)
    executed = run_dir / "notebooks" / f"{job.report_id}.ipynb"
    tables_final = run_dir / "tables" / job.report_id
    tables_tmp = run_dir / "tables" / f".{job.report_id}.partial"
    executed.parent.mkdir(parents=True, exist_ok=True)
    tmp_nb = files.temporary_name(executed)
    parameters = {**job.parameters, "tables_dir": str(tables_tmp)}
    result = execute_report(job, parameters, tmp_nb, kernel)
    if tmp_nb.exists():
        os.replace(tmp_nb, executed)
        result["executed"] = executed.relative_to(run_dir).as_posix()
    if result["status"] == "ok":
        try:
            result.update(convert_report(job, executed, run_dir))
            result["tables"] = publish_tables(tables_tmp, tables_final, run_dir)
        except Exception as exc:
            result["status"] = "failed"
            result["error"] = {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}
    shutil.rmtree(tables_tmp, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - started, 3)
    result.update(cpu.measure())
    return result


class CpuMeter:
    """CPU seconds of one report: its kernel's process (psutil; None when the kernel was started
    anew during the report, or in a fresh kernel) and this worker's rendering thread (the
    papermill client and the HTML conversion run in it; zmq's own I/O threads aside)."""

    def __init__(self, kernel: WarmKernel | None):
        self.kernel = kernel
        self.kernel_pid = kernel.pid if kernel is not None else None
        self.kernel_start = kernel.cpu_seconds() if kernel is not None else None
        self.worker_start = time.thread_time()

    def measure(self) -> dict:
        kernel_seconds = None
        if self.kernel_start is not None and self.kernel.pid == self.kernel_pid:
            kernel_now = self.kernel.cpu_seconds()
            if kernel_now is not None:
                kernel_seconds = round(kernel_now - self.kernel_start, 3)
        worker_seconds = round(time.thread_time() - self.worker_start, 3)
        return {"kernel_cpu_seconds": kernel_seconds, "worker_cpu_seconds": worker_seconds}


def execute_report(job: RenderJob, parameters: dict, tmp_nb: Path, kernel) -> dict[str, Any]:
    """Run the notebook with papermill into tmp_nb (warm kernel if given); the status."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    result: dict[str, Any] = {"report_id": job.report_id, "status": "failed", "error": None}
    notebook_dir = str(Path(job.notebook).parent)
    try:
        if kernel is not None:
            if not kernel.is_alive():  # a previous report crashed the kernel
                kernel.stop()
                kernel.start()
            kernel.reset(notebook_dir)
            engine = {"engine_name": register_warm_engine(), "warm_kernel": kernel}
        else:
            engine = {"cwd": notebook_dir, "extra_arguments": KERNEL_ARGUMENTS}
        papermill.execute_notebook(
            job.notebook,
            str(tmp_nb),
            parameters=parameters,
            progress_bar=False,
            execution_timeout=cell_timeout_seconds(),
            **engine,
        )
        result["status"] = "ok"
    except PapermillExecutionError as exc:
        result["error"] = {
            "cell": exc.cell_index + 1,
            "execution_count": exc.exec_count,
            "source": (exc.source or "").strip().splitlines()[:3],
            "ename": exc.ename,
            "evalue": exc.evalue,
        }
    except Exception as exc:  # kernel died, a cell timed out, ...: report it, go on
        result["error"] = {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}
        if kernel is not None:  # it may still be busy with the timed-out cell: start afresh
            kernel.stop()
            kernel.start()
    return result


def convert_report(job: RenderJob, executed: Path, run_dir: Path) -> dict[str, Any]:
    """The executed notebook's key figures, title and HTML page (written into run_dir)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    title = find_title(nb)
    html = convert_notebook_to_html(nb, job.language, title)
    files.write_text_atomically(run_dir / f"{job.report_id}.html", html)
    return {
        "key_figures": read_key_figures(nb),
        "key_figure_decimals": read_key_figure_decimals(nb),
        "title": title,
        "html": f"{job.report_id}.html",
        "html_bytes": len(html.encode("utf-8")),
    }


def publish_tables(tables_tmp: Path, tables_final: Path, run_dir: Path) -> list[str]:
    """Move a report's chart tables into place in one rename; return their paths."""
    if not tables_tmp.is_dir():
        return []
    os.replace(tables_tmp, tables_final)
    return sorted(p.relative_to(run_dir).as_posix() for p in tables_final.rglob("*") if p.is_file())


# --- the worker pool -----------------------------------------------------------------------------


# Why a worker runs its jobs in a second thread: nbclient installs its own SIGINT and SIGTERM
# handlers on the asyncio loop of the thread that runs a notebook, and when one fires it shuts
# the kernel down under the running client (seen as "'NoneType' object has no attribute
# 'allow_stdin'" when Ctrl-C came during a kernel start). asyncio can only install signal
# handlers in the main thread, so with the jobs in another thread the worker's main thread keeps
# its own handlers: on SIGTERM it kills its kernels and exits, whatever the job thread is doing.
# Workers also leave the terminal's process group, so Ctrl-C reaches only the parent, which
# stops the workers itself.

PARENT_POLL_SECONDS = 0.5


def detach_from_terminal() -> None:
    """Leave the parent's process group: Ctrl-C in the terminal is for the parent only."""
    if hasattr(os, "setsid"):
        with contextlib.suppress(OSError):
            os.setsid()


def kill_children() -> None:
    """Kill every process this process started (its kernels), at all levels."""
    for child in list_descendants():
        kill_process(child.pid)


def stop_now(signum: int) -> None:
    """Stop this worker at once: no kernel outlives it; the parent discards its partial files."""
    kill_children()
    os._exit(128 + signum)


def install_worker_signals() -> None:
    """SIGTERM (the parent stopping us) stops at once; SIGINT is ignored (the parent's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, lambda signum, frame: stop_now(signum))


def serve_jobs(
    worker_id: int, tasks, events, run_dir: str, warm: bool, languages: tuple = ("da",)
) -> None:
    """Take jobs until None, report each one's start and result (runs in the job thread)."""
    kernel = WarmKernel() if warm else None
    try:
        if kernel is not None:
            kernel.start()
            events.put(("ready", worker_id, kernel.pid))
        with contextlib.suppress(Exception):  # the first report meets the error and reports it
            warm_up_worker(languages)
        while True:
            job = tasks.get()
            if job is None:
                break
            events.put(("started", worker_id, job.report_id))
            result = render_one(job, Path(run_dir), kernel)
            events.put(("finished", worker_id, result))
    finally:
        if kernel is not None:
            kernel.stop()


def warm_up_worker(languages: tuple = ("da",)) -> None:
    """Load what a worker's first report loaded (papermill, nbformat's schema, the HTML exporter
    and its templates: ~0.4 s of CPU, issue 17) while the parent still precomputes."""
    import nbformat
    import papermill  # noqa: F401 - imported here, not in the first report

    register_warm_engine()
    notebook = WarmKernel.make_notebook("")
    nbformat.validate(notebook)
    for language in languages:
        convert_notebook_to_html(notebook, language, "warm-up")


def run_worker(
    worker_id: int, tasks, events, run_dir: str, warm: bool, parent: int, languages=("da",)
) -> None:
    """Worker process: serve jobs in a thread; stop with the kernels on SIGTERM or when the
    `parent` process is gone. The parent passes its pid: a worker asking os.getppid() after the
    parent died during its start would get 1 (init), wait for jobs for ever and keep its kernel
    running (seen when a render was killed a few seconds after it started)."""
    detach_from_terminal()
    install_worker_signals()
    exec(WORKER_BLOCKED_IMPORTS)  # before papermill/nbformat import jsonschema, pyarrow.fs
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            serve_jobs(worker_id, tasks, events, run_dir, warm, languages)
        except BaseException as exc:  # reported by the main thread below
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"jobs-{worker_id}", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(PARENT_POLL_SECONDS)
        if not pid_is_running(parent):  # the parent was killed: nobody will collect our work
            stop_now(signal.SIGTERM)
    if failure:
        raise failure[0]


def execute_jobs(
    jobs: list[RenderJob],
    run_dir: Path,
    workers: int,
    warm: bool,
    progress,
    prepare: Preparation | None = None,
) -> dict[str, dict]:
    """Render jobs in a pool of worker processes; return results by report id.

    `prepare` runs here while the workers start their kernels: no report starts before its
    first step, and a report that waits for the shared results not before its second. On Ctrl-C
    (or any error here) every worker and kernel is stopped before re-raising.
    """
    if not jobs:
        return {}
    context = multiprocessing.get_context("spawn")  # no forked threads or sockets; as on Windows
    tasks, events = context.Queue(), context.Queue()
    count = max(1, min(workers, len(jobs)))
    languages = tuple(sorted({job.language for job in jobs}))
    processes = [
        context.Process(
            target=run_worker,
            args=(i, tasks, events, str(run_dir), warm, os.getpid(), languages),
            daemon=True,
        )
        for i in range(count)
    ]
    results: dict[str, dict] = {}
    running: dict[int, str] = {}
    kernel_pids: set[int] = set()
    try:
        for process in processes:
            process.start()
        prepare = prepare or Preparation()
        prepare.first()
        for job in [job for job in jobs if not job.waits_for_shared]:
            tasks.put(job)
        prepare.shared()
        for job in [job for job in jobs if job.waits_for_shared] + [None] * count:
            tasks.put(job)  # None: no more jobs, one per worker
        while len(results) < len(jobs):
            raise_if_stop_requested()
            try:
                kind, worker, payload = events.get(timeout=0.5)
            except queue.Empty:
                note_dead_workers(processes, running, results, jobs, progress)
                continue
            if kind == "ready" and payload:
                kernel_pids.add(payload)
            elif kind == "started":
                running[worker] = payload
                progress.started(payload)
            elif kind == "finished":
                running.pop(worker, None)
                results[payload["report_id"]] = payload
                progress.finished(payload)
        for process in processes:
            process.join(timeout=30)
    except BaseException:
        stop_workers(processes, kernel_pids)
        raise
    finally:
        for process in processes:
            if process.pid is not None and process.is_alive():
                process.kill()
    return results


def note_dead_workers(processes, running, results, jobs, progress) -> None:
    """A worker that died holding a report fails that report; if all died, fail the rest."""
    for worker, process in enumerate(processes):
        if not process.is_alive() and worker in running:
            report_id = running.pop(worker)
            results[report_id] = failed_result(
                report_id, f"worker process stopped unexpectedly (exit code {process.exitcode})"
            )
            progress.finished(results[report_id])
    if not any(p.is_alive() for p in processes):
        for job in jobs:
            if job.report_id not in results:
                results[job.report_id] = failed_result(job.report_id, "no worker left to run it")
                progress.finished(results[job.report_id])


def failed_result(report_id: str, message: str) -> dict:
    error = {"cell": None, "ename": "RenderError", "evalue": message}
    return {"report_id": report_id, "status": "failed", "error": error, "seconds": 0.0}


def list_descendants() -> list:
    """Child processes of this process, all levels (psutil when installed, else none)."""
    try:
        import psutil
    except ImportError:
        return []
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def stop_workers(processes, kernel_pids: set[int]) -> None:
    """Stop workers (they shut their kernels down), then kill anything of ours still running."""
    descendants = list_descendants()
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        if process.pid is None:  # never started
            continue
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
    for pid in kernel_pids | {p.pid for p in descendants}:
        if pid_is_running(pid):
            kill_process(pid)


def pid_is_running(pid: int) -> bool:
    try:
        import psutil

        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except ImportError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    except Exception:
        return False
