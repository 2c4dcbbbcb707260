"""evaluation.data.public_ingest: the ministry's public files plus a cluster map into the
warehouse (schools, pupils, the national spread, clusters), and the problems a bad map gives.

Fixture: tests/fixtures/public/ (a cut of the real files) and a hand-made map of Frederiksberg's
10 schools into three clusters (tests/fixtures/public_cluster/), ingested once by the
`fixture_warehouse` fixture of tests/conftest.py. Expected numbers are worked by hand from the
fixture rows or taken from the public report (evaluation.reports.public_report), which fits the
same national spread independently of the ingest.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE, MAP, fixture_public_files  # noqa: E402

from evaluation.data import ingest, public_files, public_ingest, warehouse  # noqa: E402
from evaluation.errors import ValidationError  # noqa: E402
from evaluation.reports import public_report as public  # noqa: E402
from evaluation.values import load  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def test_ingest_keeps_one_municipality_with_clusters_and_pupils(fixture_warehouse):
    units = warehouse.read_table(fixture_warehouse, "units")
    assert len(units) == 10 and set(units["municipality"]) == {"Frederiksberg"}
    assert set(units["kind"]) == {"school"}
    clusters = warehouse.read_table(fixture_warehouse, "clusters").set_index("cluster_id")
    assert clusters.loc["oest", "name"] == "Klynge Øst"
    assert set(clusters["municipality"]) == {"Frederiksberg"}
    membership = warehouse.read_table(fixture_warehouse, "cluster_membership")
    assert len(membership) == 10 and set(membership["from_year"]) == {2024}
    agg = warehouse.read_table(fixture_warehouse, "aggregates")
    assert set(agg["year"]) == {2024} and set(agg["unit_id"]) == set(units["unit_id"])
    pupils = agg[agg["indicator_id"] == "pupils"].set_index("unit_id")["value"]
    assert pupils["147002"] == 782  # school_overview.csv, Lindevangskolen
    # Frederiksberg: 10 schools x 5 indices, minus schools without Støtte og inspiration
    wb = pd.read_csv(FIXTURE / public_files.WELLBEING_FILE, dtype=str)
    indices = ~agg["indicator_id"].isin(["pupils", "fravaer"])
    assert indices.sum() == (wb["municipality"] == "Frederiksberg").sum()
    assert (agg["indicator_id"] == "fravaer").sum() == 10  # every school has absence above 1.2 %


def test_stored_spread_is_the_public_reports_national_fit(fixture_warehouse):
    spread = warehouse.read_table(fixture_warehouse, "aggregate_spread").set_index("indicator_id")
    comp = public.build_public_comparison("Frederiksberg", FIXTURE)
    for ind in public_files.WELLBEING_INDICATORS:
        size = comp.schools[ind]["size"]
        assert spread.loc[ind, "intercept"] == pytest.approx(size.intercept)
        assert spread.loc[ind, "b"] == pytest.approx(size.b)
        assert spread.loc[ind, "target"] == pytest.approx(size.target)


def write_map(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_cluster_map.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_map_rows_give_file_row_column(tmp_path):
    path = write_map(
        tmp_path,
        "school_id;cluster_id\n147002;nord\n999999;nord\n147006;syd\n",
    )
    with pytest.raises(ValidationError) as err:
        ingest.ingest_paths([*fixture_public_files(), path], tmp_path / "w.duckdb")
    found = {(p.file, p.row, p.column) for p in err.value.problems}
    assert ("my_cluster_map.csv", 3, "school_id") in found
    assert not (tmp_path / "w.duckdb").exists()


def test_map_school_of_another_municipality_is_refused(tmp_path):
    wb = pd.read_csv(FIXTURE / public_files.WELLBEING_FILE, dtype=str)
    herlev = sorted(wb.loc[wb["municipality"] == "Herlev", "school_id"].unique())[0]
    path = write_map(tmp_path, f"school_id,cluster_id\n147002,nord\n147006,nord\n{herlev},syd\n")
    with pytest.raises(ValidationError) as err:
        ingest.ingest_paths([*fixture_public_files(), path], tmp_path / "w.duckdb")
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("my_cluster_map.csv", 4, "school_id")
    assert "Herlev" in problem.found and "Frederiksberg" in problem.expected


def test_municipality_option_must_match_the_map(tmp_path):
    with pytest.raises(ValidationError) as err:
        ingest.ingest_paths(
            [*fixture_public_files(), MAP], tmp_path / "w.duckdb", municipality="Herlev"
        )
    rows = {p.row for p in err.value.problems if p.file == MAP.name}
    assert rows == set(range(2, 12))  # every map row names a Frederiksberg school


def test_unknown_municipality_lists_the_valid_names(tmp_path):
    with pytest.raises(ValidationError) as err:
        ingest.ingest_paths(fixture_public_files(), tmp_path / "w.duckdb", municipality="Atlantis")
    assert "Frederiksberg" in err.value.problems[0].expected


def test_map_without_the_wellbeing_file_says_what_to_give(tmp_path):
    with pytest.raises(ValidationError) as err:
        ingest.ingest_paths([MAP], tmp_path / "w.duckdb")
    assert "school_wellbeing" in err.value.problems[0].expected


def test_existing_membership_format_is_accepted(tmp_path):
    path = tmp_path / "cluster_membership.csv"
    path.write_text(
        "unit_id;cluster_id;from_year;to_year\n147002;a;2024;\n147006;a;2024;\n", encoding="utf-8"
    )
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), path], target)
    clusters = warehouse.read_table(target, "clusters")
    assert clusters.to_dict("records") == [
        {"cluster_id": "a", "name": "a", "municipality": "Frederiksberg"}
    ]


@pytest.mark.skipif(
    not (REAL / public_files.WELLBEING_FILE).is_file(),
    reason=f"the real public files are not at {REAL} (see ../shared/data/real/README.md)",
)
def test_aarhus_on_the_full_real_files_with_a_demo_map(tmp_path):
    demo = public_ingest.demo_cluster_map(REAL / public_files.WELLBEING_FILE, "Aarhus")
    assert len(demo) == 45 and demo["cluster_id"].nunique() == 8
    path = tmp_path / "aarhus_demo_map.csv"
    demo.to_csv(path, sep=";", index=False)
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(REAL), path], target)
    assert len(warehouse.read_table(target, "units")) == 45
    values = load.load_indicator_values(target, 5)
    comp = public.build_public_comparison("Aarhus", REAL)
    spread = warehouse.read_table(target, "aggregate_spread")
    assert spread["schools"].min() > 700  # the fit rests on the country, not on Aarhus
    for ind in public_files.WELLBEING_INDICATORS:
        own = comp.municipalities[ind]["units"].set_index("entity_id").loc["Aarhus"]
        row = values[(values["indicator_id"] == ind) & (values["level"] == "municipality")]
        assert row["value"].iloc[0] == pytest.approx(own["value"])
    clusters = values[(values["level"] == "cluster") & (values["indicator_id"] == "social_trivsel")]
    assert len(clusters) == 8 and not clusters["suppressed"].any()


def test_absence_is_loaded_on_the_cluster_path(fixture_warehouse):
    """Issue 16: absence showed "–" for every cluster although the overview has it. Frederiksberg's
    pupil-weighted school absence is 6.81 (../shared/data/real/README.md: "Frederiksberg 6.81
    against 6.8"); each cluster's value is the pupil-weighted mean of its schools, recomputed here
    from the fixture files and the map."""
    values = load.load_indicator_values(fixture_warehouse, 5)
    absence = values[values["indicator_id"] == "fravaer"].set_index("entity_id")
    assert round(float(absence.loc["Frederiksberg", "value"]), 2) == 6.81
    overview = pd.read_csv(FIXTURE / public_files.OVERVIEW_FILE, dtype={"school_id": str})
    wide = overview.pivot_table(index="school_id", columns="measure", values="value")
    clusters = pd.read_csv(MAP, sep=";", dtype=str).set_index("school_id")["cluster_id"]
    wide = wide.join(clusters, how="inner")
    for cluster, group in wide.groupby("cluster_id"):
        expected = np.average(group["absence_pct"], weights=group["pupils"])
        assert float(absence.loc[cluster, "value"]) == pytest.approx(expected, abs=1e-9)
        assert absence.loc[cluster, "kind"] == "rate"
