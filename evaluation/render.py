"""Render report notebooks to offline HTML: `workbench render` and `workbench verify`.

This module is imported inside report kernels too (for `record_key_figures`), so its top level
imports only the standard library; nbconvert, papermill and rich are imported where used.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import html
import json
import math
import multiprocessing
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluation import config, manifest
from evaluation.errors import ParameterError

KEY_FIGURES_MIME = "application/vnd.workbench.key-figures+json"
TEMPLATE_NAME = "offline"
MAX_REPORT_BYTES = 1_500_000  # a report must open quickly on a municipal laptop
TEMPLATES_DIR = config.PACKAGE_DIR / "templates"


# --- key figures: written by a notebook's last cell, read back by the renderer -------------------


def to_plain_json(value: Any) -> Any:
    """Turn numpy/pandas scalars, tuples and NaN into plain JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): to_plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"key figure {value!r} is not a number, text, list or dict")


def record_key_figures(figures: dict) -> None:
    """Display `figures` as machine-readable output so `workbench verify` can compare runs.

    Call it in a notebook's last cell. The offline HTML template does not show this output.
    """
    from IPython.display import display

    plain = to_plain_json(figures)
    # text/plain is what JupyterLab shows the analyst; the template hides the whole output.
    summary = "Key figures recorded for workbench verify: " + json.dumps(plain, ensure_ascii=False)
    display({KEY_FIGURES_MIME: plain, "text/plain": summary}, raw=True)


def read_key_figures(executed_nb) -> dict:
    """The key figures an executed notebook recorded ({} if none); the last record wins."""
    found: dict = {}
    for cell in executed_nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if KEY_FIGURES_MIME in data:
                value = data[KEY_FIGURES_MIME]
                found = json.loads(value) if isinstance(value, str) else dict(value)
    return found


# --- HTML conversion with the offline template ---------------------------------------------------


@functools.lru_cache(maxsize=4)
def build_html_exporter(language: str):
    """One HTMLExporter per language and process: building it loads every template file."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.language_code = language
    return exporter


def find_title(nb) -> str | None:
    """The first level-1 heading in the notebook's markdown cells or markdown/HTML outputs."""
    for cell in nb.get("cells", []):
        texts = [cell.get("source", "")] if cell.get("cell_type") == "markdown" else []
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            texts += [data.get("text/markdown", ""), data.get("text/html", "")]
        for text in texts:
            text = "".join(text) if isinstance(text, list) else text
            match = re.search(r"^#\s+(.+)$", text, re.M) or re.search(
                r"<h1[^>]*>(.*?)</h1>", text, re.S | re.I
            )
            if match:
                return re.sub(r"<[^>]+>", "", match.group(1)).strip()
    return None


def convert_notebook_to_html(notebook_node, language: str = "da", title: str | None = None) -> str:
    """An executed notebook as one offline HTML page: no code, no outside requests, `lang` set."""
    nb = copy.deepcopy(notebook_node)
    nb.metadata.pop("widgets", None)  # widget state would need a CDN script
    nb.metadata["title"] = title or nb.metadata.get("title") or find_title(nb) or "Rapport"
    body, _resources = build_html_exporter(language).from_notebook_node(nb)
    return body


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


# --- kernels -------------------------------------------------------------------------------------

# jupyterlab pulls in rfc3987-syntax, whose import builds a grammar and adds ~1.1 s to every
# `import jsonschema` (so to altair and nbformat). Nothing here validates IRI syntax, so workers
# and kernels make that optional import fail fast (jsonschema then skips the "iri" format check).
BLOCK_SLOW_IMPORTS = "import sys; sys.modules.setdefault('rfc3987_syntax', None)"

# Kernels log a TCP warning at start and an interrupt note at shutdown: noise in a batch run
# (errors in cells reach the executed notebook, not this log).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]

