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
    vc = fit.variance_components().set_index("component")["variance"]
    assert vc["residual"] == pytest.approx(0.03**2, rel=0.3)
    assert vc["school"] == pytest.approx(0.05**2, rel=0.6)
    fe = fit.fixed_effects().set_index("term")
    assert fe.loc["C(year)[T.2024]", "estimate"] == pytest.approx(0.10, abs=0.02)


def test_needs_an_optimizer():
    with pytest.raises(ParameterError):
        models.fit_mixed("Weight ~ Time", pd.read_csv(DIETOX), groups="Pig", methods=())
