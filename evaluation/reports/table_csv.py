"""The CSV file behind each chart and table of a report (tables_dir/<slug>.csv): Danish Excel's
';' and ',' in Danish, a missing cell as the marker, and cells a spreadsheet would run as a
formula neutralised. evaluation.reports.charts re-exports write_table_csv, as the reports call it.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from evaluation.reports.chart_records import plain_rows
from evaluation.texts import SUPPRESSED_MARKER


def write_table_csv(table: pd.DataFrame, slug: str, tables_dir: str | Path, language: str) -> Path:
    """Write the table behind a chart to tables_dir/<slug>.csv (Danish Excel: ';' and ',')."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug):
        raise ValueError(f"table slug {slug!r}: use lower-case letters, digits, - and _")
    folder = Path(tables_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.csv"
    sep, decimal = (";", ",") if language == "da" else (",", ".")
    if len(table.columns) and all(isinstance(d, pd.StringDtype) for d in table.dtypes):
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            handle.write(text_table_csv(table, sep))
    else:  # numbers: pandas writes them with the decimal mark
        safe = missing_as_marker(table, decimal).map(neutralise_formula)
        safe.to_csv(path, sep=sep, decimal=decimal, index=False, encoding="utf-8-sig")
    return path


def missing_as_marker(table: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """The table with each missing cell as the marker. A number column with a missing cell
    becomes text, which to_csv writes without the decimal mark ("1.5" beside "2,25" in one
    Danish file), so its numbers are written here with the mark, as to_csv writes the others."""
    safe = table.copy()
    for position, (_, column) in enumerate(table.items()):
        if pd.api.types.is_float_dtype(column) and column.isna().any():
            safe.isetitem(
                position,
                column.map(
                    lambda v: (
                        SUPPRESSED_MARKER if pd.isna(v) else repr(float(v)).replace(".", decimal)
                    )
                ),
            )
    return safe.fillna(SUPPRESSED_MARKER)


def text_table_csv(table: pd.DataFrame, sep: str) -> str:
    """A table of text columns as pandas' to_csv writes it (with its csv writer, QUOTE_MINIMAL,
    "\\n"), a missing cell as the marker and formulas neutralised, at a fifth of the cost of
    fillna, map and to_csv: a cluster report writes 27 tables (#17)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.columns)
    for row in plain_rows(table):
        writer.writerow(
            [neutralise_formula(v) if isinstance(v, str) else SUPPRESSED_MARKER for v in row]
        )
    return buffer.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d[\d.,]*\s?%?$")


def neutralise_formula(value):
    """A text cell that a spreadsheet would run as a formula (=, +, -, @, tab or carriage return
    first: a school or cluster name, say) gets a leading apostrophe, as OWASP recommends
    ("CSV injection"); numbers, and text that is only a number, stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value
