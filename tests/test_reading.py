"""Reading exports into frames of text cells (evaluation.data.reading) on tiny hand-made files:
encodings, delimiters, title rows, blank rows, the YAML cluster map and Parquet batches."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluation.data import reading
from evaluation.errors import ValidationError


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_with_semicolons_title_row_and_blank_row(tmp_path):
    text = "Eksport fra elevsystemet\n\nunit_id;name;kind\n751001;Ærøskolen;school\n;;\n"
    frame, problems = reading.read_frame(write(tmp_path, "units.csv", text.encode("utf-8")))
    assert problems == []
    assert list(frame.columns) == ["unit_id", "name", "kind"]
    assert list(frame.index) == [4]  # the line a text editor shows; the blank row is dropped
    assert frame.loc[4, "name"] == "Ærøskolen"


def test_latin1_bytes_are_read_as_windows_1252():
    assert reading.decode_bytes("Åby;Ø".encode("cp1252"), "x.csv") == "Åby;Ø"
    assert reading.decode_bytes(b"\xef\xbb\xbfunit_id", "x.csv") == "unit_id"  # BOM dropped


def test_utf16_is_a_problem_on_line_one():
    with pytest.raises(ValidationError) as caught:
        reading.decode_bytes("unit_id".encode("utf-16"), "units.csv")
    problem = caught.value.problems[0]
    assert (problem.file, problem.row) == ("units.csv", 1)
    assert "UTF-16" in problem.found


def test_delimiter_is_the_one_that_names_known_columns():
    assert reading.choose_delimiter(["year,unit_id,pupils"]) == ","
    assert reading.choose_delimiter(["title; with; semicolons", "year\tunit_id\tpupils"]) == "\t"
    assert reading.choose_delimiter(["a;b;c"]) == ";"  # no known names: the most frequent


def test_header_names_are_normalised():
    assert reading.normalise_name('\ufeff "Unit ID" ') == "unit_id"
    assert reading.normalise_name("from-year") == "from_year"
    assert reading.normalise_name(None) == ""


def test_one_column_header_with_a_delimiter_inside_is_a_wrong_delimiter(tmp_path):
    path = write(tmp_path, "register.csv", b'"year;unit_id;pupils"\n"2023;751001;420"\n')
    frame, problems = reading.read_frame(path)
    assert frame is not None and frame.empty
    assert (problems[0].row, problems[0].found) == (1, "one single column 'year;unit_id;pupils'")


def test_rows_with_too_many_fields_and_a_repeated_column(tmp_path):
    rows = [(1, ["year", "year", "pupils"]), (2, ["2023", "2023", "4", "5"]), (3, ["1", "2", ""])]
    frame, problems = reading.rows_to_frame(rows, tmp_path / "r.csv")
    assert frame is None
    assert [(p.row, p.column, p.found) for p in problems] == [
        (2, None, "4 fields"),
        (1, "year", "the column twice"),
    ]


def test_header_without_rows_is_a_problem(tmp_path):
    frame, problems = reading.rows_to_frame([(1, ["unit_id", "name"])], tmp_path / "u.csv")
    assert frame is None and problems[0].found == "a header but no data rows"


def test_excel_keeps_row_numbers_and_whole_numbers_as_text(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Register 2023"])
    book.active.append(["year", "unit_id", "pupils"])
    book.active.append([2023, "751001", 420.0])
    book.save(tmp_path / "register.xlsx")
    frame, problems = reading.read_frame(tmp_path / "register.xlsx")
    assert problems == []
    assert frame.loc[3].tolist() == ["2023", "751001", "420"]
    assert reading.excel_text(41.5) == "41.5" and reading.excel_text(None) is None


def test_yaml_cluster_map_rows_carry_their_lines(tmp_path):
    text = (
        'nord:\n  - {unit_id: "751001", from_year: 2016}\n'
        'syd:\n  - {unit: "751002", from: 2019, to: 2022}\n'
    )
    rows, problems = reading.read_yaml_rows(write(tmp_path, "map.yaml", text.encode()))
    assert problems == []
    assert rows == [
        (0, ["unit_id", "cluster_id", "from_year", "to_year"]),
        (2, ["751001", "nord", "2016", None]),
        (4, ["751002", "syd", "2019", "2022"]),
    ]


def test_yaml_entry_that_is_not_a_list_names_its_line(tmp_path):
    rows, problems = reading.read_yaml_rows(write(tmp_path, "map.yaml", b"nord:\n  unit_id: 1\n"))
    assert rows == [(0, ["unit_id", "cluster_id", "from_year", "to_year"])]
    assert [(p.row, p.found) for p in problems] == [(1, "an entry that is not a list of members")]


def test_empty_file_is_a_problem(tmp_path):
    frame, problems = reading.read_frame(write(tmp_path, "units.csv", b" \r\n"))
    assert frame is None and problems[0].found == "an empty file"


def test_parquet_batches_number_the_records_from_one(tmp_path, monkeypatch):
    table = pa.table({"Year": [2023, 2023, 2024], "unit_id": ["a", "b", "c"]})
    pq.write_table(table, tmp_path / "r.parquet")
    monkeypatch.setattr(reading, "PARQUET_BATCH_ROWS", 2)
    source, problems = reading.open_parquet(tmp_path / "r.parquet")
    assert problems == []
    batches = list(reading.parquet_batches(source, ["year", "unit_id"]))
    assert [list(b.index) for b in batches] == [[1, 2], [3]]
    assert batches[1].loc[3, "unit_id"] == "c"
    assert batches[0]["year"].dtype == pd.Int64Dtype()  # integers stay integers


def test_a_file_that_is_not_parquet(tmp_path):
    source, problems = reading.open_parquet(write(tmp_path, "r.parquet", b"year;unit_id\n"))
    assert source is None and problems[0].expected == "a Parquet file"
