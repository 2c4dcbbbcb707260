"""evaluation.reports.public_cluster: the cluster report and the leader summary built from the
ministry's published school figures (tests/fixtures/public + the Frederiksberg map, ingested by
conftest's fixture_warehouse) say only what those figures carry (issue 16's defects)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import MAP, fixture_public_files  # noqa: E402

from evaluation.catalog import load_catalog  # noqa: E402
from evaluation.data import ingest, warehouse  # noqa: E402
from evaluation.reports import cluster_report, leader_summary, public_cluster  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

CREDIT = "Kilde: Uddannelsesstatistik.dk (Børne- og Undervisningsministeriet)"


def plain(html) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(html)))


def page_text(module, report, sections: str) -> str:
    """The plain text of the named `build_*` sections of one report."""
    return plain("".join(str(getattr(module, f"build_{s}")(report)) for s in sections.split()))


@pytest.fixture(scope="module")
def cluster_page(fixture_warehouse) -> str:
    report = cluster_report.prepare_report("nord", 2024, "da", str(fixture_warehouse))
    sections = "title appendix funnels trends data_quality definitions methods"
    return page_text(cluster_report, report, sections)


@pytest.fixture(scope="module")
def leader_page(fixture_warehouse) -> str:
    report = leader_summary.prepare_report("", 2024, "da", str(fixture_warehouse))
    return page_text(leader_summary, report, "title overview municipality_trend quality")


@pytest.mark.parametrize(
    "claim",
    [
        "Mindst 5 svar i hver gruppe",  # no answers are used
        "modelleret af os",  # no questions are used
        "ikke startet",  # the public files say nothing about the effort
        "Trivselsindeks: elevens gennemsnit",  # method text about pupil-level answers
        "alene ved tilfældigheder",  # the generic funnel text: these bands are not chance
        "Kommunens registre",  # the definitions credit the ministry's published figures
        "Gennemsnit af svarene",  # an index is the ministry's, not our list of questions
    ],
)
def test_pages_built_from_published_figures_make_no_claim_they_cannot_carry(
    cluster_page, leader_page, claim
):
    assert claim not in cluster_page
    assert claim not in leader_page


def test_pages_say_what_the_figures_are_and_credit_them(cluster_page, leader_page):
    for page in (cluster_page, leader_page):
        assert "offentliggjorte skoletal (ingen elevsvar)" in page
        assert CREDIT in page
    assert "kommunens startplan er ikke indlæst" in cluster_page
    assert "ikke oplyst" in leader_page


def test_no_change_is_named_without_a_previous_year(leader_page):
    assert "ændringen siden ;" not in leader_page and "siden :" not in leader_page
    assert "der er intet tidligere år at måle en ændring mod" in leader_page


def test_one_year_draws_no_chart_over_time(fixture_warehouse):
    report = leader_summary.prepare_report("", 2024, "da", str(fixture_warehouse))
    html = str(leader_summary.build_municipality_trend(report))
    assert "<svg" not in html
    assert "Der er kun ét skoleår (2024/25)" in html


def test_schools_left_out_of_the_map_are_listed_on_the_leader_page(tmp_path):
    """Issue 16: a school left out of the map vanished silently (Elev Skole, Aarhus) yet
    counted in the municipal value."""
    lines = MAP.read_text(encoding="utf-8").splitlines()
    left_out = [line for line in lines[1:] if line.split(";")[0] in ("147002", "147051")]
    assert len(left_out) == 2
    path = tmp_path / "map.csv"
    path.write_text("\n".join(line for line in lines if line not in left_out) + "\n")
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), path], target)
    report = leader_summary.prepare_report("", 2024, "da", str(target))
    title = plain(leader_summary.build_title(report))
    assert "Ikke med i nogen klynge (2 skoler): Lindevangskolen, " in title
    names = warehouse.read_table(target, "units").set_index("unit_id")["name"]
    assert names["147002"] == "Lindevangskolen" and names["147051"] in title
    cluster = cluster_report.prepare_report("syd", 2024, "da", str(target))
    overview = plain(cluster_report.build_overview(cluster))  # beside the municipality's value
    assert "Ikke med i nogen klynge (2 skoler): Lindevangskolen, " in overview


def test_a_published_index_gets_no_change_interval_but_a_counted_share_does():
    """Issue 16's rule: no sampling interval without n. A published index (no sd, no count)
    has its change left unjudged; a share with a published count keeps its interval."""
    catalog = load_catalog()
    public = SimpleNamespace(public=True)
    index_row = pd.Series({"value": 3.6, "se": 0.05, "sd": float("nan")})
    survey_row = pd.Series({"value": 3.6, "se": 0.05, "sd": 0.7})
    index = catalog.get("generel_trivsel")
    assert public_cluster.change_without_counts(public, index, index_row)
    assert not public_cluster.change_without_counts(public, index, survey_row)
    share = catalog.get("udsagn_god_ven")
    assert not public_cluster.change_without_counts(public, share, index_row)
    assert not public_cluster.change_without_counts(SimpleNamespace(public=False), index, index_row)


@pytest.mark.skipif(
    not (REAL / "school_wellbeing_2024_25.csv").is_file(),
    reason=f"the real public files are not at {REAL}",
)
def test_tied_names_in_a_cluster_funnel_are_listed_not_overprinted(tmp_path):
    """Issue 16 ("SluseholmenHeibergskolen"): on Aarhus' real figures with the made-up demo map,
    Demoklynge 1's Ellevangskolen and Tranbjergskolen share 3,6 and lie close in size: one name
    is drawn, the other listed under the chart."""
    from evaluation.data import public_ingest

    demo = public_ingest.demo_cluster_map(REAL / "school_wellbeing_2024_25.csv", "Aarhus")
    path = tmp_path / "aarhus_demo_map.csv"
    demo.to_csv(path, sep=";", index=False)
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(REAL), path], target)
    report = cluster_report.prepare_report("demo-1", 2024, "da", str(target))
    html = str(cluster_report.build_funnels(report))
    text = plain(html)
    assert "Navne, der ville stå oven i hinanden i figuren, står her i stedet" in text
    svg_names = re.findall(r"<text[^>]*>([^<]+)</text>", html)
    assert not any("Ellevangskolen" in s and "Tranbjergskolen" in s for s in svg_names)
