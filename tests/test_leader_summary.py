"""Leader summary content on the tiny fixture warehouse (the builders directly, no kernel)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from printed_verdicts import Check, TableReader, numbers_in  # noqa: E402
from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.reports import leader_summary as report_leader  # noqa: E402


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    tables = tmp_path_factory.mktemp("tables")
    return report_leader.prepare_report("", 2024, "da", str(warehouse), 5, str(tables))


@pytest.fixture(scope="module")
def overview_html(report):
    return str(report_leader.build_overview(report))


def compact_table(html: str) -> str:
    return re.search(r'<table class="wb-table wb-compact"[^>]*>.*?</table>', html, re.S).group(0)


def test_compact_table_has_a_legend_above_it_that_names_every_symbol(overview_html):
    legend = re.search(r'<p class="wb-legend" id="([^"]+)">(.*?)</p>', overview_html, re.S)
    assert legend, "no legend"
    assert overview_html.index("wb-legend") < overview_html.index("<table")
    assert f'aria-describedby="{legend.group(1)}"' in compact_table(overview_html)
    for symbol in "▲▼●↑↓→–":
        assert symbol in legend.group(2)


def test_every_symbol_is_hidden_from_screen_readers_and_spoken_in_words(report, overview_html):
    table = compact_table(overview_html)
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S)
    assert len(rows) == len(report.cluster_ids()) == 2
    cells = re.findall(r"<td>(.*?)</td>", "".join(rows), re.S)
    assert len(cells) == 2 * len(report_leader.LEADER_INDICATORS)
    for cell in cells:
        if cell == "–":  # a cluster without a row for this indicator
            continue
        value, rest = cell.split('<span aria-hidden="true">', 1)
        symbols = re.sub(r'<span class="wb-sr">.*?</span>', "", rest)
        assert not any(s in value for s in "▲▼●↑↓→"), "a symbol outside the hidden part"
        assert any(s in symbols for s in "▲▼●–") and any(s in symbols for s in "↑↓→–")
        spoken = re.search(r'<span class="wb-sr">: (.*?)</span>', cell).group(1)
        assert "kommunen" in spoken or "placering" in spoken
        assert "ændring" in spoken or "end i" in spoken
        assert not any(s in spoken for s in "▲▼●↑↓→")


def test_words_appear_only_beside_a_clear_verdict(report, overview_html):
    table = compact_table(overview_html)
    status = report.status()
    clear = int((status["position"].isin(["better", "worse"])).sum()) + int(
        (status["change_verdict"].isin(["better", "worse"])).sum()
    )
    assert table.count('class="wb-word"') == clear


def test_csv_spells_the_verdicts_out(report, overview_html):
    text = (report.tables_dir / "klynger.csv").read_text(encoding="utf-8-sig")
    assert "kommunen" in text and "▲" not in text and "→" not in text
    assert (report.tables_dir / "klynger-detaljer.csv").is_file()


def test_detail_table_carries_the_intervals(overview_html):
    detail = overview_html[overview_html.index("Detaljer med usikkerhed") :]
    assert "95 %-interval" in detail
    assert re.search(r"\d,\d\d \(\d,\d\d–\d,\d\d\)", detail)


def test_detail_intervals_are_the_ones_that_decided_the_symbols_above(overview_html):
    # read as a reader does: the spoken verdicts of the compact table, and beside them in the
    # detail table the interval (must exclude the municipal value exactly when the cluster is
    # clearly better or worse) and the change interval (must exclude 0 exactly for a change)
    reader = TableReader()
    reader.feed(overview_html)
    (headers, compact), (detail_headers, detail) = reader.tables[0], reader.tables[1]
    verdicts = {}
    for row in compact:
        for header, cell in zip(headers[1:], row[1:], strict=True):
            if cell != "–":
                place, change = cell.split(": ", 1)[1].split("; ")
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


def test_attention_comes_before_the_table_and_the_contents_are_compact(report):
    title = str(report_leader.build_title(report))
    assert "wb-toc-compact" in title
    assert [a for a, _ in report_leader.SECTIONS][:2] == ["se-naermere", "alle-klynger"]


def test_table_headers_are_the_catalog_short_names(report, overview_html):
    head = re.search(r"<thead>(.*?)</thead>", compact_table(overview_html), re.S).group(1)
    headers = re.findall(r'<th scope="col">(.*?)</th>', head)
    assert headers == [
        "Klyngen",
        "Generel trivsel (1-5)",
        "Social trivsel (1-5)",
        "Inklusionsgrad",
        "Fravær (% af dagene)",
        "Ventetid til hjælp (dage)",
    ]
