"""The report registry against the notebooks it runs: each notebook's parameters, its builder's
parameters and its module's `prepare_report` agree, and its cells are its section list."""

from __future__ import annotations

import ast
import importlib
import inspect

import nbformat
import papermill
import pytest

from evaluation.render import registry
from evaluation.render.registry import RenderSettings

SETTINGS = RenderSettings(
    year=2024, language="da", warehouse="w.duckdb", min_n=5, clusters=("nord",), municipality="M"
)
SPECS = {spec.name: spec for spec in registry.REPORTS}


def report_module(spec):
    """The module a report's notebook calls: evaluation.reports.<report name>."""
    return importlib.import_module(f"evaluation.reports.{spec.name}")


def notebook_calls(spec) -> list[str]:
    """`module.function` for the one call in each code cell after the parameters cell."""
    nb = nbformat.read(spec.notebook_path(), as_version=4)
    calls = []
    for cell in nb.cells[1:]:
        tree = ast.parse(cell.source)
        found = [
            f"{node.func.value.id}.{node.func.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
        ]
        assert len(found) == 1, f"{spec.notebook}: one call per cell, found {found}"
        calls.append(found[0].split(".", 1)[1])
    return calls


@pytest.mark.parametrize("name", sorted(SPECS))
def test_notebook_builder_and_prepare_report_name_the_same_parameters(name):
    spec = SPECS[name]
    in_notebook = set(papermill.inspect_notebook(str(spec.notebook_path())))
    (built,) = spec.build_parameters(SETTINGS)[:1]
    from_builder = set(built) | {"tables_dir"} | set(spec.notebook_defaults)
    in_prepare = set(inspect.signature(report_module(spec).prepare_report).parameters)
    assert in_notebook == from_builder == in_prepare


@pytest.mark.parametrize("name", sorted(SPECS))
def test_notebook_cells_are_the_section_list(name):
    spec = SPECS[name]
    module = report_module(spec)
    sections = [f"build_{key}" for _anchor, key in module.SECTIONS]
    expected = ["prepare_report", "build_title", *sections, "record_figures"]
    assert notebook_calls(spec) == expected
    for function in expected:
        assert callable(getattr(module, function))


def test_contract_check_catches_a_missing_section(tmp_path):
    spec = SPECS["cluster_report"]
    nb = nbformat.read(spec.notebook_path(), as_version=4)
    nb.cells = [c for c in nb.cells if "build_overview" not in c.source]
    broken = tmp_path / "cluster_report.ipynb"
    nbformat.write(nb, broken)
    moved = registry.ReportSpec(spec.name, str(broken), spec.build_parameters)
    assert "build_overview" not in notebook_calls(moved)


def test_report_ids_name_the_cluster_or_municipality():
    assert registry.make_report_id("cluster_report", {"cluster": "Øst by"}) == (
        "cluster_report-_st_by"
    )
    assert registry.make_report_id("leader_summary", {"year": 2024}) == "leader_summary"
