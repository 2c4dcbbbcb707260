"""The evaluation report's description of the clusters' decisions by school year."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from demo_followup import demo_warehouse  # noqa: E402
from printed_verdicts import TableReader  # noqa: E402

from evaluation.reports import evaluation_decisions, evaluation_report  # noqa: E402
from evaluation.texts import Texts  # noqa: E402


def test_counts_by_cluster_and_school_year_on_a_hand_made_table():
    decisions = pd.DataFrame(
        {
            "cluster_id": ["nord", "nord", "nord", "syd"],
            # a school year runs August-July: 2022-07-31 is 2021/22, 2022-08-01 is 2022/23
            "decided": [date(2022, 7, 31), date(2021, 9, 1), date(2022, 8, 1), date(2022, 8, 1)],
            "targets": ["ro_og_orden", "fravaer, ro_og_orden", "ventetid", "ro_og_orden"],
        }
    )
    table = evaluation_decisions.decisions_by_year(decisions).set_index(
        ["cluster_id", "school_year"]
    )
    assert table.loc[("nord", 2021), "count"] == 2
    assert table.loc[("nord", 2021), "indicators"] == ["ro_og_orden", "fravaer"]  # first seen
    assert table.loc[("nord", 2022), "count"] == 1
    assert table.loc[("syd", 2022), "indicators"] == ["ro_og_orden"]
    assert table["count"].sum() == len(decisions)


@pytest.mark.slow
def test_demo_table_counts_every_decision_and_says_it_is_no_effect_estimate(tmp_path_factory):
    target = demo_warehouse(tmp_path_factory.getbasetemp())
    report = evaluation_report.prepare_report(
        "", "generel_trivsel", 2025, "da", str(target), 5, "", 199, 2023
    )
    html = str(evaluation_decisions.build_decisions_table(report))
    assert Texts("da")("followup.evaluation_intro") in html
    reader = TableReader()
    reader.feed(html)
    headers, rows = reader.tables[0]
    assert headers[-1] == "I alt" and len(rows) == len(report.data.clusters)
    totals = [int(r[-1]) for r in rows]
    counts = [int(c.split(" ")[0]) for r in rows for c in r[1:-1]]
    assert sum(totals) == sum(counts) == 30
