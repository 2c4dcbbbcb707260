"""The cluster report's trends (evaluation.reports.cluster_trends) on hand-made values."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from evaluation.catalog import load_catalog
from evaluation.reports import cluster_trends
from evaluation.texts import texts_for

CATALOG = load_catalog()


def small_report(values: pd.DataFrame) -> SimpleNamespace:
    data = SimpleNamespace(values=values, catalog=CATALOG, memo={})
    return SimpleNamespace(
        t=texts_for("da"), data=data, cluster_id="nord", cluster_name="Nord", year=2024, cache={}
    )


def cluster_values(years, values, se=0.05) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator_id": "generel_trivsel",
            "level": "cluster",
            "entity_id": "nord",
            "year": years,
            "value": values,
            "se": se,
        }
    )


def test_slope_of_a_straight_line_is_its_step():
    report = small_report(cluster_values([2022, 2023, 2024], [3.50, 3.60, 3.70]))
    slopes = cluster_trends.trend_slopes(report)
    assert len(slopes) == 1
    row = slopes.iloc[0]
    assert row["slope"] == pytest.approx(0.10)
    assert row["indicator"].id == "generel_trivsel"
    assert (row["first_year"], row["last_year"], row["n_years"]) == (2022, 2024, 3)


def test_two_years_give_no_trend():
    report = small_report(cluster_values([2023, 2024], [3.5, 3.6]))
    assert cluster_trends.trend_slopes(report).empty
    assert cluster_trends.trend_slopes_html(report) == ""


def test_slopes_of_a_scale_have_three_decimals():
    t = texts_for("da")
    assert cluster_trends.format_slope(t, CATALOG.get("generel_trivsel"), 0.0123) == "+0,012"
    assert cluster_trends.format_slope(t, CATALOG.get("fravaer"), -0.5) == "−0,5\u00a0pct.-point"


def test_trend_table_shows_every_year_and_the_marker_for_a_gap():
    report = small_report(pd.DataFrame())
    frame = pd.DataFrame(
        {
            "indicator_id": "generel_trivsel",
            "series": "Nord",
            "year_label": ["2022/23", "2024/25"],
            "value": [3.5, math.nan],
        }
    )
    table = cluster_trends.trend_table(report, frame, ["2022/23", "2023/24", "2024/25"])
    assert table.to_dict("records") == [
        {"Nøgletal": "Generel trivsel: Nord", "2022/23": "3,50", "2023/24": "–", "2024/25": "–"}
    ]
