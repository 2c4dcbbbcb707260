"""evaluation.reports.public_change: on a two-year public warehouse a published index's change
is shown beside the band of usual year-to-year swings, labelled as such, never as a sampling
interval, with a verdict only beyond the band (issue 16).

The warehouse: Frederiksberg's 10 schools from tests/fixtures/public (the real 2024/25 figures)
plus a 2023/24 year DERIVED in the test, labelled as such: every value 0.1 lower, but
Lindevangskolen's (147002) 0.5 lower; pupils and absence as in 2024/25.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE, MAP  # noqa: E402

from evaluation.data import ingest  # noqa: E402
from evaluation.reports import (  # noqa: E402
    cluster_report,
    leader_status,
    leader_summary,
    public_change,
    public_report,
)
from evaluation.stats.usual_change import ROUNDING_DIFFERENCE_VARIANCE  # noqa: E402

NAMES = {  # catalog id -> the ministry's Trivselsindikator (../shared/data/real/API.md)
    "social_trivsel": "Social trivsel",
    "faglig_trivsel": "Faglig trivsel",
    "stoette_og_inspiration": "Støtte og inspiration",
    "ro_og_orden": "Ro og orden",
    "generel_trivsel": "Generel trivsel",
}
JUMPER = "147002"  # DERIVED: 0.5 lower in 2023/24, the others 0.1 lower


def derived_two_years(folder: Path) -> list[Path]:
    """The long CSV of both years, the overview with 2023/24 pupils, the cluster membership."""
    wb = pd.read_csv(FIXTURE / "school_wellbeing_2024_25.csv", dtype=str)
    wb = wb[wb["municipality"] == "Frederiksberg"]
    rows = []
    for year, shift in (("2024/2025", 0.0), ("2023/2024", -0.1)):
        for r in wb.itertuples():
            jump = -0.4 if (shift and r.school_id == JUMPER) else 0.0
            value = round(float(r.value) + shift + jump, 1)
            rows.append(
                {
                    "Skoleår": year,
                    "Afdelingsnummer": r.school_id,
                    "Trivselsindikator": NAMES[r.indicator],
                    "Indikatorsvar": f"{value:.1f}".replace(".", ","),
                }
            )
    pd.DataFrame(rows).to_csv(folder / "long.csv", sep=";", index=False)
    overview = pd.read_csv(FIXTURE / "school_overview.csv", dtype=str)
    overview = overview[overview["municipality"] == "Frederiksberg"]
    earlier = overview.assign(school_year="2023/2024")
    pd.concat([overview, earlier]).to_csv(folder / "school_overview.csv", index=False)
    clusters = pd.read_csv(MAP, sep=";", dtype=str)
    membership = pd.DataFrame(
        {"unit_id": clusters["school_id"], "cluster_id": clusters["cluster_id"]}
    )
    membership.assign(from_year=2023, to_year="").to_csv(
        folder / "cluster_membership.csv", sep=";", index=False
    )
    return [folder / n for n in ("long.csv", "school_overview.csv", "cluster_membership.csv")]


@pytest.fixture(scope="module")
def two_years(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("public_change")
    target = folder / "w.duckdb"
    ingest.ingest_paths(derived_two_years(folder), target)
    return target


def plain(html) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(html)))


def test_the_band_rests_on_the_schools_changes_and_narrows_for_a_cluster(two_years):
    report = cluster_report.prepare_report("nord", 2024, "da", str(two_years))
    rows = public_change.usual_change_rows(report.data, "unit", JUMPER, 2024, ["generel_trivsel"])
    (row,) = rows
    assert row["change"] == pytest.approx(0.5)
    changes = np.array([0.5] + [0.1] * 9)  # by construction above
    sd = np.sqrt(np.mean(changes**2) + ROUNDING_DIFFERENCE_VARIANCE)
    assert row["band"].half_width == pytest.approx(1.959964 * sd, rel=1e-6)
    assert row["verdict"] == "larger_increase"  # 0.5 > 1.96 * 0.189 = 0.37
    (other,) = public_change.usual_change_rows(
        report.data, "unit", "147006", 2024, ["generel_trivsel"]
    )
    assert other["change"] == pytest.approx(0.1) and other["verdict"] == "usual"
    (cluster,) = public_change.usual_change_rows(
        report.data, "cluster", "nord", 2024, ["generel_trivsel"]
    )
    units = report.data.values
    members = units[
        (units["level"] == "unit")
        & (units["year"] == 2024)
        & (units["cluster_id"] == "nord")
        & (units["indicator_id"] == "generel_trivsel")
    ]["n"].astype(float)
    h = float((members**2).sum() / members.sum() ** 2)
    assert cluster["band"].half_width == pytest.approx(row["band"].half_width * np.sqrt(h))
    assert cluster["verdict"] == "larger_increase"  # Nord holds the jumper: 0.235 > 0.215


def test_cluster_and_leader_pages_label_the_band_and_never_call_it_an_interval(two_years):
    report = cluster_report.prepare_report("nord", 2024, "da", str(two_years))
    text = plain(cluster_report.build_trends(report))
    assert "sådan svinger en skoles tal normalt fra år til år" in text
    assert "større end de sædvanlige udsving" in text
    assert "ikke et statistisk usikkerhedsinterval" in text
    table = text[text.index("med de sædvanlige udsving") :]
    assert "tydelig" not in table
    leader = leader_summary.prepare_report("", 2024, "da", str(two_years))
    text = plain(leader_summary.build_municipality_trend(leader))
    assert "Offentliggjorte tal over årene for Frederiksberg" in text
    assert "2023/24" in text or "2023/2024" in text


def test_one_year_or_pupil_level_data_show_no_band(fixture_warehouse):
    report = cluster_report.prepare_report("nord", 2024, "da", str(fixture_warehouse))
    assert (
        public_change.usual_change_html(report.data, report.t, "cluster", "nord", "N", 2024) == ""
    )


def series_text(warehouse: str) -> str:
    """The public report's series section for Frederiksberg, with or without a warehouse."""
    report = public_report.prepare_report("Frederiksberg", "da", str(FIXTURE), warehouse=warehouse)
    return plain(public_report.build_series(report))


