"""Staggered difference-in-differences with wild cluster bootstrap inference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import effect
from evaluation.errors import ParameterError, ValidationError

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


def test_fast_bootstrap_matches_brute_force_refits():
    # The closed form (Roodman et al. 2019) against re-running least squares on each y*.
    rng = np.random.default_rng(5)
    n_clusters, per = 8, 6
    clusters = np.repeat(np.arange(n_clusters), per)
    x = np.column_stack([np.ones(n_clusters * per), rng.normal(size=n_clusters * per)])
    y = (
        1
        + 0.3 * x[:, 1]
        + rng.normal(size=n_clusters * per)
        + rng.normal(size=n_clusters)[clusters]
    )
    r = np.array([0.0, 1.0])
    boot = effect.prepare_wild_bootstrap(x, y, clusters, r, draws=199, rng=rng)
    theta0 = 0.1
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    beta_r = beta - xtx_inv @ r * (r @ beta - theta0) / (r @ xtx_inv @ r)
    u_r = y - x @ beta_r
    g, n, k = n_clusters, len(y), 2
    scale = g / (g - 1) * (n - 1) / (n - k)

    def crve(resid):
        a = x @ xtx_inv @ r
        sums = np.bincount(clusters, weights=a * resid)
        return np.sqrt(scale * np.sum(sums**2))

    t_obs = (r @ beta - theta0) / crve(y - x @ beta)
    t_star = []
    for v in boot.v:
        y_star = x @ beta_r + v[clusters] * u_r
        b_star = xtx_inv @ x.T @ y_star
        t_star.append((r @ b_star - theta0) / crve(y_star - x @ b_star))
    brute = np.mean(np.abs(t_star) >= abs(t_obs))
    assert boot.p_value(theta0) == pytest.approx(brute, abs=1e-9)
    assert boot.se_crve == pytest.approx(crve(y - x @ beta))


def test_webb_weights_for_few_clusters_rademacher_for_many():
    rng = np.random.default_rng(0)
    v, name = effect.draw_weights(10, 2000, rng)
    assert name == "Webb six-point"
    assert set(np.round(np.unique(v), 6)) == set(np.round(effect.WEBB_POINTS, 6))
    # Webb (2014): mean 0, variance 1
    assert abs(v.mean()) < 0.02 and abs(v.var() - 1) < 0.02
    v, name = effect.draw_weights(13, 10, rng)
    assert name == "Rademacher" and set(np.unique(v)) == {-1.0, 1.0}


@pytest.mark.slow
def test_small_coverage_simulation_is_near_nominal():
    # 30 demo-shaped datasets, few draws: loose bounds (the full run is validation/).
    sim = load_validation()
    cov = sim.run(datasets=30, draws=199, effect_size=0.08, seed=7)
    assert 0.75 <= cov["coverage_wild"] <= 1.0
    assert abs(cov["mean_estimate"] - 0.08) < 0.02
    null = sim.run(datasets=30, draws=199, effect_size=0.0, seed=8)
    assert null["reject_wild"] <= 0.2


def test_randomisation_inference_finds_a_large_effect():
    sim = load_validation()
    panel = sim.simulate_panel(np.random.default_rng(3), effect_size=0.3)
    estimate, p = effect.randomisation_p_value(panel, permutations=199)
    assert estimate == pytest.approx(0.3, abs=0.06)
    assert p < 0.05


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
