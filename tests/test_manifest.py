"""evaluation.render.manifest: git commit, code hash, run folders, inputs, up-to-date fingerprints
(the hashes and safe writes it uses are evaluation.files: test_files.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from evaluation import config, files, versions
from evaluation.render import manifest


def test_link_or_copy_tree(tmp_path):
    source = tmp_path / "old" / "tables"
    (source / "k01").mkdir(parents=True)
    (source / "k01" / "a.csv").write_text("x\n1\n", encoding="utf-8")
    written = manifest.link_or_copy_tree(source, tmp_path / "new" / "tables")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["new/tables/k01/a.csv"]
    assert written[0].read_text(encoding="utf-8") == "x\n1\n"


def test_read_git_commit_from_ref_packed_ref_and_detached_head(tmp_path):
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n", encoding="utf-8")
    assert manifest.read_git_commit(tmp_path) == "a" * 40

    (git / "refs" / "heads" / "main").unlink()
    (git / "packed-refs").write_text(f"# pack-refs\n{'b' * 40} refs/heads/main\n", "utf-8")
    assert manifest.read_git_commit(tmp_path) == "b" * 40

    (git / "HEAD").write_text("c" * 40 + "\n", encoding="utf-8")
    assert manifest.read_git_commit(tmp_path) == "c" * 40
    assert manifest.read_git_commit(tmp_path / "nowhere") == "unknown"


def test_hash_code_changes_with_a_module_or_a_notebook(tmp_path, monkeypatch):
    package = tmp_path / "evaluation"
    (package / "templates").mkdir(parents=True)
    (package / "charts.py").write_text("X = 1\n", encoding="utf-8")
    (package / "templates" / "t.j2").write_text("{{ x }}", encoding="utf-8")
    notebook = tmp_path / "report.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    monkeypatch.setattr(config, "PACKAGE_DIR", package)

    first = manifest.hash_code([notebook])
    assert manifest.hash_code([notebook]) == first
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "charts.cpython-311.pyc").write_bytes(b"\0")
    assert manifest.hash_code([notebook]) == first, "compiled files do not count"
    (package / "charts.py").write_text("X = 2\n", encoding="utf-8")
    second = manifest.hash_code([notebook])
    assert second != first
    notebook.write_text('{"cells": []}', encoding="utf-8")
    assert manifest.hash_code([notebook]) != second


def test_fingerprint_ignores_places_but_not_content():
    base = {"cluster": "K01", "year": 2024, "tables_dir": "/a", "warehouse": "/w1"}
    same = {**base, "tables_dir": "/b", "warehouse": "/w2"}
    fp = manifest.fingerprint_report("nb", "code", "wh", base, {"pandas": "3"})
    assert manifest.fingerprint_report("nb", "code", "wh", same, {"pandas": "3"}) == fp
    assert manifest.fingerprint_report("nb", "code2", "wh", base, {"pandas": "3"}) != fp
    assert manifest.fingerprint_report("nb", "code", "wh2", base, {"pandas": "3"}) != fp
    assert manifest.fingerprint_report("nb", "code", "wh", {**base, "year": 2023}, {}) != fp
    assert manifest.fingerprint_report("nb", "code", "wh", base, {"pandas": "4"}) != fp


def test_run_ids_sort_by_time_and_never_collide(tmp_path):
    now = datetime(2025, 11, 22, 20, 30, 15)
    first = manifest.new_run_id(tmp_path, now)
    assert first == "2025-11-22T203015"
    (tmp_path / first).mkdir()
    second = manifest.new_run_id(tmp_path, now)
    assert second == "2025-11-22T203015-2"
    later = manifest.new_run_id(tmp_path, datetime(2025, 11, 22, 20, 30, 16))
    assert sorted([later, second, first]) == [first, second, later]


def test_building_run_removes_the_partial_folder_on_interrupt(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with manifest.building_run(tmp_path, "r1") as folder:
            (folder / "half.html").write_text("...", encoding="utf-8")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_publish_run_renames_and_points_latest(tmp_path):
    with manifest.building_run(tmp_path, "r1") as folder:
        (folder / "manifest.json").write_text('{"reports": []}', encoding="utf-8")
        assert not (tmp_path / "r1").exists(), "not visible while being built"
        manifest.publish_run(tmp_path, "r1")
    assert (tmp_path / "r1" / "manifest.json").is_file()
    assert manifest.read_latest(tmp_path) == "r1"
    assert manifest.list_complete_runs(tmp_path) == [tmp_path / "r1"]


def test_find_reusable_reports_prefers_the_newest_run(tmp_path):
    for run, status in [("2025-01-01T000000", "ok"), ("2025-02-01T000000", "ok")]:
        (tmp_path / run).mkdir()
        reports = [
            {"id": "a", "fingerprint": "f1", "status": status, "html": "a.html"},
            {"id": "b", "fingerprint": "f2", "status": "failed"},
        ]
        (tmp_path / run / "manifest.json").write_text(json.dumps({"reports": reports}), "utf-8")
    found = manifest.find_reusable_reports(tmp_path)
    assert set(found) == {"f1"}, "failed reports are never reused"
    assert found["f1"][0].name == "2025-02-01T000000"


def test_describe_and_compare_inputs(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"warehouse v1")
    raw = tmp_path / "survey.csv"
    raw.write_text("a\n1\n", encoding="utf-8")
    logged = [{"file": str(raw), "sha256": files.hash_file(raw), "table_name": "responses"}]
    inputs = manifest.describe_inputs(warehouse, logged)
    assert inputs["warehouse"]["sha256"] == hashlib.sha256(b"warehouse v1").hexdigest()
    assert inputs["files"][0]["sha256"] == inputs["files"][0]["logged_sha256"]
    assert manifest.compare_inputs(inputs) == []

    raw.write_text("a\n2\n", encoding="utf-8")
    warehouse.write_bytes(b"warehouse v2")
    problems = manifest.compare_inputs(inputs)
    assert len(problems) == 2 and all("changed" in p for p in problems)
    raw.unlink()
    assert manifest.list_missing_inputs(inputs) == [str(raw)]


def test_package_versions_name_the_key_packages():
    versions = manifest.read_package_versions()
    assert {"python", "pandas", "altair", "papermill", "nbconvert"} <= set(versions)


def test_the_manifest_records_the_one_package_list():
    assert manifest.build_environment()["packages"] == versions.read_package_versions()
