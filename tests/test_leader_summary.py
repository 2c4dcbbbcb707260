"""Leader summary content on the tiny fixture warehouse (the builders directly, no kernel)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from printed_verdicts import Check, TableReader, numbers_in  # noqa: E402
from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.reports import leader_summary as report_leader  # noqa: E402
from evaluation.reports.leader_view import (  # noqa: E402
    VERDICT_LEVELS,
    VERDICT_SYMBOLS,
    combined_verdict,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    tables = tmp_path_factory.mktemp("tables")
    return report_leader.prepare_report("", 2024, "da", str(warehouse), 5, str(tables))


@pytest.fixture(scope="module")
def overview_html(report):
    return str(report_leader.build_overview(report))


@pytest.fixture(scope="module")
def appendix_html(report):
    return str(report_leader.build_appendix(report))


def verdict_grid(html: str) -> str:
    return re.search(r'<table class="wb-table wb-compact wb-grid"[^>]*>.*?</table>', html, re.S)[0]


def test_the_verdict_key_above_the_grid_names_every_level(overview_html):
    key = re.search(r'<p class="wb-legend wb-key-text" id="([^"]+)">(.*?)</p>', overview_html)
    assert key, "no key"
    assert overview_html.index("wb-verdict-key") < overview_html.index("<table")
    assert f'aria-describedby="{key.group(1)}"' in verdict_grid(overview_html)
    for level in VERDICT_LEVELS:
        assert f'class="wb-v wb-v-{level}"' in overview_html
        assert VERDICT_SYMBOLS[level] in overview_html


def test_every_cell_has_one_verdict_from_status_and_change_spoken_in_words(report, overview_html):
    grid = verdict_grid(overview_html)
    rows = re.findall(r'<tr><th scope="row">.*?</tr>', grid, re.S)
    assert len(rows) == len(report.cluster_ids()) == 2
    cells = re.findall(r'<td class="wb-v wb-v-(\w+)">(.*?)</td>', "".join(rows), re.S)
    status = report.status()
    assert len(cells) == len(status) > 0
    expected = [
        combined_verdict(row.position, row.change_verdict)
        for cluster_id in report.cluster_ids()
        for indicator_id in report_leader.LEADER_INDICATORS
        for row in status[
            (status["cluster_id"] == cluster_id) & (status["indicator_id"] == indicator_id)
        ].itertuples()
    ]
    assert [level for level, _ in cells] == expected
    for level, cell in cells:
        visible, spoken = re.match(
            r'<span aria-hidden="true">(.*?)</span></span><span class="wb-sr">(.*?)</span>', cell
        ).groups()
        assert VERDICT_SYMBOLS[level] in visible
        word, _value, place, change = spoken.split("; ")
        assert word == report.t(f"leader_view.verdict.{level}")
        assert "kommunen" in place or "placering" in place
        assert "ændring" in change or "end i" in change
        assert not any(s in spoken for s in "▲▼●")


def test_the_start_column_names_the_school_year_the_cluster_started(report, overview_html):
    reader = TableReader()
    reader.feed(verdict_grid(overview_html))
    headers, rows = reader.tables[0]
    assert headers[:2] == ["Klyngen", "Startede"]
    starts = {row[0]: row[1] for row in rows}
    assert starts == {"Nord": "2023/24", "Syd": "ikke startet"}


def test_clusters_link_to_their_reports_in_the_run_folder(overview_html):
    links = re.findall(r'<a href="([^"]+)">', verdict_grid(overview_html))
    assert links == ["cluster_report-nord.html#overblik", "cluster_report-syd.html#overblik"]


def test_the_effect_sentence_says_the_estimate_with_its_interval_or_why_not(overview_html):
    effect = re.search(r'<p class="wb-note wb-effect">(.*?)</p>', overview_html, re.S).group(1)
    assert "generel trivsel" in effect
    assert "interval" in effect or "kan endnu ikke" in effect
    assert 'href="evaluation_report.html#effekt"' in effect


def test_csv_spells_the_verdicts_out(report, overview_html, appendix_html):
    text = (report.tables_dir / "klynger.csv").read_text(encoding="utf-8-sig")
    assert "kommunen" in text and "▲" not in text and "→" not in text
    assert (report.tables_dir / "klynger-detaljer.csv").is_file()


def test_the_appendix_carries_the_intervals_and_is_left_out_of_print(appendix_html):
    assert appendix_html.startswith('<div class="wb-screen-only">')
    assert "95 %-interval" in appendix_html
    assert re.search(r"\d,\d\d \(\d,\d\d–\d,\d\d\)", appendix_html)


def test_detail_intervals_are_the_ones_that_decided_the_verdicts(overview_html, appendix_html):
    # read as a reader does: the spoken verdicts of the grid, and beside them in the appendix
    # the interval (must exclude the municipal value exactly when the cluster is clearly better
    # or worse) and the change interval (must exclude 0 exactly for a change)
    reader = TableReader()
    reader.feed(verdict_grid(overview_html))
    reader.feed(appendix_html)
    (headers, grid), (detail_headers, detail) = reader.tables[0], reader.tables[1]
    verdicts = {}
    for row in grid:
        for header, cell in zip(headers[2:], row[2:], strict=True):
            if cell != "–":
                _word, _value, place, change = cell.split("; ")[-4:]
                verdicts[(row[0], header)] = ("tydeligt" in place, "tydeligt" in change)
    assert detail_headers[2] == "Værdi (95 %-interval inkl. almindelig forskel mellem klynger)"
    checks = []
    for cluster, indicator, value_cell, reference_cell, change_cell in detail:
        clear_place, clear_change = verdicts[(cluster, indicator)]
        value, reference, change = (
            numbers_in(c) for c in (value_cell, reference_cell, change_cell)
        )
        if len(value) == 3 and len(reference) == 1:
            checks.append(Check(indicator, clear_place, value[1], value[2], reference[0]))
        if len(change) == 3:
            checks.append(Check(indicator, clear_change, change[1], change[2], 0.0))
    assert len(checks) >= 12 and any(c.clear for c in checks) and not all(c.clear for c in checks)
    assert [c for c in checks if not c.agrees] == []


def test_the_first_screen_is_the_grid_then_the_lists_and_the_contents_are_compact(report):
    title = str(report_leader.build_title(report))
    assert "wb-toc-compact" in title
    assert [a for a, _ in report_leader.SECTIONS][:2] == ["alle-klynger", "se-naermere"]
    lists = str(report_leader.build_attention(report))
    assert "Det skal vi se nærmere på" in lists and "Hvem kan vi lære af" in lists


def test_grid_headers_are_the_catalog_short_names(overview_html):
    head = re.search(r"<thead>(.*?)</thead>", verdict_grid(overview_html), re.S).group(1)
    headers = re.findall(r'<th scope="col">(.*?)</th>', head)
    assert headers == [
        "Klyngen",
        "Startede",
        "Generel trivsel (1-5)",
        "Social trivsel (1-5)",
        "Inklusionsgrad",
        "Fravær (% af dagene)",
        "Ventetid til hjælp (dage)",
    ]


def test_the_change_chart_never_colours_worse_green(report):
    html = str(report_leader.build_change_chart(report)).lower()
    for green in ("#009e73", "#2ca02c", "green"):
        assert green not in html
    assert (
        dict(zip(("better", "none", "worse"), report_leader.CHANGE_COLOURS, strict=True))["worse"]
        == "#D55E00"
    )


def test_a_1_to_5_index_axis_spans_at_least_half_a_scale_point(report):
    indicator = report.data.catalog.get("generel_trivsel")
    panel = pd.DataFrame({"value": [3.70, 3.75], "lower": [3.68, 3.72], "upper": [3.72, 3.78]})
    low, high = report_leader.steady_domain(indicator, panel)
    assert high - low == pytest.approx(0.5) and low <= 3.68 and high >= 3.78
    wide = pd.DataFrame({"value": [2.0, 4.0], "lower": [1.8, 3.8], "upper": [2.2, 4.2]})
    assert report_leader.steady_domain(indicator, wide) == [1.8, 4.2]
    share = report.data.catalog.get("inklusionsgrad")
    assert report_leader.steady_domain(share, panel) is None


def test_the_municipal_trend_marks_the_start_of_the_effort(report):
    html = str(report_leader.build_municipality_trend(report))
    assert 'class="wb-screen-only"' in html
    assert "2023/24" in html and "stiplede lodrette linje" in html
