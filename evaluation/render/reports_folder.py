"""The reports folder belongs to the workbench: checked before a run, swept of dead runs.

`--out` may name a new folder or one that holds only what the workbench writes there: run
folders (2025-11-22T203015), `latest`, `README.md`, `screenshots/`, and the hidden partial
folders and temporary files of runs being built. Anything else (the filesystem root, the home
folder, a file, a folder of other things) is refused, so a mistyped `--out` never scatters runs
among someone's files.

A run is built in a hidden partial folder while its builder holds an operating-system lock on
a file beside it. A builder that died (kill -9, power cut) leaves the folder but not the lock,
so the next render removes every partial folder whose lock it can take.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from evaluation.errors import ParameterError
from evaluation.files import try_lock

RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}(-\d+)?$")
OWN_NAMES = {"README.md", "latest", "screenshots", ".gitkeep"}
# partial runs, their locks, and the temporary files of atomic writes (`.latest.123.tmp`)
OWN_HIDDEN = re.compile(r"^\..+(\.partial|\.partial\.lock|\.\d+\.tmp(\.\w+)?)$")
PARTIAL = re.compile(r"^\.(.+)\.partial$")


def check_reports_folder(root: Path) -> None:
    """Refuse a reports folder the workbench did not make (see the module docstring)."""
    resolved = root.expanduser().resolve()
    fix = "Give --out a new folder, or the reports folder of an earlier run (default reports/)."
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise ParameterError(f"--out {root}: refusing to write runs into {resolved}. {fix}")
    if not root.exists():
        return
    if not root.is_dir():
        raise ParameterError(f"--out {root} is a file, not a folder. {fix}")
    foreign = sorted(
        p.name
        for p in root.iterdir()
        if p.name not in OWN_NAMES and not RUN_NAME.match(p.name) and not OWN_HIDDEN.match(p.name)
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise ParameterError(
            f"--out {root} holds files that are not reports ({shown}); the workbench writes "
            f"only into a folder of its own. {fix}"
        )


def partial_lock(root: Path, run_id: str) -> Path:
    return root / f".{run_id}.partial.lock"


@contextlib.contextmanager
def building_lock(root: Path, run_id: str) -> Iterator[None]:
    """Hold the lock that marks run_id's partial folder as being built by a live process."""
    root.mkdir(parents=True, exist_ok=True)
    path = partial_lock(root, run_id)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not try_lock(fd):
            raise ParameterError(f"run {run_id} is being built by another process; try again.")
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def remove_stale_partials(root: Path) -> list[Path]:
    """Delete partial folders of runs whose builder is gone (their lock is free)."""
    if not root.is_dir():
        return []
    removed = []
    for folder in root.iterdir():
        match = PARTIAL.match(folder.name)
        if not match or not folder.is_dir():
            continue
        lock = partial_lock(root, match.group(1))
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if try_lock(fd):
                shutil.rmtree(folder, ignore_errors=True)
                lock.unlink(missing_ok=True)
                removed.append(folder)
        finally:
            os.close(fd)
    return removed
