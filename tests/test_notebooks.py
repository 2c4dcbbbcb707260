"""Each report notebook runs through papermill: on the tiny fixture warehouse (fast) and on the
demo municipality (slow). Bad parameters stop in the first cell after the parameters."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from evaluation.render import convert

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from report_runs import (  # noqa: E402
    NOTEBOOKS,
    REPORTS,
    execute_report,
    fixture_warehouse,
    rendered_fixture_report,
)

MAX_BYTES = 1.5 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_notebook_runs_on_the_fixture_and_renders_offline_html(name):
    report = rendered_fixture_report(name, "da")
    html = report.html.read_text(encoding="utf-8")
    assert report.html.stat().st_size < MAX_BYTES
    assert '<html lang="da"' in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert len(re.findall(r"<h2[\s>]", html)) >= 4
    assert re.search(r'class="wb-toc[" ]', html)  # the leader summary's is also compact
    assert "<script>alert(1)</script>" not in html
    assert "Traceback" not in html
    assert list(report.tables_dir.glob("*.csv")), "no CSV table written"


@pytest.mark.slow
def test_cluster_report_in_english_has_the_same_key_figures():

    da = nbformat.read(rendered_fixture_report("cluster_report", "da").notebook, as_version=4)
    en_report = rendered_fixture_report("cluster_report", "en")
    en = nbformat.read(en_report.notebook, as_version=4)
    assert convert.read_key_figures(da) == convert.read_key_figures(en)
    html = en_report.html.read_text(encoding="utf-8")
    assert '<html lang="en"' in html and "Cluster report for Nord" in html


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, bad, listed",
    [
        ("cluster_report", {"cluster": "vest"}, "valid clusters: nord (Nord), syd (Syd)"),
        ("cluster_report", {"year": 2022}, "years with data: 2021 (2021/22)"),
        ("leader_summary", {"language": "fr"}, "choose one of: da, en"),
    ],
)
def test_bad_parameters_stop_in_the_first_cell_after_the_parameters(tmp_path, name, bad, listed):
    params = {**REPORTS[name], "warehouse": str(fixture_warehouse()), **bad}
    out = tmp_path / "out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(out),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
        )
    assert err.value.ename == "ParameterError"
    assert listed in err.value.evalue
    nb = json.loads(out.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]  # papermill adds markdown
    failed = [
        i
        for i, c in enumerate(code)
        if any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    tags = [c["metadata"].get("tags", []) for c in code]
    last_parameters = max(
        i for i, t in enumerate(tags) if "parameters" in t or "injected-parameters" in t
    )
    assert failed == [last_parameters + 1]


def test_notebooks_are_thin_with_an_annotated_parameters_cell():
    for name in REPORTS:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        params = nb.cells[0]
        assert "parameters" in params.metadata.get("tags", [])
        for line in params.source.splitlines():
            assert re.match(r"^\w+: (str|int) = .+  # .+$", line), line
        for cell in nb.cells[1:]:
            assert cell.cell_type == "code"
            assert len(cell.source.splitlines()) <= 5, cell.source
            assert not cell.get("outputs")


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory):
    """`workbench demo-data && workbench ingest data/raw/demo` into a temporary home."""
    home = tmp_path_factory.mktemp("demo-home")
    (home / "data").mkdir()
    env = {**__import__("os").environ, "WORKBENCH_HOME": str(home)}
    env.pop("WORKBENCH_WAREHOUSE", None)
    workbench = str(Path(sys.executable).parent / "workbench")
    for args in (["demo-data"], ["ingest", str(home / "data" / "raw" / "demo")]):
        done = subprocess.run([workbench, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return home / "data" / "warehouse" / "workbench.duckdb"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_notebook_runs_on_the_demo_data(demo_warehouse, tmp_path, name):
    params = {**REPORTS[name], "warehouse": str(demo_warehouse), "min_n": 5}
    report = execute_report(name, tmp_path, params, "da")
    html = report.html.read_text(encoding="utf-8")
    assert report.html.stat().st_size < MAX_BYTES, report.html.stat().st_size
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert "<svg" in html
