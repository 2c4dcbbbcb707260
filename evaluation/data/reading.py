"""Read an export into a frame of text cells, whatever form it comes in.

Files come as they really do: CSV with ';' or ',' and decimal comma or point, UTF-8 (with or
without BOM) or Latin-1/Windows-1252; XLSX with title rows above the header; Parquet for big
pupil-level files; YAML for the cluster map. Each reader returns the rows with the line number a
user sees (header and title rows count) or the Problems that stop the file from being read;
evaluation.data.ingest validates and loads what is read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from evaluation.data.schemas import file_kinds
from evaluation.errors import Problem, ValidationError

HEADER_SEARCH_ROWS = 20  # title rows above the header are skipped, up to this many
PARQUET_BATCH_ROWS = 250_000
TEXT_SUFFIXES = {".csv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
YAML_SUFFIXES = {".yaml", ".yml"}
PARQUET_SUFFIXES = {".parquet"}
SUPPORTED = TEXT_SUFFIXES | EXCEL_SUFFIXES | YAML_SUFFIXES | PARQUET_SUFFIXES
DELIMITERS = [";", ",", "\t"]
SAVE_AS_UTF8 = "Open the file in Excel and save it again as 'CSV UTF-8 (semikolonsepareret)'."

Rows = list[tuple[int, list]]  # (line number, cells) per row


def read_frame(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """A CSV, Excel or YAML file as text cells, index = line number; or why it cannot be read."""
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        rows, problems = read_yaml_rows(path)
    elif suffix in EXCEL_SUFFIXES:
        rows, problems = read_excel_rows(path)
    else:
        rows, problems = read_csv_rows(path)
    if problems:
        return None, problems
    return rows_to_frame(rows, path)


# --- text and encodings ---------------------------------------------------------------------

MAX_FORMULA_PROBLEMS = 20
UTF8_BOM = b"\xef\xbb\xbf"
# a well-formed UTF-8 sequence of two to four bytes (Latin-1 text almost never holds one)
UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def decode_bytes(data: bytes, name: str) -> str:
    """UTF-8 (BOM or not) strictly, else Windows-1252/Latin-1; anything else is a Problem."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise ValidationError([encoding_problem(name, data, data.find(b"\x00"), "UTF-16")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if data.startswith(UTF8_BOM) or UTF8_MULTIBYTE.search(data):
            # one stray byte must not turn every "ø" of a UTF-8 file into "Ã¸"
            raise ValidationError([mixed_encoding_problem(name, data, exc.start)]) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValidationError([encoding_problem(name, data, exc.start, "unknown")]) from None


def mixed_encoding_problem(name: str, data: bytes, offset: int) -> Problem:
    """UTF-8 (a BOM or UTF-8 letters) with a byte that is not UTF-8: two encodings in one file."""
    line = data[:offset].count(b"\n") + 1
    marked = "a UTF-8 byte-order mark" if data.startswith(UTF8_BOM) else "UTF-8 letters"
    return Problem(
        name,
        line,
        None,
        f"bytes of two encodings: {marked}, and here a byte that is not UTF-8 "
        f"({data[offset : offset + 1]!r}, the first such byte)",
        "one encoding for the whole file (UTF-8)",
        "Correct the letter on this row (it was probably pasted from another file), or open "
        "the file in Excel and save it again as CSV UTF-8.",
    )


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


def read_csv_rows(path: Path) -> tuple[Rows, list[Problem]]:
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


# --- Excel and YAML -------------------------------------------------------------------------


def read_excel_rows(path: Path) -> tuple[Rows, list[Problem]]:
    """Rows of the first sheet with their Excel row numbers."""
    import openpyxl  # why: slow to import, and only Excel files need it

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
    return rows, uncached_formulas(path, rows)


def uncached_formulas(path: Path, rows: Rows) -> list[Problem]:
    """Formula cells saved without their value (by a tool that does not calculate): read as
    empty they would silently become missing data."""
    import openpyxl  # why: slow to import, and only Excel files need it

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = book.worksheets[0]
        formulas = enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        values = dict(rows)
        problems = []
        for number, cells in formulas:
            for col, cell in enumerate(cells, start=1):
                shown = values.get(number, [])
                empty = col > len(shown) or shown[col - 1] is None
                if isinstance(cell, str) and cell.startswith("=") and empty:
                    problems.append(uncached_problem(path.name, number, col, cell))
    finally:
        book.close()
    return problems[:MAX_FORMULA_PROBLEMS]


def uncached_problem(name: str, row: int, col: int, formula: str) -> Problem:
    from openpyxl.utils import get_column_letter  # why: only Excel files need openpyxl

    return Problem(
        name,
        row,
        f"column {get_column_letter(col)}",
        f"the formula {formula} saved without its value",
        "a value in every cell (a formula's result saved with it)",
        "Open the file in Excel, let it calculate, and save it again (or paste the values).",
    )


