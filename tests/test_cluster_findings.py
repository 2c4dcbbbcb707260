"""The meeting view's findings on the tiny fixture warehouse: ranked, each with its number, the
interval that decided it, a small chart and a question."""

from __future__ import annotations

import re
import sys
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.catalog import load_catalog  # noqa: E402
from evaluation.reports import cluster_findings  # noqa: E402
from evaluation.reports import cluster_report as report_cluster  # noqa: E402


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    return report_cluster.prepare_report("nord", 2024, "da", str(warehouse), 5, "")


def test_findings_are_ranked_changes_then_units_then_levels_then_statements(report):
    findings = cluster_findings.rank_findings(report)
    assert cluster_findings.MIN_FINDINGS <= len(findings) <= cluster_findings.MAX_FINDINGS
    ranks = [cluster_findings.KIND_RANK[f.kind] for f in findings]
    assert ranks == sorted(ranks)
    for finding in findings:
        if finding.kind in ("change", "level"):
            # a clear finding: the comparison lies outside the interval that decided it
            assert not finding.lower <= finding.rule <= finding.upper
        if finding.kind == "unit":
            assert not finding.lower <= finding.value <= finding.upper
    assert cluster_findings.rank_findings(report) is findings  # cached for the report


def test_each_card_has_number_interval_chart_and_a_question_naming_its_finding(report):
    html = str(report_cluster.build_today(report))
    cards = re.findall(r'<article class="wb-finding.*?</article>', html, re.S)
    findings = cluster_findings.rank_findings(report)
    assert len(cards) == len(findings)
    for number, (card, finding) in enumerate(zip(cards, findings, strict=True), start=1):
        assert f"<h3>{number}. " in card
        assert (
            'class="wb-finding-figure"' in card and "interval" in card.lower() or "grænser" in card
        )
        assert card.count('role="img"') == 1 and "aria-label=" in card
        question = unescape(re.search(r'wb-question-text">(.*?)</span>', card).group(1))
        assert unescape(finding.subject) in question and question.endswith("?")
    assert 'href="#definitioner"' in html


def test_best_of_picks_the_better_peer_by_valence():
    catalog = load_catalog()
    absence, wellbeing = catalog.get("fravaer"), catalog.get("generel_trivsel")
    named = [("A", 5.0), ("B", 9.0), ("C", float("nan"))]
    assert cluster_findings.best_of(absence, named, 14.9) == ("A", 5.0)
    assert cluster_findings.best_of(absence, named, 4.0) is None
    assert cluster_findings.best_of(wellbeing, [("A", 3.6), ("B", 3.9)], 3.7) == ("B", 3.9)


def test_statement_gaps_put_the_bad_side_first():
    ind = SimpleNamespace(direction="lower_better")
    assert (
        cluster_findings.signed_gap(ind, 0.3, 0.2) < 0 < cluster_findings.signed_gap(ind, 0.1, 0.2)
    )


def test_five_clear_changes_leave_room_for_a_unit_far_outside_the_limits():
    def found(kind, n):
        return SimpleNamespace(kind=kind, n=n)

    ranked = [found("change", i) for i in range(5)] + [found("unit", 9), found("level", 7)]
    picked = cluster_findings.pick_varied(ranked)
    assert [f.kind for f in picked] == ["change"] * 3 + ["unit", "level"]
    assert len(cluster_findings.pick_varied(ranked[:5])) == 5  # no other kind: all changes
