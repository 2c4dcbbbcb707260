"""The leader summary's follow-up counts: on a hand-made decisions table, and on the demo (links
to the cluster reports by the file names a render run writes)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from demo_followup import TODAY, demo_warehouse  # noqa: E402

from evaluation.render.registry import make_report_id  # noqa: E402
from evaluation.reports import leader_followup  # noqa: E402
from evaluation.reports import leader_summary as report_leader  # noqa: E402


def test_counts_on_a_hand_made_table():
    decisions = pd.DataFrame(
        {
            "decision_id": ["n1", "n2", "n3", "n4", "s1", "s2"],
            "cluster_id": ["nord", "nord", "nord", "nord", "syd", "syd"],
            "status": ["fortsat", "justeret", "i gang", "planlagt", "stoppet", "i gang"],
        }
    )
    follow = pd.DataFrame(
        {
            # n1 has two targets: progress on one and nothing clear on the other -> progress;
            # s1 has progress and a decline -> not counted as progress
            "decision_id": ["n1", "n1", "n2", "n3", "n4", "s1", "s1", "s2"],
            "verdict": [
                "clear_progress", "no_clear_change", "no_clear_change", "too_early",
                "clear_progress", "clear_progress", "clear_decline", "not_shown",
            ],
            "overdue": [False, False, False, True, False, False, False, False],
        }
    )  # fmt: skip
    counts = leader_followup.count_states(decisions, follow, ["nord", "syd", "vest"])
    assert counts.loc["nord"].to_dict() == {
        "in_progress": 1, "progress": 1, "no_progress": 1, "overdue": 1,
    }  # fmt: skip
    assert counts.loc["syd"].to_dict() == {
        "in_progress": 1, "progress": 0, "no_progress": 1, "overdue": 0,
    }  # fmt: skip
    assert counts.loc["vest"].sum() == 0


@pytest.mark.parametrize("cluster_id", ["nord", "øst vest", "a/b"])
def test_links_name_the_file_a_render_run_writes(cluster_id):
    expected = make_report_id("cluster_report", {"cluster": cluster_id}) + ".html"
    assert leader_followup.cluster_report_file(cluster_id) == expected


@pytest.mark.slow
def test_demo_overview_counts_every_decision_once_and_links_every_cluster(tmp_path_factory):
    target = demo_warehouse(tmp_path_factory.getbasetemp())
    report = report_leader.prepare_report("", 2025, "da", str(target), 5, "")
    html = str(leader_followup.build_followup_overview(report, today=TODAY))
    decisions, follow = leader_followup.report_follow_ups(report, TODAY)
    counts = leader_followup.count_states(decisions, follow, report.cluster_ids())
    assert counts.to_numpy().sum() == len(decisions) == 30
    assert (counts[["progress", "no_progress", "overdue", "in_progress"]] > 0).any().all()
    for cluster_id in report.cluster_ids():
        assert f'<a href="cluster_report-{cluster_id}.html">' in html
    assert html.count("<tr>") == len(report.cluster_ids()) + 1
    assert TODAY > date(2026, 1, 1)  # the demo's reviews up to 2025 have passed
