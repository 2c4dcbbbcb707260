"""`workbench verify`: re-execute a stored run in fresh kernels and compare its key figures."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

from evaluation import files
from evaluation.errors import ParameterError
from evaluation.render import manifest, registry
from evaluation.render.progress import make_progress
from evaluation.render.workers import RenderJob, describe_error, execute_jobs


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare_key_figures(
    recorded: Any,
    now: Any,
    where: str,
    recorded_decimals: dict | None = None,
    now_decimals: dict | None = None,
) -> list[str]:
    """Every difference between two key-figure trees.

    A top-level figure is compared at the precision it was published with: the coarser of the
    decimals the manifest recorded for it and those the re-executed report records now (equal
    when at most half a unit of that last decimal apart). A figure without recorded decimals
    (runs made before figures were published at the page's precision) is compared to 1e-9
    relative, as it always was.
    """
    if not (isinstance(recorded, dict) and isinstance(now, dict)):
        return compare_tree(recorded, now, where)
    diffs = []
    for key in sorted(set(recorded) | set(now)):
        if key not in now:
            diffs.append(f"{where}.{key}: recorded {recorded[key]!r}, now missing")
        elif key not in recorded:
            diffs.append(f"{where}.{key}: not recorded, now {now[key]!r}")
        else:
            decimals = compared_decimals(key, recorded_decimals, now_decimals)
            diffs += compare_tree(recorded[key], now[key], f"{where}.{key}", decimals)
    return diffs


def compare_tree(recorded: Any, now: Any, where: str, decimals: int | None = None) -> list[str]:
    """Differences between two values; numbers at `decimals` decimals, else to 1e-9 relative."""
    if isinstance(recorded, (dict, list)) and type(recorded) is type(now):
        if isinstance(recorded, dict):
            return compare_key_figures(recorded, now, where)
        if len(recorded) == len(now):
            return [
                d
                for i, (a, b) in enumerate(zip(recorded, now, strict=True))
                for d in compare_tree(a, b, f"{where}[{i}]")
            ]
    elif is_number(recorded) and is_number(now):
        if decimals is not None:
            if abs(recorded - now) <= 0.5 * 10.0**-decimals * (1 + 1e-9):
                return []
        elif math.isclose(recorded, now, rel_tol=1e-9, abs_tol=1e-12):
            return []
    elif type(recorded) is type(now) and recorded == now:
        return []
    return [f"{where}: recorded {recorded!r}, now {now!r}"]


def compared_decimals(key: str, recorded: dict | None, now: dict | None) -> int | None:
    """The coarser of the two recorded precisions of figure `key`, or None when neither has one."""
    known = [d[key] for d in (recorded, now) if d and d.get(key) is not None]
    return min(known) if known else None


def find_notebook(entry: dict) -> Path | None:
    """The notebook a stored report ran, or, when it has moved since (runs made before the
    notebooks became package data named notebooks/<name>.ipynb), the registry's notebook of the
    same report kind; None when neither exists."""
    recorded = Path(entry["notebook"])
    if recorded.is_file():
        return recorded
    for spec in registry.REPORTS:
        if spec.name == entry.get("name") and spec.notebook_path().is_file():
            return spec.notebook_path()
    return None


def verify_run(run_dir: Path, workers: int | None = None) -> int:
    """`workbench verify`: re-execute every report of a run in fresh kernels and compare.

    Prints "identical" or each difference; returns 1 on a difference or a changed input.
    """
    run_dir = Path(run_dir)
    if not (run_dir / manifest.MANIFEST_NAME).is_file():
        raise ParameterError(
            f"{run_dir} has no {manifest.MANIFEST_NAME}: give a folder reports/<run-id> "
            "made by `workbench render`."
        )
    record = manifest.read_manifest(run_dir)
    problems = manifest.compare_inputs(record["inputs"])
    for path in manifest.list_missing_inputs(record["inputs"]):
        print(f"note: input file {path} is no longer there and cannot be checked")
    entries = [r for r in record["reports"] if r["status"] in ("ok", "reused")]
    for r in record["reports"]:
        if r["status"] == "failed":
            print(f"note: {r['id']} failed in the run; nothing to compare")
    for r in entries:
        path = find_notebook(r)
        if path is None:
            problems.append(f"{r['id']}: notebook {r['notebook']} is missing")
            continue
        if path != Path(r["notebook"]):
            print(f"note: {r['id']}: notebook {r['notebook']} moved; re-executing {path}")
        if files.hash_file(path) != r["notebook_sha256"]:
            print(f"note: {r['id']}: notebook {path} changed since the run")
        r["notebook"] = str(path)
    notebooks = [Path(p) for p in record.get("code_notebooks", [])]
    if all(p.is_file() for p in notebooks) and record.get("code_sha256"):
        if manifest.hash_code(notebooks) != record["code_sha256"]:
            print("note: the evaluation/ code or a notebook changed since the run")
    jobs = [
        RenderJob(
            report_id=r["id"],
            name=r["name"],
            notebook=r["notebook"],
            parameters={k: v for k, v in r["parameters"].items() if k != "tables_dir"},
            language=record["parameters"]["language"],
        )
        for r in entries
        if Path(r["notebook"]).is_file()
    ]
    differences: list[str] = []
    # Re-execute from the warehouse itself, not from cached indicator values; the kernels
    # inherit this environment.
    os.environ["WORKBENCH_VALUES_CACHE"] = "0"
    if Path(record["inputs"]["warehouse"]["path"]).is_file():
        with tempfile.TemporaryDirectory(prefix="workbench-verify-") as tmp:
            with make_progress(len(jobs), "verify") as progress:
                results = execute_jobs(
                    jobs, Path(tmp), workers or os.cpu_count() or 1, False, progress
                )
        for r in entries:
            result = results.get(r["id"])
            if result is None:
                continue
            if result["status"] != "ok":
                differences.append(f"{r['id']}: failed now: {describe_error(result['error'])}")
            else:
                differences += compare_key_figures(
                    r["key_figures"],
                    result.get("key_figures", {}),
                    r["id"],
                    r.get("key_figure_decimals"),
                    result.get("key_figure_decimals"),
                )
    for line in problems + differences:
        print(line)
    if problems or differences:
        print(
            f"verify {run_dir.name}: {len(problems)} input problems, {len(differences)} differences"
        )
        return 1
    print(f"verify {run_dir.name}: identical ({len(jobs)} reports re-executed in fresh kernels)")
    return 0
