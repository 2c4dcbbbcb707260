"""evaluation.values.published: indicator values from the ministry's published school aggregates
(no respondent n), on the public fixture with a cluster map (the `fixture_warehouse` fixture of
tests/conftest.py). Expected numbers are worked by hand from the fixture rows or taken from the
public report (evaluation.reports.public_report), which fits the same national spread
independently of the ingest."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE  # noqa: E402

from evaluation.data import public_files, warehouse  # noqa: E402
from evaluation.reports import public_report as public  # noqa: E402
from evaluation.values import aggregate, published  # noqa: E402


def test_cluster_value_is_the_pupil_weighted_mean_of_its_schools(fixture_warehouse):
    values = aggregate.compute_indicator_values(fixture_warehouse)
    assert values.attrs["n_basis"] == "pupils"
    gen = values[values["indicator_id"] == "generel_trivsel"].set_index(["level", "entity_id"])
    # by hand from the fixture: Lindevangskolen 782 pupils 3.6, Søndermarkskolen 668 3.5,
    # Skolen på Duevej 864 3.5
    nord = gen.loc[("cluster", "nord")]
    assert nord["value"] == pytest.approx((782 * 3.6 + 668 * 3.5 + 864 * 3.5) / 2314)
    assert nord["n"] == 2314 and nord["kind"] == "mean" and pd.isna(nord["sd"])
    # unit se from the national fit; cluster se from the school se's
    spread = warehouse.read_table(fixture_warehouse, "aggregate_spread").set_index("indicator_id")
    a, b = spread.loc["generel_trivsel", ["intercept", "b"]]
    se = {u: np.sqrt(a + b / p) for u, p in {"147002": 782, "147006": 668, "147007": 864}.items()}
    assert gen.loc[("unit", "147002"), "se"] == pytest.approx(se["147002"])
    w2v = 782**2 * se["147002"] ** 2 + 668**2 * se["147006"] ** 2 + 864**2 * se["147007"] ** 2
    assert nord["se"] == pytest.approx(np.sqrt(w2v) / 2314)
    assert gen.loc[("unit", "147002"), "value"] == 3.6  # as published


def test_municipality_value_matches_the_public_report(fixture_warehouse):
    values = aggregate.compute_indicator_values(fixture_warehouse)
    comp = public.build_public_comparison("Frederiksberg", FIXTURE)
    for ind in public_files.WELLBEING_INDICATORS:
        row = values[(values["indicator_id"] == ind) & (values["level"] == "municipality")]
        own = comp.municipalities[ind]["units"].set_index("entity_id").loc["Frederiksberg"]
        assert row["value"].iloc[0] == pytest.approx(own["value"])
        assert row["se"].iloc[0] == pytest.approx(own["se"])


def test_pupil_level_output_is_untouched_without_aggregates(tmp_path):
    from tiny_warehouse import build_fixture_warehouse  # noqa: PLC0415

    path = build_fixture_warehouse(tmp_path / "tiny.duckdb")
    values = aggregate.compute_indicator_values(path)
    assert "n_basis" not in values.attrs
    assert list(values.columns) == aggregate.VALUE_COLUMNS


def test_weighted_rows_by_hand():
    frame = pd.DataFrame(
        {
            "cluster_id": ["K1", "K1", "K1", "K2"],
            "grade_band": "4-9",
            "indicator_id": "generel_trivsel",
            "pupils": [100.0, 300.0, np.nan, 200.0],
            "value": [3.0, 4.0, 5.0, 3.5],
            "se": [0.2, 0.1, 0.3, 0.1],
        }
    )
    rows = published.weighted_rows(frame, ["cluster_id"]).set_index("cluster_id")
    # K1: the school without a pupil count cannot be weighted and is left out:
    # (100 * 3 + 300 * 4) / 400 = 3.75; se = sqrt(100^2 * 0.2^2 + 300^2 * 0.1^2) / 400
    assert rows.loc["K1", "n"] == 400
    assert rows.loc["K1", "value"] == pytest.approx(3.75)
    assert rows.loc["K1", "se"] == pytest.approx(np.sqrt(400 + 900) / 400)
    # K2: one school keeps its own value and se
    assert (rows.loc["K2", "n"], rows.loc["K2", "value"]) == (200, 3.5)
    assert rows.loc["K2", "se"] == pytest.approx(0.1)


def test_local_spread_needs_three_schools_with_a_pupil_count():
    values = pd.DataFrame(
        {
            "year": 2024,
            "grade_band": "4-9",
            "indicator_id": ["a"] * 4 + ["b"] * 3,
            "value": [3.8, 3.2, 3.7, 3.3, 3.0, 3.1, 3.2],
            "pupils": [100, 100, 400, 400, 50, 60, np.nan],
        }
    )
    fit = published.local_spread(values)
    assert fit["indicator_id"].tolist() == ["a"]  # b: two schools with a count, too few
    # the four schools of test_spread.py: intercept 7/300, b 20/3
    assert fit.loc[0, "intercept"] == pytest.approx(7 / 300)
    assert fit.loc[0, "b"] == pytest.approx(20 / 3)
