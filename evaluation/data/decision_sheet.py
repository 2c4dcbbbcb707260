"""A cluster's decisions sheet for the meeting: XLSX with Danish headers and a guide, or CSV.

`write_decision_sheet` writes the rows it is given (evaluation.values.decisions makes them: the
cluster's decisions so far and suggestions) under the headers of evaluation.data.decisions, so
the importer reads the filled-in sheet as a decisions file: the XLSX's title row is skipped like
any title row, its second sheet (the guide: each column, its valid values, the catalog's ids) is
not read. The CSV (`--format csv`, instead of the XLSX) is the same rows, semicolon-separated,
UTF-8 with BOM (Excel opens it right).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from evaluation.catalog import load_catalog
from evaluation.data.decisions import DANISH_HEADERS, STATUSES
from evaluation.texts import Texts

COLUMN_WIDTHS = {  # characters, by column id
    "cluster_id": 12,
    "decided": 13,
    "action": 50,
    "targets": 30,
    "grade_band": 11,
    "unit_id": 11,
    "responsible": 28,
    "review": 13,
    "status": 11,
    "note": 70,
}
DATA_ROWS = 200  # rows below the header that get the drop-down lists
HEADER_ROW = 2  # row 1 is the title


SHEET_FORMATS = ("xlsx", "csv")


def write_decision_sheet(
    rows: list[dict],
    folder: Path,
    cluster_id: str,
    title: str,
    language: str = "da",
    sheet_format: str = "xlsx",
) -> Path:
    """Write handlinger_<cluster>.xlsx (or .csv) into `folder`; return its path. One file
    only, so ingesting the folder of filled sheets never reads the same decisions twice."""
    if sheet_format not in SHEET_FORMATS:
        raise ValueError(f"sheet format {sheet_format!r}; expected one of {SHEET_FORMATS}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"handlinger_{cluster_id}.{sheet_format}"
    if sheet_format == "xlsx":
        write_xlsx(rows, path, title, Texts(language))
    else:
        write_csv(rows, path)
    return path


def cell_value(row: dict, column: str):
    """A row's cell: dates stay dates (Excel shows them as dates), empty stays empty."""
    value = row.get(column)
    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, datetime) else value  # a Timestamp: its day


def write_csv(rows: list[dict], path: Path) -> None:
    """Semicolon, UTF-8 with BOM, dates as 14-05-2025 (Danish Excel reads it so)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(DANISH_HEADERS.values())
        for row in rows:
            cells = [cell_value(row, c) for c in DANISH_HEADERS]
            writer.writerow(
                "" if v is None else f"{v:%d-%m-%Y}" if isinstance(v, date) else v for v in cells
            )


def write_xlsx(rows: list[dict], path: Path, title: str, t: Texts) -> None:
    import openpyxl  # why: slow to import, and only the template needs it
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = t("decisions.sheet_name")
    sheet.cell(1, 1, title).font = Font(bold=True, size=12)
    for col, (column, header) in enumerate(DANISH_HEADERS.items(), start=1):
        cell = sheet.cell(HEADER_ROW, col, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[get_column_letter(col)].width = COLUMN_WIDTHS[column]
        for r, row in enumerate(rows, start=HEADER_ROW + 1):
            value = cell_value(row, column)
            cell = sheet.cell(r, col, value)
            cell.alignment = Alignment(wrap_text=column in ("action", "note"), vertical="top")
            if isinstance(value, date):
                cell.number_format = "DD-MM-YYYY"
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    add_drop_downs(sheet)
    write_guide(book.create_sheet(t("decisions.help_sheet")), t)
    book.save(path)


def add_drop_downs(sheet) -> None:
    """Lists to pick the status and the grade band from (typing stays possible)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    bands = sorted({i.grade_band for i in load_catalog().indicators})
    for column, values in (("status", STATUSES), ("grade_band", bands)):
        letter = get_column_letter(list(DANISH_HEADERS).index(column) + 1)
        listed = DataValidation(type="list", formula1=f'"{",".join(values)}"', allow_blank=True)
        listed.showErrorMessage = False
        sheet.add_data_validation(listed)
        listed.add(f"{letter}{HEADER_ROW + 1}:{letter}{HEADER_ROW + DATA_ROWS}")


def write_guide(sheet, t: Texts) -> None:
    """Each column with what to write and its valid values, then the catalog's ids."""
    from openpyxl.styles import Alignment, Font

    catalog = load_catalog()
    bands = ", ".join(sorted({i.grade_band for i in catalog.indicators}))
    sheet.append([t("decisions.help_intro")])
    sheet.merge_cells("A1:C1")
    sheet.row_dimensions[1].height = 48
    sheet.append([])
    sheet.append(t.lookup("decisions.help_header"))
    for header in DANISH_HEADERS.values():
        what, valid = t.lookup(f"decisions.columns.{header}")
        sheet.append([header, what, valid.format(bands=bands, statuses=", ".join(STATUSES))])
    sheet.append([])
    sheet.append(t.lookup("decisions.indicators_header"))
    for indicator in catalog.indicators:
        name = indicator.name_da if t.language == "da" else indicator.name_en
        if indicator.statement:
            name = t("decisions.statement", number=indicator.statement, name=name)
        sheet.append([indicator.id, name])
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in (3, len(DANISH_HEADERS) + 5):
        for cell in sheet[row]:
            cell.font = Font(bold=True)
    for letter, width in (("A", 24), ("B", 60), ("C", 50)):
        sheet.column_dimensions[letter].width = width
