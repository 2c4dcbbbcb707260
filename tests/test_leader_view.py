"""The leader summary's first screen: combined verdicts, links into the run, the effect
sentence and the two named lists (tiny fixture warehouse, builders directly, no kernel)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.render.registry import make_report_id  # noqa: E402
from evaluation.reports import leader_summary as report_leader  # noqa: E402
from evaluation.reports import leader_view  # noqa: E402
from evaluation.reports.leader_view import VERDICT_LEVELS, combined_verdict  # noqa: E402

PLACES = ("worse", "within", "better")  # worst to best
CHANGES = ("worse", "none", "better")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    return report_leader.prepare_report("", 2024, "da", str(warehouse), 5, "")


def rank(level: str) -> int:
    return -VERDICT_LEVELS.index(level)  # higher is better


def test_the_verdict_grid_is_monotone_and_its_corners_are_the_extremes():
    # like the California School Dashboard's grid: a better status or a better change never
    # gives a worse colour, and only both clear in one direction reach the ends
    for i, place in enumerate(PLACES):
        for j, change in enumerate(CHANGES):
            level = combined_verdict(place, change)
            if i + 1 < len(PLACES):
                assert rank(combined_verdict(PLACES[i + 1], change)) >= rank(level)
            if j + 1 < len(CHANGES):
                assert rank(combined_verdict(place, CHANGES[j + 1])) >= rank(level)
    assert combined_verdict("better", "better") == "very_good"
    assert combined_verdict("worse", "worse") == "concern"
    assert combined_verdict("within", "none") == "fair"
    assert combined_verdict("missing", "worse") == "watch"
    assert combined_verdict("better", "missing") == "good"
    assert combined_verdict("missing", "missing") == "missing"


@pytest.mark.parametrize("cluster_id", ["nord", "aabyen", "Vest Øst", "a/b"])
def test_links_name_the_file_the_renderer_writes(cluster_id):
    expected = make_report_id("cluster_report", {"cluster": cluster_id}) + ".html"
    assert leader_view.report_href(cluster_id) == expected
    assert leader_view.report_href(cluster_id, "tragtplot") == expected + "#tragtplot"


def test_clusters_are_in_danish_order(report):
    names = [report.data.cluster_name(c) for c in report.cluster_ids()]
    assert names == sorted(names, key=leader_view.danish_order)


def test_the_effect_sentence_is_the_evaluation_reports_estimate(report):
    from evaluation.reports import evaluation_effect
    from evaluation.stats import effect

    defaults = leader_view.evaluation_defaults()
    assert defaults == {"indicator": "generel_trivsel", "bootstrap_draws": 999, "seed": 2023}
    panel = evaluation_effect.effect_panel(report, report.data.values, "generel_trivsel")
    sentence = leader_view.effect_sentence(report)
    try:
        overall = effect.estimate_effect(panel, draws=999, seed=2023).overall_row()
    except Exception:  # noqa: BLE001 - the sentence must then say it cannot be estimated
        assert sentence == report.t("leader_view.effect_unavailable", indicator="generel trivsel")
        return
    indicator = report.data.catalog.get("generel_trivsel")
    assert evaluation_effect.format_effect(report.t, indicator, overall["estimate"]) in sentence
    if overall["refused"]:
        assert evaluation_effect.refusal_text(report.t, overall) in sentence
    elif overall["ci_low"] <= 0 <= overall["ci_high"]:
        assert sentence.endswith("ingen tydelig effekt endnu.")


def test_the_named_lists_link_every_item_to_a_cluster_report(report):
    html, count = leader_view.named_lists_html(report)
    assert html.count("<h3>") == 2
    items = re.findall(r"<li>(.*?)</li>", html)
    assert count >= len(items) - 1
    for item in items:
        assert re.match(r'<a href="cluster_report-[a-z]+\.html#(overblik|tragtplot)">', item)
