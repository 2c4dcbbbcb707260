"""Validate a municipality's exports and load them into the warehouse atomically.

evaluation.data.reading turns each file into a frame of text cells; here the kind of file is
told by its columns (or name), every cell is checked against the kind's schema
(evaluation.data.validation), the files are loaded and then checked across each other
(evaluation.data.cross_checks).

Every problem of every file is collected (up to MAX_PROBLEMS) and raised together as one
ValidationError. Loading works on a copy of the warehouse next to it; only when everything is
valid is the copy moved into place (os.replace), so a failed ingest leaves the previous
warehouse byte-identical.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from evaluation.data import (
    public_ingest,
    public_records,
    public_schemas,
    public_shapes,
    warehouse,
    writer_lock,
)
from evaluation.data.cross_checks import check_cross_tables
from evaluation.data.parquet_checks import parquet_shape_problems
from evaluation.data.reading import (
    PARQUET_SUFFIXES,
    SUPPORTED,
    YAML_SUFFIXES,
    column_aliases,
    normalise_name,
    open_parquet,
    parquet_batches,
    parquet_sheet_frame,
    read_frame,
)
from evaluation.data.rules import FileKind, school_year_start
from evaluation.data.schemas import file_kinds
from evaluation.data.validation import MAX_PROBLEMS, raise_problems, validate_frame
from evaluation.errors import Problem
from evaluation.files import hash_file


@dataclass
class LoadedFile:
    """One file read and validated: its kind, typed rows (or Parquet path) and key rows."""

    path: Path
    kind: FileKind | None = None
    frame: pd.DataFrame | None = None  # typed rows, index = row number in the file
    parquet: Path | None = None  # big pupil-level files are loaded by DuckDB directly
    keys: pd.DataFrame | None = None  # key columns + "row", to place cross-table problems
    rows: int = 0
    sha256: str = ""
    problems: list[Problem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # column -> header as in the file


TABLES = [t for t in warehouse.TABLE_COLUMNS if t != "ingest_log"]


def ingest_paths(
    paths: list[Path],
    warehouse_path: Path,
    replace: bool = False,
    municipality: str | None = None,
    wait_seconds: float = writer_lock.WAIT_SECONDS,
) -> str:
    """Validate files/folders and load them into the warehouse; return a printable summary.

    One ingest writes a warehouse at a time (evaluation.data.writer_lock): a second one waits
    up to `wait_seconds` and then refuses, naming the holder. The target must be absent or a
    warehouse: an export or any other file is never overwritten.

    `municipality` (or a cluster map) turns the ministry's public files into one municipality's
    units, clusters and aggregates (evaluation.data.public_ingest).
    """
    started = time.perf_counter()
    files = expand_paths([Path(p) for p in paths])
    ministry = [path for path in files if public_shapes.is_ministry_file(path)]
    loaded = [read_and_validate(path) for path in files if path not in ministry]
    loaded += read_ministry_files(ministry, loaded, municipality)
    raise_problems([p for f in loaded for p in f.problems])
    loaded = public_ingest.prepare_public_files(loaded, municipality)
    warehouse_path = Path(warehouse_path)
    writer_lock.check_warehouse_target(warehouse_path)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock.exclusive_writer(warehouse_path, wait_seconds):
        writer_lock.check_warehouse_target(warehouse_path)  # again: it may have changed
        counts = load_into_copy(loaded, warehouse_path, replace)
    summary = summarise(loaded, counts, warehouse_path, time.perf_counter() - started)
    return summary + public_ingest.warnings(loaded)


def load_into_copy(loaded: list[LoadedFile], warehouse_path: Path, replace: bool) -> dict:
    """Copy the warehouse (unless replacing), load and check in the copy, move it into place;
    the copy is removed whatever happens. Returns the row count of every table."""
    tmp = writer_lock.temporary_copy(warehouse_path)
    try:
        remove_file(tmp)
        if warehouse_path.exists() and not replace:
            shutil.copyfile(warehouse_path, tmp)
        con = duckdb.connect(str(tmp))
        try:
            warehouse.create_schema(con)
            load_files(con, loaded)
            raise_problems(named_as_in_file(check_cross_tables(con, loaded), loaded))
            log_files(con, loaded)
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        finally:
            con.close()
        warehouse.replace_file(tmp, warehouse_path)
    finally:
        remove_file(tmp)
    return counts


def remove_file(path: Path) -> None:
    """Delete a temporary warehouse and its DuckDB write-ahead log, if any."""
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, plus the supported files inside folders (sorted, hidden ones skipped)."""
    files, problems = [], []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and (p.suffix.lower() in SUPPORTED or public_shapes.is_ministry_json(p))
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED | public_shapes.JSON_SUFFIXES:
                problems.append(
                    Problem(
                        path.name,
                        None,
                        None,
                        f"a {path.suffix or 'nameless'} file",
                        "a .csv, .xlsx, .parquet or .yaml file",
                        "Export the data as CSV (semicolon) or XLSX.",
                    )
                )
            files.append(path)
        else:
            problems.append(
                Problem(
                    str(path),
                    None,
                    None,
                    "no such file or folder",
                    "an existing path",
                    "Check the path.",
                )
            )
    raise_problems(problems)
    if not files:
        raise_problems(
            [
                Problem(
                    ", ".join(str(p) for p in paths),
                    None,
                    None,
                    "no importable files",
                    "CSV, XLSX, Parquet or YAML files",
                    "Point to the folder or files with the exports.",
                )
            ]
        )
    return [f for f in files if f.suffix.lower() in SUPPORTED | public_shapes.JSON_SUFFIXES]


