"""One writer at a time on a warehouse, and never a write over a file the tool did not make.

An ingest copies the warehouse, loads into the copy and moves it into place. Two ingests at
once would each copy the old warehouse and the last move would silently drop the other's
change; so an ingest holds an exclusive lock for the whole copy-load-move. The lock is an
operating-system lock on a file beside the warehouse (`.<name>.lock`): it is released when its
holder ends however it ends (kill -9 included), so a dead process never leaves a stale lock.
The file names the holder (pid and start time) for the message a second writer gets.

Under the lock no other writer can be busy, so any temporary copy left beside the warehouse is
from a process that died: it is removed before the new copy is made.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from evaluation.errors import ParameterError
from evaluation.files import try_lock

WAIT_SECONDS = 30.0  # how long a second writer waits before it refuses
POLL_SECONDS = 0.1
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def lock_path(warehouse_path: Path) -> Path:
    return warehouse_path.with_name(f".{warehouse_path.name}.lock")


def temporary_copy(warehouse_path: Path) -> Path:
    """The hidden copy this process loads into (removed or moved into place when it ends)."""
    return warehouse_path.with_name(f".{warehouse_path.name}.{os.getpid()}.tmp")


def check_warehouse_target(path: Path, writing: bool = True) -> None:
    """A warehouse path must be absent or an existing DuckDB database: never overwrite an
    export, a text file, an empty file or a folder."""
    if not path.exists():
        return
    fix = (
        "Give --warehouse the path of an existing warehouse or of a new file "
        "(e.g. data/warehouse.duckdb)."
    )
    if not path.is_file():
        raise ParameterError(f"{path} is a folder, not a warehouse file. {fix}")
    with open(path, "rb") as handle:
        header = handle.read(12)
    if header[8:12] != DUCKDB_MAGIC:
        raise ParameterError(
            f"{path} is not a warehouse (not a DuckDB database file)"
            + ("; refusing to overwrite it. " if writing else ". ")
            + fix
        )


def holder(path: Path) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
    return "another process"


@contextlib.contextmanager
def exclusive_writer(warehouse_path: Path, wait_seconds: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait up to `wait_seconds`, then refuse naming the
    holder. Stale temporary copies of dead ingests are removed once the lock is held."""
    path = lock_path(warehouse_path)
    deadline = time.monotonic() + wait_seconds
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if try_lock(fd):
            with contextlib.suppress(FileNotFoundError):
                if os.fstat(fd).st_ino == os.stat(path).st_ino:
                    break  # locked the file that is still in place
        os.close(fd)  # busy, or the holder removed the file as we opened it: try again
        if time.monotonic() >= deadline:
            raise ParameterError(
                f"The warehouse {warehouse_path} is being written by {holder(path)}. Wait for "
                f"that ingest to finish and run this one again (waited {wait_seconds:.0f} s)."
            )
        time.sleep(POLL_SECONDS)
    try:
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, started {started}\n".encode())
        remove_stale_copies(warehouse_path)
        yield
    finally:
        path.unlink(missing_ok=True)  # before closing: a waiter re-checks the inode and retries
        os.close(fd)


def remove_stale_copies(warehouse_path: Path) -> list[Path]:
    """Delete temporary copies (and their write-ahead logs) left by ingests that died."""
    pattern = re.compile(rf"^\.{re.escape(warehouse_path.name)}\.\d+\.tmp(\.wal)?$")
    stale = [p for p in warehouse_path.parent.iterdir() if pattern.match(p.name)]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale
