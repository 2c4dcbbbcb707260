"""evaluation.render.workers: the worker pool on the fixture notebooks (tests/fixtures/notebooks/):
a crashed kernel, a cell over the time limit, Ctrl-C and SIGINT at a worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from render_project import (  # noqa: E402
    FIXTURES,
    early_and_late,
    latest_run,
    make_registry,
    marker_job,
    read_record,
    run_cli,
)

from evaluation.render import registry, workers  # noqa: E402
from evaluation.render import run as render  # noqa: E402


@pytest.mark.slow
def test_a_crashed_kernel_fails_its_report_and_the_next_report_gets_a_new_kernel(project):
    registry = make_registry(("crash", "municipality"), ("ok", "cluster"))
    record = render.render_run(render.RenderOptions(jobs=1, clusters=None), registry)
    status = {r["id"]: r["status"] for r in record["reports"]}
    assert status == {"crash": "failed", "ok-K01": "ok", "ok-K02": "ok"}
    crash = next(r for r in record["reports"] if r["id"] == "crash")
    assert crash["error"]["ename"] in ("DeadKernelError", "RuntimeError")


@pytest.mark.slow
def test_a_cell_over_the_time_limit_fails_its_report_and_the_kernel_is_replaced(
    project, capsys, monkeypatch
):
    monkeypatch.setenv("WORKBENCH_CELL_TIMEOUT", "3")
    monkeypatch.setattr(
        registry, "REPORTS", make_registry(("sleep", "municipality"), ("ok", "cluster"))
    )
    code, _out = run_cli(["render", "--jobs", "1"], capsys)  # one worker: ok runs after sleep

    assert code == 1
    by_id = {r["id"]: r for r in read_record(latest_run(project))["reports"]}
    assert by_id["sleep"]["status"] == "failed"
    assert "timed out" in by_id["sleep"]["error"]["evalue"]
    assert by_id["sleep"]["seconds"] < 30, "the 60 s sleep was cut off"
    assert by_id["ok-K01"]["status"] == by_id["ok-K02"]["status"] == "ok"


INTERRUPTED_RUN = """
import sys
from pathlib import Path
from evaluation import cli
from evaluation.render import registry
registry.REPORTS[:] = [registry.ReportSpec(
    "sleep", str(Path(sys.argv[1]) / "sleep.ipynb"), registry.build_cluster_parameters)]
