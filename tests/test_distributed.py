"""evaluation.render.distributed: the scheduler address rules, what the client sends, and a real
Dask cluster (a `dask scheduler` and two `dask worker` subprocesses on 127.0.0.1) rendering the
demo's reports with the local pool's key figures, and surviving a worker killed mid-report."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import psutil
import pytest
from distributed import Client

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from render_project import FIXTURES, early_and_late, make_registry, make_warehouse  # noqa: E402

from evaluation import cli  # noqa: E402
from evaluation.errors import ParameterError  # noqa: E402
from evaluation.render import distributed  # noqa: E402
from evaluation.render import run as render  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).parent / "dask")
START_SECONDS = 180  # a busy 2-core machine: a worker with its warm kernel may take a minute


# --- the scheduler address ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:8786", "tcp://localhost:8786", "127.0.0.1:8786", "tcp://[::1]:1"]
)
def test_plain_tcp_is_allowed_on_this_machine_only(address):
    assert distributed.check_scheduler_address(address) is not None


@pytest.mark.parametrize(
    "address", ["tcp://10.0.0.5:8786", "192.0.2.7:8786", "tcp://scheduler.example.org:8786"]
)
def test_plain_tcp_to_another_machine_is_refused(address):
    with pytest.raises(ParameterError, match="plain tcp:// is refused off this machine"):
        distributed.check_scheduler_address(address)


def test_other_schemes_are_refused():
    with pytest.raises(ParameterError, match="give local, tls://"):
        distributed.check_scheduler_address("ws://127.0.0.1:8786")


def test_tls_without_certificates_is_refused():
    with pytest.raises(ParameterError, match="--tls-ca-file, --tls-cert and --tls-key"):
        distributed.check_scheduler_address("tls://10.0.0.5:8786", {"ca_file": None})


def test_tls_with_certificates_requires_encryption(tmp_path):
    tls = {"ca_file": tmp_path / "ca.pem", "cert": tmp_path / "me.pem", "key": tmp_path / "me.key"}
    security = distributed.check_scheduler_address("tls://10.0.0.5:8786", tls)
    assert security.require_encryption is True
    assert security.tls_ca_file == str(tmp_path / "ca.pem")
    assert security.tls_client_cert == str(tmp_path / "me.pem")
    assert security.tls_client_key == str(tmp_path / "me.key")


def test_render_refuses_plain_tcp_off_this_machine_with_exit_2(project, capsys):
    code = cli.main(["render", "--scheduler", "tcp://192.0.2.7:8786"])
    err = capsys.readouterr().err
    assert code == 2
    assert "plain tcp:// is refused" in err and "--tls-ca-file" in err
    assert list((project / "reports").iterdir()) == [], "nothing is rendered or started"


# --- what travels to a worker ---------------------------------------------------------------------


def check_submitted_jobs(jobs: list) -> None:
    """Each task is a RenderJob of paths and scalars: no table, so no pupil-level row."""
    assert jobs
    for job in jobs:
        assert isinstance(job, distributed.RenderJob)
        assert all(isinstance(v, str | int | float | bool) for v in job.parameters.values())
        payload = cloudpickle.dumps((distributed.render_on_worker, job))
        assert len(payload) < 3000, "a task carries parameters, not data"
        for module in (b"pandas", b"numpy", b"pyarrow"):
            assert module not in payload


def test_the_worker_plugin_carries_no_data():
    payload = cloudpickle.dumps(distributed.make_plugin(warm=True))
    assert b"pandas" not in payload and b"numpy" not in payload
    assert len(payload) < 20_000


def test_a_kernel_that_cannot_start_fails_the_task_instead_of_hanging(tmp_path, monkeypatch):
    def refuse(self):
        raise RuntimeError("no kernel on this worker")

    monkeypatch.setattr(distributed.WarmKernel, "start", refuse)
    job = distributed.RenderJob(
        "ok-K01", "ok", str(FIXTURES / "ok.ipynb"), {"cluster": "K01"}, "da"
    )
    kernel_thread = distributed.KernelThread(warm=True)
    try:
        with pytest.raises(RuntimeError, match="no kernel on this worker"):
            kernel_thread.render(job, tmp_path)
    finally:
        kernel_thread.stop(timeout=10)
    assert not kernel_thread.thread.is_alive()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_render_through_a_tls_scheduler_with_certificate_files(project, tmp_path):
    """Dask's own temporary certificates written to PEM files, as --tls-* take them."""
    import logging

    from distributed import LocalCluster
    from distributed.security import Security

    security = Security.temporary()
    tls = {}
    for name, pem in (
        ("ca_file", security.tls_ca_file),
        ("cert", security.tls_client_cert),
        ("key", security.tls_client_key),
    ):
        tls[name] = tmp_path / f"{name}.pem"
        tls[name].write_text(pem, encoding="utf-8")
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        protocol="tls",
        host="127.0.0.1",
        security=security,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        options = render.RenderOptions(scheduler=address, tls=tls, out=tmp_path / "reports")
        record = render.render_run(options, make_registry(("ok", "cluster")))
        with pytest.raises(ParameterError, match="needs certificates"):
            render.render_run(render.RenderOptions(scheduler=address, out=tmp_path / "reports"))
    assert [r["status"] for r in record["reports"]] == ["ok", "ok"]
    assert record["reports"][0]["key_figures"]["cluster"] == "K01"


