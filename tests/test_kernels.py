"""The warm kernel's code strings and papermill engine, without starting a kernel (the render
tests start real ones)."""

from __future__ import annotations

import ast
import importlib.util

from papermill.engines import papermill_engines

from evaluation.render import kernels


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
    code = kernels.RESET_CODE % {"cwd": "/runs/notebooks"}
    ast.parse(code)
    assert "os.chdir('/runs/notebooks')" in code
    assert code.count('run_line_magic("reset", "-f")') == 2


def test_the_warm_engine_is_registered_with_papermill():
    assert kernels.register_warm_engine() == "workbench-warm"
    assert papermill_engines.get_engine("workbench-warm").__name__ == "WarmKernelEngine"


def test_a_kernel_that_never_started_is_neither_alive_nor_killed():
    kernel = kernels.WarmKernel()
    assert kernel.pid is None and not kernel.is_alive()
    kernel.stop()  # nothing to stop: no error
    kernels.kill_process(None)
