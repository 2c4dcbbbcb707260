"""One writer at a time: the lock, its message, two ingests at once, SIGTERM during a load."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from evaluation.data import ingest, warehouse, writer_lock
from evaluation.errors import ParameterError

GOOD = Path(__file__).resolve().parent / "fixtures" / "ingest" / "good"
ROOT = Path(__file__).resolve().parents[1]


def test_a_second_writer_waits_then_refuses_naming_the_holder(tmp_path):
    target = tmp_path / "w.duckdb"
    with writer_lock.exclusive_writer(target):
        lock_text = writer_lock.lock_path(target).read_text()
        assert lock_text.startswith(f"pid {os.getpid()}, started ")
        started = time.monotonic()
        with pytest.raises(ParameterError) as caught:
            with writer_lock.exclusive_writer(target, wait_seconds=0.3):
                pass
        assert time.monotonic() - started >= 0.3
        assert f"is being written by pid {os.getpid()}" in str(caught.value)
    # released: the lock file is gone and the next writer gets in at once
    assert not writer_lock.lock_path(target).exists()
    with writer_lock.exclusive_writer(target, wait_seconds=0):
        pass


def test_the_target_must_be_absent_or_a_duckdb_database(tmp_path):
    writer_lock.check_warehouse_target(tmp_path / "new.duckdb")
    db = tmp_path / "real.duckdb"
    duckdb.connect(str(db)).close()
    writer_lock.check_warehouse_target(db)
    text = tmp_path / "notes.txt"
    text.write_text("year;unit_id\n")
    with pytest.raises(ParameterError, match="not a warehouse"):
        writer_lock.check_warehouse_target(text)
    with pytest.raises(ParameterError, match="is a folder"):
        writer_lock.check_warehouse_target(tmp_path)


def run_python(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_ingests_at_once_both_land(tmp_path):
    """Each copies the warehouse; without the lock the last move would drop the other's rows."""
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([GOOD], target)
    with warehouse.connect(target) as con:
        logged = con.execute("SELECT count(*) FROM ingest_log").fetchone()[0]
    code = f"""
        from evaluation import cli
        raise SystemExit(cli.main(["ingest", {str(GOOD / "units.csv")!r}, "--warehouse",
                                   {str(target)!r}]))
    """
    procs = [run_python(code) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with warehouse.connect(target) as con:
        assert con.execute("SELECT count(*) FROM ingest_log").fetchone()[0] == logged + 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigterm_late_in_a_load_leaves_the_warehouse_and_no_copy(tmp_path):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([GOOD], target)
    before = file_hash(target)
    ready = tmp_path / "loading"
    code = f"""
        import time
        from pathlib import Path
        from evaluation import cli
        from evaluation.data import ingest

        def slow_log(con, loaded):  # the load is done; the copy is about to be moved in
            Path({str(ready)!r}).write_text("now")
            time.sleep(60)

        ingest.log_files = slow_log
        raise SystemExit(cli.main(["ingest", {str(GOOD)!r}, "--warehouse", {str(target)!r}]))
    """
    proc = run_python(code)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the load never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "untouched" in err
    ready.unlink()
    assert file_hash(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]
