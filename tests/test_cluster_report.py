"""Cluster report content on the tiny fixture warehouse (no kernel: the builders directly), and
one slow run of the notebook on the ministry's public files with a cluster map."""

from __future__ import annotations

import re
import shutil
import sys
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from printed_verdicts import sentence_checks, status_table_checks  # noqa: E402
from public_data import CREDIT, FIXTURE, MAP, fixture_public_files  # noqa: E402
from tiny_warehouse import MISSING_YEAR, SCRIPT_NAME, build_fixture_warehouse  # noqa: E402

from evaluation.data import demo, ingest, public_files  # noqa: E402
from evaluation.errors import ParameterError, PrivacyError  # noqa: E402
from evaluation.reports import cluster_funnels  # noqa: E402
from evaluation.reports import cluster_report as report_cluster  # noqa: E402
from evaluation.values import load  # noqa: E402

BUILDERS = [
    "build_title",
    "build_overview",
    "build_statements",
    "build_inclusion",
    "build_funnels",
    "build_trends",
    "build_standouts",
    "build_reflection",
    "build_data_quality",
    "build_methods",
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def report_html(warehouse, tmp_path_factory):
    tables = tmp_path_factory.mktemp("tables")
    report = report_cluster.prepare_report("nord", 2024, "da", str(warehouse), 5, str(tables))
    html = "".join(str(getattr(report_cluster, name)(report)) for name in BUILDERS)
    return report, html, tables


@pytest.mark.parametrize(
    "kwargs, listed",
    [
        ({"cluster": "vest"}, "nord (Nord), syd (Syd)"),
        ({"year": MISSING_YEAR}, "2021 (2021/22), 2023 (2023/24), 2024 (2024/25)"),
        ({"language": "fr"}, "da, en"),
        ({"min_n": 2}, "from 3 upwards"),
    ],
)
def test_bad_parameters_stop_with_the_valid_values(warehouse, kwargs, listed):
    params = {"cluster": "nord", "year": 2024, "language": "da", "warehouse": str(warehouse)}
    params.update(kwargs)
    with pytest.raises((ParameterError, PrivacyError)) as err:
        report_cluster.check_parameters(min_n=params.pop("min_n", 5), **params)
    assert listed in str(err.value)


def test_cluster_name_is_accepted_as_well_as_id(warehouse):
    assert report_cluster.check_parameters("Syd", 2024, "da", str(warehouse), 5)[0] == "syd"


def test_one_h1_and_h2_sections_linked_from_the_contents(report_html):
    _, html, _ = report_html
    assert html.count("<h1") == 1
    anchors = re.findall(r'<h2 id="([^"]+)"', html)
    for anchor, _key in report_cluster.SECTIONS:
        assert anchor in anchors
        assert f'href="#{anchor}"' in html


def test_names_from_data_are_escaped(report_html):
    _, html, tables = report_html
    assert SCRIPT_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_suppressed_cells_show_the_marker_and_footnote(report_html):
    _, html, _ = report_html
    assert "<td>–</td>" in html
    assert "færre end 5 har svaret" in html
    assert ">nan<" not in html.lower() and "None" not in html


def test_missing_year_is_said_in_words(report_html):
    _, html, _ = report_html
    assert "Der mangler data fra trivselsmålingen" in html
    assert "2022/23" in html


def test_membership_change_is_noted(report_html):
    _, html, _ = report_html
    assert "Lille Skole &amp; Co kom med i 2024/25" in html


def test_no_clear_change_is_said_where_the_interval_holds_zero(report_html):
    report, _, _ = report_html
    rows = report.status("headline", ())
    for row in rows.itertuples(index=False):
        if row.change_verdict == "none":
            assert row.change_lower <= 0 <= row.change_upper
        if row.change_verdict in ("better", "worse"):
            assert not (row.change_lower <= 0 <= row.change_upper)
    assert "● ingen tydelig ændring" in report_html[1]


def test_standouts_list_only_clear_findings(report_html):
    report, _, _ = report_html
    lines = report.cache["standouts"]
    headline = report.status("headline", ())
    clear = headline[headline["change_verdict"].isin(["better", "worse"])]
    for row in clear.itertuples(index=False):
        assert any(
            line.startswith(report_cluster.rc.indicator_name(report.t, row.indicator))
            for line in lines
        )
    unclear = headline[headline["change_verdict"] == "none"]
    for row in unclear.itertuples(index=False):
        name = report_cluster.rc.indicator_name(report.t, row.indicator)
        assert not any(line.startswith(f"{name} er tydeligt") for line in lines)


def test_tables_are_written_as_csv(report_html):
    _, _, tables = report_html
    names = sorted(p.name for p in tables.glob("*.csv"))
    assert "overblik.csv" in names and "udvikling.csv" in names
    assert any(n.startswith("tragt-") for n in names)


def test_english_report_has_the_same_numbers(warehouse):
    da = report_cluster.prepare_report("nord", 2024, "da", str(warehouse), 5, "")
    en = report_cluster.prepare_report("nord", 2024, "en", str(warehouse), 5, "")
    assert report_cluster.collect_key_figures(da) == report_cluster.collect_key_figures(en)
    html = str(report_cluster.build_overview(en))
    assert "no clear change" in html and "3.57" in html


def test_units_tables_show_shrinkage_only_where_it_can_be_fitted(report_html):
    report, html, _ = report_html
    section = html[html.index('id="tragtplot"') : html.index('id="udvikling"')]
    tables = section.count("<table")
    fitted = [
        i
        for i in cluster_funnels.FUNNEL_INDICATORS
        if cluster_funnels.shrunk_units(report, i) is not None
    ]
    assert cluster_funnels.shrunk_units(report, "generel_trivsel") is None  # 4 schools only
    assert 0 < len(fitted) < tables
    assert section.count('<th scope="col">Trukket mod kommunen</th>') == len(fitted)
    assert section.count('<th scope="col">Pålidelighed</th>') == len(fitted)
    assert section.count("empirisk Bayes") == len(fitted)


def test_trend_over_the_last_years_says_no_clear_development_when_zero_is_inside(report_html):
    report, html, _ = report_html
    slopes = report.cache["trend_slopes"]
    assert len(slopes)
    for row in slopes.itertuples(index=False):
        inside = row.ci_low <= 0 <= row.ci_high
        assert (row.verdict == "none") == inside
    assert "Udvikling pr. år i Nord" in html
    if (slopes["verdict"] == "none").any():
        assert "ingen tydelig udvikling" in html


# --- the printed interval beside each verdict is the one that decided it ---------------------


def printed_checks(report, html: str) -> list:
    """Every verdict the page prints with the interval beside it, read off the page: the status
    tables (position against the printed municipal value, change against 0) and the sentences
    of "what stands out" (each a clear finding whose interval must exclude 0)."""
    t = report.t
    checks = status_table_checks(
        html,
        t("cluster_report.columns.versus"),
        t("cluster_report.columns.municipality"),
        t("cluster_report.columns.verdict"),
    )
    section = html[
        html.index('id="skiller-sig-ud"') : html.index(
            "</section>", html.index('id="skiller-sig-ud"')
        )
    ]
    lines = [unescape(x) for x in re.findall(r"<li>(.*?)</li>", section, re.S)]
    return checks + sentence_checks(lines, "interval")


def cluster_pages(warehouse, cluster_ids) -> list[tuple[str, object]]:
    builders = ("build_overview", "build_inclusion", "build_statements", "build_standouts")
    pages = []
    for cluster_id in cluster_ids:
        report = report_cluster.prepare_report(cluster_id, 2024, "da", str(warehouse), 5, "")
        pages.append((report, "".join(str(getattr(report_cluster, b)(report)) for b in builders)))
    return pages


def assert_verdicts_match_printed_intervals(pages) -> dict:
    """Clear verdict <=> the printed interval excludes the printed reference, on every row."""
    counts = {"position": 0, "change": 0, "sentence": 0, "clear": 0}
    for report, html in pages:
        for check in printed_checks(report, html):
            assert check.agrees, f"{report.cluster_name}: {check}"
            kind = "sentence" if "kommunen" in check.where else "position"
            kind = "change" if check.where.endswith(": change") else kind
            counts[kind] += 1
            counts["clear"] += check.clear
    return counts


def test_each_verdict_agrees_with_the_interval_printed_beside_it(warehouse, report_html):
    report, html, _ = report_html
    counts = assert_verdicts_match_printed_intervals(
        [(report, html), *cluster_pages(warehouse, ["syd"])]
    )
    assert counts["position"] >= 25 and counts["change"] >= 25 and counts["sentence"] >= 10
    assert 0 < counts["clear"] < counts["position"] + counts["change"]


@pytest.mark.slow
def test_demo_reports_print_the_interval_that_decided_every_verdict(tmp_path):
    # the demo municipality of `workbench demo` (seed 2023): on main 62 of its 190 cluster rows
    # printed an interval excluding the municipal value beside "ingen tydelig forskel"
    raw = demo.write_demo_data(tmp_path / "raw", seed=2023, municipalities=1)
    warehouse = tmp_path / "demo.duckdb"
    ingest.ingest_paths([raw], warehouse, replace=True)
    first = report_cluster.prepare_report("nord", 2024, "da", str(warehouse), 5, "")
    pages = cluster_pages(warehouse, first.data.clusters["cluster_id"].tolist())
    counts = assert_verdicts_match_printed_intervals(pages)
    assert counts["position"] >= 150 and counts["change"] >= 150 and counts["clear"] > 20


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
