"""evaluation.render.run: the render command on fixture notebooks, verify, the worker pool and
the index page."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_convert import find_remote_references

from evaluation import cli, files
from evaluation.errors import ParameterError
from evaluation.render import index_page, manifest, registry, verify, workers
from evaluation.render import run as render

# --- the render command on fixture notebooks -----------------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"


def make_registry(*pairs: tuple[str, str]) -> list[registry.ReportSpec]:
    """Fixture reports: ('ok', 'cluster') renders ok.ipynb once per cluster, etc."""
    builders = {
        "cluster": registry.build_cluster_parameters,
        "municipality": registry.build_municipality_parameters,
    }
    return [registry.ReportSpec(n, str(FIXTURES / f"{n}.ipynb"), builders[b]) for n, b in pairs]


def make_warehouse(folder: Path) -> Path:
    """Only the tables the renderer reads: clusters, membership, years, ingest_log."""
    import duckdb

    raw = folder / "raw" / "register.csv"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text("year,unit_id\n2024,S1\n", encoding="utf-8")
    path = folder / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE clusters(cluster_id TEXT, name TEXT, municipality TEXT)")
    con.execute("INSERT INTO clusters VALUES ('K01','Nord','Demo'), ('K02','Syd','Demo')")
    con.execute(
        "CREATE TABLE cluster_membership(unit_id TEXT, cluster_id TEXT, from_year INT, to_year INT)"
    )
    con.execute(
        "INSERT INTO cluster_membership VALUES ('S1','K01',2023,NULL), ('S2','K02',2024,NULL)"
    )
    con.execute("CREATE TABLE register(year INT, unit_id TEXT)")
    con.execute("INSERT INTO register VALUES (2023,'S1'), (2024,'S1'), (2024,'S2')")
    con.execute(
        "CREATE TABLE ingest_log"
        "(file TEXT, sha256 TEXT, table_name TEXT, rows INT, ingested_at TEXT)"
    )
    digest = files.hash_file(raw)
    con.execute("INSERT INTO ingest_log VALUES (?, ?, 'register', 1, 'now')", [str(raw), digest])
    con.close()
    return path


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().out


def latest_run(home: Path) -> Path:
    return home / "reports" / (home / "reports" / "latest").read_text(encoding="utf-8").strip()


def read_record(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def project(workbench_home, monkeypatch):
    """A project home with a tiny warehouse and the fixture reports registered."""
    warehouse = make_warehouse(workbench_home / "data")
    monkeypatch.setenv("WORKBENCH_WAREHOUSE", str(warehouse))
    monkeypatch.setattr(
        registry, "REPORTS", make_registry(("ok", "cluster"), ("fail", "municipality"))
    )
    return workbench_home


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


@pytest.mark.slow
def test_verify_passes_untouched_and_fails_on_changed_input_or_figures(
    project, capsys, monkeypatch
):
    code_hash = {"value": "code-at-render"}  # others edit evaluation/ while tests run
    monkeypatch.setattr(manifest, "hash_code", lambda notebooks: code_hash["value"])
    assert run_cli(["render", "--cluster", "K01"], capsys)[0] == 0
    run = latest_run(project)
    record = read_record(run)
    assert [r["id"] for r in record["reports"]] == ["ok-K01"], "--cluster renders only those"

    code, out = run_cli(["verify", str(run)], capsys)
    assert code == 0 and "identical" in out
    assert "changed since the run" not in out
    code_hash["value"] = "code-edited-since"
    assert "code or a notebook changed since the run" in run_cli(["verify", str(run)], capsys)[1]

    moved = project / "reports" / "moved"  # a run made before the notebooks became package data
    shutil.copytree(run, moved)
    old_place = json.loads((moved / "manifest.json").read_text(encoding="utf-8"))
    old_place["reports"][0]["notebook"] = str(project / "notebooks" / "ok.ipynb")
    (moved / "manifest.json").write_text(json.dumps(old_place), encoding="utf-8")
    code, out = run_cli(["verify", str(moved)], capsys)
    assert code == 0 and "identical" in out and "moved; re-executing" in out

    tampered = project / "reports" / "tampered"
    shutil.copytree(run, tampered)
    record["reports"][0]["key_figures"]["mean_value"] = 8.5
    (tampered / "manifest.json").write_text(json.dumps(record), encoding="utf-8")
    code, out = run_cli(["verify", str(tampered)], capsys)
    assert code == 1 and "ok-K01.mean_value: recorded 8.5, now 7.5" in out

    import duckdb

    con = duckdb.connect(record["inputs"]["warehouse"]["path"])
    con.execute("INSERT INTO register VALUES (2024, 'S3')")
    con.close()
    code, out = run_cli(["verify", str(run)], capsys)
    assert code == 1 and "changed (SHA-256 differs" in out


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


def test_compare_key_figures_lists_each_difference():
    recorded = {"a": 1.0, "b": {"c": [1, 2]}, "d": "x", "gone": 1}
    now = {"a": 1.0 + 1e-13, "b": {"c": [1, 3]}, "d": "y", "new": True}
    assert verify.compare_key_figures(recorded, now, "r") == [
        "r.b.c[1]: recorded 2, now 3",
        "r.d: recorded 'x', now 'y'",
        "r.gone: recorded 1, now missing",
        "r.new: not recorded, now True",
    ]
    assert verify.compare_key_figures({"n": 5}, {"n": 5.0}, "r") == []
    assert verify.compare_key_figures({"ok": True}, {"ok": 1}, "r") == [
        "r.ok: recorded True, now 1"
    ]


INTERRUPTED_RUN = """
import sys
from pathlib import Path
from evaluation import cli
from evaluation.render import registry
registry.REPORTS[:] = [registry.ReportSpec(
    "sleep", str(Path(sys.argv[1]) / "sleep.ipynb"), registry.build_cluster_parameters)]
