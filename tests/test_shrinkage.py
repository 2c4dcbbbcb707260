"""Empirical-Bayes shrinkage, checked against Efron & Morris's published baseball example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ParameterError
from evaluation.stats import shrinkage

# Efron & Morris (1975, JASA 70:311-319; 1977, Scientific American 236(5):119-127): hits in the
# first 45 at-bats of 1970 for 18 players (Clemente, F. Robinson, F. Howard, Johnstone, Berry,
# Spencer, Kessinger, L. Alvarado, Santo, Swoboda, Unser, Williams, Scott, Petrocelli,
# E. Rodriguez, Campaneris, Munson, Alvis).
HITS = np.array([18, 17, 16, 15, 14, 14, 13, 12, 11, 11, 10, 10, 10, 10, 10, 9, 8, 7])


def test_equal_variances_reproduce_efron_morris_james_stein():
    y = HITS / 45
    grand = y.mean()  # published: .265
    v = np.full(18, grand * (1 - grand) / 45)  # binomial variance at the grand mean
    table, fit = shrinkage.shrink_estimates(y, v)
    # published shrinking factor c = .212 (1 - B, the same for every player)
    assert round(1 - table["shrinkage"].iloc[0], 3) == 0.212
    assert round(table["prior_mean"].iloc[0], 3) == 0.265
    # published James-Stein estimates for the first seven players
    published = [0.294, 0.289, 0.285, 0.280, 0.275, 0.275, 0.270]
    assert table["shrunk"].round(3).iloc[:7].tolist() == published
    assert fit.n_means == 1 and fit.converged


def test_unequal_variances_shrink_small_units_more():
    rng = np.random.default_rng(0)
    n = np.array([8, 15, 30, 60, 120, 250, 500, 40, 20, 90])
    true = 3.9 + rng.normal(0, 0.1, len(n))
    se = 0.8 / np.sqrt(n)
    y = true + rng.normal(0, se)
    table, fit = shrinkage.shrink_estimates(y, se**2)
    assert fit.between_variance > 0
    order = np.argsort(n)
    # reliability rises and shrinkage falls with the unit's size
    assert np.all(np.diff(table["reliability"].to_numpy()[order]) > 0)
    assert np.all(np.diff(table["shrinkage"].to_numpy()[order]) < 0)
    # shrunk values lie between the raw value and the mean
    lo = np.minimum(table["value"], table["prior_mean"])
    hi = np.maximum(table["value"], table["prior_mean"])
    assert ((table["shrunk"] >= lo - 1e-12) & (table["shrunk"] <= hi + 1e-12)).all()


def test_no_real_differences_shrinks_all_the_way():
    # values spread less than their noise: A = 0 and every unit goes to the mean (Morris 1983)
    y = np.array([3.0, 3.01, 2.99, 3.0, 3.02, 2.98])
    table, fit = shrinkage.shrink_estimates(y, np.full(6, 0.04))
    assert fit.between_variance == 0
    assert np.allclose(table["reliability"], 0)


def test_shrink_values_toward_cluster_means():
    rows = []
    rng = np.random.default_rng(2)
    for c, centre in enumerate([3.6, 4.1, 3.9]):
        for s in range(5):
            n = int(rng.integers(10, 200))
            se = 0.8 / np.sqrt(n)
            rows.append(
                {
                    "entity_id": f"k{c}s{s}",
                    "cluster_id": f"k{c}",
                    "value": centre + rng.normal(0, 0.05) + rng.normal(0, se),
                    "se": se,
                }
            )
    rows.append({"entity_id": "x", "cluster_id": "k0", "value": np.nan, "se": np.nan})
    values = pd.DataFrame(rows)
    table, fit = shrinkage.shrink_values(values, by="cluster_id")
    assert "x" not in set(table["entity_id"])  # suppressed rows are left out
    assert fit.n_means == 3
    means = table.groupby("cluster_id")["prior_mean"].nunique()
    assert (means == 1).all()
    k0 = table[table["cluster_id"] == "k0"]
    assert abs(k0["prior_mean"].iloc[0] - 3.6) < 0.1


def test_too_few_units_is_refused():
    with pytest.raises(ParameterError, match="at least"):
        shrinkage.shrink_estimates([1.0, 2.0, 3.0], [0.1, 0.1, 0.1])
