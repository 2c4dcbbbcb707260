"""The ministry's public files plus a cluster map: ingest, indicator values, cluster report.

Fixture: tests/fixtures/public/ (a cut of the real files) and a hand-made map of Frederiksberg's
10 schools into three clusters (tests/fixtures/public_cluster/). Expected numbers are worked by
hand from the fixture rows or taken from the public report (evaluation.reports.public_report),
which fits the same national spread independently of the ingest.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.data import ingest, public_files, public_ingest, warehouse
from evaluation.errors import ValidationError
from evaluation.render import sources
from evaluation.reports import public_report as public
from evaluation.texts import texts_for
from evaluation.values import aggregate, load

FIXTURE = Path(__file__).parent / "fixtures" / "public"
MAP = Path(__file__).parent / "fixtures" / "public_cluster" / "frederiksberg_cluster_map.csv"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
CREDIT = texts_for("da")("public.credit_line")


def fixture_public_files(folder: Path = FIXTURE) -> list[Path]:
    return [folder / public_files.WELLBEING_FILE, folder / public_files.OVERVIEW_FILE]


@pytest.fixture(scope="module")
def fixture_warehouse(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("public_cluster") / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), MAP], target)
    return target


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
    assert (agg["indicator_id"] != "pupils").sum() == (wb["municipality"] == "Frederiksberg").sum()


def test_stored_spread_is_the_public_reports_national_fit(fixture_warehouse):
    spread = warehouse.read_table(fixture_warehouse, "aggregate_spread").set_index("indicator_id")
    comp = public.build_public_comparison("Frederiksberg", FIXTURE)
    for ind in public_files.WELLBEING_INDICATORS:
        size = comp.schools[ind]["size"]
        assert spread.loc[ind, "intercept"] == pytest.approx(size.intercept)
        assert spread.loc[ind, "b"] == pytest.approx(size.b)
        assert spread.loc[ind, "target"] == pytest.approx(size.target)


def test_cluster_value_is_the_pupil_weighted_mean_of_its_schools(fixture_warehouse):
    values = aggregate.compute_indicator_values(fixture_warehouse)
    assert values.attrs["n_basis"] == "pupils"
    gen = values[values["indicator_id"] == "generel_trivsel"].set_index(["level", "entity_id"])
    # by hand from the fixture: Lindevangskolen 782 pupils 3.6, Søndermarkskolen 668 3.5,
    # Skolen på Duevej 864 3.5
    nord = gen.loc[("cluster", "nord")]
    assert nord["value"] == pytest.approx((782 * 3.6 + 668 * 3.5 + 864 * 3.5) / 2314)
    assert nord["n"] == 2314 and nord["kind"] == "mean" and pd.isna(nord["sd"])
    # unit se from the national fit; cluster se from the school se's
    spread = warehouse.read_table(fixture_warehouse, "aggregate_spread").set_index("indicator_id")
    a, b = spread.loc["generel_trivsel", ["intercept", "b"]]
    se = {u: np.sqrt(a + b / p) for u, p in {"147002": 782, "147006": 668, "147007": 864}.items()}
    assert gen.loc[("unit", "147002"), "se"] == pytest.approx(se["147002"])
    w2v = 782**2 * se["147002"] ** 2 + 668**2 * se["147006"] ** 2 + 864**2 * se["147007"] ** 2
    assert nord["se"] == pytest.approx(np.sqrt(w2v) / 2314)
    assert gen.loc[("unit", "147002"), "value"] == 3.6  # as published


def test_municipality_value_matches_the_public_report(fixture_warehouse):
    values = aggregate.compute_indicator_values(fixture_warehouse)
    comp = public.build_public_comparison("Frederiksberg", FIXTURE)
    for ind in public_files.WELLBEING_INDICATORS:
        row = values[(values["indicator_id"] == ind) & (values["level"] == "municipality")]
        own = comp.municipalities[ind]["units"].set_index("entity_id").loc["Frederiksberg"]
        assert row["value"].iloc[0] == pytest.approx(own["value"])
        assert row["se"].iloc[0] == pytest.approx(own["se"])


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


def test_pupil_level_output_is_untouched_without_aggregates(tmp_path):
    from tiny_warehouse import build_fixture_warehouse  # noqa: PLC0415

    path = build_fixture_warehouse(tmp_path / "tiny.duckdb")
    values = aggregate.compute_indicator_values(path)
    assert "n_basis" not in values.attrs
    assert list(values.columns) == aggregate.VALUE_COLUMNS


@pytest.mark.slow
def test_cluster_report_runs_on_public_data_with_credit_and_no_hidden_value(tmp_path):
    from report_runs import execute_report  # noqa: PLC0415

    # a school of 4 pupils: its published value must not appear (primary), and the secondary
    # rule hides a second school of the cluster
    folder = tmp_path / "public"
    shutil.copytree(FIXTURE, folder)
    overview = pd.read_csv(folder / public_files.OVERVIEW_FILE, dtype=str, keep_default_na=False)
    small = (overview["school_id"] == "147006") & (overview["measure"] == "pupils")
    overview.loc[small, "value"] = "4"
    overview.to_csv(folder / public_files.OVERVIEW_FILE, index=False)
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(folder), MAP], target)
    values = load.load_indicator_values(target, 5)
    hidden = values[values["suppressed"] & (values["level"] == "unit")]
    assert {"147006"} < set(hidden["entity_id"])  # primary plus at least one secondary

    report = execute_report(
        "cluster_report",
        tmp_path / "out",
        {"cluster": "nord", "year": 2024, "warehouse": str(target)},
    )
    html = report.html.read_text(encoding="utf-8")
    assert CREDIT in html
    assert "Offentlige data indeholder ikke" in html
    names = public_files.read_public_data(folder).wellbeing.drop_duplicates("school_id")
    names = names.set_index("school_id")["school_name"]

    def in_a_table_row(name: str) -> bool:
        return re.search(rf"<t[dh][^>]*>{re.escape(name)}</t[dh]>", html) is not None

    assert in_a_table_row("Skolen på Duevej")  # the nord school left visible
    for unit in set(hidden["entity_id"]):
        # a hidden school is named only in the "not shown" footnotes, never in a table row
        assert not in_a_table_row(names[unit])


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


@pytest.mark.slow
def test_render_on_public_data_skips_the_evaluation_report_and_credits_the_ministry(
    tmp_path, fixture_warehouse
):
    """`workbench render` on a public warehouse: cluster reports and the leader summary, each
    with the credit line; no evaluation report (one year, no pupil-level data to evaluate)."""
    from evaluation.render import run as render

    facts = sources.read_warehouse_facts(fixture_warehouse)
    assert facts.years == [2024] and not facts.pupil_level
    options = render.RenderOptions(warehouse=fixture_warehouse, out=tmp_path, jobs=1)
    record = render.render_run(options)
    names = {r["name"] for r in record["reports"]}
    assert names == {"cluster_report", "leader_summary"}
    assert all(r["status"] == "ok" for r in record["reports"])
    run = tmp_path / record["run_id"]
    for entry in record["reports"]:
        assert CREDIT in (run / entry["html"]).read_text(encoding="utf-8")