sys.exit(cli.main(["render", "--jobs", "2"]))
"""


def list_kernel_processes(psutil, root_pid: int) -> list:
    try:
        children = psutil.Process(root_pid).children(recursive=True)
    except psutil.Error:
        return []
    return [p for p in children if "ipykernel" in " ".join(safe_cmdline(psutil, p))]


def safe_cmdline(psutil, process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_leaves_no_kernels(project):
    psutil = pytest.importorskip("psutil")
    previous = project / "reports" / "2020-01-01T000000"
    previous.mkdir()
    (previous / "manifest.json").write_text('{"reports": []}', encoding="utf-8")
    (previous / "a.html").write_text("previous report", encoding="utf-8")
    (project / "reports" / "latest").write_text("2020-01-01T000000\n", encoding="utf-8")

    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_RUN, str(FIXTURES)],
        cwd=project,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        kernels = []
        while time.monotonic() < deadline and len(kernels) < 2:
            time.sleep(0.5)
            kernels = list_kernel_processes(psutil, child.pid)
        # at least one kernel per worker (a worker may be replacing a kernel at that moment)
        assert len(kernels) >= 2, "two workers should each have started a kernel"
        everything = psutil.Process(child.pid).children(recursive=True)
        os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C sends
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)

    assert child.returncode == 130, err
    assert "Stopped" in err
    still_running = [p for p in everything if p.is_running() and p.status() != "zombie"]
    assert still_running == [], f"left behind: {[safe_cmdline(psutil, p) for p in still_running]}"
    names = sorted(p.name for p in (project / "reports").iterdir())
    assert names == ["2020-01-01T000000", "latest"], "no partial or new run folder is left"
    assert (previous / "a.html").read_text(encoding="utf-8") == "previous report"
    assert (project / "reports" / "latest").read_text(encoding="utf-8") == "2020-01-01T000000\n"


def make_record(language: str) -> dict:
    """A manifest as render_run writes it: one report rendered, one reused, one failed."""
    report = {
        "id": "cluster_report-nord",
        "title": "Klyngerapport Nord <2024/25>",
        "parameters": {"cluster": "nord", "year": 2024, "tables_dir": "tables/x"},
        "status": "ok",
        "seconds": 3.2,
        "html": "cluster_report-nord.html",
        "executed": "notebooks/cluster_report-nord.ipynb",
    }
    reused = {**report, "id": "cluster_report-syd", "title": "Syd", "status": "reused"}
    failed = {
        **report,
        "id": "leader_summary",
        "title": "leader_summary",
        "status": "failed",
        "html": None,
        "executed": "notebooks/leader_summary.ipynb",
        "error": {"cell": 4, "ename": "KeyError", "evalue": "'<script>alert(1)</script>'"},
    }
    return {
        "run_id": "2025-11-22T203015",
        "started": "2025-11-22T20:30:15+01:00",
        "finished": "2025-11-22T20:31:15+01:00",
        "parameters": {"language": language, "year": 2024},
        "inputs": {
            "warehouse": {"path": "/data/w.duckdb", "sha256": "ab" * 32},
            "files": [{"path": "/data/raw/register.csv", "sha256": "cd" * 32}],
        },
        "git_commit": "ef" * 20,
        "code_sha256": "01" * 32,
        "packages": {"python": "3.11.7", "pandas": "3.1.1"},
        "reports": [report, reused, failed],
    }


@pytest.mark.parametrize("language", ["da", "en"])
def test_index_page_lists_status_errors_and_provenance(language):
    page = index_page.build_index_html(make_record(language))
    assert f'<html lang="{language}">' in page and "<title>" in page and "<h1>" in page
    assert "<caption>" in page and 'scope="col"' in page and 'scope="row"' in page
    assert "2024/25" in page
    assert "&lt;script&gt;" in page and "<script>" not in page, "error text is escaped"
    assert "cell 4: KeyError" in page and 'href="notebooks/leader_summary.ipynb"' in page
    assert "ab" * 32 in page and "ef" * 20 in page and "pandas" in page
    assert find_remote_references(page) == []
    status_word = {"da": "uændret, genbrugt", "en": "unchanged, reused"}[language]
    assert status_word in page, "status is written out, not shown by colour alone"


def test_index_page_wording_comes_from_the_texts_files():
    page = index_page.build_index_html(make_record("da"))
    assert "<h1>Rapporter, skoleåret 2024/25</h1>" in page
    assert "1 rapporter dannet, 1 uændrede og genbrugt, 1 fejlede." in page
    # a language without texts falls back to English, as the page always did
    assert index_page.index_texts("fr") == index_page.index_texts("en")
    assert index_page.index_texts("en")["provenance"] == "Provenance"


@pytest.mark.browser
def test_index_page_is_axe_clean_offline(chromium_path, tmp_path):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    index = tmp_path / "index.html"
    index.write_text(index_page.build_index_html(make_record("da")), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page()
        attempted = []
        page.route(
            lambda url: not url.startswith("file:"), lambda r: attempted.append(r) or r.abort()
        )
        page.goto(index.as_uri())
        results = Axe().run(
            page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
        )
        browser.close()
    assert attempted == []
    assert results.response["violations"] == [], results.generate_report()


def test_reports_that_took_longest_start_first(tmp_path):
    run = tmp_path / "2025-01-01T000000"
    run.mkdir()
    timed = [{"id": "a", "seconds": 1.0}, {"id": "b", "seconds": 9.0}]
    (run / "manifest.json").write_text(json.dumps({"reports": timed}), encoding="utf-8")
    jobs = [workers.RenderJob(i, "x", "x.ipynb", {}, "da") for i in ("a", "b", "new")]
    assert [j.report_id for j in render.order_longest_first(jobs, tmp_path)] == ["new", "b", "a"]
    assert render.order_longest_first(jobs, tmp_path / "none") == jobs


@pytest.mark.slow
def test_a_crashed_kernel_fails_its_report_and_the_next_report_gets_a_new_kernel(project):
    registry = make_registry(("crash", "municipality"), ("ok", "cluster"))
    record = render.render_run(render.RenderOptions(jobs=1, clusters=None), registry)
    status = {r["id"]: r["status"] for r in record["reports"]}
    assert status == {"crash": "failed", "ok-K01": "ok", "ok-K02": "ok"}
    crash = next(r for r in record["reports"] if r["id"] == "crash")
    assert crash["error"]["ename"] in ("DeadKernelError", "RuntimeError")


@pytest.mark.slow
def test_a_cell_over_the_time_limit_fails_its_report_and_the_kernel_is_replaced(
    project, capsys, monkeypatch
):
    monkeypatch.setenv("WORKBENCH_CELL_TIMEOUT", "3")
    monkeypatch.setattr(
        registry, "REPORTS", make_registry(("sleep", "municipality"), ("ok", "cluster"))
    )
    code, _out = run_cli(["render", "--jobs", "1"], capsys)  # one worker: ok runs after sleep

    assert code == 1
    by_id = {r["id"]: r for r in read_record(latest_run(project))["reports"]}
    assert by_id["sleep"]["status"] == "failed"
    assert "timed out" in by_id["sleep"]["error"]["evalue"]
    assert by_id["sleep"]["seconds"] < 30, "the 60 s sleep was cut off"
    assert by_id["ok-K01"]["status"] == by_id["ok-K02"]["status"] == "ok"


SIGNALLED_RUN = """
import sys
from pathlib import Path
from evaluation import cli
from evaluation.render import registry
registry.REPORTS[:] = [registry.ReportSpec(
    "ok", str(Path(sys.argv[1]) / "ok.ipynb"), registry.build_cluster_parameters)]
sys.exit(cli.main(["render", "--jobs", "1"]))
"""


@pytest.mark.slow
def test_sigint_at_a_worker_starting_its_kernel_changes_nothing(project):
    """Ctrl-C is the parent's: a worker ignores SIGINT even while nbclient starts its kernel
    (nbclient's own handler used to shut the kernel down under the starting client)."""
    psutil = pytest.importorskip("psutil")
    child = subprocess.Popen(
        [sys.executable, "-c", SIGNALLED_RUN, str(FIXTURES)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sent = 0
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        try:
            workers = psutil.Process(child.pid).children()
        except psutil.Error:
            workers = []
        for worker in workers:
            try:
                if "multiprocessing" in " ".join(worker.cmdline()) and worker.children():
                    os.kill(worker.pid, signal.SIGINT)  # its kernel is starting or running
                    sent += 1
            except psutil.Error:
                pass
        time.sleep(0.1)
    _out, err = child.communicate(timeout=60)
    assert sent >= 1, "the worker was never seen with its kernel"
    assert child.returncode == 0, err
