"""The evaluation report's pre-start checks (evaluation.reports.evaluation_pretrends): the
fragment's heading, joint-test sentence, comment on single points, breakdown sentence and
table, in Danish and English; the fixture report's refusal; and its cost."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.reports import evaluation_pretrends  # noqa: E402
from evaluation.reports import evaluation_report as report_evaluation  # noqa: E402
from evaluation.stats import effect, pretrends  # noqa: E402
from evaluation.texts import texts_for  # noqa: E402

WELLBEING = SimpleNamespace(kind="mean", name_da="Trivsel", name_en="Wellbeing")


def demo_shaped_panel(seed: int = 3) -> pd.DataFrame:
    """10 clusters (3 start 2021, 3 start 2023, 4 never), 2016-2025, an effect of 0.1."""
    rng = np.random.default_rng(seed)
    starts = [2021] * 3 + [2023] * 3 + [np.nan] * 4
    return pd.DataFrame(
        [
            {
                "cluster_id": f"k{i}",
                "year": year,
                "value": 3.8 + 0.02 * i + rng.normal(0, 0.02) + 0.1 * (year >= start),
                "start_year": start,
            }
            for i, start in enumerate(starts)
            for year in range(2016, 2026)
        ]
    )


@pytest.fixture(scope="module")
def checks():
    panel = demo_shaped_panel()
    result = effect.estimate_effect(panel, draws=99)
    return pretrends.pretrend_checks(panel, result.event_study, draws=199)


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", str(html)).replace("&amp;", "&")


def test_the_fragment_has_a_heading_the_joint_test_the_breakdown_and_the_table(checks):
    t = texts_for("da")
    html = str(evaluation_pretrends.pretrend_html(t, WELLBEING, checks))
    assert html.startswith("<h3>Var klyngerne på samme spor før start?</h3>")
    words = text_of(html)
    test = checks.test
    assert f"Wald = {t.number(test.wald, 2)}, p = {t.number(test.p_value, 3)}" in words
    assert f"er alle {test.k} punkter før start" in words
    assert "en lille p-værdi (under 0,05) siger, at klyngerne allerede var på vej" in words
    mbar = t.number(checks.sensitivity.breakdown, 2)
    assert (
        "Konklusionen holder, medmindre udviklingen efter start afviger fra de parallelle "
        f"tendenser med mere end M̄ = {mbar} gange den største afvigelse før start." in words
    )
    rows = re.findall(r'<th scope="row">([^<]*)</th>', html)
    assert rows == ["0,0", "0,5", "1,0", "1,5", "2,0"]
    assert "Robust 95 %-interval" in words and "diff_diff" in words


def test_the_english_fragment_says_the_same(checks):
    t = texts_for("en")
    words = text_of(evaluation_pretrends.pretrend_html(t, WELLBEING, checks))
    assert "Were the clusters on the same track before the start?" in words
    assert f"M̄ = {t.number(checks.sensitivity.breakdown, 2)} times" in words
    assert "a small p-value (below 0.05) says the clusters were already moving apart" in words


def hand_made_checks(
    p_value: float, single: tuple, bonferroni: float = 0.09
) -> pretrends.PretrendChecks:
    test = pretrends.PretrendTest((-4, -3, -2), (), single, 10, 5.0, 5.0 / 3, 0.02, p_value)
    test.draws, test.weights_name, test.bonferroni_p_value = 999, "Webb six-point", bonferroni
    rm = pretrends.RelativeMagnitudes((-4, -3, -2), (0, 1), np.array([0.5, 0.5]))
    rm.estimate, rm.se, rm.critical_value, rm.max_pre_change, rm.slope = 0.1, 0.02, 2.26, 0.03, 1.5
    return pretrends.PretrendChecks(test, rm, pretrends.sensitivity_table(rm))


def test_single_points_that_reject_alone_are_commented_when_the_joint_test_does_not():
    t = texts_for("da")
    words = text_of(
        evaluation_pretrends.pretrend_html(t, WELLBEING, hand_made_checks(0.3, (-4, -2)))
    )
    assert "Enkelte punkter før start (−4, −2) ligger hver for sig tydeligt fra nul" in words
    assert "men den samlede test gør ikke" in words
    assert "(Bonferroni: den mindste p-værdi ganget med 3) giver de p = 0,090." in words
    assert "Det er ikke tydeligt." in words
    still = text_of(
        evaluation_pretrends.pretrend_html(t, WELLBEING, hand_made_checks(0.3, (-2,), 0.01))
    )
    assert "giver de p = 0,010. Det er stadig tydeligt" in still
    assert "Testen viser ingen tydelig forskel før start" in words
    joint = text_of(evaluation_pretrends.pretrend_html(t, WELLBEING, hand_made_checks(0.01, (-4,))))
    assert "Også hver for sig ligger punkter før start tydeligt fra nul: −4." in joint
    assert "så er effektskønnet mindre troværdigt" in joint
    quiet = text_of(evaluation_pretrends.pretrend_html(t, WELLBEING, hand_made_checks(0.3, ())))
    assert "hver for sig" not in quiet


def test_a_conclusion_that_is_not_clear_even_with_parallel_trends_says_so():
    checks = hand_made_checks(0.3, ())
    checks.sensitivity.estimate = 0.01  # the interval at Mbar = 0 contains zero
    checks = pretrends.PretrendChecks(
        checks.test, checks.sensitivity, pretrends.sensitivity_table(checks.sensitivity)
    )
    words = text_of(evaluation_pretrends.pretrend_html(texts_for("da"), WELLBEING, checks))
    assert "Allerede med helt parallelle tendenser (M̄ = 0) rummer intervallet nul" in words
    assert "Konklusionen holder" not in words


def test_the_fixture_report_with_one_started_cluster_says_why_there_is_no_test(tmp_path):
    warehouse = build_fixture_warehouse(tmp_path / "warehouse.duckdb")
    report = report_evaluation.prepare_report(
        "", "generel_trivsel", 2024, "da", str(warehouse), 5, "", 199, 2023
    )
    from evaluation.reports.evaluation_effect import run_effect

    result = run_effect(report, report.data.values, report.indicator_id)
    start = time.perf_counter()
    html = str(evaluation_pretrends.build_pretrend_checks(report, result))
    seconds = time.perf_counter() - start
    words = text_of(html)
    assert "Der er ingen år før start at teste med." in words
    assert "Ingen følsomhedsanalyse" in words
    assert "<table" not in html
    assert seconds < 1.0


def test_the_checks_of_a_demo_shaped_panel_cost_well_under_a_second():
    panel = demo_shaped_panel()
    result = effect.estimate_effect(panel, draws=99)
    start = time.perf_counter()
    pretrends.pretrend_checks(panel, result.event_study, draws=999)
    assert time.perf_counter() - start < 1.0
