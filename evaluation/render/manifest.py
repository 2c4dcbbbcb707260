"""Provenance of a render run: hashes, versions, git commit, safe file writes, run folders.

`workbench render` writes reports/<run-id>/manifest.json with what went in (warehouse and raw
file hashes, parameters, package versions, code hash, git commit) and what came out (each
report's status, seconds and key figures). `workbench verify` and the up-to-date check read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from evaluation import config
from evaluation.files import (
    hash_file,
    hash_text,
    write_atomically,
    write_text_atomically,
)
from evaluation.versions import (  # noqa: F401 - read_git_commit is read from here too
    read_git_commit,
    read_package_versions,
)

MANIFEST_NAME = "manifest.json"
LATEST_NAME = "latest"
PARTIAL_SUFFIX = ".partial"

# --- hashing ---------------------------------------------------------------------------------


def hash_code(notebook_paths: list[Path]) -> str:
    """One hash over the evaluation/ package sources and the given notebooks.

    A change to any module, template, catalog or text file, or to a notebook, changes it.
    """
    digest = hashlib.sha256()
    files = [
        p
        for p in sorted(config.PACKAGE_DIR.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    ]
    for path in files + sorted(notebook_paths):
        name = path.relative_to(config.PACKAGE_DIR).as_posix() if path in files else path.name
        digest.update(name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def describe_inputs(warehouse: Path, logged_files: list[dict]) -> dict:
    """Hashes of the warehouse and of every raw file its ingest_log lists (if still present)."""
    files = []
    for row in logged_files:
        path = Path(row["file"])
        entry = {"path": str(path), "table": row.get("table_name"), "logged_sha256": row["sha256"]}
        entry["sha256"] = hash_file(path) if path.is_file() else None
        files.append(entry)
    return {
        "warehouse": {
            "path": str(warehouse),
            "sha256": hash_file(warehouse),
            "bytes": warehouse.stat().st_size,
        },
        "files": files,
    }


def compare_inputs(recorded: dict) -> list[str]:
    """Differences between the inputs a manifest recorded and the files as they are now."""
    problems = []
    warehouse = recorded["warehouse"]
    path = Path(warehouse["path"])
    if not path.is_file():
        problems.append(f"warehouse {path} is missing")
    elif hash_file(path) != warehouse["sha256"]:
        problems.append(f"warehouse {path} changed (SHA-256 differs from the manifest)")
    for entry in recorded.get("files", []):
        path = Path(entry["path"])
        if entry.get("sha256") and path.is_file() and hash_file(path) != entry["sha256"]:
            problems.append(f"input file {path} changed (SHA-256 differs from the manifest)")
    return problems


def list_missing_inputs(recorded: dict) -> list[str]:
    """Raw files the manifest hashed that are no longer there (cannot be checked)."""
    return [
        e["path"]
        for e in recorded.get("files", [])
        if e.get("sha256") and not Path(e["path"]).is_file()
    ]


def build_environment() -> dict:
    return {
        "packages": read_package_versions(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "git_commit": read_git_commit(),
    }


# --- safe writes -------------------------------------------------------------------------------


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link `source` to `target` (no extra space), copying where links are not possible."""

    def write(tmp: Path) -> None:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copy2(source, tmp)

    write_atomically(target, write)


def link_or_copy_tree(source: Path, target: Path) -> list[Path]:
    """Every file under `source` linked or copied to the same place under `target`."""
    written = []
    for path in sorted(source.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(source)
            link_or_copy(path, dest)
            written.append(dest)
    return written


# --- run folders -------------------------------------------------------------------------------


def new_run_id(reports_root: Path, now: datetime | None = None) -> str:
    """A folder name like 2025-11-22T203015: sorts by time as text and is valid on Windows."""
    base = (now or datetime.now()).strftime("%Y-%m-%dT%H%M%S")
    run_id, n = base, 1
    while (reports_root / run_id).exists() or partial_dir(reports_root, run_id).exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def partial_dir(reports_root: Path, run_id: str) -> Path:
    """Where a run is built; hidden, and renamed to reports/<run-id> only when complete."""
    return reports_root / f".{run_id}{PARTIAL_SUFFIX}"


def publish_run(reports_root: Path, run_id: str) -> Path:
    """Rename the finished run into place and point `latest` at it."""
    final = reports_root / run_id
    os.replace(partial_dir(reports_root, run_id), final)
    write_text_atomically(reports_root / LATEST_NAME, run_id + "\n")
    return final


@contextlib.contextmanager
def building_run(reports_root: Path, run_id: str) -> Iterator[Path]:
    """The partial folder of a run; removed again if the run is interrupted or crashes."""
    folder = partial_dir(reports_root, run_id)
    folder.mkdir(parents=True)
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def read_latest(reports_root: Path) -> str | None:
    try:
        run_id = (reports_root / LATEST_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return run_id or None


def list_complete_runs(reports_root: Path) -> list[Path]:
    """Published runs (folders with a manifest), newest first."""
    if not reports_root.is_dir():
        return []
    runs = [
        p
        for p in reports_root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_NAME).is_file()
    ]
    return sorted(runs, key=lambda p: p.name, reverse=True)


def read_manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / MANIFEST_NAME).read_text(encoding="utf-8"))


def fingerprint_report(
    notebook_sha256: str, code_sha256: str, warehouse_sha256: str, parameters: dict, packages: dict
) -> str:
    """What a report's content depends on; equal fingerprints mean the report is up to date.

    `tables_dir` and the warehouse path are left out: they name places, not content.
    """
    stable = {k: v for k, v in parameters.items() if k not in ("tables_dir", "warehouse")}
    payload = json.dumps(
        [notebook_sha256, code_sha256, warehouse_sha256, stable, packages], sort_keys=True
    )
    return hash_text(payload)


def find_reusable_reports(reports_root: Path) -> dict[str, tuple[Path, dict]]:
    """fingerprint -> (run folder, report entry) of every report that rendered; newest wins."""
    found: dict[str, tuple[Path, dict]] = {}
    for run_dir in list_complete_runs(reports_root):
        try:
            manifest = read_manifest(run_dir)
        except (OSError, ValueError):
            continue
        for entry in manifest.get("reports", []):
            if entry.get("status") in ("ok", "reused") and entry.get("fingerprint"):
                found.setdefault(entry["fingerprint"], (run_dir, entry))
    return found
