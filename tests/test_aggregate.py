"""evaluation.values.aggregate: compute_indicator_values on a small hand-made warehouse (the
`warehouse` and `tiny` fixtures of tests/conftest.py, rows in tests/fixtures/hand_values.py), each
expected number worked out in the comment beside it."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from hand_values import build_warehouse, cell  # noqa: E402

from evaluation.catalog import REGISTER_COLUMNS  # noqa: E402
from evaluation.errors import EvaluationError  # noqa: E402
from evaluation.values import load_indicator_values  # noqa: E402
from evaluation.values.aggregate import VALUE_COLUMNS, compute_indicator_values  # noqa: E402


def test_values_table_shape(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    assert list(values.columns) == VALUE_COLUMNS
    assert set(values["level"]) == {"unit", "cluster", "municipality"}
    assert not values["suppressed"].any()
    assert set(values.loc[values["indicator_id"] == "idx", "grade_band"]) == {"4-9"}
    assert set(values.loc[values["indicator_id"] == "inkl", "grade_band"]) == {"all"}
    assert values.loc[values["level"] == "municipality", "cluster_id"].isna().all()


def test_survey_clusters_follow_membership_of_each_year(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    # 2022: K1 = U1 (5.0, 2.5) + U2 (3.0, 4.5): mean 15/4 = 3.75; squared deviations
    # 1.5625 + 1.5625 + 0.5625 + 0.5625 = 4.25, sd = sqrt(4.25 / 3)
    k1 = cell(values, 2022, "cluster", "K1", "idx")
    assert (k1["n"], k1["value"]) == (4, 3.75)
    assert k1["sd"] == pytest.approx(math.sqrt(4.25 / 3))
    assert k1["se"] == pytest.approx(math.sqrt(4.25 / 3) / 2)
    # 2023: U2 has moved to K2: K1 = U1 (3.0); K2 = U2 (5.0) + U3 (4.0) = 4.5
    assert cell(values, 2023, "cluster", "K1", "idx")["value"] == 3.0
    k2 = cell(values, 2023, "cluster", "K2", "idx")
    assert (k2["n"], k2["value"]) == (2, 4.5)
    assert cell(values, 2022, "unit", "U2", "idx")["cluster_id"] == "K1"
    assert cell(values, 2023, "unit", "U2", "idx")["cluster_id"] == "K2"
    # municipality 2022: 5, 2.5, 3, 4.5, 4 -> 19 / 5 = 3.8
    muni = cell(values, 2022, "municipality", "Testby", "idx")
    assert (muni["n"], muni["value"]) == (5, 3.8)
    # proportion: U1 2022 high wellbeing: A 1, B 0 -> 1/2, se sqrt(.25 / 2)
    high = cell(values, 2022, "unit", "U1", "high")
    assert (high["n"], high["numerator"], high["value"]) == (2, 1, 0.5)
    assert high["se"] == pytest.approx(math.sqrt(0.25 / 2))
    assert pd.isna(high["sd"])


def test_register_indicators_by_school_and_home_cluster(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    # unit U1 (school attended): rows 1+2: pupils 120, in general setting 95 + 18 = 113
    u1 = cell(values, 2023, "unit", "U1", "inkl")
    assert (u1["n"], u1["numerator"]) == (120, 113)
    assert u1["value"] == pytest.approx(113 / 120)
    assert u1["cluster_id"] == "K1"
    # cluster K2 (home cluster): rows 2+3: 70 pupils, 68 in general setting
    k2 = cell(values, 2023, "cluster", "K2", "inkl")
    assert (k2["n"], k2["numerator"]) == (70, 68)
    muni = cell(values, 2023, "municipality", "Testby", "inkl")
    assert (muni["n"], muni["numerator"]) == (170, 163)
    # naerhed U1: special pupils 3 + 2 + 2 = 7, inside own cluster 4 + 1 = 5
    naer = cell(values, 2023, "unit", "U1", "naer")
    assert (naer["n"], naer["numerator"]) == (7, 5)
    # U3 has no pupils in special provision: no naerhed cell at all (n = 0)
    assert values[(values["entity_id"] == "U3") & (values["indicator_id"] == "naer")].empty
    # waiting time U1: medians 30 (10 referrals) and 60 (5): weighted median 30, n 15
    vent = cell(values, 2023, "unit", "U1", "vent")
    assert (vent["n"], vent["value"]) == (15, 30.0)
    assert vent["se"] == pytest.approx(30 / (math.log(2) * math.sqrt(15)))
    # K2: 60 (5 referrals) and a row without referrals -> 60, n 5
    assert cell(values, 2023, "cluster", "K2", "vent")["value"] == 60.0


def test_absence_pooled_sd_matches_pupil_level_sd(tmp_path, tiny):
    """The register carries a mean and SD per row; the pooled SD must equal numpy's SD of the
    pupils behind the rows."""
    rng = np.random.default_rng(1)
    groups = [rng.gamma(2.0, 3.0, size=n) for n in (37, 12, 51)]
    rows = [
        (2023, "U1", home, len(g), len(g), 0, 0, 0, 0, 0, None, g.mean(), g.std(ddof=1), 0)
        for home, g in zip(["K1", "K1", "K2"], groups, strict=True)
    ]
    register = pd.DataFrame(rows, columns=["year", "unit_id", "home_cluster", *REGISTER_COLUMNS])
    units = pd.DataFrame({"unit_id": ["U1"], "municipality": ["Testby"]})
    path = build_warehouse(tmp_path / "r.duckdb", {"register": register, "units": units})
    values = compute_indicator_values(path, tiny)
    everyone = np.concatenate(groups)
    unit = cell(values, 2023, "unit", "U1", "frav")
    assert unit["value"] == pytest.approx(everyone.mean())
    assert unit["sd"] == pytest.approx(everyone.std(ddof=1))
    assert unit["se"] == pytest.approx(everyone.std(ddof=1) / math.sqrt(100))
    k1 = cell(values, 2023, "cluster", "K1", "frav")
    assert k1["sd"] == pytest.approx(np.concatenate(groups[:2]).std(ddof=1))


def test_daycare_language_by_membership(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    d1 = cell(values, 2023, "unit", "D1", "sprog")
    assert (d1["n"], d1["numerator"], d1["value"]) == (40, 10, 0.25)
    assert d1["grade_band"] == "3-6 år"
    # K2 in 2023 = D2 only: 3 / 20; municipality (6 + 4 + 2 + 1) / 60
    assert cell(values, 2023, "cluster", "K2", "sprog")["value"] == pytest.approx(3 / 20)
    assert cell(values, 2023, "municipality", "Testby", "sprog")["value"] == pytest.approx(13 / 60)


def test_missing_warehouse_says_how_to_build_one(tmp_path):
    missing = tmp_path / "none.duckdb"
    with pytest.raises(EvaluationError, match="workbench demo-data") as caught:
        compute_indicator_values(missing)
    assert str(missing) in str(caught.value)
    with pytest.raises(EvaluationError, match="workbench demo-data"):
        load_indicator_values(missing, min_n=5)
