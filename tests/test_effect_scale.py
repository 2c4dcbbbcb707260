"""evaluation.stats.effect_scale: the minimal detectable effect against printed t tables and
Bloom's (1995) multiplier, leave-one-cluster-out on a panel small enough to do by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evaluation.errors import ParameterError
from evaluation.stats import effect_scale


def test_mde_with_ten_clusters_matches_the_printed_t_table():
    # t(0.975, 9) = 2.262 and t(0.80, 9) = 0.883 in any printed t table: (2.262 + 0.883) * 0.02
    assert effect_scale.minimal_detectable_effect(0.02, 10) == pytest.approx(0.0629, abs=1e-4)
    # t(0.975, 4) = 2.776, t(0.80, 4) = 0.941: (2.776 + 0.941) * 0.5
    assert effect_scale.minimal_detectable_effect(0.5, 5) == pytest.approx(1.8585, abs=1e-3)


def test_mde_approaches_blooms_multiplier_of_2_8_with_many_clusters():
    # Bloom (1995), Table 1: two-sided 5 %, power 80 %: 2.80 standard errors (1.96 + 0.84)
    assert effect_scale.minimal_detectable_effect(1.0, 100_000) == pytest.approx(2.80, abs=0.005)


def test_mde_without_a_standard_error_is_nan_and_bad_input_is_refused():
    assert math.isnan(effect_scale.minimal_detectable_effect(math.nan, 10))
    with pytest.raises(ParameterError):
        effect_scale.minimal_detectable_effect(0.1, 1)
    with pytest.raises(ParameterError):
        effect_scale.minimal_detectable_effect(0.1, 10, power=1.2)


def tiny_panel() -> pd.DataFrame:
    """Two starters in 2021 (a: +2, b: +4 from 2020 to 2021), two never (c: +1, d: 0).
    Overall ATT = (2 + 4)/2 - (1 + 0)/2 = 2.5."""
    change = {"a": (2021, 2.0), "b": (2021, 4.0), "c": (math.nan, 1.0), "d": (math.nan, 0.0)}
    rows = []
    for cluster, (start, diff) in change.items():
        rows.append({"cluster_id": cluster, "year": 2020, "value": 3.0, "start_year": start})
        rows.append({"cluster_id": cluster, "year": 2021, "value": 3.0 + diff, "start_year": start})
    return pd.DataFrame(rows)


def test_leave_one_cluster_out_by_hand():
    loo = effect_scale.leave_one_cluster_out(tiny_panel()).set_index("cluster_id")
    # without a: 4 - 0.5; without b: 2 - 0.5; without c: 3 - 0; without d: 3 - 1
    assert loo["estimate"].to_dict() == pytest.approx({"a": 3.5, "b": 1.5, "c": 3.0, "d": 2.0})
    assert loo.loc["a", "start_year"] == 2021 and math.isnan(loo.loc["c", "start_year"])


def test_leaving_out_the_only_comparison_cluster_leaves_no_estimate():
    panel = tiny_panel()
    panel = panel[panel["cluster_id"] != "d"]
    loo = effect_scale.leave_one_cluster_out(panel).set_index("cluster_id")
    assert math.isnan(loo.loc["c", "estimate"])
    assert loo.loc["a", "estimate"] == pytest.approx(4.0 - 1.0)


def test_pupil_sd_per_kind():
    assert effect_scale.pupil_sd("mean", 3.7, 0.5) == 0.5
    assert effect_scale.pupil_sd("proportion", 0.9, math.nan) == pytest.approx(0.3)
    assert math.isnan(effect_scale.pupil_sd("median", 12.0, math.nan))


def test_leave_one_cluster_out_matches_diff_diff_callaway_santanna():
    """Each left-out estimate equals diff_diff's CallawaySantAnna (not-yet-treated comparison,
    universal base period, no covariates) fitted on the panel without that cluster."""
    import warnings

    import numpy as np

    diff_diff = pytest.importorskip("diff_diff")
    rng = np.random.default_rng(3)
    starts = [2019] * 3 + [2020] * 3 + [2021] * 2 + [math.nan] * 4
    rows = []
    for k, start in enumerate(starts):
        level = rng.normal(3.7, 0.1)
        for year in range(2016, 2023):
            effect = 0.1 if start <= year else 0.0  # NaN <= year is False: never started
            value = level + effect + rng.normal(0, 0.03)
            rows.append({"cluster_id": f"c{k}", "year": year, "value": value, "start_year": start})
    panel = pd.DataFrame(rows)
    loo = effect_scale.leave_one_cluster_out(panel).set_index("cluster_id")
    for left_out in ("c0", "c4", "c6", "c9"):  # one from each start group and a never-starter
        data = panel[panel["cluster_id"] != left_out]
        data = data.assign(first_treat=data["start_year"].fillna(0).astype(int))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = diff_diff.CallawaySantAnna(
                control_group="not_yet_treated", base_period="universal", estimation_method="reg"
            ).fit(data, outcome="value", unit="cluster_id", time="year", first_treat="first_treat")
        assert loo.loc[left_out, "estimate"] == pytest.approx(fit.overall_att, abs=1e-10)
