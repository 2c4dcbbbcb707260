"""The ministry's public school figures: reading, validation, shapes, comparison and the report.

The fixture (tests/fixtures/public/) is a small unchanged cut of the real files; one test reads the
full files from ../shared/data/real/ when they are present.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import config
from evaluation.data import public_files
from evaluation.errors import ParameterError, PrivacyError, ValidationError
from evaluation.reports import public_comparison as comparison
from evaluation.reports import public_parts
from evaluation.reports import public_report as public
from evaluation.stats import spread

FIXTURE = Path(__file__).parent / "fixtures" / "public"
AGGREGATE_COLUMNS = ["year", "unit_id", "grade_band", "indicator_id", "n", "value", "sd", "source"]
UNIT_COLUMNS = ["unit_id", "name", "kind", "municipality", "first_year", "last_year"]


@pytest.fixture(scope="module")
def data():
    return public_files.read_public_data(FIXTURE)


@pytest.fixture(scope="module")
def frederiksberg():
    return comparison.build_public_comparison("Frederiksberg", FIXTURE)


@pytest.fixture(scope="module")
def report_da():
    return public.prepare_report("Frederiksberg", "da", str(FIXTURE))


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


def test_min_n_below_the_floor_is_refused():
    with pytest.raises(PrivacyError):
        comparison.build_public_comparison("Herlev", FIXTURE, min_n=2)


# statistics --------------------------------------------------------------------------------


def test_size_variance_matches_a_reference_least_squares_fit():
    rng = np.random.default_rng(7)
    pupils = rng.integers(20, 1200, 400).astype(float)
    values = 3.6 + rng.normal(0, np.sqrt(0.01 + 2.5 / pupils))
    fit = spread.estimate_size_variance(values, pupils)
    target = np.average(values, weights=pupils)
    slope, intercept = np.polyfit(1 / pupils, (values - target) ** 2, 1)
    assert fit.target == pytest.approx(target)
    assert fit.b == pytest.approx(slope) and fit.intercept == pytest.approx(intercept)


def test_size_variance_recovers_known_components_in_a_large_sample():
    rng = np.random.default_rng(11)
    pupils = rng.integers(20, 1200, 40_000).astype(float)
    values = 3.6 + rng.normal(0, np.sqrt(0.01 + 2.5 / pupils))
    fit = spread.estimate_size_variance(values, pupils)
    assert fit.intercept == pytest.approx(0.01, abs=0.002)
    assert fit.b == pytest.approx(2.5, rel=0.1)


def test_municipal_mean_and_se_by_hand():
    schools = pd.DataFrame(
        {
            "entity_id": ["a", "b", "c"],
            "municipality": ["M", "M", "N"],
            "n": [100.0, 300.0, 200.0],
            "value": [3.0, 4.0, 3.5],
            "se": [0.2, 0.1, 0.1],
        }
    )
    means = comparison.municipal_means(schools).set_index("entity_id")
    # M: (100*3 + 300*4)/400 = 3.75; se^2 = (100^2*0.04 + 300^2*0.01)/400^2 = 1300/160000
    assert means.at["M", "value"] == pytest.approx(3.75)
    assert means.at["M", "se"] == pytest.approx(np.sqrt(1300 / 160_000))
    # V = pupil-weighted mean variance = (100*0.04 + 300*0.01 + 200*0.01)/600 = 0.015
    assert means.attrs["unit_var"] == pytest.approx(0.015)
    assert means.at["N", "n"] == pytest.approx(0.015 / 0.01)


def test_rounding_variance_is_that_of_one_decimal():
    assert spread.ROUNDING_VARIANCE == pytest.approx(0.1**2 / 12)


def test_comparison_limits_hold_the_fitted_spread(frederiksberg):
    result = frederiksberg.schools["generel_trivsel"]
    units, size = result["units"], result["size"]
    half = 1.959964 * np.sqrt(size.intercept + size.b / units["n"])
    assert np.allclose(units["upper_95"] - size.target, half, atol=1e-5)


# the comparison for one municipality ------------------------------------------------------


def test_series_present_for_frederiksberg_missing_for_struer(frederiksberg):
    assert set(frederiksberg.series["municipality"]) == {
        "Frederiksberg",
        public_files.NATIONAL_LABEL,
    }
    struer = comparison.build_public_comparison("Struer", FIXTURE)
    assert struer.series.empty
    assert any(n["key"] == "no_series" for n in struer.notes)


def test_own_schools_and_notes(frederiksberg):
    assert len(frederiksberg.own_schools("generel_trivsel")) == 10
    notes = {n["key"]: n["count"] for n in frederiksberg.notes}
    assert notes["schools"] == 10 and notes["no_pupils"] == 0


def test_report_pages_carry_the_credit_line(report_da):
    da = str(public.build_title(report_da))
    assert "Kilde: Uddannelsesstatistik.dk (Børne- og Undervisningsministeriet)" in da
    en = str(public.build_methods(public.prepare_report("Frederiksberg", "en", str(FIXTURE))))
    assert "Source: Uddannelsesstatistik.dk (the Danish Ministry of Children and Education)" in en
    assert "Kilde:" not in en, "English pages credit the same source in English"


def test_one_h1_and_every_section_linked_from_the_contents(report_da):
    title = str(public.build_title(report_da))
    assert title.count("<h1>") == 1 and 'class="wb-toc"' in title
    builders = [public.build_overview, public.build_municipalities, public.build_cannot]
    sections = "".join(str(build(report_da)) for build in builders)
    for anchor, _key in public.SECTIONS:
        assert f'href="#{anchor}"' in title
    for anchor in ("overblik", "kommuner", "begraensninger"):
        assert f'<h2 id="{anchor}">' in sections
    assert '<h2 id="kommuner">Kommunen mod de andre kommuner</h2>' in sections


def test_school_funnel_writes_its_table(tmp_path):
    report = public.prepare_report("Frederiksberg", "da", str(FIXTURE), tables_dir=str(tmp_path))
    html = public_parts.school_funnel_html(report, "social_trivsel")
    assert "<svg" in html and "Frederiksberg" in html
    table = pd.read_csv(tmp_path / "public-schools-social_trivsel.csv", sep=";", decimal=",")
    assert len(table) == 10


def test_key_figures_are_plain_and_complete(report_da):
    figures = public.collect_key_figures(report_da)
    assert figures["municipality"] == "Frederiksberg"
    for ind in comparison.COMPARED_INDICATORS:
        assert isinstance(figures[f"{ind}_municipality"], float)


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
