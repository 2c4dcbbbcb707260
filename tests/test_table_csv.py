"""evaluation.reports.table_csv: the CSV file behind each chart, as Danish Excel reads it, with
cells a spreadsheet would run neutralised."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.reports import table_csv
from evaluation.texts import SUPPRESSED_MARKER


def test_csv_slug_must_be_plain(tmp_path):

    with pytest.raises(ValueError):
        table_csv.write_table_csv(pd.DataFrame({"a": [1]}), "../evil", tmp_path, "da")


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(tmp_path):
    table = pd.DataFrame(
        {
            "Skole": ['=HYPERLINK("http://x")', "+45 Skolen", "-Nord", "@SUM(A1)", "\tTab", "Vest"],
            "Ændring": ["-0,7", "+1,2", "3,5 %", "-2+3", "12", "–"],
            "Elever": [120, -3, 0, 5, 7, 9],
        }
    )
    path = table_csv.write_table_csv(table, "injection", tmp_path, "da")
    back = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert back["Skole"].tolist() == [
        '\'=HYPERLINK("http://x")',
        "'+45 Skolen",
        "'-Nord",
        "'@SUM(A1)",
        "'\tTab",
        "Vest",
    ]
    # numbers (and text that is only a number) stay numbers; a sum in text does not
    assert back["Ændring"].tolist() == ["-0,7", "+1,2", "3,5 %", "'-2+3", "12", "–"]
    assert back["Elever"].tolist() == ["120", "-3", "0", "5", "7", "9"]


def test_a_text_table_is_written_byte_for_byte_as_pandas_writes_it(tmp_path):
    cells = ["=1+1", 'a "quoted"; name', "two\nlines", "", None, "-0,7", "Øst, 3.", "12 %"]
    table = pd.DataFrame(
        {"Skole; navn": pd.Series(cells, dtype="str"), "B": pd.Series(cells[::-1], dtype="str")}
    )
    for language, sep, decimal in (("da", ";", ","), ("en", ",", ".")):
        path = table_csv.write_table_csv(table, f"text-{language}", tmp_path, language)
        reference = tmp_path / f"pandas-{language}.csv"  # the way every table was written before
        safe = table.fillna(SUPPRESSED_MARKER).map(table_csv.neutralise_formula)
        safe.to_csv(reference, sep=sep, decimal=decimal, index=False, encoding="utf-8-sig")
        assert path.read_bytes() == reference.read_bytes()
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8


def test_a_number_column_with_a_missing_cell_keeps_the_decimal_mark(tmp_path):
    # to_csv writes a number column that became text (its missing cell as the marker) without
    # the decimal mark: "1.5" beside "2,25" in one Danish file, which Excel reads as text
    table = pd.DataFrame({"a": [1.5, None, -0.25], "b": [2.25, 3.0, 1e-05]})
    danish = table_csv.write_table_csv(table, "gaps", tmp_path / "da", "da")
    english = table_csv.write_table_csv(table, "gaps", tmp_path / "en", "en")
    assert danish.read_text(encoding="utf-8-sig") == "a;b\n1,5;2,25\n–;3,0\n-0,25;1e-05\n"
    assert english.read_text(encoding="utf-8-sig") == "a,b\n1.5,2.25\n–,3.0\n-0.25,1e-05\n"
