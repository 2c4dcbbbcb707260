"""Files: content hashes and writes that never leave half a file (stdlib only; every stage)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

# --- hashing -------------------------------------------------------------------------------------


def hash_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (ingest log, manifest, values cache)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- locks ---------------------------------------------------------------------------------------

try:  # POSIX
    import fcntl
except ImportError:  # Windows: msvcrt locks a byte range instead
    fcntl = None
    import msvcrt


def try_lock(fd: int) -> bool:
    """Take an exclusive operating-system lock on an open file without waiting; False when
    another process holds it. The lock goes when its holder closes the file or dies."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # BlockingIOError on POSIX, PermissionError on Windows
        return False
    return True


# --- safe writes ---------------------------------------------------------------------------------


def temporary_name(target: Path) -> Path:
    """A hidden sibling of `target` with the same suffix; same folder, so os.replace is atomic."""
    return target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")


def write_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Let `write` fill a temporary file, then rename it over `target` in one step.

    If `write` fails, the temporary file is removed and `target` is untouched: a reader sees the
    old file or the new one, never half of one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def write_text_atomically(target: Path, text: str) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    return write_atomically(target, write)


def write_json_atomically(target: Path, data: Any) -> Path:
    return write_text_atomically(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
