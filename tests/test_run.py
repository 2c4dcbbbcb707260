"""evaluation.render.run: the render command on the fixture notebooks (tests/fixtures/notebooks/)
and on a public warehouse: checks up front, failed and reused reports, a crash while finishing,
the order of the jobs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from offline_html import find_remote_references  # noqa: E402
from public_data import CREDIT  # noqa: E402
from render_project import latest_run, make_registry, read_record, run_cli  # noqa: E402

from evaluation import cli, files  # noqa: E402
from evaluation.errors import ParameterError  # noqa: E402
from evaluation.render import manifest, registry, sources, workers  # noqa: E402
from evaluation.render import run as render  # noqa: E402


def test_year_and_cluster_are_checked_up_front(project, capsys):
    assert cli.main(["render", "--year", "1999"]) == 2
    assert "Valid years: 2023, 2024" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="Valid years: 2023, 2024"):
        render.render_run(render.RenderOptions(year=1999))
    with pytest.raises(ParameterError, match="Valid clusters in 2023: K01"):
        render.render_run(render.RenderOptions(year=2023, clusters=["K02"]))
    assert not any((project / "reports").iterdir()), "nothing is written for a refused run"


@pytest.mark.slow
def test_failing_report_is_reported_and_does_not_stop_the_others(project, capsys):
    code, out = run_cli(["render", "--jobs", "2"], capsys)

    assert code == 1, "a failed report makes the exit status non-zero"
    assert "FAILED fail: cell 5: ValueError: fixture failure on purpose" in out
    assert "[render] 3/3" in out, "plain progress lines when stdout is not a terminal"
    run = latest_run(project)
    assert sorted(p.name for p in run.parent.iterdir()) == sorted([run.name, "latest"])
    assert (run / "ok-K01.html").is_file() and (run / "ok-K02.html").is_file()
    assert not (run / "fail.html").exists(), "a failed report gets no HTML"
    assert (run / "notebooks" / "fail.ipynb").is_file(), "the failing notebook is kept"
    # saved once at the end (issue 17), it still holds the cells run and the error's output
    failed_nb = json.loads((run / "notebooks" / "fail.ipynb").read_text(encoding="utf-8"))
    errors = [o for c in failed_nb["cells"] for o in c.get("outputs", []) if "ename" in o]
    assert [(e["ename"], e["evalue"]) for e in errors] == [
        ("ValueError", "fixture failure on purpose")
    ]
    assert (run / "tables" / "ok-K01" / "bars.csv").read_text().startswith("cluster,year,value")
    assert not list(run.rglob(".*")), "no temporary or partial file is left"

    index = (run / "index.html").read_text(encoding="utf-8")
    assert '<html lang="da">' in index and "<caption>" in index and "<h1>" in index
    assert "fixture failure on purpose" in index and 'href="notebooks/fail.ipynb"' in index
    assert find_remote_references(index) == []

    record = read_record(run)
    warehouse = Path(record["inputs"]["warehouse"]["path"])
    assert record["inputs"]["warehouse"]["sha256"] == files.hash_file(warehouse)
    [raw] = record["inputs"]["files"]
    assert raw["sha256"] == raw["logged_sha256"] == files.hash_file(Path(raw["path"]))
    assert record["packages"]["pandas"] and record["git_commit"]
    by_id = {r["id"]: r for r in record["reports"]}
    assert by_id["ok-K02"]["key_figures"]["cluster"] == "K02"
    assert by_id["fail"]["error"]["cell"] == 5 and by_id["fail"]["status"] == "failed"
    assert 0 < by_id["ok-K01"]["html_bytes"] < render.MAX_REPORT_BYTES
    assert all(r["seconds"] > 0 for r in record["reports"])
    # CPU of each report: its warm kernel's and its worker's (issue 17)
    assert all(r["kernel_cpu_seconds"] > 0 for r in record["reports"])
    assert all(r["worker_cpu_seconds"] > 0 for r in record["reports"])


@pytest.mark.slow
def test_up_to_date_reports_are_reused_and_force_renders_them(project, capsys, monkeypatch):
    registry.REPORTS[:] = make_registry(("ok", "cluster"))
    # Other people edit evaluation/ while tests run; pin the code hash (tested in test_manifest).
    monkeypatch.setattr(manifest, "hash_code", lambda notebooks: "code-unchanged")
    assert run_cli(["render"], capsys)[0] == 0
    first = latest_run(project)

    code, out = run_cli(["render"], capsys)
    second = latest_run(project)
    assert code == 0 and second != first
    assert "2 reports were up to date" in out and f"reused from {first.name}" in out
    record = read_record(second)
    assert {r["status"] for r in record["reports"]} == {"reused"}
    assert record["reports"][0]["key_figures"] == read_record(first)["reports"][0]["key_figures"]
    assert (second / "ok-K01.html").read_bytes() == (first / "ok-K01.html").read_bytes()
    assert (second / "tables" / "ok-K01" / "bars.csv").is_file()

    code, out = run_cli(["render", "--force"], capsys)
    assert code == 0 and {r["status"] for r in read_record(latest_run(project))["reports"]} == {
        "ok"
    }
    assert "reports were up to date" not in out
    assert (first / "ok-K01.html").is_file(), "earlier runs are left intact"


def test_a_crash_while_finishing_leaves_the_previous_run_intact(project, monkeypatch):
    previous = project / "reports" / "2020-01-01T000000"
    previous.mkdir()
    (previous / "manifest.json").write_text('{"reports": []}', encoding="utf-8")
    (project / "reports" / "latest").write_text("2020-01-01T000000\n", encoding="utf-8")

    def crash(record):
        raise RuntimeError("disk full")

    monkeypatch.setattr(render, "build_index_html", crash)

    def pretend_to_render(jobs, *args):
        return {j.report_id: {"report_id": j.report_id, "status": "ok"} for j in jobs}

    monkeypatch.setattr(render, "execute_jobs", pretend_to_render)
    with pytest.raises(RuntimeError, match="disk full"):
        render.render_run(render.RenderOptions())
    assert sorted(p.name for p in (project / "reports").iterdir()) == [
        "2020-01-01T000000",
        "latest",
    ]
    assert (project / "reports" / "latest").read_text() == "2020-01-01T000000\n"


def test_reports_that_took_longest_start_first(tmp_path):
    run = tmp_path / "2025-01-01T000000"
    run.mkdir()
    timed = [{"id": "a", "seconds": 1.0}, {"id": "b", "seconds": 9.0}]
    (run / "manifest.json").write_text(json.dumps({"reports": timed}), encoding="utf-8")
    jobs = [workers.RenderJob(i, "x", "x.ipynb", {}, "da") for i in ("a", "b", "new")]
    assert [j.report_id for j in render.order_longest_first(jobs, tmp_path)] == ["new", "b", "a"]
    assert render.order_longest_first(jobs, tmp_path / "none") == jobs


@pytest.mark.slow
def test_render_on_public_data_skips_the_evaluation_report_and_credits_the_ministry(
    tmp_path, fixture_warehouse
):
    """`workbench render` on a public warehouse: cluster reports and the leader summary, each
    with the credit line; no evaluation report (one year, no pupil-level data to evaluate)."""
    from evaluation.render import run as render

    facts = sources.read_warehouse_facts(fixture_warehouse)
    assert facts.years == [2024] and not facts.pupil_level
    options = render.RenderOptions(warehouse=fixture_warehouse, out=tmp_path, jobs=1)
    record = render.render_run(options)
    names = {r["name"] for r in record["reports"]}
    assert names == {"cluster_report", "leader_summary"}
    assert all(r["status"] == "ok" for r in record["reports"])
    run = tmp_path / record["run_id"]
    for entry in record["reports"]:
        assert CREDIT in (run / entry["html"]).read_text(encoding="utf-8")


def test_the_run_names_its_clusters_only_without_a_report_of_the_whole_municipality():
    from evaluation.render.run import shown_clusters
    from evaluation.render.workers import RenderJob

    def job(**parameters):
        return RenderJob(
            report_id="x", name="x", notebook="x", parameters=parameters, language="da"
        )

    assert shown_clusters([job(cluster="syd"), job(cluster="nord")]) == ["nord", "syd"]
    assert shown_clusters([job(cluster="syd"), job(year=2024)]) is None


@pytest.mark.slow
def test_the_shared_precomputation_over_two_processes_writes_what_the_serial_one_writes(tmp_path):
    # issue 17: the municipalities are shared out over processes, one file each
    import pandas as pd

    from evaluation.data import demo, ingest
    from evaluation.reports import inputs

    raw = demo.write_demo_data(tmp_path / "raw", seed=1, municipalities=2)
    warehouse = tmp_path / "warehouse.duckdb"
    ingest.ingest_paths([raw], warehouse)
    municipalities = ["Demo Kommune", "Demo Kommune 2"]
    written = {}
    for workers_count in (1, 2):
        for old in (tmp_path / "cache").glob("shared-*.pickle"):
            old.unlink()
        render.precompute_shared(warehouse, 5, 2024, None, workers_count)
        paths = [inputs.shared_results_path(warehouse, 5, m) for m in municipalities]
        written[workers_count] = [inputs.read_shared_results(p) for p in paths]
        assert not list((tmp_path / "cache").glob(".*")), "no temporary file is left"
    for serial, parallel in zip(written[1], written[2], strict=True):
        assert serial and serial.keys() == parallel.keys()
        for key, value in serial.items():
            if isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(value, parallel[key])
            else:
                assert repr(value) == repr(parallel[key]), key


def test_the_strict_values_suppress_the_run_values_once_computed_and_are_let_go(
    tmp_path, monkeypatch
):
    """Issue 17: the values cache computes the indicator values once; the precomputation's
    stricter min_n (the evaluation's sensitivity check) only suppresses them again, and the
    parent keeps no unsuppressed table after the precomputation."""
    from tiny_warehouse import build_fixture_warehouse

    from evaluation.reports.evaluation_sensitivity import SENSITIVITY_MIN_N
    from evaluation.values import load

    warehouse = build_fixture_warehouse(tmp_path / "tiny.duckdb")
    calls = []
    compute = load.compute_indicator_values
    monkeypatch.setattr(load, "compute_indicator_values", lambda *a: calls.append(a) or compute(*a))
    render.warm_values_cache(warehouse, 5)
    assert load.UNSUPPRESSED
    render.precompute_shared(warehouse, 5, 2024, None, 1)
    assert load.find_cached_values(warehouse, max(SENSITIVITY_MIN_N, 10)).is_file()
    assert len(calls) == 1 and not load.UNSUPPRESSED
