"""evaluation.data.public_records: TRIVSP, ELEVEX and FRAVAAR in the API's shapes load into
their tables; a cluster map that leaves schools out is accepted with a WARNING and recorded.

Fixtures: tests/fixtures/public_api/ (made-up figures in the shapes of
../shared/data/real/API.md, see its README) beside the cut of the real files in
tests/fixtures/public/. Every expected number is read off the fixture files by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import MAP, fixture_public_files  # noqa: E402

from evaluation.data import ingest, public_records, warehouse  # noqa: E402
from evaluation.errors import ValidationError  # noqa: E402

API = Path(__file__).parent / "fixtures" / "public_api"


@pytest.fixture(scope="module")
def cubes_warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cubes") / "w.duckdb"
    files = [API / "trivsp_flat.json", API / "elevex_nested.json", API / "fravaar_lang.csv"]
    ingest.ingest_paths([*fixture_public_files(), *files], path, municipality="frederiksberg")
    return path


def test_trivsp_shares_and_respondents(cubes_warehouse):
    answers = warehouse.read_table(cubes_warehouse, "public_answers")
    assert len(answers) == 7  # the share "-" row is kept: its Antal svar is published
    glad = answers[answers["question"] == "Er du glad for din skole?"].set_index("answer")
    assert glad.loc["Meget tit", "share_pct"] == pytest.approx(41.5)
    assert glad.loc["Aldrig", "answer_value"] == 1
    assert set(glad["respondents"]) == {318} and set(glad["unit_id"]) == {"147002"}
    assert glad["share_pct"].sum() == pytest.approx(100.0)
    assert set(answers["grade_band"]) == {"all"} and set(answers["year"]) == {2024}
    assert answers["source"].str.contains("GS/TRIVSP").all()


def test_elevex_inclusion_nested(cubes_warehouse):
    inclusion = warehouse.read_table(cubes_warehouse, "public_inclusion")
    rows = inclusion.set_index(["unit_id", "year"])
    assert rows.loc[("147002", 2023), "inclusion_pct"] == pytest.approx(96.4)
    assert rows.loc[("147006", 2024), "pupils"] == 1012  # "1.012": a thousands point
    assert set(inclusion["grade"]) == {"all"} and len(inclusion) == 3


def test_fravaar_absence_and_share_over_ten_percent(cubes_warehouse):
    absence = warehouse.read_table(cubes_warehouse, "public_absence").set_index("unit_id")
    assert len(absence) == 2  # 147006's 2023/24 row is "-": not published, not zero
    assert absence.loc["147002", "absence_pct"] == pytest.approx(6.8)
    assert absence.loc["147006", "over_10_pct"] == pytest.approx(21.0)
    assert absence.loc["147002", "sick_absence_pct"] == pytest.approx(4.7)


def test_respondents_without_a_share_are_kept_as_published(cubes_warehouse):
    answers = warehouse.read_table(cubes_warehouse, "public_answers")
    lonely = answers[answers["question"] == "Føler du dig ensom?"].set_index("answer")
    assert lonely.loc["Aldrig", "respondents"] == 240
    assert pd.isna(lonely.loc["Meget tit", "share_pct"])  # "-": not published, never 0
    assert lonely.loc["Meget tit", "respondents"] == 4


def test_map_leaving_a_school_out_warns_and_records_it(tmp_path):
    lines = MAP.read_text(encoding="utf-8").splitlines()
    left_out = lines[1].split(";")[0]  # 147002 Lindevangskolen
    cut = tmp_path / "kort.csv"
    cut.write_text("\n".join([lines[0], *lines[2:]]) + "\n", encoding="utf-8")
    path = tmp_path / "w.duckdb"
    summary = ingest.ingest_paths([*fixture_public_files(), cut], path)
    assert "WARNING: 1 school(s) of Frederiksberg are in no cluster of kort.csv" in summary
    assert f"{left_out} Lindevangskolen" in summary
    unmapped = warehouse.read_table(path, "unmapped_schools")
    assert unmapped["unit_id"].tolist() == [left_out]
    assert unmapped["name"].tolist() == ["Lindevangskolen"]
    units = warehouse.read_table(path, "units")
    assert left_out in set(units["unit_id"])  # still counted in the municipality


def test_full_map_records_no_school(fixture_warehouse):
    assert warehouse.read_table(fixture_warehouse, "unmapped_schools").empty


def test_bad_share_is_a_file_row_column_problem(tmp_path):
    text = (API / "trivsp_flat.json").read_text(encoding="utf-8").replace('"41,5 %"', '"4x %"')
    bad = tmp_path / "trivsp.json"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        ingest.ingest_paths([*fixture_public_files(), bad], tmp_path / "w.duckdb")
    assert ("trivsp.json", 1, "share") in {(p.file, p.row, p.column) for p in err.value.problems}
    assert not (tmp_path / "w.duckdb").exists()


def test_municipality_short_names():
    assert public_records.short_municipality("Aarhus Kommune") == "Aarhus"
    assert public_records.short_municipality("Bornholms Regionskommune") == "Bornholm"
    assert public_records.short_municipality("København") == "København"


def test_danish_numbers():
    assert public_records.danish_number("3,8") == 3.8
    assert public_records.danish_number("25.032") == 25032
    assert public_records.danish_number("87,5 %") == 87.5
    assert public_records.danish_number("3.8") == 3.8
    assert public_records.danish_number("-") is None
    with pytest.raises(ValueError):
        public_records.danish_number("tre")
