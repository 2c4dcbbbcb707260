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
import evaluation.reports
for _name in ["evaluation.reports." + m.name
              for m in pkgutil.iter_modules(evaluation.reports.__path__)] + [
              "evaluation.texts", "evaluation.values.load"]:
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

# Modules a reset keeps: they hold only caches of constant results (the font subset costs
# ~0.7 s of CPU per report to compute again; issue 17), never a report's state.
KEPT_MODULES = ("evaluation.reports.fonts",)

# Run before each report in a warm kernel, so it starts as a fresh kernel would: no variables,
# evaluation/ imported anew (no module-level state from the previous report; KEPT_MODULES
# aside), default options.
RESET_CODE = """
get_ipython().run_line_magic("reset", "-f")
import os, sys, warnings
for _name in [n for n in sys.modules if n == "evaluation" or n.startswith("evaluation.")]:
    if _name not in %(kept)r:
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
