"""The reports folder: what --out may name, and partial runs left by dead renders."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evaluation.errors import ParameterError
from evaluation.render import reports_folder

ROOT = Path(__file__).resolve().parents[1]


def test_a_new_folder_or_one_of_runs_is_accepted(tmp_path):
    reports_folder.check_reports_folder(tmp_path / "new")
    own = tmp_path / "reports"
    for name in ("2025-11-22T203015", "2025-11-22T203015-2", "screenshots", ".x.partial"):
        (own / name).mkdir(parents=True)
    for name in ("README.md", "latest", ".latest.123.tmp", ".x.partial.lock"):
        (own / name).write_text("")
    reports_folder.check_reports_folder(own)


@pytest.mark.parametrize("case", ["root", "home", "file", "other things"])
def test_anything_else_is_refused(tmp_path, case):
    target = {
        "root": Path("/"),
        "home": Path.home(),
        "file": tmp_path / "notes.txt",
        "other things": tmp_path,
    }[case]
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ParameterError) as caught:
        reports_folder.check_reports_folder(target)
    assert str(target) in str(caught.value) and "--out" in str(caught.value)
    if case == "other things":
        assert "notes.txt" in str(caught.value)


def test_only_partial_runs_of_dead_builders_are_removed(tmp_path):
    dead = tmp_path / ".2025-01-01T000000.partial"
    (dead / "cluster").mkdir(parents=True)
    alive = tmp_path / ".2025-01-02T000000.partial"
    alive.mkdir()
    with reports_folder.building_lock(tmp_path, "2025-01-02T000000"):
        # another process (the sweep runs in a child so the lock is really someone else's)
        code = textwrap.dedent(
            f"""
            from pathlib import Path
            from evaluation.render import reports_folder
            print(len(reports_folder.remove_stale_partials(Path({str(tmp_path)!r}))))
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "1"
        assert not dead.exists() and alive.is_dir()
    assert not reports_folder.partial_lock(tmp_path, "2025-01-02T000000").exists()
