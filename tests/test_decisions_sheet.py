"""`workbench actions template` (evaluation.data.decision_sheet, evaluation.values.decisions):
the sheet from the tiny fixture warehouse, filled in with openpyxl, is accepted by `ingest`;
left unfilled it is refused, naming each empty required cell."""

from __future__ import annotations

import csv
import hashlib
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from fixtures.tiny_warehouse import build_fixture_warehouse

from evaluation import cli
from evaluation.data import decision_sheet, ingest, warehouse
from evaluation.data.decisions import DANISH_HEADERS, STATUSES
from evaluation.errors import ValidationError

REQUIRED_EMPTY = ("besluttet", "handling", "ansvarlig", "ses_igen")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_fixture_warehouse(tmp_path_factory.mktemp("tiny") / "w.duckdb")


@pytest.fixture
def sheet(tiny, tmp_path, monkeypatch, capsys) -> dict:
    """The template of cluster syd, written by the command line, and a copy of the warehouse."""
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")
    target = Path(shutil.copyfile(tiny, tmp_path / "w.duckdb"))
    code = cli.main(
        ["actions", "template", "--cluster", "syd", "--warehouse", str(target), "--out",
         str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    return {"warehouse": target, "folder": tmp_path / "out", "printed": printed}


def data_rows(path: Path) -> list[list]:
    book = openpyxl.load_workbook(path)
    rows = [list(r) for r in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
    return [r for r in rows if any(v is not None for v in r)]


def test_template_is_danish_with_title_guide_and_suggestions(sheet):
    xlsx = sheet["folder"] / "handlinger_syd.xlsx"
    book = openpyxl.load_workbook(xlsx)
    main, guide = book.worksheets
    assert "Syd" in main.cell(1, 1).value and "2024/25" in main.cell(1, 1).value
    assert [c.value for c in main[2]] == list(DANISH_HEADERS.values())
    assert main.column_dimensions["C"].width >= 40  # handling is readable
    listed = " ".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    assert all(status in listed for status in STATUSES)
    assert "udsagn_god_ven" in listed and "Udsagn 2" in listed and "skal_flytte" in listed
    rows = data_rows(xlsx)
    assert rows and all(r[0] == "syd" and r[8] == "planlagt" for r in rows)
    # tiny Syd is clearly below the municipality on social wellbeing (3 schools, hand-made)
    social = next(r for r in rows if r[3] == "social_trivsel")
    assert social[9].startswith("Forslag – Social trivsel: tydeligt dårligere end kommunen")
    assert all(r[2] is None and r[6] is None for r in rows)  # action, responsible: the meeting's
    assert f"{len(rows)} suggestion(s) for Syd (2024/25)" in sheet["printed"]


def test_default_writes_only_the_xlsx(sheet):
    assert [p.name for p in sheet["folder"].iterdir()] == ["handlinger_syd.xlsx"]


def test_csv_on_request_is_the_same_rows_semicolon_utf8_with_bom(sheet, capsys):
    folder = sheet["folder"] / "csv"
    code = cli.main(
        ["actions", "template", "--cluster", "syd", "--warehouse", str(sheet["warehouse"]),
         "--out", str(folder), "--format", "csv"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["handlinger_syd.csv"]
    path = folder / "handlinger_syd.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == list(DANISH_HEADERS.values())
    from_xlsx = data_rows(sheet["folder"] / "handlinger_syd.xlsx")
    assert [r[3] for r in rows[1:]] == [r[3] for r in from_xlsx]
    # filled in (action, decided, responsible, review) the CSV is accepted by ingest
    filled = [r[:1] + ["12-05-2025", f"Handling {i}"] + r[3:6] + ["Teamet", "2025/2026"] + r[8:]
              for i, r in enumerate(rows[1:], start=1)]  # fmt: skip
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([rows[0], *filled])
    assert cli.main(["ingest", str(folder), "--warehouse", str(sheet["warehouse"])]) == 0
    table = warehouse.read_table(sheet["warehouse"], "decisions")
    assert sorted(table.action) == sorted(r[2] for r in filled)


def test_unfilled_template_is_refused_naming_every_empty_required_cell(sheet):
    before = hashlib.sha256(sheet["warehouse"].read_bytes()).hexdigest()
    xlsx = sheet["folder"] / "handlinger_syd.xlsx"
    n = len(data_rows(xlsx))
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([xlsx], sheet["warehouse"])
    problems = caught.value.problems
    empty = {(p.row, p.column) for p in problems if p.found == "an empty cell"}
    assert empty == {(row, c) for row in range(3, 3 + n) for c in REQUIRED_EMPTY}
    assert "handlinger_syd.xlsx:3:handling: found an empty cell" in str(caught.value)
    assert hashlib.sha256(sheet["warehouse"].read_bytes()).hexdigest() == before


def test_filled_template_is_accepted_by_ingest(sheet, capsys):
    xlsx = sheet["folder"] / "handlinger_syd.xlsx"
    book = openpyxl.load_workbook(xlsx)
    main = book.worksheets[0]
    n = len(data_rows(xlsx))
    for row in range(3, 3 + n):
        main.cell(row, 2, date(2025, 5, 12) if row % 2 else "12-05-2025")  # a date or text
        main.cell(row, 3, f"Handling nummer {row - 2}")
        main.cell(row, 7, "Klyngens AKT-team")
        main.cell(row, 8, "2025/2026")
    book.save(xlsx)
    # the command line, as a municipality runs it (the warehouse had no decisions table)
    code = cli.main(["ingest", str(xlsx), "--warehouse", str(sheet["warehouse"])])
    assert code == 0, capsys.readouterr().err
    table = warehouse.read_table(sheet["warehouse"], "decisions")
    assert len(table) == n and set(table.cluster_id) == {"syd"}
    assert list(table.decision_id)[:2] == ["syd-2025-05-12-1", "syd-2025-05-12-2"]
    assert set(table.first_year) == {2025} and set(table.status) == {"planlagt"}
    # the next template starts from these decisions (status to update), then new suggestions
    again = cli.main(
        ["actions", "template", "--cluster", "syd", "--warehouse", str(sheet["warehouse"]),
         "--out", str(sheet["folder"] / "again")]
    )  # fmt: skip
    assert again == 0
    rows = data_rows(sheet["folder"] / "again" / "handlinger_syd.xlsx")
    assert [r[2] for r in rows[:n]] == list(table.action)
    assert rows[0][1].date() == date(2025, 5, 12)


def test_unknown_cluster_or_year_is_refused_with_the_valid_ones(tiny, tmp_path, capsys):
    args = ["actions", "template", "--warehouse", str(tiny), "--out", str(tmp_path)]
    assert cli.main([*args, "--cluster", "vest"]) == 2
    assert "clusters: nord, syd" in capsys.readouterr().err
    assert cli.main([*args, "--cluster", "nord", "--year", "2022"]) == 2
    assert "has values in 2021, 2023, 2024" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_sheet_without_rows_has_only_the_header(tmp_path):
    xlsx = decision_sheet.write_decision_sheet([], tmp_path, "nord", "Titel")
    assert xlsx.name == "handlinger_nord.xlsx" and data_rows(xlsx) == []
    csv_path = decision_sheet.write_decision_sheet([], tmp_path, "nord", "Titel", "da", "csv")
    assert csv_path.name == "handlinger_nord.csv"
    assert csv_path.read_text(encoding="utf-8-sig").splitlines() == [
        ";".join(DANISH_HEADERS.values())
    ]
    with pytest.raises(ValueError, match="expected one of"):
        decision_sheet.write_decision_sheet([], tmp_path, "nord", "Titel", "da", "ods")
