"""The warm kernel: one long-lived Jupyter kernel per worker with the heavy imports done, reset
to a fresh kernel's state before each report (evaluation.render.workers runs the reports).
"""

from __future__ import annotations

import contextlib
import os
import signal

# jupyterlab pulls in rfc3987-syntax, whose import builds a grammar and adds ~1.1 s to every
# `import jsonschema` (so to altair and nbformat). Nothing here validates IRI syntax, so workers
# and kernels make that optional import fail fast (jsonschema then skips the "iri" format check).
BLOCK_SLOW_IMPORTS = "import sys; sys.modules.setdefault('rfc3987_syntax', None)"

# Kernels log a TCP warning at start and an interrupt note at shutdown: noise in a batch run
# (errors in cells reach the executed notebook, not this log). No input history: a batch kernel
# never recalls it, and writing each cell to IPython's SQLite file cost ~1 ms a cell (issue 17).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False"]

# Not in the warm-up but imported by the one report that needs them: statsmodels, and with it
# scipy.stats (~1.4 s of CPU a kernel; the other reports' statistics take their distributions
# from scipy.special, stats.distribution_functions), serves only the evaluation report's models,
# and that report starts while the parent still precomputes, on a kernel that would otherwise
# wait (issue 17). The warning filters a library sets stay after the report, as a fresh kernel
# importing it has them (RESET_CODE).
LOADED_BY_THEIR_REPORT = ("evaluation.stats.models",)

# Run once in each warm kernel: everything a report imports, so reports do not pay for it.
WARM_UP_CODE = (
    BLOCK_SLOW_IMPORTS
    + f"\n_lazy = {LOADED_BY_THEIR_REPORT!r}"
    + """
import importlib, pkgutil, types, warnings
_warm = types.ModuleType("_workbench_warm")
sys.modules["_workbench_warm"] = _warm
for _name in ["numpy", "pandas", "altair", "vl_convert", "duckdb", "pyarrow", "yaml",
              # first imported by a report's tables, CSV files or the reset's %reset
              "pandas.io.formats.csvs", "pandas.io.formats.string", "pandas.core.methods.to_dict",
              "encodings.utf_8_sig", "IPython.core.magics.namespace"]:
    try:
        importlib.import_module(_name)
    except Exception:
        pass
# As a fresh kernel has them once these libraries are imported (evaluation/ adds its own again).
_warm.warning_filters = list(warnings.filters)
import evaluation.reports, evaluation.stats, evaluation.values
# every module a report may import, also in a function: one a report imported first would be
# dropped by RESET_CODE and imported anew in every report
for _name in [_p.__name__ + "." + m.name
              for _p in (evaluation.reports, evaluation.stats, evaluation.values)
              for m in pkgutil.iter_modules(_p.__path__)
              if _p.__name__ + "." + m.name not in _lazy] + [
              "evaluation.texts", "evaluation.values.load", "pyarrow.parquet", "pyarrow.dataset"]:
    try:
        importlib.import_module(_name)
    except Exception:
        pass
try:  # the page's font subset, a constant: computed once here, kept by RESET_CODE
    import evaluation.reports.fonts
    evaluation.reports.fonts.font_face_css()
    evaluation.reports.fonts.register_for_charts()
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
# Each evaluation module's namespace as imported: RESET_CODE puts it back before every report.
_warm.module_dicts = {_n: dict(_m.__dict__) for _n, _m in list(sys.modules.items())
                      if (_n == "evaluation" or _n.startswith("evaluation.")) and _m is not None}
# ...and the contents of their module-level dicts, lists and sets, put back too.
_warm.containers = {id(_v): (_v, type(_v)(_v)) for _d in _warm.module_dicts.values()
                    for _k, _v in _d.items()
                    if not _k.startswith("__") and type(_v) in (dict, list, set)}
# One chart as a report draws it, after the snapshot above (RESET_CODE undoes what it leaves in
# evaluation/): it starts vl-convert's JavaScript engine, measures text in the page's font and
# loads altair's and narwhals' pandas paths, which each kernel's first report paid for (~0.6 s).
try:
    import altair, pandas
    from evaluation.reports.charts import chart_to_svg
    chart_to_svg(altair.Chart(pandas.DataFrame({"x": [1.5], "y": ["Trivsel"]}))
                 .mark_bar().encode(x="x:Q", y="y:N", tooltip=["x", "y"]))
except Exception:
    pass
# Everything so far lives as long as the kernel: out of the garbage collector's sight, the
# `%reset` before each report (it runs gc.collect) costs ~0.01 s instead of ~0.27 s of CPU.
# the libraries loaded now: one a report loads later keeps the warning filters it sets (RESET_CODE)
_warm.libraries = {_n.partition(".")[0] for _n in sys.modules}
import gc
gc.collect()
gc.freeze()
"""
)

