"""DerSimonian-Laird random-effects meta-analysis, checked against published values."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from evaluation.errors import ParameterError
from evaluation.stats import meta

EIGHT_SCHOOLS_Y = [28, 8, -3, 7, -1, 1, 18, 12]
EIGHT_SCHOOLS_SE = [15, 10, 16, 11, 9, 11, 10, 18]


def test_dersimonian_laird_matches_metafor():
    # Kacker (2004) example, R metafor: rma(y, v, method="DL") -> tau2 = 0.288049246973751,
    # QE = 24.801897741835 (as stored in statsmodels' stats/tests/results/results_meta.py)
    y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
    v = [0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]
    tau2, raw, q = meta.dersimonian_laird(y, v)
    assert tau2 == pytest.approx(0.288049246973751, rel=1e-9)
    assert raw == tau2
    assert q == pytest.approx(24.801897741835, rel=1e-9)


def test_dersimonian_laird_tau2_is_clipped_at_zero():
    # Homogeneous studies: Q = 0.0002 < k - 1 = 2, so the moment estimate is negative;
    # DerSimonian & Laird (1986) define tau^2 = max(0, .), as metafor does.
    y, v = [1.00, 1.01, 0.99], [1.0, 1.0, 1.0]
    tau2, raw, q = meta.dersimonian_laird(y, v)
    assert q < 2
    assert raw < 0
    assert tau2 == 0.0
    # the pitfall named in DESIGN.md: statsmodels leaves the negative value in place
    sm = combine_effects(np.array(y), np.array(v), method_re="chi2")
    assert sm.tau2 < 0


def test_eight_schools_pool_as_published():
    # Rubin (1981); Gelman et al., Bayesian Data Analysis ch. 5: Q = 4.707 on 7 df, so tau^2 is
    # clipped to 0 and the pool is the inverse-variance mean 7.686 with standard error 4.072
    se = np.array(EIGHT_SCHOOLS_SE, dtype=float)
    result = meta.random_effects_meta(EIGHT_SCHOOLS_Y, se**2)
    assert result.q == pytest.approx(4.707, rel=1e-3)
    assert result.df == 7
    assert result.tau2 == 0.0 and result.tau2_unclipped < 0
    assert result.pooled == pytest.approx(7.686, rel=1e-3)
    assert result.se == pytest.approx(4.072, rel=1e-3)
    assert result.i2 == 0.0


def test_heterogeneous_studies_are_pooled_as_metafor():
    # Kacker (2004), metafor rma(y, v, method = "DL") as stored in statsmodels'
    # stats/tests/results/results_meta.py (exk1_dl): b, se, tau2, I2 (in %)
    y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
    v = [0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]
    result = meta.random_effects_meta(y, v)
    assert result.tau2 == pytest.approx(0.288049246973751, rel=1e-9)
    assert result.pooled == pytest.approx(62.3901386044504, rel=1e-9)
    assert result.se == pytest.approx(0.245749668040304, rel=1e-9)
    assert 100 * result.i2 == pytest.approx(67.744403741711, rel=1e-9)


def test_meta_needs_two_estimates_with_positive_variances():
    with pytest.raises(ParameterError):
        meta.random_effects_meta([1.0], [1.0])
    with pytest.raises(ParameterError):
        meta.random_effects_meta([1.0, 2.0], [1.0, 0.0])
