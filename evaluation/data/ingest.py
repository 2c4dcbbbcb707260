"""Read a municipality's exports, validate them, and load them into the warehouse atomically.

Files come as they really do: CSV with ';' or ',' and decimal comma or point, UTF-8 (with or
without BOM) or Latin-1/Windows-1252; XLSX with title rows above the header; Parquet for big
pupil-level files; YAML for the cluster map. The kind of file is told by its columns (or name).

Every problem of every file is collected (up to MAX_PROBLEMS) and raised together as one
ValidationError. Loading works on a copy of the warehouse next to it; only when everything is
valid is the copy moved into place (os.replace), so a failed ingest leaves the previous
warehouse byte-identical.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from evaluation.data import warehouse
from evaluation.data.schemas import FileKind, file_kinds, sort_problems, validate_frame
from evaluation.errors import Problem, ValidationError
from evaluation.files import hash_file

MAX_PROBLEMS = 50
HEADER_SEARCH_ROWS = 20  # title rows above the header are skipped, up to this many
PARQUET_BATCH_ROWS = 250_000
TEXT_SUFFIXES = {".csv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
YAML_SUFFIXES = {".yaml", ".yml"}
PARQUET_SUFFIXES = {".parquet"}
SUPPORTED = TEXT_SUFFIXES | EXCEL_SUFFIXES | YAML_SUFFIXES | PARQUET_SUFFIXES
DELIMITERS = [";", ",", "\t"]
SAVE_AS_UTF8 = "Open the file in Excel and save it again as 'CSV UTF-8 (semikolonsepareret)'."


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


def ingest_paths(
    paths: list[Path], warehouse_path: Path, replace: bool = False, municipality: str | None = None
) -> str:
    """Validate files/folders and load them into the warehouse; return a printable summary.

    `municipality` (or a cluster map) turns the ministry's public files into one municipality's
    units, clusters and aggregates (evaluation.data.public_ingest).
    """
    from evaluation.data import public_ingest

    started = time.perf_counter()
    files = expand_paths([Path(p) for p in paths])
    loaded = [read_and_validate(path) for path in files]
    raise_problems([p for f in loaded for p in f.problems])
    loaded = public_ingest.prepare_public_files(loaded, municipality)
    warehouse_path = Path(warehouse_path)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = warehouse_path.with_name(f".{warehouse_path.name}.{os.getpid()}.tmp")
    try:
        remove_file(tmp)
        if warehouse_path.exists() and not replace:
            shutil.copyfile(warehouse_path, tmp)
        con = duckdb.connect(str(tmp))
        try:
            warehouse.create_schema(con)
            load_files(con, loaded)
            raise_problems(check_cross_tables(con, loaded))
            log_files(con, loaded)
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        finally:
            con.close()
        warehouse.replace_file(tmp, warehouse_path)
    finally:
        remove_file(tmp)
    return summarise(loaded, counts, warehouse_path, time.perf_counter() - started)


TABLES = [t for t in warehouse.TABLE_COLUMNS if t != "ingest_log"]


def remove_file(path: Path) -> None:
    """Delete a temporary warehouse and its DuckDB write-ahead log, if any."""
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def raise_problems(problems: list[Problem]) -> None:
    """Raise one ValidationError listing up to MAX_PROBLEMS problems."""
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS], more=max(0, len(problems) - MAX_PROBLEMS))


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, plus the supported files inside folders (sorted, hidden ones skipped)."""
    files, problems = [], []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED:
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
    return [f for f in files if f.suffix.lower() in SUPPORTED]


# --- reading ------------------------------------------------------------------------------


def read_and_validate(path: Path) -> LoadedFile:
    """Read one file of any supported format and validate it against its kind's schema."""
    loaded = LoadedFile(path=path, sha256=hash_file(path))
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(loaded)
    if suffix in YAML_SUFFIXES:
        rows, problems = read_yaml_rows(path)
    elif suffix in EXCEL_SUFFIXES:
        rows, problems = read_excel_rows(path)
    else:
        rows, problems = read_csv_rows(path)
    if problems:
        loaded.problems = problems
        return loaded
    frame, problems = rows_to_frame(rows, path)
    if problems:
        loaded.problems = problems
        return loaded
    return validate_loaded(loaded, frame)