def test_a_report_whose_workers_all_died_fails_with_a_plain_message():
    from distributed.scheduler import KilledWorker

    message = distributed.describe_task_error(KilledWorker("render-x", None, 3))
    assert message == (
        "the Dask workers running this report stopped unexpectedly (retries used up)"
    )
    other = distributed.describe_task_error(OSError("disk full"))
    assert other == "Dask task failed: OSError: disk full"


# --- a real cluster: a scheduler and two workers as subprocesses ---------------------------------


def start_process(arguments: list[str], log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with open(log, "wb") as out:
        return subprocess.Popen(
            arguments, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def wait_for_file(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.is_file(), f"{path.name} did not appear in {seconds} s"


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """Workers first (their plugin stops their kernels), then anything left below them."""
    everything = []
    for process in processes:
        try:
            everything += psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            pass
    for process in reversed(processes):
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    for child in everything:
        if child.is_running():
            child.kill()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """The address of a scheduler on 127.0.0.1 with two one-thread workers (`dask` CLI)."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes = [
        start_process(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            + ["--scheduler-file", str(scheduler_file)],
            folder / "scheduler.log",
        )
    ]
    try:
        wait_for_file(scheduler_file, START_SECONDS)
        for name in ("w1", "w2"):
            processes.append(
                start_process(
                    [DASK, "worker", "--scheduler-file", str(scheduler_file), "--name", name]
                    + ["--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"]
                    + ["--local-directory", str(folder / name)],
                    folder / f"{name}.log",
                )
            )
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        with Client(address, timeout=f"{START_SECONDS}s") as client:
            client.wait_for_workers(2, timeout=START_SECONDS)
        yield address
    finally:
        stop_processes(processes)


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory) -> Path:
    """One demo municipality, ingested (about 20 s)."""
    from evaluation.data import demo, ingest

    folder = tmp_path_factory.mktemp("demo")
    raw = demo.write_demo_data(folder / "raw", seed=2023, municipalities=1)
    ingest.ingest_paths([raw], folder / "w.duckdb")
    return folder / "w.duckdb"


def list_files(run_dir: Path) -> list[str]:
    return sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*"))


def assert_no_partial_file(run_dir: Path) -> None:
    leftovers = [n for n in list_files(run_dir) if ".partial" in n or ".tmp" in n]
    assert leftovers == []


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_run_on_a_dask_cluster_has_the_local_runs_key_figures(
    dask_cluster, demo_warehouse, tmp_path, monkeypatch
):
    submitted: list = []
    submit = distributed.submit_jobs
    monkeypatch.setattr(
        distributed,
        "submit_jobs",
        lambda client, jobs: submit(client, submitted.extend(jobs) or jobs),
    )
    choices = {"warehouse": demo_warehouse, "clusters": ["aabyen", "havnen", "vest"], "jobs": 2}
    local = render.render_run(render.RenderOptions(out=tmp_path / "local", **choices))
    on_dask = render.render_run(
        render.RenderOptions(out=tmp_path / "dask", scheduler=dask_cluster, **choices)
    )

    figures = {r["id"]: r["key_figures"] for r in local["reports"]}
    assert sorted(figures) == [f"cluster_report-{c}" for c in choices["clusters"]]
    assert all(r["status"] == "ok" for r in local["reports"] + on_dask["reports"])
    assert all(figures.values()), "every report recorded key figures"
    assert {r["id"]: r["key_figures"] for r in on_dask["reports"]} == figures
    # CPU seconds of each report, measured on the Dask worker as in the local pool (issue 17)
    assert all(r["kernel_cpu_seconds"] > 0 < r["worker_cpu_seconds"] for r in on_dask["reports"])
    local_dir = tmp_path / "local" / local["run_id"]
    dask_dir = tmp_path / "dask" / on_dask["run_id"]
    assert list_files(dask_dir) == list_files(local_dir), "the same files in the run folder"
    assert_no_partial_file(dask_dir)
    assert on_dask["parameters"]["scheduler"] == dask_cluster
    check_submitted_jobs(submitted)
    assert sorted(j.report_id for j in submitted) == sorted(figures)


def kill_the_first_reports_worker(started: Path, go: Path, killed: dict) -> None:
    """When a report says it has started (its marker file: the event), kill its worker process
    and its kernel, then let every report go on."""
    try:
        deadline = time.monotonic() + START_SECONDS * 2
        while not list(started.glob("*.txt")) and time.monotonic() < deadline:
            time.sleep(0.1)
        marker = sorted(started.glob("*.txt"))[0]
        killed["cluster"], kernel_pid = marker.stem.rsplit("-", 1)
        worker_pid = int(marker.read_text(encoding="utf-8"))
        os.kill(worker_pid, signal.SIGKILL)
        os.kill(int(kernel_pid), signal.SIGKILL)  # orphaned by its worker's death
        killed["worker"] = worker_pid
    finally:
        go.touch()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_worker_killed_during_a_report_has_it_retried_on_another_worker(dask_cluster, tmp_path):
    warehouse = make_warehouse(tmp_path / "data")
    killed: dict = {}
    killer = threading.Thread(
        target=kill_the_first_reports_worker,
        args=(tmp_path / "data" / "started", tmp_path / "data" / "go", killed),
    )
    killer.start()
    options = render.RenderOptions(
        warehouse=warehouse, out=tmp_path / "reports", scheduler=dask_cluster
    )
    try:
        record = render.render_run(options, make_registry(("marker", "cluster")))
    finally:
        (tmp_path / "data" / "go").touch()
        killer.join(timeout=60)

    assert killed.get("worker"), "a worker was killed while its report ran"
    assert (
        not psutil.pid_exists(killed["worker"])
        or psutil.Process(killed["worker"]).status() == "zombie"
    )
    by_cluster = {r["parameters"]["cluster"]: r for r in record["reports"]}
    assert sorted(by_cluster) == ["K01", "K02"]
    again = by_cluster[killed["cluster"]]
    assert again["status"] == "ok", again["error"]
    assert again["key_figures"]["attempts"] == 2, "Dask ran the killed report again"
    other = by_cluster[({"K01", "K02"} - {killed["cluster"]}).pop()]
    assert other["status"] == "ok" and other["key_figures"]["attempts"] == 1
    run_dir = tmp_path / "reports" / record["run_id"]
    assert_no_partial_file(run_dir)
    assert sorted(n for n in list_files(run_dir) if n.endswith(".html")) == [
        "index.html",
        "marker-K01.html",
        "marker-K02.html",
    ]


# --- Ctrl-C and SIGTERM with a LocalCluster -------------------------------------------------------

SLEEPING_RUN = """
import sys
from pathlib import Path
from evaluation import cli
from evaluation.render import registry
registry.REPORTS[:] = [registry.ReportSpec(
    "sleep", str(Path(sys.argv[1]) / "sleep.ipynb"), registry.build_cluster_parameters)]
if __name__ == "__main__":
    sys.exit(cli.main(["render", "--scheduler", "local", "--jobs", "2"]))
"""


def start_sleeping_dask_run(project: Path) -> tuple[subprocess.Popen, list]:
    """A render on a LocalCluster of two long reports, in its own session; returned once both
    workers have a kernel (the event), with every process below it."""
    script = project / "sleeping_run.py"
    script.write_text(SLEEPING_RUN, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    child = subprocess.Popen(
        [sys.executable, str(script), str(FIXTURES)],
        cwd=project,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and len(list_kernels(child.pid)) < 2:
            time.sleep(0.5)
        assert len(list_kernels(child.pid)) >= 2, "two Dask workers should each have a kernel"
        return child, psutil.Process(child.pid).children(recursive=True)
    except BaseException:
        os.killpg(child.pid, signal.SIGKILL)
        raise


def list_kernels(pid: int) -> list:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    found = []
    for process in children:
        with contextlib.suppress(psutil.Error):
            if "ipykernel" in " ".join(process.cmdline()):
                found.append(process)
    return found


def left_running(processes: list) -> list:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


# how to stop the render, and the exit code it must give
STOPS = {
    "ctrl-c": (lambda child: os.killpg(child.pid, signal.SIGINT), 130),  # the terminal's group
    "sigterm": (lambda child: child.send_signal(signal.SIGTERM), 143),  # as a service manager
}


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("how", sorted(STOPS))
def test_ctrl_c_or_sigterm_stops_a_dask_render_cleanly(project, how):
    child, everything = start_sleeping_dask_run(project)
    send, exit_code = STOPS[how]
    send(child)
    try:
        err = child.communicate(timeout=120)[1]
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert (child.returncode, "Stopped" in err) == (exit_code, True), err
    deadline = time.monotonic() + 30
    while left_running(everything) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left_running(everything) == [], "no worker or kernel is left behind"
    assert list((project / "reports").iterdir()) == [], "no partial run is left"


def test_a_report_that_does_not_wait_for_the_shared_results_is_sent_before_they_are_computed(
    tmp_path,
):
    """On Dask as in the local pool (issue 17): the shared step ends only once the early report
    has started on a worker (its marker file: the event); the late report is sent after it."""
    from evaluation.render.progress import make_progress

    jobs, prepare, seen = early_and_late(tmp_path / "data")
    with make_progress(2, "render") as progress:
        results = distributed.execute_jobs_on_dask(
            jobs, tmp_path / "run", 1, True, progress, prepare=prepare
        )
    assert seen == [True, False]
    assert {r["status"] for r in results.values()} == {"ok"}