sys.exit(cli.main(["render", "--jobs", "2"]))
"""


def list_kernel_processes(psutil, root_pid: int) -> list:
    try:
        children = psutil.Process(root_pid).children(recursive=True)
    except psutil.Error:
        return []
    return [p for p in children if "ipykernel" in " ".join(safe_cmdline(psutil, p))]


def safe_cmdline(psutil, process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_no_kernels(project):
    psutil = pytest.importorskip("psutil")
    previous = project / "reports" / "2020-01-01T000000"
    previous.mkdir()
    (previous / "manifest.json").write_text('{"reports": []}', encoding="utf-8")
    (previous / "a.html").write_text("previous report", encoding="utf-8")
    (project / "reports" / "latest").write_text("2020-01-01T000000\n", encoding="utf-8")

    child, everything = start_sleeping_run(project)
    try:
        os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C sends
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)

    assert child.returncode == 130, err
    assert "Stopped" in err
    still_running = [p for p in everything if p.is_running() and p.status() != "zombie"]
    assert still_running == [], f"left behind: {[safe_cmdline(psutil, p) for p in still_running]}"
    names = sorted(p.name for p in (project / "reports").iterdir())
    assert names == ["2020-01-01T000000", "latest"], "no partial or new run folder is left"
    assert (previous / "a.html").read_text(encoding="utf-8") == "previous report"
    assert (project / "reports" / "latest").read_text(encoding="utf-8") == "2020-01-01T000000\n"


def start_sleeping_run(project):
    """A render of two long reports in its own session; returns it once both workers have a
    kernel, with every process below it."""
    psutil = pytest.importorskip("psutil")
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_RUN, str(FIXTURES)],
        cwd=project,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        kernels = []
        while time.monotonic() < deadline and len(kernels) < 2:
            time.sleep(0.5)
            kernels = list_kernel_processes(psutil, child.pid)
        # at least one kernel per worker (a worker may be replacing a kernel at that moment)
        assert len(kernels) >= 2, "two workers should each have started a kernel"
        return child, psutil.Process(child.pid).children(recursive=True)
    except BaseException:
        os.killpg(child.pid, signal.SIGKILL)
        raise


def left_running(processes) -> list:
    return [p for p in processes if p.is_running() and p.status() != "zombie"]


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_with_exit_143(project):
    child, everything = start_sleeping_run(project)
    try:
        child.send_signal(signal.SIGTERM)  # the parent only, as a service manager sends it
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert child.returncode == 143, err
    assert "Stopped" in err
    assert left_running(everything) == []
    reports = project / "reports"
    assert not reports.exists() or list(reports.iterdir()) == [], "no partial run is left"


@pytest.mark.slow
def test_workers_and_kernels_stop_soon_after_the_parent_is_killed(project):
    """kill -9 leaves no handler to run: each worker notices its parent is gone (a poll that
    works on every system) and stops its kernels; the next render removes the partial run."""
    child, everything = start_sleeping_run(project)
    killed = time.monotonic()
    child.kill()
    while left_running(everything) and time.monotonic() - killed < 30:
        time.sleep(0.05)
    seconds = time.monotonic() - killed
    child.communicate(timeout=30)  # the pipes close when the last worker has gone
    assert left_running(everything) == [], "workers or kernels outlived their parent by 30 s"
    print(f"workers and kernels gone {seconds:.1f} s after the parent was killed")
    assert any(p.name.endswith(".partial") for p in (project / "reports").iterdir())
    render.render_run(render.RenderOptions(jobs=1, clusters=None), make_registry(("ok", "cluster")))
    assert not any(p.name.endswith(".partial") for p in (project / "reports").iterdir())


def test_a_worker_whose_parent_died_before_it_started_stops():
    """A render killed while its workers start: a worker must not take init (pid 1) for its
    parent and wait for jobs for ever; it is told its parent's pid and stops on its own."""
    import multiprocessing

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer runs: the parent, killed before the worker looked
    context = multiprocessing.get_context("spawn")
    tasks, events = context.Queue(), context.Queue()  # nobody will ever send a job
    worker = context.Process(
        target=workers.run_worker, args=(0, tasks, events, "unused", False, gone.pid)
    )
    worker.start()
    worker.join(timeout=60)
    alive = worker.is_alive()
    if alive:
        worker.kill()
    assert not alive, "the worker waited for jobs from a parent that is gone"
    assert worker.exitcode == 128 + signal.SIGTERM


SIGNALLED_RUN = """
import sys
from pathlib import Path
from evaluation import cli
from evaluation.render import registry
registry.REPORTS[:] = [registry.ReportSpec(
    "ok", str(Path(sys.argv[1]) / "ok.ipynb"), registry.build_cluster_parameters)]
sys.exit(cli.main(["render", "--jobs", "1"]))
"""