# Run once in each warm kernel: everything a report imports, so reports do not pay for it.
WARM_UP_CODE = (
    BLOCK_SLOW_IMPORTS
    + """
import importlib, pkgutil, types, warnings
_warm = types.ModuleType("_workbench_warm")
sys.modules["_workbench_warm"] = _warm
for _name in ["numpy", "pandas", "scipy.stats", "statsmodels.api", "statsmodels.formula.api",
              "altair", "vl_convert", "duckdb", "pyarrow", "yaml"]:
    try:
        importlib.import_module(_name)
    except Exception:
        pass
# As a fresh kernel has them once these libraries are imported (evaluation/ adds its own again).
_warm.warning_filters = list(warnings.filters)
import evaluation
for _name in ["evaluation." + m.name for m in pkgutil.iter_modules(evaluation.__path__)
              if m.name.startswith("report_") or m.name in ("charts", "texts", "indicators")]:
    try:
        importlib.import_module(_name)
    except Exception:
        pass
try:  # the first conversion starts vl-convert's JavaScript engine
    import vl_convert
    vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{"x": 1}]},
                                "encoding": {"x": {"field": "x", "type": "quantitative"}}})
except Exception:
    pass
try:
    import numpy
    _warm.numpy_err = numpy.geterr()
    _warm.numpy_print = numpy.get_printoptions()
except Exception:
    pass
try:
    import altair
    _warm.altair = (altair.renderers.active, altair.data_transformers.active)
except Exception:
    pass
"""
)

# Run before each report in a warm kernel, so it starts as a fresh kernel would: no variables,
# evaluation/ imported anew (no module-level state from the previous report), default options.
RESET_CODE = """
get_ipython().run_line_magic("reset", "-f")
import os, sys, warnings
for _name in [n for n in sys.modules if n == "evaluation" or n.startswith("evaluation.")]:
    del sys.modules[_name]
_warm = sys.modules["_workbench_warm"]
warnings.filters[:] = _warm.warning_filters
getattr(warnings, "_filters_mutated", lambda: None)()  # clears the "already warned" caches
if "pandas" in sys.modules:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.modules["pandas"].reset_option(r"^(?!plotting\\.)")  # plotting would need matplotlib
if hasattr(_warm, "numpy_err"):
    sys.modules["numpy"].seterr(**_warm.numpy_err)
    sys.modules["numpy"].set_printoptions(**_warm.numpy_print)
if hasattr(_warm, "altair"):
    sys.modules["altair"].renderers.enable(_warm.altair[0])
    sys.modules["altair"].data_transformers.enable(_warm.altair[1])
os.chdir(%(cwd)r)
get_ipython().run_line_magic("reset", "-f")
"""


class WarmKernel:
    """One long-lived kernel per worker: heavy imports once, a clean namespace per report."""

    def __init__(self, kernel_name: str = "python3"):
        self.kernel_name = kernel_name
        self.km = None
        self.kc = None

    def start(self) -> None:
        from nbclient import NotebookClient

        client = NotebookClient(
            self.make_notebook(WARM_UP_CODE),
            kernel_name=self.kernel_name,
            startup_timeout=120,
            extra_arguments=KERNEL_ARGUMENTS,
        )
        client.execute(cleanup_kc=False)
        self.km, self.kc = client.km, client.kc

    @staticmethod
    def make_notebook(code: str):
        from nbformat.v4 import new_code_cell, new_notebook

        return new_notebook(cells=[new_code_cell(code)])

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "pid", None)

    def is_alive(self) -> bool:
        from nbclient.util import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def run_code(self, code: str) -> None:
        """Run code in the kernel outside any report; raise if it fails."""
        from nbclient import NotebookClient

        client = NotebookClient(self.make_notebook(code), km=self.km)
        client.kc = self.kc
        nb = client.execute()
        for output in nb.cells[0].outputs:
            if output.output_type == "error":
                raise RuntimeError(f"kernel reset failed: {output.ename}: {output.evalue}")

    def reset(self, cwd: str) -> None:
        self.run_code(RESET_CODE % {"cwd": cwd})

    def stop(self) -> None:
        """Shut the kernel down; kill it if it does not answer."""
        from nbclient.util import run_sync

        pid = self.pid
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None:
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:
            kill_process(pid)
        self.km = self.kc = None


