"""evaluation.data.public_files: the ministry's public school figures: reading, validation and the
project's table shapes.

The fixture (tests/fixtures/public/) is a small unchanged cut of the real files; one test reads the
full files from ../shared/data/real/ when they are present.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE  # noqa: E402

from evaluation import config  # noqa: E402
from evaluation.data import public_files  # noqa: E402
from evaluation.errors import ParameterError, ValidationError  # noqa: E402
from evaluation.reports import public_comparison as comparison  # noqa: E402

AGGREGATE_COLUMNS = ["year", "unit_id", "grade_band", "indicator_id", "n", "value", "sd", "source"]
UNIT_COLUMNS = ["unit_id", "name", "kind", "municipality", "first_year", "last_year"]


@pytest.fixture(scope="module")
def data():
    return public_files.read_public_data(FIXTURE)


def copy_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "public"
    shutil.copytree(FIXTURE, folder)
    return folder


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)


# reading and the project's table shapes ------------------------------------------------------


def test_aggregates_have_the_architecture_shape_and_no_invented_n(data):
    aggregates = public_files.build_aggregates(data)
    assert list(aggregates.columns) == AGGREGATE_COLUMNS
    assert aggregates["n"].isna().all() and aggregates["sd"].isna().all()
    assert set(aggregates["year"]) == {2024}
    wellbeing = aggregates[aggregates["grade_band"] == "4-9"]
    assert len(wellbeing) == 106  # every row of the fixture's wellbeing file
    # values stay as published: one decimal
    assert np.allclose(wellbeing["value"], wellbeing["value"].round(1))


def test_units_are_one_row_per_school(data):
    units = public_files.build_units(data)
    assert list(units.columns) == UNIT_COLUMNS
    assert units["unit_id"].is_unique and len(units) == 22
    assert units.groupby("municipality").size().to_dict() == {
        "Frederiksberg": 10,
        "Herlev": 5,
        "Struer": 7,
    }
    assert set(units["kind"]) == {"school"}


def test_absence_artefacts_are_filtered_with_a_note(data):
    note = next(n for n in data.notes if n["key"] == "absence_artefacts")
    assert note["count"] == 4
    absence = data.overview[data.overview["measure"] == "absence_pct"]["value"]
    assert absence.min() > public_files.ABSENCE_ARTEFACT_BELOW
    aggregates = public_files.build_aggregates(data)
    kept = aggregates[aggregates["indicator_id"] == public_files.ABSENCE_INDICATOR]
    assert set(note["school_ids"]).isdisjoint(kept["unit_id"])


def test_school_ids_keep_leading_digits_as_text(data):
    assert data.wellbeing["school_id"].str.fullmatch(r"\d{6}").all()


# validation --------------------------------------------------------------------------------


def refused(tmp_path, name: str, row: int, column: str, value: str) -> ValidationError:
    """The error reading a copy of the fixture with one cell changed (row = data row from 0)."""
    folder = copy_fixture(tmp_path)
    edit_csv(folder / name, row, column, value)
    with pytest.raises(ValidationError) as err:
        public_files.read_public_data(folder)
    return err.value


def test_unknown_indicator_is_refused_by_the_shared_schema(tmp_path):
    error = refused(tmp_path, public_files.WELLBEING_FILE, 3, "indicator", "trivsel_i_alt")
    problem = error.problems[0]
    assert problem.file == public_files.WELLBEING_FILE and problem.column == "indicator"
    assert problem.row == 5  # data row 3 is line 5 under the header


def test_value_outside_the_scale_names_file_line_and_column(tmp_path):
    error = refused(tmp_path, public_files.WELLBEING_FILE, 0, "value", "6.1")
    assert f"{public_files.WELLBEING_FILE}:2:value" in str(error)


def test_negative_pupil_count_is_refused(tmp_path):
    overview = pd.read_csv(FIXTURE / public_files.OVERVIEW_FILE, dtype=str)
    row = int(overview.index[overview["measure"] == "pupils"][0])
    error = refused(tmp_path, public_files.OVERVIEW_FILE, row, "value", "-3")
    assert "pupils between 0 and 5000" in str(error)


def test_a_stray_space_is_refused_although_the_importer_would_trim_it(tmp_path):
    error = refused(tmp_path, public_files.OVERVIEW_FILE, 0, "school_id", "147002 ")
    assert f"{public_files.OVERVIEW_FILE}:2:school_id: found 147002 ;" in str(error)
    assert "a 6-digit institution number" in str(error)


def test_a_missing_column_and_a_repeated_row_are_named(tmp_path):
    folder = copy_fixture(tmp_path)
    path = folder / public_files.SERIES_FILE
    series = pd.read_csv(path, dtype=str, keep_default_na=False)
    series.drop(columns="unit").to_csv(path, index=False)
    with pytest.raises(ValidationError) as err:
        public_files.read_public_data(folder)
    problem = err.value.problems[0]
    assert (problem.file, problem.column, problem.found) == (path.name, "unit", "no column 'unit'")
    pd.concat([series, series.iloc[[0]]]).to_csv(path, index=False)
    with pytest.raises(ValidationError) as err:
        public_files.read_public_data(folder)
    problem = err.value.problems[0]
    assert (problem.row, problem.column) == (len(series) + 2, "municipality")
    assert problem.found.endswith("the same as row 2")


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(ParameterError, match="WORKBENCH_REAL_DATA"):
        public_files.read_public_data(tmp_path)


def test_bad_municipality_lists_the_valid_names(data):
    with pytest.raises(ParameterError) as err:
        public_files.check_municipality("Aarhus Kommune", data)
    assert "Frederiksberg, Herlev, Struer" in str(err.value)


# the full files ----------------------------------------------------------------------------


def real_data_or_skip() -> Path:
    folder = config.real_data_dir()
    if not (folder / public_files.WELLBEING_FILE).is_file():
        pytest.skip(
            f"the ministry's public files are not at {folder} (../shared/data/real beside the "
            "checkout, or set WORKBENCH_REAL_DATA): nothing to check against"
        )
    return folder


@pytest.mark.slow
def test_full_files_match_their_readme():
    data = public_files.read_public_data(real_data_or_skip())
    wb = data.wellbeing
    assert wb["school_id"].nunique() == 1149
    assert len(public_files.list_municipalities(data)) == 98
    complete = wb.groupby("school_id")["indicator"].nunique()
    assert (complete == 5).sum() == 942
    assert data.notes[0]["count"] == 24  # absence between 0 and 1.2 %
    # README: unweighted means over schools 3.93, 3.58, 3.13, 3.69, 3.61
    means = wb.groupby("indicator")["value"].mean().round(2)
    assert means.to_dict() == {
        "social_trivsel": 3.93,
        "faglig_trivsel": 3.58,
        "stoette_og_inspiration": 3.13,
        "ro_og_orden": 3.69,
        "generel_trivsel": 3.61,
    }
    aarhus = comparison.build_public_comparison("Aarhus", data.data_dir)
    assert aarhus.series.empty  # Aarhus is not in the municipal series
    assert len(aarhus.own_schools("generel_trivsel")) == 45


def test_municipality_names_are_case_insensitive():
    data = public_files.read_public_data(FIXTURE)
    assert public_files.check_municipality("frederiksberg", data) == "Frederiksberg"
    assert public_files.check_municipality(" FREDERIKSBERG ", data) == "Frederiksberg"
    with pytest.raises(ParameterError):
        public_files.check_municipality("Frederiks", data)
