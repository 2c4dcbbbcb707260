"""Status rows: each verdict travels with the interval that decided it (evaluation.reports.status).

The older status tests (judge, level_interval, status_frame) are in test_common.py.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.reports import status
from evaluation.texts import texts_for

DA = texts_for("da")


def indicator(kind="mean", direction="higher_better"):
    names = {"name_da": "Trivsel", "name_en": "Wellbeing", "short_da": "T", "short_en": "W"}
    return SimpleNamespace(kind=kind, direction=direction, **names)


def test_the_direction_of_a_change_is_named_by_the_indicator_s_good_side():
    higher, lower = indicator(direction="higher_better"), indicator(direction="lower_better")
    assert status.verdict_for(higher, "increase") == "better"
    assert status.verdict_for(lower, "increase") == "worse"
    assert status.verdict_for(lower, "decrease") == "better"
    assert status.verdict_for(higher, "no clear change") == "none"
    assert status.verdict_for(higher, math.nan) == "missing"


def test_year_change_verdict_comes_with_newcombe_s_interval():
    # Newcombe (1998) Table II, method 10: 56/70 - 48/80 -> 0.0524 to 0.3339, excludes 0
    now = pd.Series({"value": 56 / 70, "numerator": 56, "n": 70, "se": math.nan})
    before = pd.Series({"value": 48 / 80, "numerator": 48, "n": 80, "se": math.nan})
    up = status.year_change(indicator("proportion"), now, before)
    assert round(up["change_lower"], 4) == 0.0524 and round(up["change_upper"], 4) == 0.3339
    assert up["change_verdict"] == "better"
    down = status.year_change(indicator("proportion", "lower_better"), now, before)
    assert down["change_verdict"] == "worse"
    # Newcombe Table II: 5/56 - 0/29 -> -0.0381 to 0.1926 holds 0: no clear change
    now = pd.Series({"value": 5 / 56, "numerator": 5, "n": 56, "se": math.nan})
    before = pd.Series({"value": 0.0, "numerator": 0, "n": 29, "se": math.nan})
    flat = status.year_change(indicator("proportion"), now, before)
    assert round(flat["change_lower"], 4) == -0.0381 and flat["change_verdict"] == "none"


def test_position_carries_the_textbook_interval_when_clusters_vary_by_chance_only():
    # four clusters close to the municipality: no over-dispersion, so the deciding interval is
    # value +/- z sd / sqrt(n) (z from scipy), and the municipality outside it <=> not within
    clusters = pd.DataFrame(
        {
            "entity_id": ["a", "b", "c", "d"],
            "n": [100, 400, 250, 90],
            "value": [3.70, 3.52, 3.61, 3.62],
            "sd": [0.8] * 4,
        }
    )
    positions = status.position_against(indicator(), clusters, 3.60)
    assert (positions["adjustment"] == "none").all()
    half = stats.norm.ppf(0.975) * 0.8 / np.sqrt(clusters["n"])
    for k, entity in enumerate(clusters["entity_id"]):
        row = status.position_of(positions, entity)
        assert row["decided_lower"] == pytest.approx(clusters["value"][k] - half[k], abs=1e-12)
        assert row["decided_upper"] == pytest.approx(clusters["value"][k] + half[k], abs=1e-12)
        assert row["difference_lower"] == pytest.approx(row["decided_lower"] - 3.60, abs=1e-12)
        outside = not row["decided_lower"] <= 3.60 <= row["decided_upper"]
        assert outside == (row["position"] != "within")
    assert status.position_of(positions, "b")["position"] == "worse"  # 3.52 +/- 0.078
    assert status.position_of(positions, "zz")["position"] == "missing"
    assert math.isnan(status.position_of(positions, "zz")["decided_lower"])


def row(**fields) -> dict:
    base = {
        "indicator": indicator("proportion"),
        "value": 0.70,
        "decided_lower": 0.664,
        "decided_upper": 0.74,
        "reference": 0.662,
        "position": "better",
        "previous_value": 0.68,
        "change": 0.03,
        "change_lower": 0.0004,
        "change_upper": 0.06,
        "change_verdict": "better",
        "n": 200,
    }
    return {**base, **fields}


COLUMNS = [("V", "value_interval"), ("R", "reference"), ("P", "position"), ("C", "change")]


def test_a_clear_verdict_never_prints_the_reference_on_a_rounded_bound():
    # 66.2 % beside 66.4-74.0 would print as "66 %" beside "66-74": one more decimal parts them
    frame = status.status_frame(DA, pd.DataFrame([row()]), COLUMNS)
    assert frame.iloc[0].to_dict() == {
        "V": "70,0\u00a0% (66,4–74,0)",
        "R": "66,2\u00a0%",
        "P": "▲ bedre end kommunen",
        "C": "+3,00\u00a0pct.-point (+0,04 til +6,00)",
    }
    # no clear difference: the usual decimals (rounding keeps the reference inside)
    plain = row(decided_lower=0.60, position="within", change_lower=-0.01, change_verdict="none")
    frame = status.status_frame(DA, pd.DataFrame([plain]), COLUMNS)
    assert frame.iloc[0].to_dict() == {
        "V": "70\u00a0% (60–74)",
        "R": "66\u00a0%",
        "P": "● ingen tydelig forskel fra kommunen",
        "C": "+3,0\u00a0pct.-point (−1,0 til +6,0)",
    }


def test_a_position_that_could_not_be_assessed_prints_no_interval():
    missing = row(decided_lower=math.nan, decided_upper=math.nan, position="missing")
    frame = status.status_frame(DA, pd.DataFrame([missing]), COLUMNS)
    assert frame.iloc[0].tolist()[:3] == ["70\u00a0%", "66\u00a0%", "– kan ikke vurderes"]
