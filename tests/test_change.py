"""Year-on-year change, trend and status-and-change, checked against published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ParameterError
from evaluation.stats import change

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score):
NEWCOMBE = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE)
def test_change_in_proportions_matches_newcombe_table(counts, published):
    x1, n1, x0, n0 = counts
    res = change.change_in_proportions([x1], [n1], [x0], [n0]).iloc[0]
    assert round(res["ci_low"], 4) == published[0]
    assert round(res["ci_high"], 4) == published[1]


def test_wilson_interval_matches_newcombe_single_proportion():
    # Newcombe (1998, Stat Med 17:857-872) Table I, method 3 (score): 81/263 -> 0.2553, 0.3662
    low, high = change.wilson_interval([81], [263])
    assert round(low[0], 4) == 0.2553 and round(high[0], 4) == 0.3662


def test_change_in_means_and_no_clear_change():
    # 3.90 -> 3.95 with se 0.03 each: se of change = sqrt(0.0018) = 0.042426,
    # 95 % interval 0.05 -/+ 1.959964 * 0.042426 = (-0.0332, 0.1332): no clear change
    res = change.change_in_means([3.95], [0.03], [3.90], [0.03]).iloc[0]
    assert res["se"] == pytest.approx(0.0424264, abs=1e-7)
    assert res["ci_low"] == pytest.approx(-0.0331539, abs=1e-6)
    assert res["direction"] == "no clear change"
    res = change.change_in_means([4.05], [0.02], [3.90], [0.02]).iloc[0]
    assert res["direction"] == "increase"


def test_year_on_year_skips_a_missing_year():
    series = pd.DataFrame(
        {
            "entity_id": ["a"] * 4,
            "year": [2018, 2019, 2020, 2021],
            "value": [3.8, 3.9, np.nan, 3.7],
            "se": [0.02, 0.02, np.nan, 0.02],
        }
    )
    out = change.year_on_year(series, kind="mean")
    assert out["from_year"].tolist() == [2018, 2019]
    assert out["year"].tolist() == [2019, 2021]
    assert out["direction"].tolist() == ["increase", "decrease"]


def test_year_on_year_for_proportions_uses_counts():
    series = pd.DataFrame(
        {
            "entity_id": ["a", "a"],
            "year": [2023, 2024],
            "value": [48 / 80, 56 / 70],
            "n": [80, 70],
            "numerator": [48, 56],
        }
    )
    out = change.year_on_year(series, kind="proportion").iloc[0]
    assert round(out["ci_low"], 4) == 0.0524 and round(out["ci_high"], 4) == 0.3339


def test_trend_on_a_straight_line_has_the_textbook_standard_error():
    # points exactly on y = 3.8 + 0.05 (year - 2020), se 0.1 each, years 2020-2024:
    # var(slope) = se^2 / sum (x - xbar)^2 = 0.01 / 10, so se = 0.0316228; phi = 0
    res = change.trend([2020, 2021, 2022, 2023, 2024], [3.8, 3.85, 3.9, 3.95, 4.0], [0.1] * 5)
    assert res["slope"] == pytest.approx(0.05)
    assert res["se"] == pytest.approx(0.0316228, abs=1e-7)
    assert res["ci_low"] == pytest.approx(0.05 - 1.959964 * 0.0316228, abs=1e-6)
    assert res["direction"] == "no clear change"  # the interval (-0.012, 0.112) holds zero


def test_trend_uses_only_the_last_years_and_inflates_for_scatter():
    years = list(range(2016, 2026))
    values = [3.0] * 5 + [3.9, 3.7, 3.95, 3.75, 4.0]
    res = change.trend(years, values, [0.01] * 10, last_k=5)
    assert res["first_year"] == 2021 and res["n_years"] == 5
    assert res["phi"] > 1
    assert res["se"] > 0.01 / np.sqrt(10)


def test_refusals_say_what_is_missing():
    with pytest.raises(ParameterError, match="at least 3 years"):
        change.trend([2023, 2024, 2025], [3.8, np.nan, 3.9], [0.1, 0.1, 0.1])
    with pytest.raises(ParameterError, match=r"\['n', 'numerator'\]"):
        change.year_on_year(
            pd.DataFrame({"entity_id": ["a"], "year": [2024], "value": [0.5]}), "proportion"
        )
    with pytest.raises(ParameterError, match="between 0 and 1"):
        change.change_in_means([4.0], [0.1], [3.9], [0.1], level=95)


def test_describe_change_calls_a_change_only_when_zero_is_outside_the_interval():
    low = [0.01, -0.2, 0.0, -0.1, -0.3]
    high = [0.2, -0.01, 0.1, 0.0, 0.3]
    assert change.describe_change(low, high).tolist() == [
        "increase",
        "decrease",
        "no clear change",  # ends exactly at zero: zero is inside
        "no clear change",
        "no clear change",
    ]
