"""Staggered difference-in-differences: cells, aggregation, headline inference, randomisation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ParameterError, ValidationError
from evaluation.stats import effect, wild_bootstrap

ROOT = Path(__file__).resolve().parents[1]


def load_validation():
    spec = importlib.util.spec_from_file_location(
        "effect_coverage", ROOT / "validation" / "effect_coverage.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def noiseless_panel(dynamic: bool = True) -> pd.DataFrame:
    """Cluster + year effects plus an effect growing with time since start; 2020 missing."""
    starts = {"A": 2022, "B": 2022, "C": 2024, "D": np.nan, "E": np.nan}
    level = {"A": 3.7, "B": 3.9, "C": 4.0, "D": 3.8, "E": 4.1}
    rows = []
    for cid, start in starts.items():
        for year in [2018, 2019, 2021, 2022, 2023, 2024, 2025]:
            e = year - start if not np.isnan(start) else -99
            tau = (0.10 + 0.05 * e if dynamic else 0.10) if e >= 0 else 0.0
            rows.append(
                {
                    "cluster_id": cid,
                    "year": year,
                    "value": level[cid] + 0.02 * (year - 2018) + tau,
                    "start_year": start,
                }
            )
    return pd.DataFrame(rows)


def test_cells_use_not_yet_started_comparisons_and_universal_base():
    res = effect.estimate_effect(noiseless_panel(), draws=99)
    cells = res.cells.set_index(["group", "year"])
    # group 2022: base year 2021; in 2022-2023 C (starts 2024) is still a comparison
    assert cells.loc[(2022, 2022), "base_year"] == 2021
    assert cells.loc[(2022, 2023), "n_comparison"] == 3  # C, D, E
    assert cells.loc[(2022, 2024), "n_comparison"] == 2  # D, E only: C has started
    # group 2024: base 2023, compared with never-started D and E (A, B already started)
    assert cells.loc[(2024, 2024), "n_comparison"] == 2
    # without noise every ATT(g, t) is the true effect at its event time: 0.10 + 0.05 e
    post = res.cells[res.cells["event_time"] >= 0]
    assert np.allclose(post["att"], 0.10 + 0.05 * post["event_time"], atol=1e-12)
    pre = res.cells[res.cells["event_time"] < 0]
    assert np.allclose(pre["att"], 0.0, atol=1e-12)


def test_event_study_and_overall_aggregate_by_group_size():
    res = effect.estimate_effect(noiseless_panel(), draws=99)
    es = res.event_study.set_index("event_time")
    assert es.loc[0, "estimate"] == pytest.approx(0.10)
    assert es.loc[3, "estimate"] == pytest.approx(0.25)  # only group 2022 reaches e = 3
    # overall: cells (2022: e=0..3, 2 clusters each) and (2024: e=0,1, 1 cluster each)
    # = (2 * (0.10+0.15+0.20+0.25) + 1 * (0.10+0.15)) / (2*4 + 1*2) = 1.65 / 10
    assert res.overall["estimate"] == pytest.approx(0.165)


def test_naive_two_way_fixed_effects_would_be_biased_here():
    # The reason for not using TWFE: with dynamic effects and staggered starts its coefficient
    # is a badly weighted average (Goodman-Bacon 2021); here it misses the 0.165 above.
    import statsmodels.formula.api as smf

    df = noiseless_panel()
    df["treated"] = (df["year"] >= df["start_year"]).astype(float)
    twfe = smf.ols("value ~ treated + C(cluster_id) + C(year)", data=df).fit()
    assert abs(twfe.params["treated"] - 0.165) > 0.02


def test_constant_effect_gives_equal_estimates_everywhere():
    res = effect.estimate_effect(noiseless_panel(dynamic=False), draws=99)
    post = res.event_study[res.event_study["event_time"].apply(lambda e: e == "overall" or e >= 0)]
    assert np.allclose(post["estimate"], 0.10)


def test_unrestricted_interval_equals_test_inversion():
    sim = load_validation()
    panel = sim.simulate_panel(np.random.default_rng(2))
    wide, start, cells = effect.estimate_cells(panel)
    x, y, clusters = effect.stack_cells(wide, cells)
    r = np.concatenate([np.zeros(len(cells)), effect.aggregation_weights(cells, "overall")])
    boot = wild_bootstrap.prepare_wild_bootstrap(
        x, y, clusters, r, 199, None, "CV3", restricted=False
    )
    low, high = boot.confidence_interval(0.95)
    assert low == pytest.approx(boot.find_bound(-1.0, 0.05), abs=1e-9)
    assert high == pytest.approx(boot.find_bound(1.0, 0.05), abs=1e-9)


def test_jackknife_drops_a_cell_left_without_treated_clusters():
    # Cluster C is the only 2024 starter: without it the 2024 cells vanish and the deleted-
    # cluster estimate averages the 2022 cells alone (weights rescaled), not a zero effect.
    res = effect.estimate_effect(noiseless_panel(dynamic=False), draws=99)
    overall = res.overall_row()
    assert overall["se_method"] == "CV3"
    assert overall["se"] == pytest.approx(0.0, abs=1e-12)  # constant effect, no noise
    # event time 3 is reached by group 2022 only: still defined when one of A, B is deleted
    assert res.event_study.set_index("event_time").loc[3, "se_method"] == "CV3"


@pytest.mark.slow
def test_small_coverage_simulation_is_near_nominal():
    # 30 demo-shaped datasets, few draws: loose bounds (the full run is validation/).
    sim = load_validation()
    cov = sim.run(datasets=30, draws=199, effect_size=0.08, seed=7)
    assert 0.8 <= cov["coverage_wcu13"] <= 1.0
    assert 0.8 <= cov["coverage_cv3"] <= 1.0
    assert abs(cov["mean_estimate"] - 0.08) < 0.02
    null = sim.run(datasets=30, draws=199, effect_size=0.0, seed=8)
    assert null["reject_wcu13"] <= 0.2


def test_overall_effect_of_a_wide_table_as_the_randomisation_test_recomputes_it():
    wide, start, _ = effect.estimate_cells(noiseless_panel())
    assert effect.overall_att_wide(wide, start) == pytest.approx(0.165)  # as the event study
    # everyone starting in 2018, the first year: no base year, so no cell and no estimate
    assert np.isnan(effect.overall_att_wide(wide, start.fillna(0) * 0 + 2018))


def test_randomisation_inference_finds_a_large_effect():
    sim = load_validation()
    panel = sim.simulate_panel(np.random.default_rng(3), effect_size=0.3)
    estimate, p = effect.randomisation_p_value(panel, permutations=199)
    assert estimate == pytest.approx(0.3, abs=0.06)
    assert p < 0.05


def test_the_overall_row_alone_is_the_overall_row_of_the_full_estimate():
    # the sensitivity checks and goals read only the overall row and skip the rest
    sim = load_validation()
    panel = sim.simulate_panel(np.random.default_rng(5), effect_size=0.1)
    full = effect.estimate_effect(panel, draws=199).overall_row()
    alone = effect.estimate_effect(panel, draws=199, event_times=False, cohorts=False)
    assert len(alone.event_study) == 1 and alone.cohorts.empty
    pd.testing.assert_series_equal(alone.overall_row(), full)


def test_wild_bootstrap_p_value_from_moments_equals_the_direct_sum():
    # p_value expands sum_g (A + B delta)^2; the direct sum over clusters must agree
    sim = load_validation()
    panel = sim.simulate_panel(np.random.default_rng(6), effect_size=0.1)
    wide, _, cells = effect.estimate_cells(panel)
    x, y, clusters = effect.stack_cells(wide, cells)
    r = np.concatenate([np.zeros(len(cells)), effect.aggregation_weights(cells, "overall")])
    boot = wild_bootstrap.prepare_wild_bootstrap(x, y, clusters, r, 199, variance="CV3")
    for theta0 in np.linspace(boot.theta - 4 * boot.se, boot.theta + 4 * boot.se, 17):
        delta = boot.theta - theta0
        num = boot.v @ (boot.s + boot.t * delta)
        pieces = boot.c0 + boot.c1 * delta + boot.vp + boot.vq * delta
        t_star = num / np.sqrt(boot.scale * np.sum(pieces**2, axis=1))
        direct = np.mean(np.abs(t_star) >= abs(delta / boot.se) - 1e-12)
        assert boot.p_value(theta0) == direct


def test_panel_errors_are_explained():
    with pytest.raises(ValidationError, match="start_year"):
        effect.estimate_effect(pd.DataFrame({"cluster_id": ["a"], "year": [2020], "value": [1]}))
    df = noiseless_panel()
    df.loc[0, "start_year"] = 2019
    with pytest.raises(ValidationError, match="several start years"):
        effect.estimate_effect(df)
    all_started = noiseless_panel().assign(start_year=2022.0)
    with pytest.raises(ParameterError, match="not yet started"):
        effect.estimate_effect(all_started)


def test_never_started_comparison_leaves_later_starters_out():
    res = effect.estimate_effect(noiseless_panel(), draws=99, comparison="never")
    cells = res.cells.set_index(["group", "year"])
    assert cells.loc[(2022, 2023), "n_comparison"] == 2  # D, E; not C (starts 2024)
    post = res.cells[res.cells["event_time"] >= 0]
    assert np.allclose(post["att"], 0.10 + 0.05 * post["event_time"], atol=1e-12)
    with pytest.raises(ParameterError, match="not_yet, never"):
        effect.estimate_effect(noiseless_panel(), draws=99, comparison="later")


def few_treated_panel() -> pd.DataFrame:
    """6 clusters, 2016-2024: A starts 2020, B and C 2022, D, E, F never; noise, no effect."""
    rng = np.random.default_rng(11)
    starts = {"A": 2020, "B": 2022, "C": 2022, "D": np.nan, "E": np.nan, "F": np.nan}
    rows = [
        {"cluster_id": cid, "year": year, "value": 3.8 + rng.normal(0, 0.05), "start_year": start}
        for cid, start in starts.items()
        for year in range(2016, 2025)
    ]
    return pd.DataFrame(rows)


def test_rows_resting_on_one_treated_cluster_get_no_interval_and_say_why():
    res = effect.estimate_effect(few_treated_panel(), draws=99)
    es = res.event_study.set_index("event_time")
    # A reaches e = -4 .. +4, B and C e = -6 .. +2 (base years 2019 and 2021 left out)
    expected = {"overall": 3, -6: 2, -5: 2, -4: 3, -3: 3, -2: 3, 0: 3, 1: 3, 2: 3, 3: 1, 4: 1}
    assert es["n_treated_clusters"].to_dict() == expected
    refused = es[es["n_treated_clusters"] < 2]
    assert list(refused.index) == [3, 4]  # only A, the 2020 starter, stands behind them
    assert (refused["refused"] == effect.REFUSED_FEW_TREATED.format(n=1)).all()
    assert refused[list(effect.INTERVAL_COLUMNS)].isna().all().all()
    assert refused["estimate"].notna().all()  # the point estimate stays
    assert (refused["se_method"] == "none").all()
    kept = es[es["n_treated_clusters"] >= 2]
    assert (kept["refused"] == "").all() and (kept["se_method"] == "CV3").all()
    assert (
        kept[["ci_low", "ci_high", "p_value", "wild_p_value", "crve_p_value"]].notna().all().all()
    )
    overall = res.overall_row()
    assert overall["ci_low"] < overall["estimate"] < overall["ci_high"]
    assert effect.CV3_LABEL in res.inference and effect.REFUSED_LABEL in res.inference
    cells = res.cells.set_index(["group", "year"])
    assert cells.loc[(2020, 2024), "refused"] == effect.REFUSED_FEW_TREATED.format(n=1)
    assert cells.loc[(2022, 2024), "refused"] == ""


def test_a_row_whose_jackknife_is_undefined_is_refused_not_estimated_with_cr1():
    # Two starters but one comparison cluster: deleting it leaves no comparison, so CV3 is
    # undefined; the row is refused with its own reason instead of falling back to CR1.
    panel = few_treated_panel()
    panel = panel[panel["cluster_id"].isin(["B", "C", "D"])]
    res = effect.estimate_effect(panel, draws=99)
    overall = res.overall_row()
    assert overall["n_treated_clusters"] == 2
    assert overall["refused"] == effect.REFUSED_JACKKNIFE.format(n=2)
    assert np.isnan(overall["p_value"]) and np.isnan(overall["crve_p_value"])
    assert (res.event_study["se_method"] != "CV1").all()
    assert res.inference.startswith("no interval and no p-value: every row refused")


def organ_donations_panel() -> pd.DataFrame:
    """Kessler & Roth (2014) via causaldata: 27 states, Quarter_Num 1-6 (Q4 2010 - Q1 2012);
    California alone is treated, from Q3 2011 (Quarter_Num 4)."""
    from causaldata import organ_donations

    data = organ_donations.load_pandas().data
    return pd.DataFrame(
        {
            "cluster_id": data["State"].astype(str),
            "year": data["Quarter_Num"].astype(int),
            "value": data["Rate"].astype(float),
            "start_year": np.where(data["State"] == "California", 4.0, np.nan),
        }
    )


def test_organ_donations_with_california_alone_treated_has_no_p_value():
    # Before: -0.0213 [-0.0330, -0.0097], p = 0.0008 from CR1 labelled CV3 (wild p near 0.4).
    res = effect.estimate_effect(organ_donations_panel(), draws=99)
    assert res.n_clusters == 27
    overall = res.overall_row()
    assert overall["estimate"] == pytest.approx(-0.0213, abs=1e-4)
    assert overall["n_treated_clusters"] == 1
    assert overall["refused"] == "fewer than two treated clusters (1): no interval can be known"
    es = res.event_study
    assert (es["refused"] != "").all()
    assert es[["p_value", "wild_p_value", "crve_p_value", "ci_low", "ci_high"]].isna().all().all()
    assert res.inference == effect.ALL_REFUSED_LABEL.format(reason=overall["refused"])


def test_cohort_rows_average_each_start_group_and_refuse_a_lone_cluster():
    res = effect.estimate_effect(noiseless_panel(), draws=99)
    cohorts = res.cohorts.set_index("group")
    # group 2022 (A, B): post cells 2022-2025 carry 0.10 + 0.05 e for e = 0..3, mean 0.175
    assert cohorts.loc[2022, "estimate"] == pytest.approx(0.175, abs=1e-12)
    assert cohorts.loc[2022, "n_treated_clusters"] == 2
    assert cohorts.loc[2022, "refused"] == ""
    # group 2024 is C alone: its point estimate (0.10 and 0.15 -> 0.125) without an interval
    assert cohorts.loc[2024, "estimate"] == pytest.approx(0.125, abs=1e-12)
    assert cohorts.loc[2024, "n_treated_clusters"] == 1
    assert "fewer than two treated clusters (1)" in cohorts.loc[2024, "refused"]
    assert np.isnan(cohorts.loc[2024, "ci_low"]) and np.isnan(cohorts.loc[2024, "p_value"])


def test_every_row_carries_what_the_simulations_measured_for_its_kind():
    res = effect.estimate_effect(noiseless_panel(), draws=99)
    for frame in (res.event_study, res.cohorts):
        for column in ("sim_coverage", "sim_rejection", "sim_datasets", "caveat"):
            assert column in frame
        refused = frame["refused"].astype(bool)
        assert (frame.loc[refused, "sim_datasets"] == 0).all()
        assert not frame.loc[refused, "caveat"].any()