def kill_process(pid: int | None) -> None:
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)


def register_warm_engine() -> str:
    """A papermill engine that runs the notebook in this worker's warm kernel."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, warm_kernel=None, **kwargs):
            client = PapermillNotebookClient(
                nb_man,
                km=warm_kernel.km,
                kernel_name=kernel_name,
                timeout=kwargs.get("execution_timeout"),
                log_output=kwargs.get("log_output", False),
            )
            client.kc = warm_kernel.kc  # reuse the client too: no new sockets per report
            return client.execute()

    papermill_engines.register("workbench-warm", WarmKernelEngine)
    return "workbench-warm"


# --- one report, inside a worker -----------------------------------------------------------------


def render_one(job: RenderJob, run_dir: Path, kernel: WarmKernel | None) -> dict:
    """Execute one report notebook and convert it; never raises for a failing notebook.

    Files appear only complete: the executed notebook (kept also on failure, for the analyst),
    the HTML (only on success) and the chart tables, each renamed into place when done.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    executed = run_dir / "notebooks" / f"{job.report_id}.ipynb"
    tables_final = run_dir / "tables" / job.report_id
    tables_tmp = run_dir / "tables" / f".{job.report_id}.partial"
    executed.parent.mkdir(parents=True, exist_ok=True)
    tmp_nb = manifest.temporary_name(executed)
    parameters = {**job.parameters, "tables_dir": str(tables_tmp)}
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
            job.notebook, str(tmp_nb), parameters=parameters, progress_bar=False, **engine
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
    except Exception as exc:  # kernel died, notebook unreadable, ...: report it, go on
        result["error"] = {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}
    if tmp_nb.exists():
        os.replace(tmp_nb, executed)
        result["executed"] = executed.relative_to(run_dir).as_posix()
    if result["status"] == "ok":
        try:
            nb = nbformat.read(executed, as_version=4)
            result["key_figures"] = read_key_figures(nb)
            result["title"] = find_title(nb)
            html = convert_notebook_to_html(nb, job.language, result["title"])
            manifest.write_text_atomically(run_dir / f"{job.report_id}.html", html)
            result["html"] = f"{job.report_id}.html"
            result["html_bytes"] = len(html.encode("utf-8"))
            result["tables"] = publish_tables(tables_tmp, tables_final, run_dir)
        except Exception as exc:
            result["status"] = "failed"
            result["error"] = {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}
    shutil.rmtree(tables_tmp, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def publish_tables(tables_tmp: Path, tables_final: Path, run_dir: Path) -> list[str]:
    """Move a report's chart tables into place in one rename; return their paths."""
    if not tables_tmp.is_dir():
        return []
    os.replace(tables_tmp, tables_final)
    return sorted(p.relative_to(run_dir).as_posix() for p in tables_final.rglob("*") if p.is_file())


# --- the worker pool -----------------------------------------------------------------------------


def install_worker_signals() -> None:
    """Ctrl-C is for the parent to handle; SIGTERM (the parent stopping us) unwinds cleanly."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, stop)


def run_worker(worker_id: int, tasks, events, run_dir: str, warm: bool) -> None:
    """Worker process: take jobs until None, report each one's start and result."""
    install_worker_signals()
    exec(BLOCK_SLOW_IMPORTS)  # before papermill/nbformat import jsonschema
    kernel = WarmKernel() if warm else None
    try:
        if kernel is not None:
            kernel.start()
            install_worker_signals()  # nbclient resets them after its run
            events.put(("ready", worker_id, kernel.pid))
        while True:
            job = tasks.get()
            if job is None:
                break
            events.put(("started", worker_id, job.report_id))
            result = render_one(job, Path(run_dir), kernel)
            install_worker_signals()
            events.put(("finished", worker_id, result))
    finally:
        if kernel is not None:
            kernel.stop()


def execute_jobs(
    jobs: list[RenderJob], run_dir: Path, workers: int, warm: bool, progress
) -> dict[str, dict]:
    """Render jobs in a pool of worker processes; return results by report id.

    On Ctrl-C (or any error here) every worker and kernel is stopped before re-raising.
    """
    if not jobs:
        return {}
    context = multiprocessing.get_context("spawn")  # no forked threads or sockets; as on Windows
    tasks, events = context.Queue(), context.Queue()
    for job in jobs:
        tasks.put(job)
    count = max(1, min(workers, len(jobs)))
    for _ in range(count):
        tasks.put(None)
    processes = [
        context.Process(target=run_worker, args=(i, tasks, events, str(run_dir), warm), daemon=True)
        for i in range(count)
    ]
    results: dict[str, dict] = {}
    running: dict[int, str] = {}
    kernel_pids: set[int] = set()
    try:
        for process in processes:
            process.start()
        while len(results) < len(jobs):
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


def describe_error(error: dict | None) -> str:
    if not error:
        return ""
    where = f"cell {error['cell']}: " if error.get("cell") else ""
    return f"{where}{error.get('ename')}: {error.get('evalue')}"


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


# --- index page ----------------------------------------------------------------------------------

INDEX_TEXTS = {
    "da": {
        "title": "Rapporter, skoleåret {school_year}",
        "run": "Kørsel {run_id}, startet {started}.",
        "summary": "{ok} rapporter dannet, {reused} uændrede og genbrugt, {failed} fejlede.",
        "caption": "Rapporterne i denne kørsel med status, parametre og tid",
        "report": "Rapport",
        "status": "Status",
        "parameters": "Parametre",
        "seconds": "Sekunder",
        "ok": "dannet",
        "reused": "uændret, genbrugt",
        "failed": "fejlede",
        "failures": "Rapporter der fejlede",
        "failures_intro": "Disse rapporter blev ikke dannet. Den kørte notebook ligger til "
        "analytikeren; fejlen står herunder.",
        "executed": "kørt notebook",
        "no_html": "ingen rapport",
        "provenance": "Herkomst",
        "warehouse": "Datalager",
        "files": "Indlæste filer",
        "git": "Git-commit",
        "code": "Kode (SHA-256)",
        "finished": "Færdig",
        "packages": "Pakkeversioner",
        "package": "Pakke",
        "version": "Version",
        "packages_caption": "Versioner af de pakker, tallene afhænger af",
    },
    "en": {
        "title": "Reports, school year {school_year}",
        "run": "Run {run_id}, started {started}.",
        "summary": "{ok} reports rendered, {reused} unchanged and reused, {failed} failed.",
        "caption": "The reports of this run with status, parameters and time",
        "report": "Report",
        "status": "Status",
        "parameters": "Parameters",
        "seconds": "Seconds",
        "ok": "rendered",
        "reused": "unchanged, reused",
        "failed": "failed",
        "failures": "Reports that failed",
        "failures_intro": "These reports were not rendered. The executed notebook is kept for "
        "the analyst; the error is shown below.",
        "executed": "executed notebook",
        "no_html": "no report",
        "provenance": "Provenance",
        "warehouse": "Warehouse",
        "files": "Ingested files",
        "git": "Git commit",
        "code": "Code (SHA-256)",
        "finished": "Finished",
        "packages": "Package versions",
        "package": "Package",
        "version": "Version",
        "packages_caption": "Versions of the packages the figures depend on",
    },
}

INDEX_CSS = """
body { font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a; background: #fff;
       max-width: 64rem; margin: 0 auto; padding: 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; }
td.num { text-align: right; }
a { color: #0b4f8a; }
code { overflow-wrap: anywhere; }
.failed { color: #a4000f; font-weight: bold; }
"""


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def format_parameters(parameters: dict) -> str:
    shown = {k: v for k, v in parameters.items() if k not in ("warehouse", "tables_dir")}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def build_index_html(record: dict) -> str:
    """The run's front page: every report with status, parameters and provenance (offline)."""
    language = record["parameters"]["language"]
    t = INDEX_TEXTS.get(language, INDEX_TEXTS["en"])
    year = record["parameters"]["year"]
    title = t["title"].format(school_year=f"{year}/{(year + 1) % 100:02d}")
    reports = record["reports"]
    counts = {s: sum(r["status"] == s for r in reports) for s in ("ok", "reused", "failed")}
    rows = []
    titles = [r["title"] for r in reports]
    for r in reports:
        name = escape(r["title"] if titles.count(r["title"]) == 1 else f"{r['title']} ({r['id']})")
        link = f'<a href="{escape(r["html"])}">{name}</a>' if r.get("html") else name
        status = (
            f'<span class="failed">{t["failed"]}</span>'
            if r["status"] == "failed"
            else (t[r["status"]])
        )
        rows.append(
            f'<tr><th scope="row">{link}</th><td>{status}</td>'
            f"<td>{escape(format_parameters(r['parameters']))}</td>"
            f'<td class="num">{r.get("seconds") or 0:.1f}</td></tr>'
        )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(language)}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{INDEX_CSS}</style></head>",
        "<body><main>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(t['run'].format(run_id=record['run_id'], started=record['started']))}</p>",
        f"<p>{escape(t['summary'].format(**counts))}</p>",
        f"<table><caption>{escape(t['caption'])}</caption><thead><tr>",
        *(f'<th scope="col">{escape(t[k])}</th>' for k in ("report", "status", "parameters")),
        f'<th scope="col">{escape(t["seconds"])}</th></tr></thead>',
        "<tbody>",
        *rows,
        "</tbody></table>",
    ]
    failed = [r for r in reports if r["status"] == "failed"]
    if failed:
        parts += [f"<h2>{escape(t['failures'])}</h2>", f"<p>{escape(t['failures_intro'])}</p>"]
        parts.append("<ul>")
        for r in failed:
            notebook = (
                f' (<a href="{escape(r["executed"])}">{escape(t["executed"])}</a>)'
                if r.get("executed")
                else ""
            )
            parts.append(
                f"<li><strong>{escape(r['id'])}</strong>{notebook}: "
                f"<code>{escape(describe_error(r.get('error')))}</code></li>"
            )
        parts.append("</ul>")
    parts += build_provenance_html(record, t)
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def build_provenance_html(record: dict, t: dict) -> list[str]:
    warehouse = record["inputs"]["warehouse"]
    items = [
        (t["warehouse"], f"{warehouse['path']} (SHA-256 {warehouse['sha256']})"),
        (t["git"], record.get("git_commit", "unknown")),
        (t["code"], record.get("code_sha256", "")),
        (t["finished"], record.get("finished", "")),
    ]
    items += [
        (t["files"], f"{f['path']} (SHA-256 {f['sha256']})") for f in record["inputs"]["files"]
    ]
    parts = [f"<h2>{escape(t['provenance'])}</h2>", "<dl>"]
    parts += [f"<dt>{escape(k)}</dt><dd><code>{escape(v)}</code></dd>" for k, v in items]
    parts += [
        "</dl>",
        f"<table><caption>{escape(t['packages_caption'])}</caption>",
        f'<thead><tr><th scope="col">{escape(t["package"])}</th>'
        f'<th scope="col">{escape(t["version"])}</th></tr></thead><tbody>',
    ]
    parts += [
        f'<tr><th scope="row">{escape(name)}</th><td>{escape(version)}</td></tr>'
        for name, version in record.get("packages", {}).items()
    ]
    parts.append("</tbody></table>")
    return parts


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