def excel_text(value) -> str | None:
    """An Excel cell as text, as a CSV would hold it (whole floats without '.0')."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_yaml_rows(path: Path) -> tuple[Rows, list[Problem]]:
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
    records = record_list(root)
    if records is not None:
        return record_rows(records, path.name)
    return cluster_map_rows(root, path.name)


RECORD_LIST_KEYS = ("decisions", "handlinger", "settings", "indstillinger")


def record_list(root: yaml.Node) -> yaml.SequenceNode | None:
    """A YAML list of records (a decisions file): the root, or under `handlinger:`."""
    if isinstance(root, yaml.SequenceNode):
        return root
    if isinstance(root, yaml.MappingNode) and len(root.value) == 1:
        key, value = root.value[0]
        if key.value in RECORD_LIST_KEYS and isinstance(value, yaml.SequenceNode):
            return value
    return None


def record_rows(records: yaml.SequenceNode, name: str) -> tuple[Rows, list[Problem]]:
    """One row per record, with its line number; a list value (targets) joined by commas."""
    header: list[str] = []
    rows, problems = [], []
    for record in records.value:
        if not isinstance(record, yaml.MappingNode):
            problems.append(record_shape_problem(name, record.start_mark.line + 1))
            continue
        values = {}
        for key, value in record.value:
            if isinstance(value, yaml.SequenceNode):
                values[key.value] = ", ".join(str(v.value) for v in value.value)
            else:
                values[key.value] = None if value.tag.endswith(":null") else value.value
        header += [k for k in values if k not in header]
        rows.append((record.start_mark.line + 1, values))
    table = [(0, header)] + [(line, [v.get(k) for k in header]) for line, v in rows]
    return table, problems


def cluster_map_rows(root: yaml.Node, name: str) -> tuple[Rows, list[Problem]]:
    """One row per member under its cluster id, as a membership file would hold it."""
    rows: Rows = [(0, ["unit_id", "cluster_id", "from_year", "to_year"])]
    problems = []
    clusters = root.value if isinstance(root, yaml.MappingNode) else []
    if clusters and clusters[0][0].value == "clusters" and len(clusters) == 1:
        clusters = clusters[0][1].value  # optional top-level "clusters:" key
    for key_node, members in clusters:
        if not isinstance(members, yaml.SequenceNode):
            problems.append(yaml_shape_problem(name, key_node.start_mark.line + 1))
            continue
        for member in members.value:
            if not isinstance(member, yaml.MappingNode):
                problems.append(yaml_shape_problem(name, member.start_mark.line + 1))
                continue
            values = {k.value: v.value for k, v in member.value}
            cells = [
                values.get("unit_id", values.get("unit")),
                key_node.value,
                values.get("from_year", values.get("from")),
                values.get("to_year", values.get("to")),
            ]
            rows.append((member.start_mark.line + 1, cells))
    if not isinstance(root, yaml.MappingNode):
        problems.append(yaml_shape_problem(name, 1))
    return rows, problems


def record_shape_problem(name: str, line: int) -> Problem:
    return Problem(
        name,
        line,
        None,
        "an entry that is not a record",
        "a list of records, each '- klynge: ...' followed by its other columns",
        "Write each decision as a list entry of 'column: value' lines (docs/importing.md).",
    )


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
    """Column names of every kind, and the other headers they are known by."""
    return {c for kind in file_kinds().values() for c in [*kind.columns, *kind.aliases]}


def column_aliases() -> dict[str, str]:
    """Other header -> column name (the Danish headers of the decisions file)."""
    return {a: c for kind in file_kinds().values() for a, c in kind.aliases.items()}


def find_header(rows: Rows) -> int:
    """Index of the header row: the first of the top rows naming two or more known columns."""
    known = known_columns()
    for i, (_, fields) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len({normalise_name(f) for f in fields} & known) >= 2:
            return i
    return next((i for i, (_, f) in enumerate(rows) if any(v not in (None, "") for v in f)), 0)


def rows_to_frame(rows: Rows, path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Header row found, title rows skipped, blank rows dropped; index = line number."""
    name = path.name
    if not rows:
        return pd.DataFrame(), [empty_problem(name)]
    h = find_header(rows)
    line, header = rows[h]
    while header and header[-1] in (None, ""):
        header = header[:-1]  # Excel often carries empty cells to the right
    written = [normalise_name(c) for c in header]
    aliases = column_aliases()
    names = [aliases.get(n, n) for n in written]
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
    if frame is not None:  # problems name a column as the file's header does
        frame.attrs["headers"] = {n: w for n, w in zip(names, written, strict=True) if n != w}
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


# --- Parquet --------------------------------------------------------------------------------


def open_parquet(path: Path) -> tuple[pq.ParquetFile | None, list[Problem]]:
    """The Parquet file, read lazily; or the problem that it is not Parquet."""
    try:
        return pq.ParquetFile(path), []
    except (pa.ArrowInvalid, OSError) as exc:
        return None, [
            Problem(
                path.name,
                None,
                None,
                f"a file that is not Parquet ({exc})",
                "a Parquet file",
                "Export the survey answers again as Parquet or CSV.",
            )
        ]


def parquet_batches(source: pq.ParquetFile, columns: list[str]) -> Iterator[pd.DataFrame]:
    """The records in batches (memory-light), named `columns`; index = record number from 1."""
    offset = 0
    for batch in source.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        frame = batch.to_pandas(types_mapper=nullable_type)
        frame.columns = columns
        frame.index = pd.RangeIndex(offset + 1, offset + 1 + len(frame))
        offset += len(frame)
        yield frame


def parquet_sheet_frame(source: pq.ParquetFile, path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """A small Parquet file read as a sheet is (the decisions list): the column names as the
    header (Danish headers too), every cell as text, rows numbered by record from 1."""
    table = source.read()
    rows: Rows = [(0, table.column_names)]
    for number, record in enumerate(table.to_pylist(), start=1):
        rows.append((number, [excel_text(v) for v in record.values()]))
    return rows_to_frame(rows, path)


def nullable_type(arrow_type: pa.DataType):
    """Arrow integers to pandas nullable integers (not float), strings to str."""
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    return None
