"""The files beside the values cache that spare each report work: the run's shared results and
a copy of the warehouse's small tables (evaluation.reports.inputs reads both). Pickles, as the
values cache is a parquet file: written by this package for one warehouse only, in its cache
folder, holding suppressed aggregates or the unit and cluster tables (no pupil rows).
"""

from __future__ import annotations

from pathlib import Path

from evaluation import config


def warehouse_tables_path(path: Path, hashes: tuple[str, ...] | None) -> Path | None:
    """The copy of the warehouse's small tables, keyed by the values cache's inputs (the
    warehouse's SHA-256 first) and reports/inputs.py, which reads them; None without a cache."""
    import hashlib

    from evaluation.files import hash_file

    if hashes is None:
        return None
    digest = hashlib.sha256("".join(hashes).encode())
    digest.update(hash_file(config.PACKAGE_DIR / "reports" / "inputs.py").encode())
    return path.parent / "cache" / f"tables-{digest.hexdigest()[:24]}.pickle"


# Whose code decides the shared results: a change here makes the old file unreadable (new key).
SHARED_CODE = ("reports", "stats")


def shared_results_path(
    warehouse: Path, min_n: int, municipality: str = "", hashes: tuple[str, ...] | None = None
) -> Path | None:
    """The run's shared results beside the values cache, keyed like it (warehouse, min_n,
    catalog, values code) plus the municipality (one file each: a result's key names no
    municipality) and the reports' and statistics' code; None when no cache is used. `hashes`:
    load.input_hashes(warehouse) when known."""
    import hashlib

    from evaluation.files import hash_file
    from evaluation.values import load  # why: duckdb loads only when a report runs

    values_cache = load.find_cached_values(Path(warehouse), min_n, hashes)
    if values_cache is None:
        return None
    digest = hashlib.sha256(values_cache.name.encode())
    digest.update(municipality.encode())
    for folder in SHARED_CODE:
        for source in sorted((config.PACKAGE_DIR / folder).glob("*.py")):
            digest.update(hash_file(source).encode())
    return values_cache.with_name(f"shared-{digest.hexdigest()[:24]}.pickle")


def read_pickle(path: Path | None) -> dict:
    """A dict this package pickled into the cache folder; {} when there is none."""
    import pickle

    if path is None or not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return {}  # unreadable: each report computes for itself, as without the file


def write_pickle(results: dict, path: Path) -> None:
    """Write a dict to the cache folder atomically (files.write_atomically: no half file, and no
    temporary one left when the write fails); a folder we cannot write to costs speed."""
    import pickle

    from evaluation.files import write_atomically

    def dump(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            pickle.dump(results, handle, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        write_atomically(path, dump)
    except OSError:
        pass


# the run's shared results (evaluation.reports.shared writes them, each report reads them)
read_shared_results, write_shared_results = read_pickle, write_pickle