@pytest.mark.slow
def test_sigint_at_a_worker_starting_its_kernel_changes_nothing(project):
    """Ctrl-C is the parent's: a worker ignores SIGINT even while nbclient starts its kernel
    (nbclient's own handler used to shut the kernel down under the starting client)."""
    psutil = pytest.importorskip("psutil")
    child = subprocess.Popen(
        [sys.executable, "-c", SIGNALLED_RUN, str(FIXTURES)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sent = 0
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        try:
            workers = psutil.Process(child.pid).children()
        except psutil.Error:
            workers = []
        for worker in workers:
            try:
                if "multiprocessing" in " ".join(worker.cmdline()) and worker.children():
                    os.kill(worker.pid, signal.SIGINT)  # its kernel is starting or running
                    sent += 1
            except psutil.Error:
                pass
        time.sleep(0.1)
    _out, err = child.communicate(timeout=60)
    assert sent >= 1, "the worker was never seen with its kernel"
    assert child.returncode == 0, err


def test_describe_error_names_the_cell_when_there_is_one():
    assert workers.describe_error(None) == ""
    assert workers.describe_error({"cell": 4, "ename": "KeyError", "evalue": "'x'"}) == (
        "cell 4: KeyError: 'x'"
    )
    assert workers.describe_error(workers.failed_result("r", "worker died")["error"]) == (
        "RenderError: worker died"
    )


def test_failed_result_is_a_failed_report_without_a_cell():
    assert workers.failed_result("leader_summary", "worker died") == {
        "report_id": "leader_summary",
        "status": "failed",
        "error": {"cell": None, "ename": "RenderError", "evalue": "worker died"},
        "seconds": 0.0,
    }


def test_cell_time_limit_is_half_an_hour_unless_set(monkeypatch):
    monkeypatch.delenv("WORKBENCH_CELL_TIMEOUT", raising=False)
    assert workers.cell_timeout_seconds() == 1800
    monkeypatch.setenv("WORKBENCH_CELL_TIMEOUT", "3")
    assert workers.cell_timeout_seconds() == 3


def test_a_warmed_up_worker_has_its_engine_and_exporters_ready():
    from papermill.engines import papermill_engines

    from evaluation.render import convert

    convert.build_html_exporter.cache_clear()
    workers.warm_up_worker(("da", "en"))
    assert papermill_engines.get_engine("workbench-warm").__name__ == "WarmKernelEngine"
    assert convert.build_html_exporter.cache_info().currsize == 2
    assert convert.build_html_exporter("en").language_code == "en"
    assert convert.build_html_exporter.cache_info().hits == 1


def test_a_report_that_does_not_wait_for_the_shared_results_runs_while_they_are_computed(
    tmp_path,
):
    """The evaluation report starts between the preparation's steps (issue 17): the shared step
    finishes only once the early report has started (its marker file: the event), and the
    report that waits for the shared results starts only after that step."""
    from evaluation.render.progress import make_progress

    jobs, prepare, seen = early_and_late(tmp_path / "data")
    with make_progress(2, "render") as progress:
        results = workers.execute_jobs(jobs, tmp_path / "run", 2, True, progress, prepare)
    assert seen == [True, False]
    assert {r["status"] for r in results.values()} == {"ok"}


def test_only_the_evaluation_report_starts_before_the_shared_results():
    early = [spec.name for spec in registry.REPORTS if not spec.waits_for_shared]
    assert early == ["evaluation_report"]


def test_a_warmed_up_worker_loads_neither_pyarrow_nor_numpy():
    """papermill would import pyarrow.fs (and numpy) for hdfs:// paths; a worker only renders
    local files, so its start-up goes without them (issue 17)."""
    code = (
        "from evaluation.render import workers\n"
        "exec(workers.WORKER_BLOCKED_IMPORTS)\n"
        "workers.warm_up_worker(('da',))\n"
        "import sys\n"
        "print(sorted(m for m in ('pyarrow', 'numpy', 'papermill') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['papermill']"


def test_a_stop_whose_exception_was_swallowed_still_stops_the_render(tmp_path):
    """A signal's exception is lost when it lands in a garbage-collector callback (seen with
    Dask's GC diagnostics); the request is kept (errors.STOP_REQUESTED) and the render's
    waiting loop raises it, stopping the worker and the kernel of the running report."""
    psutil = pytest.importorskip("psutil")
    from evaluation.errors import STOP_REQUESTED
    from evaluation.render.progress import make_progress

    job = marker_job(tmp_path / "data", "K01", waits_for_shared=False)
    started = tmp_path / "data" / "started"

    def swallow_a_stop_once_the_report_runs() -> None:
        deadline = time.monotonic() + 120
        while not list(started.glob("K01-*.txt")) and time.monotonic() < deadline:
            time.sleep(0.05)
        STOP_REQUESTED.append(KeyboardInterrupt)  # as the handler does; its raise was lost

    prepare = workers.Preparation(shared=swallow_a_stop_once_the_report_runs)
    try:
        with make_progress(1, "render") as progress, pytest.raises(KeyboardInterrupt):
            workers.execute_jobs([job], tmp_path / "run", 1, True, progress, prepare)
    finally:
        STOP_REQUESTED.clear()
    marker = next(started.glob("K01-*.txt"))  # named by the kernel's pid, holding its worker's
    ours = [int(marker.stem.rpartition("-")[2]), int(marker.read_text(encoding="utf-8"))]

    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 10
    while any(running(pid) for pid in ours) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in ours if running(pid)] == []