def test_the_public_report_shows_the_municipality_over_the_warehouses_years(two_years):
    text = series_text(str(two_years))
    assert "Offentliggjorte tal over årene for Frederiksberg" in text
    assert "2023/24" in text and "sådan svinger en skoles tal normalt fra år til år" in text
    assert "Offentliggjorte tal over årene" not in series_text("")  # the CSV route alone


def test_status_tables_show_a_published_index_change_against_the_usual_swings(two_years):
    """Issue 16: the cluster's and the leader's status tables give a published index's change
    since the previous year with the band of usual swings and the year named; the change is
    never counted as a clear one (change_verdict stays "missing")."""
    report = cluster_report.prepare_report("nord", 2024, "da", str(two_years))
    rows = report.status("headline", ["generel_trivsel"]).set_index("indicator_id")
    row = rows.loc["generel_trivsel"]
    values = report.data.values
    nord = values[
        (values["level"] == "unit")
        & (values["cluster_id"] == "nord")
        & (values["indicator_id"] == "generel_trivsel")
        & (values["year"] == 2024)
    ]
    pupils = nord.set_index("entity_id")["n"].astype(float)
    school_change = pd.Series(0.1, index=pupils.index)
    school_change[JUMPER] = 0.5  # by construction of the derived year
    expected = float((pupils * school_change).sum() / pupils.sum())
    assert row["change"] == pytest.approx(expected, abs=0.011)  # cluster means of 2-decimal values
    changes = np.array([0.5] + [0.1] * 9)
    school_half = 1.959964 * np.sqrt(np.mean(changes**2) + ROUNDING_DIFFERENCE_VARIANCE)
    h = float((pupils**2).sum() / pupils.sum() ** 2)
    assert row["usual_band"] == pytest.approx(school_half * np.sqrt(h), rel=1e-6)
    assert row["usual_verdict"] == "larger_increase"
    assert row["change_verdict"] == "missing"  # no sampling interval without n
    text = plain(cluster_report.build_overview(report))
    assert "større end de sædvanlige udsving siden 2023/24" in text
    row_text = text[text.index("Generel trivsel") :]
    assert "(sædvanlige udsving ±" in row_text
    assert "tydelig" not in row_text.split("kommunen", 1)[1]  # the change's cells
    assert "1 af de 1 offentliggjorte nøgletal har ændret sig mere end" in text
    assert "Ingen af de 0" not in text
    syd = cluster_report.prepare_report("syd", 2024, "da", str(two_years))
    assert "inden for de sædvanlige udsving siden 2023/24" in plain(
        cluster_report.build_overview(syd)
    )
    leader = leader_summary.prepare_report("", 2024, "da", str(two_years))
    detail = leader_status.detail_frame(leader)
    cells = " ".join(detail.astype(str).to_numpy().ravel())
    assert "Ændring siden 2023/24" in " ".join(detail.columns) or "2023/24" in cells
    assert "(sædvanlige udsving ±" in cells
    chart = plain(leader_summary.build_change_chart(leader))  # no interval, so no dot-and-whisker
    assert "intet interval at tegne" in chart


def test_two_years_leave_no_sentence_saying_there_is_one_year(two_years):
    """The public report on a two-year warehouse: Frederiksberg is in the ministry's series,
    so the series stands; what the figures cannot say names the years, not "one year"."""
    report = public_report.prepare_report(
        "Frederiksberg", "da", str(FIXTURE), warehouse=str(two_years)
    )
    text = plain(public_report.build_cannot(report))
    assert "Flere år: lageret har skolernes tal for 2023/24–2024/25" in text
    assert "Ét år pr. skole" not in text


def test_the_next_step_invents_no_start_on_public_figures(two_years):
    report = cluster_report.prepare_report("nord", 2024, "da", str(two_years))
    text = plain(cluster_report.build_next_step(report))
    assert "De offentlige tal siger ikke, hvornår klyngen startede på indsatsen" in text
    assert "ikke startet" not in text and "(i 2023/24: " in text


def test_the_leaders_trend_draws_no_interval_for_published_figures(two_years):
    """Published indices and absence carry no respondent count, so the leader's municipality
    over time has points and lines but no chance interval (it had whiskers from the size-spread
    standard error, clipped by the axis)."""
    public = leader_summary.prepare_report("", 2024, "da", str(two_years))
    rows = leader_summary.municipality_trend_rows(public)
    assert len(rows) and rows["value"].notna().all()
    assert rows["lower"].isna().all() and rows["upper"].isna().all()