# Modules whose function caches a reset keeps: they hold only caches of constant results (the
# font subset costs ~0.7 s of CPU per report to compute again; issue 17), never a report's state.
KEPT_MODULES = ("evaluation.reports.fonts",)

# Run before each report in a warm kernel, so it starts as a fresh kernel would: no variables,
# default options, and evaluation/ as just imported. The modules stay loaded (within one run the
# code does not change, and importing them anew cost 0.6 s of CPU a report; issue 17), but each
# one gets back the namespace it had after the warm-up (a name a report rebound, such as
# evaluation.config.MIN_N_DEFAULT, is restored), its module-level dicts, lists and sets their
# contents, its functools caches are emptied (KEPT_MODULES aside), and a module a report
# imported first is dropped, to be imported anew. (grep of evaluation/: no report changes other
# module-level objects in place.)
# tests/test_kernels.py checks reports rendered one after another in one kernel are
# byte-identical to the same reports from fresh kernels. One `%reset` (it runs gc.collect: ~0.01 s
# of CPU, as the warm-up froze its objects); the reset's own names live in a function, so no
# second `%reset` is needed.
RESET_CODE = """
get_ipython().run_line_magic("reset", "-f")
def _workbench_reset():  # a function, so that nothing of the reset stays in the namespace
    import os, sys, warnings
    warm = sys.modules["_workbench_warm"]
    for name in [n for n in sys.modules if n == "evaluation" or n.startswith("evaluation.")]:
        saved = warm.module_dicts.get(name)
        if saved is None:
            del sys.modules[name]
            continue
        namespace = sys.modules[name].__dict__
        namespace.clear()
        namespace.update(saved)
        for value in [] if name in %(kept)r else list(saved.values()):
            if getattr(value, "__module__", None) == name and hasattr(value, "cache_clear"):
                value.cache_clear()
    for container, contents in warm.containers.values():
        container.clear()
        (container.extend if type(container) is list else container.update)(contents)
    # A library the last report imported first stays loaded (LOADED_BY_THEIR_REPORT), so the
    # warning filters it set at its import stay too, as a fresh kernel importing it has them.
    # They are the filters that report added: evaluation/ sets none outside catch_warnings
    # (tests/test_kernels.py checks).
    late = {n.partition(".")[0] for n in sys.modules} - warm.libraries - {"evaluation"}
    if late:
        warm.warning_filters[:0] = [f for f in warnings.filters if f not in warm.warning_filters]
        warm.libraries |= late
    warnings.filters[:] = warm.warning_filters
    getattr(warnings, "_filters_mutated", lambda: None)()  # clears the "already warned" caches
    if "pandas" in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sys.modules["pandas"].reset_option(r"^(?!plotting\\.)")  # plotting needs matplotlib
    if hasattr(warm, "numpy_err"):
        sys.modules["numpy"].seterr(**warm.numpy_err)
        sys.modules["numpy"].set_printoptions(**warm.numpy_print)
    if hasattr(warm, "altair"):
        sys.modules["altair"].renderers.enable(warm.altair[0])
        sys.modules["altair"].data_transformers.enable(warm.altair[1])
    os.chdir(%(cwd)r)
_workbench_reset()
del _workbench_reset
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

    def cpu_seconds(self) -> float | None:
        """The kernel process's CPU seconds so far (user + system), None if unknown."""
        try:
            import psutil

            times = psutil.Process(self.pid).cpu_times()
        except Exception:  # no psutil, no kernel, or it just died
            return None
        return times.user + times.system

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
        self.run_code(RESET_CODE % {"cwd": cwd, "kept": KEPT_MODULES})

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
    """A papermill engine that runs the notebook in this worker's warm kernel.

    papermill saves the whole notebook after every cell (0.6 s of CPU a report, issue 17); this
    engine saves it once, when the notebook ends. papermill's own end (`notebook_complete`, in a
    `finally`) still writes it after a failing cell, a timeout or a dead kernel, and
    `execute_notebook` then adds the error banner and writes it again, so the analyst keeps it.
    """
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
            output_path, nb_man.output_path = nb_man.output_path, None  # no save per cell
            try:
                return client.execute()
            finally:
                nb_man.output_path = output_path

    papermill_engines.register("workbench-warm", WarmKernelEngine)
    return "workbench-warm"