# --- reading and validating one file --------------------------------------------------------


def read_and_validate(path: Path) -> LoadedFile:
    """Read one file of any supported format and validate it against its kind's schema."""
    loaded = LoadedFile(path=path, sha256=hash_file(path))
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return read_parquet(loaded)
    frame, problems = read_frame(path)
    if problems:
        loaded.problems = problems
        return loaded
    return validate_loaded(loaded, frame)


def read_ministry_files(paths: list[Path], loaded: list, municipality: str | None) -> list:
    """The ministry's figures in the shapes analysts hold them (evaluation.data.public_shapes),
    as files of the import's kinds; names are matched against the other files' schools."""
    known = [f.frame for f in loaded if f.kind and f.kind.name in ("aggregates", "public_overview")]
    out = []
    for path in paths:
        ministry = LoadedFile(path=path, sha256=hash_file(path))
        records, problems = public_shapes.read_records(path)
        cube = public_shapes.cube_of(records) if not problems else None
        if cube is None:
            ministry.problems = problems or [public_shapes.record_problem(path.name)]
        else:
            directory = public_records.school_directory([*known, *[f.frame for f in out]])
            frame, problems = public_records.ministry_frame(
                records, cube, directory, municipality, path.name
            )
            ministry.problems = problems
            if not problems:
                validate_loaded(ministry, frame, public_schemas.cube_kinds()[cube])
        out.append(ministry)
    return out


def validate_loaded(
    loaded: LoadedFile, frame: pd.DataFrame, kind: FileKind | None = None
) -> LoadedFile:
    """Tell the kind from the columns (unless given), then type and check every cell."""
    kind, problem = (kind, None) if kind else detect_kind(list(frame.columns), loaded.path)
    if problem:
        loaded.problems = [problem]
        return loaded
    typed, problems = validate_frame(frame, kind, loaded.path.name)
    loaded.headers = frame.attrs.get("headers", {})
    loaded.kind, loaded.rows = kind, len(typed)
    loaded.problems = named_as_in_file(problems, [loaded])
    if not problems:
        loaded.frame = shape_for_table(typed, kind)
        loaded.keys = loaded.frame.assign(row=loaded.frame.index)
    return loaded


def named_as_in_file(problems: list[Problem], loaded: list[LoadedFile]) -> list[Problem]:
    """Problems naming each column as its file's header does (klynge, not cluster_id)."""
    headers = {f.path.name: f.headers for f in loaded if f.headers}
    return [
        dataclasses.replace(p, column=headers[p.file].get(p.column, p.column))
        if p.file in headers
        else p
        for p in problems
    ]


def detect_kind(columns: list[str], path: Path) -> tuple[FileKind | None, Problem | None]:
    """The kind whose identifying columns the file has; else the one its name says."""
    kinds = file_kinds()
    present = set(columns)
    scored = sorted(
        (
            (len(present & set(k.signature)) / len(k.signature), len(k.signature), k)
            for k in kinds.values()
        ),
        key=lambda t: (t[0], t[1]),
        reverse=True,
    )
    score, _, best = scored[0]
    if score == 1.0:
        return best, None
    stem = normalise_name(path.stem)
    by_name = [k for k in sorted(kinds.values(), key=lambda k: -len(k.name)) if k.name in stem]
    if path.suffix.lower() in YAML_SUFFIXES:
        by_name = [kinds["cluster_membership"]]
    if by_name:
        return by_name[0], None
    if score >= 0.5:
        return best, None
    return None, Problem(
        path.name,
        None,
        None,
        f"columns {', '.join(columns[:8])}{' ...' if len(columns) > 8 else ''}",
        "the columns of one of: "
        + "; ".join(f"{k.name} ({', '.join(k.signature)})" for k in kinds.values()),
        "Rename the header to the column names in docs/importing.md, or name the file after "
        "its kind (e.g. register.csv).",
    )


def shape_for_table(typed: pd.DataFrame, kind: FileKind) -> pd.DataFrame:
    """The typed frame with the warehouse table's columns (public aggregates are renamed)."""
    if kind.shape is not None:
        return kind.shape(typed)
    if kind.name == "aggregates":
        out = pd.DataFrame(
            {
                "year": school_year_start(typed.school_year).astype(int),
                "unit_id": typed.school_id,
                "grade_band": typed.grade_band,
                "indicator_id": typed.indicator,
                "n": typed["n"] if "n" in typed else pd.NA,
                "value": typed.value,
                "sd": float("nan"),
                "source": typed["source"] if "source" in typed else pd.NA,
                # not warehouse columns (write_table skips them); evaluation.data.public_ingest
                # uses them to keep one municipality's schools
                "school_name": typed.get("school_name"),
                "municipality": typed.get("municipality"),
                "municipality_code": typed.get("municipality_code"),
            },
            index=typed.index,
        )
        return out
    if kind.name in ("public_overview", "cluster_map"):
        return typed  # shaped into warehouse tables by evaluation.data.public_ingest
    columns = [c for c in warehouse.TABLE_COLUMNS[kind.table] if c in typed.columns]
    return typed[columns]


