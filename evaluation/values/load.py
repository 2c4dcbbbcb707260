"""The single door the reports use: suppressed indicator values, cached beside the warehouse.

`load_indicator_values()` computes the values (`evaluation.values.aggregate`), applies primary
and secondary suppression (`evaluation.values.privacy`) and keeps the result on disk, because
every report of a run needs the same table and computing it is most of a report's time.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

from evaluation import config
from evaluation.catalog import load_catalog
from evaluation.files import hash_file, write_atomically
from evaluation.values import privacy
from evaluation.values.aggregate import compute_indicator_values


def load_indicator_values(
    warehouse_path=None,
    min_n: int = config.MIN_N_DEFAULT,
    *,
    inputs: tuple[str, ...] | None = None,
    municipality: str = "",
) -> pd.DataFrame:
    """Indicator values with primary and secondary suppression: what the reports use.

    The result is cached on disk beside the warehouse (see `find_cached_values`), because every
    report of a run needs the same table and computing it is most of a report's time.
    `inputs`: input_hashes(warehouse) when the caller has them (hashing reads the warehouse);
    `municipality`: only its rows, in their order (a report's own; a national table holds 98).
    """
    privacy.check_min_n(min_n)
    path = Path(warehouse_path or config.warehouse_path())
    inputs = inputs or input_hashes(path)
    cache = find_cached_values(path, min_n, inputs)
    if cache is not None and cache.is_file():
        return read_cached_values(cache, municipality)
    catalog = load_catalog()
    values = unsuppressed_values(path, catalog, inputs)
    values = privacy.suppress_values(values, min_n=min_n, catalog=catalog)
    if cache is not None:
        write_cached_values(values, cache)
    if municipality:
        values = values[values["municipality"] == municipality].reset_index(drop=True)
    return values


# The last unsuppressed values this process computed, by the hashes of their inputs: another
# min_n (the evaluation's stricter sensitivity check, in the same run) is then only suppressed
# again (0.2 s on the demo) instead of computed again (2 s). In memory only, never on disk.
UNSUPPRESSED: dict[tuple, pd.DataFrame] = {}


def unsuppressed_values(path: Path, catalog, inputs: tuple[str, ...] | None) -> pd.DataFrame:
    """compute_indicator_values of the warehouse, once per process for the same `inputs`
    (input_hashes); afresh when `inputs` is None (no cache: `workbench verify` wants that).
    suppress_values copies its input, so the kept table is never changed."""
    if inputs is None:
        return compute_indicator_values(path, catalog)
    if inputs not in UNSUPPRESSED:
        UNSUPPRESSED.clear()  # one warehouse at a time
        UNSUPPRESSED[inputs] = compute_indicator_values(path, catalog)
    return UNSUPPRESSED[inputs]


# The code whose change must invalidate cached values (the catalog is read from config).
CACHE_SOURCES = (
    "catalog.py",
    "values/scores.py",
    "values/aggregate.py",
    "values/load.py",
    "values/privacy.py",
    "values/published.py",
    "stats/spread.py",
    "stats/median_spread.py",
)


def find_cached_values(
    warehouse_path: Path, min_n: int, inputs: tuple[str, ...] | None = None
) -> Path | None:
    """Where the suppressed values of this warehouse, min_n and code are cached, or None.

    The key is the SHA-256 of the warehouse file, min_n, the catalog and the code above, so a new
    ingest, another min_n or a code change never reads stale values. The cache holds only
    suppressed aggregates (no pupil rows) and is disposable. Set WORKBENCH_VALUES_CACHE=0 to
    compute afresh (`workbench verify` does). `inputs`: input_hashes(warehouse_path) when known.
    """
    inputs = inputs or input_hashes(warehouse_path)
    if inputs is None:
        return None
    digest = hashlib.sha256(f"min_n={min_n}".encode())
    for file_hash in inputs:
        digest.update(file_hash.encode())
    return warehouse_path.parent / "cache" / f"values-{digest.hexdigest()[:24]}.parquet"


def input_hashes(warehouse_path: Path) -> tuple[str, ...] | None:
    """The SHA-256 of each file that decides the values (the warehouse, the catalog and
    CACHE_SOURCES); None when the cache is switched off or there is no warehouse."""
    if os.environ.get("WORKBENCH_VALUES_CACHE", "1") == "0" or not warehouse_path.is_file():
        return None
    sources = [warehouse_path, config.catalog_path()]
    return tuple(hash_file(s) for s in sources + [config.PACKAGE_DIR / n for n in CACHE_SOURCES])


def read_cached_values(cache: Path, municipality: str = "") -> pd.DataFrame:
    """Read the cache back with the dtypes the computation gives (object columns stay object);
    with `municipality`, only its rows, in their order (a report's own: a national warehouse's
    cache holds 98 municipalities, and reading all of it cost each report ~0.45 CPU-s; #17)."""
    rows = [("municipality", "==", municipality)] if municipality else None
    values = pd.read_parquet(cache, filters=rows)
    for column in values.attrs.pop("object_columns", []):
        values[column] = values[column].astype(object).where(values[column].notna(), None)
    return values


def write_cached_values(values: pd.DataFrame, cache: Path) -> None:
    """Write the cache atomically (files.write_atomically: no half file, and no temporary one
    left when the write fails); a folder we cannot write to only costs speed."""
    stored = values.copy()
    stored.attrs["object_columns"] = [c for c in values.columns if values[c].dtype == object]
    try:
        write_atomically(cache, lambda tmp: stored.to_parquet(tmp, index=False))
    except OSError:
        pass
