"""The decisions file (evaluation.data.decisions, decision_schema): reading its cells, importing
it in every form, the broken files it refuses (warehouse unchanged), and the whole-list rule."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from evaluation.data import decisions, ingest, warehouse
from evaluation.errors import ValidationError

GOOD = Path(__file__).resolve().parent / "fixtures" / "ingest" / "good"
HEADER = "klynge;besluttet;handling;skal_flytte;klassetrin;enhed;ansvarlig;ses_igen;status;note"
ROWS = [
    "nord;14-03-2025;Legepatruljer i frikvarteret;social_trivsel, udsagn_god_ven;4-9;;"
    "AKT-teamet;2025/2026;i gang;",
    "nord;2025-05-10;Fælles start på timen;ro_og_orden;;101001;Skoleledelsen;10.05.2026;"
    "Planlagt;Aftalt på mødet",
    "syd;01/10/2024;Tidlig kontakt ved fravær;fravaer;;;Skoleledelsen;2025/26;fortsat;",
]


def write_decisions(folder: Path, rows: list[str], name: str = "handlinger.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path) -> Path:
    """A warehouse with the hand-made units, clusters and membership (no decisions yet)."""
    target = tmp_path / "w.duckdb"
    files = [GOOD / f for f in ("units.csv", "clusters.csv", "cluster_membership.csv")]
    ingest.ingest_paths(files, target)
    return target


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the cells ------------------------------------------------------------------------------


def test_dates_in_every_danish_form_and_nothing_else():
    for text in ("2025-03-14", "14-03-2025", "14.03.2025", "14/03/2025", "2025-03-14 00:00:00"):
        assert decisions.parse_date(text) == date(2025, 3, 14), text
    for text in ("31-02-2025", "2025-13-01", "14-03-25", "marts 2025", "", "2025"):
        assert decisions.parse_date(text) is None, text


def test_review_is_a_date_or_a_school_year_due_when_it_ends():
    assert decisions.parse_review("01-03-2026") == ("2026-03-01", date(2026, 3, 1))
    assert decisions.parse_review("2025/2026") == ("2025/2026", date(2026, 7, 31))
    assert decisions.parse_review("2025/26") == ("2025/2026", date(2026, 7, 31))
    assert decisions.parse_review("2025/2027") is None
    assert decisions.parse_review("næste år") is None


def test_a_decision_after_march_counts_from_the_next_school_years_survey():
    # the survey of school year Y/Y+1 runs January-March of Y+1
    assert decisions.first_survey_year(date(2025, 5, 10)) == 2025  # next survey: early 2026
    assert decisions.first_survey_year(date(2025, 12, 1)) == 2025
    assert decisions.first_survey_year(date(2025, 3, 31)) == 2024  # this spring's survey
    assert decisions.first_survey_year(date(2025, 4, 1)) == 2025


def test_targets_split_on_commas_each_id_once():
    assert decisions.split_targets(" generel_trivsel,social_trivsel ,generel_trivsel") == [
        "generel_trivsel",
        "social_trivsel",
    ]
    assert decisions.split_targets("fravaer; ventetid") == ["fravaer", "ventetid"]


# --- importing ------------------------------------------------------------------------------


def test_danish_csv_imports_with_ids_dates_and_first_survey_year(base, tmp_path):
    summary = ingest.ingest_paths([write_decisions(tmp_path, ROWS)], base)
    assert "decisions (the whole list" in summary
    table = warehouse.read_table(base, "decisions").set_index("decision_id")
    assert list(table.index) == ["nord-2025-03-14-1", "nord-2025-05-10-1", "syd-2024-10-01-1"]
    first = table.loc["nord-2025-03-14-1"]
    assert first.targets == "social_trivsel, udsagn_god_ven" and first.grade_band == "4-9"
    assert first.first_year == 2024  # decided in March: this spring's survey
    assert table.loc["nord-2025-05-10-1"].status == "planlagt"  # "Planlagt" normalised
    assert table.loc["nord-2025-05-10-1"].first_year == 2025
    assert table.loc["syd-2024-10-01-1"].review == "2025/2026"
    assert str(table.loc["syd-2024-10-01-1"].review_date.date()) == "2026-07-31"


def test_english_headers_xlsx_with_title_row_and_yaml_import_alike(base, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Handlinger, klynge Nord"])
    sheet.append(["cluster_id", "decided", "action", "targets", "responsible", "review", "status"])
    sheet.append(["nord", date(2025, 5, 10), "Legepatruljer", "social_trivsel", "AKT", "2025/2026",
                  "i gang"])  # fmt: skip
    book.save(tmp_path / "decisions.xlsx")
    ingest.ingest_paths([tmp_path / "decisions.xlsx"], base)
    from_xlsx = warehouse.read_table(base, "decisions")
    (tmp_path / "handlinger.yaml").write_text(
        "handlinger:\n"
        "  - klynge: nord\n"
        "    besluttet: 2025-05-10\n"
        "    handling: Legepatruljer\n"
        "    skal_flytte: [social_trivsel]\n"
        "    ansvarlig: AKT\n"
        "    ses_igen: 2025/2026\n"
        "    status: i gang\n",
        encoding="utf-8",
    )
    ingest.ingest_paths([tmp_path / "handlinger.yaml"], base)
    from_yaml = warehouse.read_table(base, "decisions")
    assert len(from_xlsx) == len(from_yaml) == 1
    assert from_xlsx.drop(columns="note").equals(from_yaml.drop(columns="note"))
    assert from_yaml.decision_id[0] == "nord-2025-05-10-1"


BROKEN = {  # what is wrong -> (the row, the start of its message)
    "unknown indicator": (
        ROWS[0].replace("social_trivsel,", "social_trivsl,"),
        "handlinger.csv:2:skal_flytte: found unknown indicator id(s) social_trivsl",
    ),
    "bad date": (
        ROWS[0].replace("14-03-2025", "31-02-2025"),
        "handlinger.csv:2:besluttet: found 31-02-2025; expected a date like 2025-03-14",
    ),
    "CPR-like number in free text": (
        ROWS[0].replace("Legepatruljer", "Samtaler med 010203-1234 om"),
        "handlinger.csv:2:handling: found a text holding a CPR-like number (not repeated here)",
    ),
    "CPR-like number without dash in a note": (
        ROWS[0] + "Ring til 0102031234s forældre",
        "handlinger.csv:2:note: found a text holding a CPR-like number",
    ),
    "unknown status": (
        ROWS[0].replace(";i gang;", ";færdig;"),
        "handlinger.csv:2:status: found færdig; expected a status: planlagt, i gang",
    ),
    "review before the decision": (
        ROWS[0].replace("2025/2026", "01-01-2025"),
        "handlinger.csv:2:ses_igen: found review=01-01-2025, decided=14-03-2025",
    ),
    "grade band the target is not measured in": (
        ROWS[0].replace(";4-9;", ";0-3;"),
        "handlinger.csv:2:klassetrin: found grade band 0-3 for social_trivsel in 4-9",
    ),
    "cluster not in the warehouse": (
        ROWS[0].replace("nord;", "vest;", 1),
        "handlinger.csv:2:klynge: found cluster id 'vest', which the warehouse does not have",
    ),
    "unknown unit": (
        ROWS[1].replace("101001", "999999"),
        "handlinger.csv:2:enhed: found unit id '999999', which the warehouse does not have",
    ),
    "unit of another cluster": (
        ROWS[1].replace("101001", "101002"),
        "handlinger.csv:2:enhed: found unit '101002', which has never been in cluster 'nord'",
    ),
}
ALSO = {  # more the message must say
    "unknown indicator": ["generel_trivsel", "udsagn_god_ven (2)", "sprog_indsats"],
    "CPR-like number in free text": ["never names a child"],
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_broken_decisions_are_refused_and_the_warehouse_is_unchanged(base, tmp_path, broken):
    row, message = BROKEN[broken]
    ingest.ingest_paths([write_decisions(tmp_path, ROWS)], base)
    before = file_hash(base)
    broken = write_decisions(tmp_path, [row, *ROWS[2:]])
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([broken], base)
    text = str(caught.value)
    assert message in text
    assert all(part in text for part in ALSO.get(broken, []))
    assert "1234" not in text  # a CPR-like number is never repeated
    assert file_hash(base) == before


def test_a_shorter_list_deletes_the_dropped_decisions(base, tmp_path):
    ingest.ingest_paths([write_decisions(tmp_path, ROWS)], base)
    assert len(warehouse.read_table(base, "decisions")) == 3
    ingest.ingest_paths([write_decisions(tmp_path, ROWS[:1])], base)
    assert list(warehouse.read_table(base, "decisions").decision_id) == ["nord-2025-03-14-1"]
    # other tables keep replacing by key: units are still there
    assert len(warehouse.read_table(base, "units")) == 3


def test_two_files_in_one_ingest_make_the_list_together(base, tmp_path):
    folder = tmp_path / "sheets"
    folder.mkdir()
    write_decisions(folder, ROWS[:2], "handlinger_nord.csv")
    write_decisions(folder, ROWS[2:], "handlinger_syd.csv")
    ingest.ingest_paths([folder], base)
    assert len(warehouse.read_table(base, "decisions")) == 3


def test_the_same_decision_in_two_files_is_refused(base, tmp_path):
    folder = tmp_path / "sheets"
    folder.mkdir()
    write_decisions(folder, ROWS, "a.csv")
    write_decisions(folder, ROWS[:1], "b.csv")
    with pytest.raises(ValidationError, match="decision_id=nord-2025-03-14-1 in more than one"):
        ingest.ingest_paths([folder], base)


def test_missing_danish_column_is_named_both_ways(base, tmp_path):
    path = tmp_path / "handlinger.csv"
    header = HEADER.replace(";ansvarlig", "")
    row = ROWS[0].replace(";AKT-teamet", "")
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"no column 'responsible' \(or 'ansvarlig'\)"):
        ingest.ingest_paths([path], base)
    path.write_text(f"{HEADER.replace(';skal_flytte', '')}\n{ROWS[2].replace(';fravaer', '')}\n")
    with pytest.raises(ValidationError, match=r"no column 'targets' \(or 'skal_flytte'\)"):
        ingest.ingest_paths([path], base)


def test_an_old_warehouse_gains_the_decisions_table(base, tmp_path):
    import duckdb

    with duckdb.connect(str(base)) as con:
        con.execute("DROP TABLE decisions")
    ingest.ingest_paths([GOOD / "clusters.csv"], base)  # any ingest creates missing tables
    assert warehouse.read_table(base, "decisions").empty


def test_samples_decisions_import_with_the_other_samples(tmp_path):
    samples = Path(__file__).resolve().parents[1] / "data" / "samples"
    copy = Path(shutil.copytree(samples, tmp_path / "samples"))
    summary = ingest.ingest_paths([copy], tmp_path / "w.duckdb")
    assert "decisions.csv: 3 rows -> decisions" in summary


def as_parquet(rows: list[str], path: Path) -> Path:
    """The CSV rows as a Parquet file with the Danish headers; dates as dates, a unit as int."""
    import pandas as pd  # why: only the Parquet tests build frames

    records = [dict(zip(HEADER.split(";"), r.split(";"), strict=True)) for r in rows]
    frame = pd.DataFrame(
        {
            name: [r[name] or None for r in records]
            for name in HEADER.split(";")
            if name not in ("besluttet", "enhed")
        }
    )
    frame.insert(1, "besluttet", [decisions.parse_date(r["besluttet"]) for r in records])
    units = [int(r["enhed"]) if r["enhed"] else None for r in records]
    frame.insert(5, "enhed", pd.array(units, dtype="Int64"))
    frame.to_parquet(path, index=False)
    return path


def test_parquet_decisions_import_like_the_csv(base, tmp_path):
    ingest.ingest_paths([write_decisions(tmp_path, ROWS)], base)
    from_csv = warehouse.read_table(base, "decisions")
    summary = ingest.ingest_paths([as_parquet(ROWS, tmp_path / "handlinger.parquet")], base)
    assert "handlinger.parquet: 3 rows -> decisions (the whole list" in summary
    assert warehouse.read_table(base, "decisions").equals(from_csv)


def test_broken_parquet_decisions_are_refused_by_record_and_header(base, tmp_path):
    ingest.ingest_paths([write_decisions(tmp_path, ROWS)], base)
    before = file_hash(base)
    broken = [
        ROWS[0].replace("Legepatruljer", "Samtaler med 010203-1234 om"),
        ROWS[1].replace(";ro_og_orden;", ";ro_og_ordn;"),
        ROWS[2].replace(";2025/26;", ";næste år;"),
    ]
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([as_parquet(broken, tmp_path / "handlinger.parquet")], base)
    text = str(caught.value)
    # rows are the file's records from 1, columns as the file names them
    assert "handlinger.parquet:1:handling: found a text holding a CPR-like number" in text
    assert "handlinger.parquet:2:skal_flytte: found unknown indicator id(s) ro_og_ordn" in text
    assert "handlinger.parquet:3:ses_igen: found næste år" in text
    assert "1234" not in text
    assert file_hash(base) == before
    vest = as_parquet([ROWS[0].replace("nord;", "vest;", 1)], tmp_path / "handlinger.parquet")
    with pytest.raises(ValidationError, match="parquet:1:klynge: found cluster id 'vest'"):
        ingest.ingest_paths([vest], base)
    assert file_hash(base) == before