def read_parquet(loaded: LoadedFile) -> LoadedFile:
    """Validate a Parquet file batch by batch (memory-light); DuckDB loads it later."""
    path = loaded.path
    source, problems = open_parquet(path)
    if problems:
        loaded.problems = problems
        return loaded
    columns = [normalise_name(n) for n in source.schema_arrow.names]
    aliases = column_aliases()
    kind, problem = detect_kind([aliases.get(c, c) for c in columns], path)
    if problem:
        loaded.problems = [problem]
        return loaded
    if kind.shape is not None:  # the decisions list: small, checked as its sheet would be
        frame, loaded.problems = parquet_sheet_frame(source, path)
        return validate_loaded(loaded, frame, kind) if not loaded.problems else loaded
    problems = parquet_shape_problems(source, path, columns, set(kind.numbers))
    if problems:
        loaded.problems = problems
        return loaded
    loaded.kind, loaded.parquet, loaded.rows = kind, path, source.metadata.num_rows
    keys = []
    for frame in parquet_batches(source, columns):
        typed, found = validate_frame(frame, kind, path.name)
        problems += found
        if len(problems) > MAX_PROBLEMS:
            break
        if "year" in typed and "unit_id" in typed:
            keys.append(first_rows(typed, ["year", "unit_id"]))
    loaded.problems = problems
    if keys:
        loaded.keys = first_rows(pd.concat(keys), ["year", "unit_id"])
    if kind.table != "responses":
        loaded.frame = shape_for_table(pd.read_parquet(path).set_axis(columns, axis=1), kind)
        loaded.parquet = None
    return loaded


def first_rows(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Distinct key values with the first row each occurs in."""
    rows = frame.index.to_series() if "row" not in frame else frame["row"]
    out = frame[columns].assign(row=rows.to_numpy())
    return out.groupby(columns, as_index=False, dropna=False)["row"].min()


# --- loading --------------------------------------------------------------------------------


def load_files(con: duckdb.DuckDBPyConnection, loaded: list[LoadedFile]) -> None:
    """Delete rows the new files replace (by REPLACE_KEYS), then insert the new rows."""
    for f in loaded:
        keys = warehouse.REPLACE_KEYS[f.kind.table]
        if keys == warehouse.WHOLE_TABLE:  # the file is the whole list
            con.execute(f"DELETE FROM {f.kind.table}")
            continue
        source = f.frame if f.frame is not None else f.keys
        con.register("_keys", source[keys].drop_duplicates())
        match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM k.{k}" for k in keys)
        con.execute(
            f"DELETE FROM {f.kind.table} t WHERE EXISTS (SELECT 1 FROM _keys k WHERE {match})"
        )
        con.unregister("_keys")
    for f in loaded:
        if f.parquet is not None:
            insert_parquet(con, f)
        else:
            warehouse.write_table(con, f.kind.table, f.frame)


def insert_parquet(con: duckdb.DuckDBPyConnection, f: LoadedFile) -> None:
    """DuckDB reads the Parquet file natively; missing answer columns become NULL."""
    actual = {normalise_name(n): n for n in pq.read_schema(f.path).names}
    target = [c for c in warehouse.TABLE_COLUMNS["responses"] if c in actual]
    select = ", ".join(f'"{actual[c]}" AS {c}' for c in target)
    con.execute(
        f"INSERT INTO responses ({', '.join(target)}) SELECT {select} FROM read_parquet(?)",
        [str(f.path)],
    )


def log_files(con: duckdb.DuckDBPyConnection, loaded: list[LoadedFile]) -> None:
    """One ingest_log row per file: where it came from, its SHA-256, its table and row count."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    log = pd.DataFrame(
        {
            "file": [str(f.path.resolve()) for f in loaded],
            "sha256": [f.sha256 for f in loaded],
            "table_name": [f.kind.table for f in loaded],
            "rows": [f.rows for f in loaded],
            "ingested_at": now,
        }
    )
    warehouse.write_table(con, "ingest_log", log)


def summarise(loaded: list[LoadedFile], counts: dict, path: Path, seconds: float) -> str:
    lines = [f"Loaded {len(loaded)} file(s) into {path} in {seconds:.1f} s:"]
    for f in loaded:
        whole = warehouse.REPLACE_KEYS[f.kind.table] == warehouse.WHOLE_TABLE
        lines.append(
            f"  {f.path.name}: {f.rows:,} rows -> {f.kind.table}"
            + (" (the whole list: earlier rows replaced)" if whole else "")
        )
    lines.append("Warehouse now holds: " + ", ".join(f"{t} {n:,}" for t, n in counts.items() if n))
    return "\n".join(lines)