def validate_loaded(loaded: LoadedFile, frame: pd.DataFrame) -> LoadedFile:
    """Tell the kind from the columns, then type and check every cell."""
    kind, problem = detect_kind(list(frame.columns), loaded.path)
    if problem:
        loaded.problems = [problem]
        return loaded
    typed, problems = validate_frame(frame, kind, loaded.path.name)
    loaded.kind, loaded.rows, loaded.problems = kind, len(typed), problems
    if not problems:
        loaded.frame = shape_for_table(typed, kind)
        loaded.keys = loaded.frame.assign(row=loaded.frame.index)
    return loaded


def decode_bytes(data: bytes, name: str) -> str:
    """UTF-8 (BOM or not) strictly, else Windows-1252/Latin-1; anything else is a Problem."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise ValidationError([encoding_problem(name, data, data.find(b"\x00"), "UTF-16")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValidationError([encoding_problem(name, data, exc.start, "unknown")]) from None


def encoding_problem(name: str, data: bytes, offset: int, what: str) -> Problem:
    offset = max(offset, 0)
    line = data[:offset].count(b"\n") + 1
    return Problem(
        name,
        line,
        None,
        f"bytes that are neither UTF-8 nor Latin-1 ({what}, byte {data[offset : offset + 1]!r})",
        "text in UTF-8, UTF-8 with BOM, or Latin-1/Windows-1252",
        SAVE_AS_UTF8,
    )


def read_csv_rows(path: Path) -> tuple[list[tuple[int, list]], list[Problem]]:
    """Rows of a CSV file with their line numbers; the delimiter is read from the header."""
    data = path.read_bytes()
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        return [], [empty_problem(path.name)]
    try:
        text = decode_bytes(data, path.name)
    except ValidationError as exc:
        return [], exc.problems
    lines = text.splitlines()
    delimiter = choose_delimiter(lines[:HEADER_SEARCH_ROWS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for fields in reader:
        rows.append((reader.line_num, fields))
    return rows, []


def choose_delimiter(lines: list[str]) -> str:
    """The delimiter that best splits a header line into known column names."""
    known = known_columns()
    best, best_score = None, 0
    for line in lines:
        for delimiter in DELIMITERS:
            names = {normalise_name(n) for n in next(csv.reader([line], delimiter=delimiter), [])}
            score = len(names & known)
            if score > best_score:
                best, best_score = delimiter, score
    if best:
        return best
    first = next((line for line in lines if line.strip()), "")
    return max(DELIMITERS, key=first.count)


def read_excel_rows(path: Path) -> tuple[list[tuple[int, list]], list[Problem]]:
    """Rows of the first sheet with their Excel row numbers."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        return [], [
            Problem(
                path.name,
                None,
                None,
                f"a file Excel cannot open ({type(exc).__name__})",
                "an .xlsx workbook",
                "Open and save it again in Excel as .xlsx, or export as CSV.",
            )
        ]
    try:
        sheet = book.worksheets[0]
        rows = [
            (number, [excel_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        ]
    finally:
        book.close()
    if not any(any(v not in (None, "") for v in r) for _, r in rows):
        return [], [empty_problem(path.name)]
    return rows, []


def excel_text(value) -> str | None:
    """An Excel cell as text, as a CSV would hold it (whole floats without '.0')."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_yaml_rows(path: Path) -> tuple[list[tuple[int, list]], list[Problem]]:
    """The cluster map: `cluster_id: [{unit_id, from_year, to_year}, ...]`, with line numbers."""
    try:
        text = decode_bytes(path.read_bytes(), path.name)
    except ValidationError as exc:
        return [], exc.problems
    if not text.strip():
        return [], [empty_problem(path.name)]
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [
            Problem(
                path.name,
                mark.line + 1 if mark else None,
                None,
                f"YAML that cannot be read ({getattr(exc, 'problem', exc)})",
                "a cluster map: cluster id, then a list of {unit_id, from_year, to_year}",
                "Check indentation and colons around this line (see docs/importing.md).",
            )
        ]
    header = ["unit_id", "cluster_id", "from_year", "to_year"]
    rows: list[tuple[int, list]] = [(0, header)]
    problems = []
    clusters = root.value if isinstance(root, yaml.MappingNode) else []
    if clusters and clusters[0][0].value == "clusters" and len(clusters) == 1:
        clusters = clusters[0][1].value  # optional top-level "clusters:" key
    for key_node, members in clusters:
        if not isinstance(members, yaml.SequenceNode):
            problems.append(yaml_shape_problem(path.name, key_node.start_mark.line + 1))
            continue
        for member in members.value:
            if not isinstance(member, yaml.MappingNode):
                problems.append(yaml_shape_problem(path.name, member.start_mark.line + 1))
                continue
            values = {k.value: v.value for k, v in member.value}
            rows.append(
                (
                    member.start_mark.line + 1,
                    [
                        values.get("unit_id", values.get("unit")),
                        key_node.value,
                        values.get("from_year", values.get("from")),
                        values.get("to_year", values.get("to")),
                    ],
                )
            )
    if not isinstance(root, yaml.MappingNode):
        problems.append(yaml_shape_problem(path.name, 1))
    return rows, problems


def yaml_shape_problem(name: str, line: int) -> Problem:
    return Problem(
        name,
        line,
        None,
        "an entry that is not a list of members",
        "cluster_id: then a list of {unit_id: ..., from_year: ..., to_year: ...}",
        "Write each member as '- {unit_id: \"751001\", from_year: 2016}' under its cluster id.",
    )


def empty_problem(name: str) -> Problem:
    return Problem(
        name,
        None,
        None,
        "an empty file",
        "a header row and at least one data row",
        "Export the data again; the file has no content.",
    )


# --- from rows to a frame ------------------------------------------------------------------


def normalise_name(name) -> str:
    """Header text to a column name: trimmed, lower case, spaces and hyphens as '_'."""
    text = str(name or "").replace("\ufeff", "").strip().strip('"').strip().lower()
    return "_".join(text.replace("-", " ").split())


def known_columns() -> set[str]:
    return {c for kind in file_kinds().values() for c in kind.columns}


def find_header(rows: list[tuple[int, list]]) -> int:
    """Index of the header row: the first of the top rows naming two or more known columns."""
    known = known_columns()
    for i, (_, fields) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len({normalise_name(f) for f in fields} & known) >= 2:
            return i
    return next((i for i, (_, f) in enumerate(rows) if any(v not in (None, "") for v in f)), 0)


def rows_to_frame(rows: list[tuple[int, list]], path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Header row found, title rows skipped, blank rows dropped; index = line number."""
    name = path.name
    if not rows:
        return pd.DataFrame(), [empty_problem(name)]
    h = find_header(rows)
    line, header = rows[h]
    while header and header[-1] in (None, ""):
        header = header[:-1]  # Excel often carries empty cells to the right
    names = [normalise_name(c) for c in header]
    if len(names) == 1 and any(d in str(header[0]) for d in DELIMITERS):
        return pd.DataFrame(), [wrong_delimiter_problem(name, line, str(header[0]))]
    problems = []
    data, index = [], []
    for number, fields in rows[h + 1 :]:
        if all(v in (None, "") or str(v).strip() == "" for v in fields):
            continue
        fields = list(fields)
        while len(fields) > len(names) and fields[-1] in (None, ""):
            fields.pop()
        if len(fields) != len(names):
            problems.append(field_count_problem(name, number, fields, names))
            continue
        data.append(fields)
        index.append(number)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    for column in duplicates:
        problems.append(
            Problem(
                name, line, column, "the column twice", "each column once", "Delete one of them."
            )
        )
    if not data and not problems:
        problems.append(
            Problem(
                name,
                line,
                None,
                "a header but no data rows",
                "at least one data row under the header",
                "Export the data again, including the rows.",
            )
        )
    frame = pd.DataFrame(data, columns=names, index=index, dtype="str") if not problems else None
    return frame, problems


def wrong_delimiter_problem(name: str, line: int, header: str) -> Problem:
    shown = header if len(header) <= 60 else header[:57] + "..."
    return Problem(
        name,
        line,
        None,
        f"one single column {shown!r}",
        "columns separated by ';' (or ',')",
        "The separator does not match, or each line is wrapped in quotes. Export again as "
        "'CSV (semikolonsepareret)', or in Excel split the column with Data > Text to Columns.",
    )


def field_count_problem(name: str, number: int, fields: list, names: list[str]) -> Problem:
    return Problem(
        name,
        number,
        None,
        f"{len(fields)} fields",
        f"{len(names)} fields like the header",
        "A comma inside a number can split it when ',' is also the separator: use ';' as "
        "separator, or put such values in quotes.",
    )


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
    if kind.name == "aggregates":
        out = pd.DataFrame(
            {
                "year": typed.school_year.str.slice(0, 4).astype(int),
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


# --- Parquet --------------------------------------------------------------------------------


def read_parquet(loaded: LoadedFile) -> LoadedFile:
    """Validate a Parquet file batch by batch (memory-light); DuckDB loads it later."""
    path = loaded.path
    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        loaded.problems = [
            Problem(
                path.name,
                None,
                None,
                f"a file that is not Parquet ({exc})",
                "a Parquet file",
                "Export the survey answers again as Parquet or CSV.",
            )
        ]
        return loaded
    columns = [normalise_name(n) for n in source.schema_arrow.names]
    kind, problem = detect_kind(columns, path)
    if problem:
        loaded.problems = [problem]
        return loaded
    loaded.kind, loaded.parquet, loaded.rows = kind, path, source.metadata.num_rows
    keys, problems, offset = [], [], 0
    for batch in source.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        frame = batch.to_pandas(types_mapper=nullable_type)
        frame.columns = columns
        frame.index = pd.RangeIndex(offset + 1, offset + 1 + len(frame))
        offset += len(frame)
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


def nullable_type(arrow_type: pa.DataType):
    """Arrow integers to pandas nullable integers (not float), strings to str."""
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    return None


def first_rows(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Distinct key values with the first row each occurs in."""
    rows = frame.index.to_series() if "row" not in frame else frame["row"]
    out = frame[columns].assign(row=rows.to_numpy())
    return out.groupby(columns, as_index=False, dropna=False)["row"].min()


# --- loading and cross-table checks -------------------------------------------------------


def load_files(con: duckdb.DuckDBPyConnection, loaded: list[LoadedFile]) -> None:
    """Delete rows the new files replace (by REPLACE_KEYS), then insert the new rows."""
    for f in loaded:
        keys = warehouse.REPLACE_KEYS[f.kind.table]
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


# Each cross-table check: (table, SQL giving offending rows, key columns to place them, wording)
CROSS_CHECKS = (
    [
        (
            table,
            f"SELECT DISTINCT unit_id, year FROM {table} "
            "WHERE unit_id NOT IN (SELECT unit_id FROM units)",
            ["unit_id", "year"],
            "unit_id",
            "unit id '{unit_id}'",
            "a unit listed in a units file",
            "Add the unit to units.csv (unit_id;name;kind;municipality) or correct the id.",
        )
        for table in ("responses", "register", "daycare_language")
    ]
    + [
        (
            table,
            f"SELECT DISTINCT t.unit_id, t.year FROM {table} t JOIN units u USING (unit_id) "
            "WHERE NOT EXISTS (SELECT 1 FROM cluster_membership m WHERE m.unit_id = t.unit_id "
            "AND m.from_year <= t.year AND (m.to_year IS NULL OR m.to_year >= t.year))",
            ["unit_id", "year"],
            "unit_id",
            "unit '{unit_id}' without a cluster in {year}",
            "a cluster for the unit in every year it reports",
            "Add a row to cluster_membership (unit_id;cluster_id;from_year;to_year) covering "
            "{year}.",
        )
        for table in ("responses", "register", "daycare_language")
    ]
    + [
        (
            "register",
            "SELECT DISTINCT home_cluster, year FROM register "
            "WHERE home_cluster NOT IN (SELECT cluster_id FROM clusters)",
            ["home_cluster", "year"],
            "home_cluster",
            "cluster id '{home_cluster}'",
            "a cluster listed in a clusters file",
            "Add the cluster to clusters.csv or correct the id.",
        ),
        (
            "cluster_membership",
            "SELECT DISTINCT unit_id FROM cluster_membership "
            "WHERE unit_id NOT IN (SELECT unit_id FROM units)",
            ["unit_id"],
            "unit_id",
            "unit id '{unit_id}'",
            "a unit listed in a units file",
            "Add the unit to units.csv or correct the id.",
        ),
        (
            "cluster_membership",
            "SELECT DISTINCT unit_id, cluster_id FROM cluster_membership "
            "WHERE cluster_id NOT IN (SELECT cluster_id FROM clusters)",
            ["unit_id", "cluster_id"],
            "cluster_id",
            "cluster id '{cluster_id}'",
            "a cluster listed in a clusters file",
            "Add the cluster to clusters.csv or correct the id.",
        ),
        (
            "cluster_membership",
            "SELECT DISTINCT a.unit_id, a.from_year FROM cluster_membership a "
            "JOIN cluster_membership b ON a.unit_id = b.unit_id AND a.from_year > b.from_year "
            "AND (b.to_year IS NULL OR b.to_year >= a.from_year)",
            ["unit_id", "from_year"],
            "from_year",
            "unit '{unit_id}' in two clusters from {from_year}",
            "periods that do not overlap (one cluster per unit and year)",
            "Set to_year of the earlier period to the year before {from_year}.",
        ),
        (
            "cluster_programme",
            "SELECT DISTINCT cluster_id FROM cluster_programme "
            "WHERE cluster_id NOT IN (SELECT cluster_id FROM clusters)",
            ["cluster_id"],
            "cluster_id",
            "cluster id '{cluster_id}'",
            "a cluster listed in a clusters file",
            "Add the cluster to clusters.csv or correct the id.",
        ),
    ]
)
# The same key in two new files (or twice across Parquet batches) is a duplicate too.
CROSS_CHECKS += [
    (
        table,
        f"SELECT {', '.join(key)} FROM {table} GROUP BY ALL HAVING count(*) > 1",
        [k for k in key if k in ("year", "unit_id", "cluster_id", "from_year")] or key,
        key[-1],
        ", ".join(f"{k}={{{k}}}" for k in key) + " in more than one row or file",
        f"one row per {', '.join(key)}",
        "Import each record once: remove the duplicate row, or leave out one of the two files.",
    )
    for table, key in warehouse.UNIQUE_KEYS.items()
]


def check_cross_tables(con: duckdb.DuckDBPyConnection, loaded: list[LoadedFile]) -> list[Problem]:
    """Checks across tables on the loaded copy: unknown ids, units without a cluster."""
    problems = []
    for table, sql, place_by, column, found, expected, fix in CROSS_CHECKS:
        bad = con.execute(sql + f" LIMIT {MAX_PROBLEMS + 1}").df()
        for record in bad.to_dict("records"):
            values = {k: format_value(v) for k, v in record.items()}
            file, row = locate(loaded, table, {k: record[k] for k in place_by})
            problems.append(
                Problem(
                    file,
                    row,
                    column,
                    found.format(**values),
                    expected,
                    fix.format(**values),
                )
            )
    return sort_problems(problems)


def format_value(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def locate(loaded: list[LoadedFile], table: str, key: dict) -> tuple[str, int | None]:
    """The new file and first row holding a key; the warehouse itself if no new file has it."""
    for f in loaded:
        if f.kind is None or f.kind.table != table or f.keys is None:
            continue
        keys = f.keys
        if not set(key) <= set(keys.columns):
            continue
        match = pd.Series(True, index=keys.index)
        for column, value in key.items():
            match &= keys[column].astype(str).str.removesuffix(".0") == format_value(value)
        if match.any():
            return f.path.name, int(keys.loc[match, "row"].min())
    return f"warehouse table {table}", None


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
        lines.append(f"  {f.path.name}: {f.rows:,} rows -> {f.kind.table}")
    lines.append("Warehouse now holds: " + ", ".join(f"{t} {n:,}" for t, n in counts.items() if n))
    return "\n".join(lines)
