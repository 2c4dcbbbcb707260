"""evaluation.render.verify: `workbench verify` re-executes a run and compares its key figures."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from render_project import latest_run, read_record, run_cli  # noqa: E402

from evaluation import config  # noqa: E402
from evaluation.errors import ParameterError  # noqa: E402
from evaluation.render import manifest, verify  # noqa: E402


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


def test_compare_key_figures_on_lists_none_and_small_float_differences():
    # lists of another length differ as a whole; equal nested values give nothing
    assert verify.compare_key_figures({"a": [1, 2]}, {"a": [1]}, "r") == [
        "r.a: recorded [1, 2], now [1]"
    ]
    assert verify.compare_key_figures({"a": [{"b": None}]}, {"a": [{"b": None}]}, "r") == []
    # floats are equal to 1e-9 relative: 1e-8 apart is a difference
    assert verify.compare_key_figures(2.0, 2.0 + 2e-8, "r.x") == [
        "r.x: recorded 2.0, now 2.00000002"
    ]
    assert verify.compare_key_figures(None, 0, "r.y") == ["r.y: recorded None, now 0"]


def test_figures_compare_at_the_precision_each_side_recorded():
    """A manifest that records decimals is compared at them; an older manifest (six decimals,
    no record) against a report that now publishes 2 decimals is compared at the coarser 2."""
    assert verify.compare_key_figures({"v": 3.06}, {"v": 3.06}, "r", {"v": 2}, {"v": 2}) == []
    assert verify.compare_key_figures({"v": 3.06}, {"v": 3.07}, "r", {"v": 2}, {"v": 2}) == [
        "r.v: recorded 3.06, now 3.07"
    ]
    old_run = {"v": 3.060375, "share": 0.684912}
    now = {"v": 3.06, "share": 0.68}
    assert verify.compare_key_figures(old_run, now, "r", None, {"v": 2, "share": 2}) == []
    changed = {"v": 3.07, "share": 0.68}
    assert verify.compare_key_figures(old_run, changed, "r", {}, {"v": 2, "share": 2}) == [
        "r.v: recorded 3.060375, now 3.07"
    ]
    # without decimals on either side the old rule holds: 1e-9 relative
    assert verify.compare_key_figures(old_run, now, "r") == [
        "r.share: recorded 0.684912, now 0.68",
        "r.v: recorded 3.060375, now 3.06",
    ]


def test_verify_refuses_a_folder_without_a_manifest(tmp_path):
    with pytest.raises(
        ParameterError, match="has no manifest.json: give a folder reports/<run-id>"
    ):
        verify.verify_run(tmp_path)


def test_find_notebook_falls_back_to_the_registry_notebook_of_the_same_kind(tmp_path):
    here = tmp_path / "ok.ipynb"
    here.write_text("{}", encoding="utf-8")
    assert verify.find_notebook({"notebook": str(here), "name": "ok"}) == here
    moved = {"notebook": str(tmp_path / "gone" / "cluster_report.ipynb"), "name": "cluster_report"}
    assert verify.find_notebook(moved) == config.notebooks_dir() / "cluster_report.ipynb"
    assert verify.find_notebook({"notebook": str(tmp_path / "gone.ipynb"), "name": "gone"}) is None
