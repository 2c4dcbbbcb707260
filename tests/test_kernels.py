"""evaluation.render.kernels: the warm kernel's code strings and papermill engine, without
starting a kernel; one slow test starts real ones and checks that a warm kernel gives what a
fresh one gives (test_workers starts more)."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from papermill.engines import papermill_engines

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from render_project import make_registry  # noqa: E402

from evaluation.render import kernels  # noqa: E402
from evaluation.render import run as render  # noqa: E402


def test_warm_up_code_is_python_and_names_modules_that_exist():
    tree = ast.parse(kernels.WARM_UP_CODE)
    named = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("evaluation.")
        and not node.value.endswith(".")
    }
    assert "evaluation.values.load" in named
    assert all(importlib.util.find_spec(name) is not None for name in named), named


def test_reset_code_moves_the_kernel_to_the_notebook_folder():
    code = kernels.RESET_CODE % {"cwd": "/runs/notebooks", "kept": kernels.KEPT_MODULES}
    ast.parse(code)
    assert "os.chdir('/runs/notebooks')" in code
    assert code.count('run_line_magic("reset", "-f")') == 1


def test_modules_kept_across_resets_import_nothing_of_evaluation():
    # a kept module must hold only caches of constants: importing evaluation/ modules would tie
    # it to the previous report's copies of them
    for name in kernels.KEPT_MODULES:
        source = Path(importlib.util.find_spec(name).origin).read_text()
        imported = [
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        ]
        assert not [m for m in imported if m and m.startswith("evaluation")], name
        assert name in kernels.WARM_UP_CODE


def test_the_warm_engine_is_registered_with_papermill():
    assert kernels.register_warm_engine() == "workbench-warm"
    assert papermill_engines.get_engine("workbench-warm").__name__ == "WarmKernelEngine"


def test_a_kernel_that_never_started_is_neither_alive_nor_killed():
    kernel = kernels.WarmKernel()
    assert kernel.pid is None and not kernel.is_alive()
    kernel.stop()  # nothing to stop: no error
    kernels.kill_process(None)


@pytest.mark.slow
def test_a_warm_kernel_has_every_report_module_loaded_and_its_objects_frozen():
    # frozen: the reset's gc.collect then skips them (issue 17); loaded: a module a report
    # imports first is dropped by the reset and imported anew in every report
    kernel = kernels.WarmKernel()
    kernel.start()
    try:
        kernel.run_code(
            "import gc, pkgutil, sys, evaluation.stats, evaluation.values\n"
            "assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()\n"
            "for p in (evaluation.stats, evaluation.values):\n"
            "    for m in pkgutil.iter_modules(p.__path__):\n"
            f"        if p.__name__ + '.' + m.name not in {kernels.LOADED_BY_THEIR_REPORT!r}:\n"
            "            assert p.__name__ + '.' + m.name in sys.modules, m.name\n"
            "assert 'statsmodels' not in sys.modules  # the evaluation report loads it\n"
            "assert 'scipy.stats' not in sys.modules  # with statsmodels\n"
        )
    finally:
        kernel.stop()


@pytest.mark.slow
def test_a_library_a_report_loads_keeps_its_warning_filters_across_resets(tmp_path):
    # statsmodels loads with the evaluation report (kernels.LOADED_BY_THEIR_REPORT) and sets
    # warning filters at its import; the next evaluation report in the same kernel finds it
    # loaded and must still run under those filters, as a fresh kernel would
    report = (
        "import warnings\n"
        "from evaluation.stats import models\n"
        "from pathlib import Path\n"
        "Path({path!r}).write_text(repr(warnings.filters))\n"
    )
    kernel = kernels.WarmKernel()
    kernel.start()
    try:
        for name in ("first", "second"):
            kernel.reset(str(tmp_path))
            kernel.run_code(report.format(path=str(tmp_path / name)))
    finally:
        kernel.stop()
    first, second = ((tmp_path / name).read_text() for name in ("first", "second"))
    assert "statsmodels" in first and first == second


@pytest.mark.slow
def test_warm_kernel_gives_the_key_figures_of_a_fresh_kernel(project):
    # `leaky` runs first in the same warm kernel and changes a global, a module-level setting
    # in evaluation/ and a pandas option; none of it may reach the next report.
    registry = make_registry(("leaky", "municipality"), ("ok", "cluster"))
    options = {"clusters": ["K01", "K02"], "jobs": 1, "force": True}
    warm = render.render_run(render.RenderOptions(warm=True, **options), registry)
    fresh = render.render_run(render.RenderOptions(warm=False, **options), registry)

    assert warm["parameters"]["kernels"] == "warm" and fresh["parameters"]["kernels"] == "fresh"
    warm_figures = {r["id"]: r["key_figures"] for r in warm["reports"]}
    fresh_figures = {r["id"]: r["key_figures"] for r in fresh["reports"]}
    assert warm_figures == fresh_figures
    assert warm_figures["ok-K01"]["leaked_global"] is False
    assert warm_figures["ok-K01"]["min_n_default"] == 5
    assert warm_figures["ok-K01"]["pandas_precision"] == 6


@pytest.mark.slow
def test_reports_one_after_another_in_one_warm_kernel_equal_fresh_kernels(tmp_path):
    # the warm kernel keeps evaluation/ loaded across reports (issue 17): two clusters and one
    # report in English, one after another in one kernel, must give each page byte for byte as a
    # fresh kernel gives it
    from report_runs import NOTEBOOKS, fixture_warehouse

    from evaluation.render.workers import RenderJob, render_one

    warehouse = str(fixture_warehouse())
    jobs = [
        RenderJob(
            report_id=f"cluster_report-{cluster}-{language}",
            name="cluster_report",
            notebook=str(NOTEBOOKS / "cluster_report.ipynb"),
            parameters={
                "cluster": cluster,
                "year": 2024,
                "language": language,
                "warehouse": warehouse,
                "min_n": 5,
            },
            language=language,
        )
        for cluster, language in (("nord", "da"), ("syd", "da"), ("nord", "en"))
    ]
    kernel = kernels.WarmKernel()
    kernel.start()
    try:
        warm = [render_one(job, tmp_path / "warm", kernel) for job in jobs]
    finally:
        kernel.stop()
    fresh = [render_one(job, tmp_path / "fresh", None) for job in jobs]

    assert [r["status"] for r in warm + fresh] == ["ok"] * 6, [r["error"] for r in warm + fresh]
    pages = {
        way: [read_page(tmp_path / way / f"{j.report_id}.html") for j in jobs]
        for way in ("warm", "fresh")
    }
    assert pages["warm"] == pages["fresh"]
    assert len(set(pages["warm"])) == 3
    assert all(r["kernel_cpu_seconds"] > 0 for r in warm)  # measured in the warm kernel only
    assert all(r["kernel_cpu_seconds"] is None and r["worker_cpu_seconds"] > 0 for r in fresh)


def read_page(path: Path) -> str:
    """The page, less the one thing that differs between any two renders: the random id
    papermill gives the cell of injected parameters."""
    return re.sub(r'id="cell-id=[0-9a-f-]+"', 'id="cell-id="', path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_reset_puts_back_what_a_report_changed_in_the_loaded_modules(tmp_path):
    # the modules stay loaded across reports (issue 17): a rebound name, a module-level list
    # changed in place, a filled functools cache and a module imported first by the report
    kernel = kernels.WarmKernel()
    kernel.start()
    try:
        kernel.run_code(
            "import evaluation.config, evaluation.reports.charts as charts, evaluation.texts\n"
            "evaluation.config.MIN_N_DEFAULT = 99\n"
            "charts.SERIES_COLOURS.append('#123456')\n"
            "evaluation.texts.load_texts('en')\n"
            "import evaluation.render.links\n"
            "assert evaluation.texts.load_texts.cache_info().currsize >= 1\n"
        )
        kernel.reset(str(tmp_path))
        kernel.run_code(
            "import sys, evaluation.config, evaluation.reports.charts as charts\n"
            "import evaluation.texts\n"
            "assert evaluation.config.MIN_N_DEFAULT == 5, evaluation.config.MIN_N_DEFAULT\n"
            "assert '#123456' not in charts.SERIES_COLOURS\n"
            "assert evaluation.texts.load_texts.cache_info().currsize == 0\n"
            "assert 'evaluation.render.links' not in sys.modules\n"
        )
    finally:
        kernel.stop()


def test_evaluation_sets_warning_filters_only_inside_catch_warnings():
    # RESET_CODE keeps the filters of a report that loaded a new library as that library's: it
    # may, because no module of evaluation/ sets a filter that outlives its own block
    package = Path(kernels.__file__).resolve().parents[1]
    loose = []
    for source in package.rglob("*.py"):
        if source.name == "kernels.py":  # its code strings run in the kernel, not here
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        guarded = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.With)
            and any("catch_warnings" in ast.unparse(item.context_expr) for item in block.items)
            for node in ast.walk(block)
        }
        loose += [
            f"{source.name}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and ast.unparse(node.func).endswith(("simplefilter", "filterwarnings"))
            and id(node) not in guarded
        ]
    assert loose == []
