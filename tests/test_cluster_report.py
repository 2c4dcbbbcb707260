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
from evaluation.reports import cluster_funnels, cluster_parts  # noqa: E402
from evaluation.reports import cluster_report as report_cluster  # noqa: E402
from evaluation.texts import texts_for  # noqa: E402
from evaluation.values import load  # noqa: E402

BUILDERS = ["build_title", *(f"build_{key}" for _anchor, key in report_cluster.SECTIONS)]


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


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory):
    """The demo municipality of `workbench demo` (seed 2023), ingested once for this module."""
    folder = tmp_path_factory.mktemp("demo")
    raw = demo.write_demo_data(folder / "raw", seed=2023, municipalities=1)
    warehouse = folder / "demo.duckdb"
    ingest.ingest_paths([raw], warehouse, replace=True)
    return warehouse


@pytest.mark.slow
def test_demo_reports_print_the_interval_that_decided_every_verdict(demo_warehouse):
    # on main 62 of the demo's 190 cluster rows printed an interval excluding the municipal
    # value beside "ingen tydelig forskel"
    first = report_cluster.prepare_report("nord", 2024, "da", str(demo_warehouse), 5, "")
    pages = cluster_pages(demo_warehouse, first.data.clusters["cluster_id"].tolist())
    counts = assert_verdicts_match_printed_intervals(pages)
    assert counts["position"] >= 150 and counts["change"] >= 150 and counts["clear"] > 20


def meeting_questions(report) -> tuple[list[str], list[str]]:
    """The finding questions and the next-step questions of a report's meeting view."""
    today = str(report_cluster.build_today(report))
    found = [unescape(q) for q in re.findall(r'class="wb-question-text">(.*?)</span>', today)]
    step = str(report_cluster.build_next_step(report))
    step_questions = [unescape(q) for q in re.findall(r"<(?:li|p)[^>]*>(.*?)</(?:li|p)>", step)]
    return found, [q for q in step_questions if q.endswith("?")]


def without_names(text: str, names: list[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "NAME")
    return text


@pytest.mark.slow
def test_demo_questions_name_their_finding_and_none_is_shared_between_reports(demo_warehouse):
    first = report_cluster.prepare_report("nord", 2024, "da", str(demo_warehouse), 5, "")
    names = [*first.data.clusters["name"], *first.data.units["name"]]
    action = list(first.t.lookup("meeting.action"))
    seen: dict[str, str] = {}
    for cluster_id in sorted(first.data.clusters["cluster_id"]):
        report = report_cluster.prepare_report(cluster_id, 2024, "da", str(demo_warehouse), 5, "")
        found, step = meeting_questions(report)
        findings = report.cache["findings"]
        # three to five; fewer only when fewer things lie on the bad side (no invented finding:
        # a statement printed as 68 % against 68 % is not one)
        assert 1 <= len(found) == len(findings) <= 5
        assert step[-3:] == action and len(set(found + step)) == len(found + step)
        started = cluster_parts.start_year_of(report) is not None
        expected = "Er det, hvad vi forventede ud fra det, vi har sat i gang?"
        assert any(expected in q for q in step) == (
            started and cluster_parts.start_year_of(report) < report.year
        )
        for question, finding in zip(found, findings, strict=True):
            assert finding.subject in question  # the cluster or the unit
            name = report_cluster.rc.indicator_phrase(report.t, finding.indicator)
            assert name.split(" (")[0].lower() in question.lower()
            assert any(w in question for w in ("den gode", "den dårlige", "svarer positivt"))
        for question in found + [q for q in step if q not in action]:
            key = without_names(question, names)
            assert seen.setdefault(key, cluster_id) == cluster_id, (question, seen[key])


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


def test_the_count_sentence_never_says_zero_are_clearly_better():
    t = texts_for("da")
    none = report_cluster.count_sentence(t, pd.Series({"none": 8}), 8, "2023/24")
    assert (
        none == "Ingen af de 8 nøgletal, der kan vurderes, har ændret sig tydeligt siden 2023/24."
    )
    some = report_cluster.count_sentence(t, pd.Series({"worse": 1, "none": 7}), 8, "2023/24")
    assert some.startswith("Af 8 nøgletal, der kan vurderes, er 1 tydeligt dårligere end i")
    assert " 0 " not in some and "For resten (7)" in some


DANISH_LETTERS = "abcdefghijklmnopqrstuvwxyzæøå"


def danish_key(name: str) -> list[int]:
    """Danish alphabetical order written out here, independent of evaluation.texts.danish_order:
    æ, ø, å after z, a leading "Aa" as Å, signs and spaces before digits before letters."""
    text = unescape(name).lower()
    text = "å" + text[2:] if text.startswith("aa") else text
    return [
        200 + DANISH_LETTERS.index(c)
        if c in DANISH_LETTERS
        else 150 + int(c)
        if c.isdigit()
        else ord(c)
        for c in text
    ]


def test_every_table_lists_clusters_and_units_in_danish_order(report_html):
    from tiny_warehouse import CLUSTERS, UNITS

    _, html, _ = report_html
    names = {str(n) for n in [*UNITS["name"], *CLUSTERS["name"]]}
    checked = 0
    for table in re.findall(r"<table.*?</table>", html, flags=re.S):
        caption = re.search(r"<caption>(.*?)</caption>", table, flags=re.S)
        first_cells = re.findall(r"<tr><t[hd][^>]*>(.*?)</t[hd]>", table.split("<tbody>")[-1])
        listed = [unescape(c) for c in first_cells if unescape(c) in names]
        if len(listed) > 1:
            checked += 1
            assert listed == sorted(listed, key=danish_key), caption and caption.group(1)
    assert checked >= 1
