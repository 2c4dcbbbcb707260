"""`workbench render --scheduler`: the reports of a run rendered on a Dask cluster.

Dask distributed (https://distributed.dask.org) schedules the reports; this module only says
what one task is and what the client does with its result. Each Dask worker keeps warm kernels
(a `WarmKernelPlugin`, as the local pool of evaluation.render.workers does), renders a report
into a scratch folder with `workers.render_one`, and sends the files back; the client writes them
into the run folder, so index, manifest, reuse and failures work exactly as for the local pool.

What travels: the client sends each worker a `RenderJob` (report name, notebook path and
parameters: the warehouse PATH, year, cluster, language, min_n) and nothing else. Workers read
the warehouse and its values cache by that path, on storage they share with the client; no
table, and so no pupil-level row, goes through the scheduler (tests/test_distributed.py checks
what is submitted). The client fills the values cache before submitting, so each report reads
the suppressed values in milliseconds instead of computing them from pupil rows.

Security: a remote scheduler is addressed over tls:// with certificates; plain tcp:// only on
this machine (127.0.0.1, localhost, ::1).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from evaluation import config, files
from evaluation.errors import ParameterError, raise_if_stop_requested
from evaluation.render.kernels import BLOCK_SLOW_IMPORTS, WarmKernel, kill_process
from evaluation.render.workers import (
    Preparation,
    RenderJob,
    failed_result,
    list_descendants,
    publish_tables,
    render_one,
    warm_up_worker,
)

PLUGIN_NAME = "workbench-warm-kernels"
STARTED_TOPIC = "workbench-report-started"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL = "local"
DEFAULT_LOCAL_WORKERS = 2


# --- the scheduler address and its security ------------------------------------------------------


def check_scheduler_address(address: str, tls: dict | None = None):
    """The Security to connect with; refuses plain tcp:// off this machine and tls:// without
    certificates (ParameterError: exit 2). `tls` holds ca_file, cert and key (any may be None:
    then dask's own config, distributed.comm.tls, is used)."""
    from distributed.security import Security

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    tls = {k: v for k, v in (tls or {}).items() if v}
    if parts.scheme == "tcp":
        if parts.hostname not in LOCAL_HOSTS:
            raise ParameterError(
                f"--scheduler {address}: plain tcp:// is refused off this machine (the reports "
                "would travel unencrypted). Fix: address the scheduler as tls://HOST:PORT with "
                "--tls-ca-file, --tls-cert and --tls-key (see README, Dask)."
            )
        return Security()
    if parts.scheme != "tls":
        raise ParameterError(
            f"--scheduler {address}: give local, tls://HOST:PORT or tcp://127.0.0.1:PORT."
        )
    names = {"ca_file": "tls_ca_file", "cert": "tls_client_cert", "key": "tls_client_key"}
    given = {names[k]: str(v) for k, v in tls.items() if k in names}  # the rest: dask's config
    security = Security(require_encryption=True, **given)
    if not (security.tls_ca_file and security.tls_client_cert):
        raise ParameterError(
            f"--scheduler {address}: tls:// needs certificates. Fix: give --tls-ca-file, "
            "--tls-cert and --tls-key (or set distributed.comm.tls in a dask config file)."
        )
    return security


def check_options(scheduler: str, tls: dict | None) -> None:
    """Before any work: dask is installed and the address is one we may use (else exit 2)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ParameterError(
            "--scheduler needs Dask distributed. Fix: pip install '.[dask]' "
            "(or conda install dask distributed)."
        ) from None
    if scheduler != LOCAL:
        check_scheduler_address(scheduler, tls)


@contextlib.contextmanager
def connect(scheduler: str, workers: int | None, tls: dict | None = None):
    """A Dask client: on a new LocalCluster for `local`, else on the scheduler at `scheduler`."""
    from distributed import Client, LocalCluster

    if scheduler != LOCAL:
        security = check_scheduler_address(scheduler, tls)
        with Client(scheduler, security=security, timeout="60s") as client:
            yield client
        return
    before = {p.pid for p in list_descendants()}
    cluster = LocalCluster(
        n_workers=workers or DEFAULT_LOCAL_WORKERS,
        threads_per_worker=1,  # one report at a time per worker, as the local pool
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # its HTTP server (health, metrics) on a free port of this machine, without a warning
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        ours = list_new_processes(before)  # listed now: a kernel may outlive its worker
        with contextlib.suppress(Exception):
            cluster.close(timeout=30)
        for process in ours:  # a worker or kernel that did not stop in time
            with contextlib.suppress(Exception):
                process.kill()


def list_new_processes(before: set[int]) -> list:
    """Processes below this one not in `before` (the cluster's workers and their kernels), but not
    multiprocessing's resource tracker, which serves this process as long as it lives."""
    found = []
    for process in list_descendants():
        with contextlib.suppress(Exception):
            if process.pid not in before and "resource_tracker" not in " ".join(process.cmdline()):
                found.append(process)
    return found


# --- on a worker: warm kernels and one report ----------------------------------------------------


class KernelThread:
    """One warm kernel and the thread that owns it: a kernel's client is used by the thread that
    started it only, so Dask's task threads hand reports to this thread and wait."""

    def __init__(self, warm: bool):
        self.warm = warm
        self.kernel: WarmKernel | None = None
        self.requests: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self.serve, name="workbench-kernel", daemon=True)
        self.thread.start()

    def serve(self) -> None:
        """Answer every request, even when the kernel cannot start (render_one starts it again
        and reports why it cannot), so no Dask task waits for ever."""
        if self.warm:
            self.kernel = WarmKernel()
            with contextlib.suppress(Exception):
                self.kernel.start()
        with contextlib.suppress(Exception):  # the first report meets the error and reports it
            warm_up_worker()
        try:
            while (request := self.requests.get()) is not None:
                job, scratch, replies = request
                try:
                    replies.put(render_one(job, scratch, self.kernel))
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting task
                    replies.put(exc)
        finally:
            if self.kernel is not None:
                self.kernel.stop()

    def render(self, job: RenderJob, scratch: Path) -> dict:
        replies: queue.Queue = queue.Queue()
        self.requests.put((job, scratch, replies))
        answer = replies.get()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def stop(self, timeout: float) -> None:
        self.requests.put(None)
        self.thread.join(timeout)
        if self.thread.is_alive() and self.kernel is not None:  # busy with a report: kill it
            kill_process(self.kernel.pid)


class WarmKernelPlugin:
    """Dask worker plugin: setup starts one warm kernel per worker thread, teardown stops them.

    (A WorkerPlugin subclass is built in `make_plugin`, so importing this module needs no dask.)
    """

    name = PLUGIN_NAME

    def __init__(self, warm: bool = True):
        self.warm = warm  # only plain data here: the plugin is pickled to each worker

    def setup(self, worker) -> None:
        exec(BLOCK_SLOW_IMPORTS)  # before papermill/nbformat import jsonschema
        self.pool: queue.Queue = queue.Queue()
        self.threads: list[KernelThread] = []
        for _ in range(worker.state.nthreads):
            kernel_thread = KernelThread(self.warm)
            self.threads.append(kernel_thread)
            self.pool.put(kernel_thread)

    def teardown(self, worker) -> None:
        for kernel_thread in self.threads:
            kernel_thread.stop(timeout=30)

    def render(self, job: RenderJob, scratch: Path) -> dict:
        kernel_thread = self.pool.get()
        try:
            return kernel_thread.render(job, scratch)
        finally:
            self.pool.put(kernel_thread)


def make_plugin(warm: bool):
    from distributed.diagnostics.plugin import WorkerPlugin

    class Plugin(WarmKernelPlugin, WorkerPlugin):
        pass

    return Plugin(warm)


def locate_notebook(job: RenderJob) -> RenderJob | str:
    """The job with the notebook as installed on this worker, or why it cannot run here.

    A worker on another machine has the package at another path; its notebook must be the very
    one the client fingerprinted, or the manifest would describe a report it did not make.
    """
    from dataclasses import replace

    path = Path(job.notebook)
    if not path.is_file():
        path = config.notebooks_dir() / path.name
    if not path.is_file():
        return f"the notebook {Path(job.notebook).name} is not installed on this worker"
    if job.notebook_sha256 and files.hash_file(path) != job.notebook_sha256:
        return f"this worker has another version of {path.name}: install the same workbench"
    return replace(job, notebook=str(path))


def render_on_worker(job: RenderJob) -> dict:
    """The Dask task: render one report in a scratch folder, return its result and files."""
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(STARTED_TOPIC, {"report_id": job.report_id, "worker": worker.address})
    located = locate_notebook(job)
    if isinstance(located, str):
        return failed_result(job.report_id, located)
    with tempfile.TemporaryDirectory(prefix="workbench-render-") as folder:
        scratch = Path(folder)
        result = worker.plugins[PLUGIN_NAME].render(located, scratch)
        names = [result.get("html"), result.get("executed"), *result.get("tables", [])]
        result["files"] = {name: (scratch / name).read_bytes() for name in names if name}
    return result


# --- on the client: submit, collect, write into the run folder ----------------------------------


def write_result_files(result: dict, run_dir: Path) -> dict:
    """Write a worker's files into the run folder as the local pool would have: each file renamed
    into place complete, a report's tables moved into place in one rename."""
    result = dict(result)
    contents: dict[str, bytes] = result.pop("files", {})
    tables_dir = run_dir / "tables" / f".{result['report_id']}.partial"
    for name, data in contents.items():
        if name in result.get("tables", []):
            local_name = Path(name).relative_to(Path("tables") / result["report_id"])
            target = tables_dir / local_name
        else:
            target = run_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomically(target, lambda tmp, data=data: tmp.write_bytes(data))
    if result.get("tables"):
        result["tables"] = publish_tables(
            tables_dir, run_dir / "tables" / result["report_id"], run_dir
        )
    return result


def describe_task_error(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return "the Dask workers running this report stopped unexpectedly (retries used up)"
    return f"Dask task failed: {name}: {exc}"


def submit_jobs(client, jobs: list[RenderJob]) -> dict:
    """One task per report (unique keys: a run never reuses a cached result)."""
    run_token = uuid.uuid4().hex[:8]
    return {
        client.submit(
            render_on_worker, job, key=f"render-{job.report_id}-{run_token}", pure=False
        ): job
        for job in jobs
    }


def execute_jobs_on_dask(
    jobs: list[RenderJob],
    run_dir: Path,
    workers: int | None,
    warm: bool,
    progress,
    scheduler: str = LOCAL,
    tls: dict | None = None,
    prepare: Preparation | None = None,
) -> dict[str, dict]:
    """Render jobs on Dask; return results by report id, as workers.execute_jobs does.

    `prepare` runs once the workers start their kernels (the plugin's setup does not wait for
    them), as with the local pool: no report is submitted before its first step, and a report
    that waits for the shared results not before its second.
    A worker that dies during a report: Dask runs the report again on another worker (up to
    `distributed.scheduler.allowed-failures` times), then the report fails. Ctrl-C cancels the
    tasks and closes the client (and a LocalCluster with its kernels) before re-raising.
    """
    if not jobs:
        return {}
    results: dict[str, dict] = {}
    started: queue.Queue = queue.Queue()
    prepare = prepare or Preparation()
    with connect(scheduler, workers, tls) as client:
        client.register_plugin(make_plugin(warm), name=PLUGIN_NAME)
        client.subscribe_topic(STARTED_TOPIC, lambda event: started.put(event[1]["report_id"]))
        futures: dict = {}
        try:
            prepare.first()
            futures.update(submit_jobs(client, [j for j in jobs if not j.waits_for_shared]))
            prepare.shared()
            futures.update(submit_jobs(client, [j for j in jobs if j.waits_for_shared]))
            collect_results(futures, run_dir, started, progress, results)
        except BaseException:
            client.cancel(list(futures), force=True)
            raise
    return results


def collect_results(futures: dict, run_dir: Path, started, progress, results: dict) -> None:
    """Write each finished report into the run folder as it arrives; progress as it goes."""
    from distributed import wait

    pending = set(futures)
    shown: set[str] = set()

    def show_started(report_id: str) -> None:
        if report_id not in shown:
            shown.add(report_id)
            progress.started(report_id)

    while pending:
        raise_if_stop_requested()
        try:
            done, pending = wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        while not started.empty():
            show_started(started.get())
        for future in done:
            job = futures[future]
            try:
                result = write_result_files(future.result(), run_dir)
            except Exception as exc:  # noqa: BLE001 - one report fails, the run goes on
                result = failed_result(job.report_id, describe_task_error(exc))
            results[job.report_id] = result
            show_started(job.report_id)
            progress.finished(result)
