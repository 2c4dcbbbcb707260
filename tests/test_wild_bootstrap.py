"""The wild cluster bootstrap-t: closed forms against brute-force refits, weights, and the
jackknife on a case small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.stats import wild_bootstrap


def clustered_regression(rng: np.random.Generator):
    """8 clusters of 6 rows: y = 1 + 0.3 x + noise + a cluster effect."""
    clusters = np.repeat(np.arange(8), 6)
    x = np.column_stack([np.ones(48), rng.normal(size=48)])
    y = 1 + 0.3 * x[:, 1] + rng.normal(size=48) + rng.normal(size=8)[clusters]
    return clusters, x, y


def test_jackknife_and_cluster_robust_errors_by_hand():
    # A mean of three clusters, one row each: y = 1, 2, 6, theta_hat = 3.
    # Deleting each cluster: means 4, 3.5, 1.5, deviations +1, +0.5, -1.5;
    # CV3 = (G-1)/G * (1 + 0.25 + 2.25) = 2/3 * 3.5 = 7/3.
    # CV1: residuals -2, -1, 3 times a = 1/3 -> scores -2/3, -1/3, 1, sum of squares 14/9,
    # scale G/(G-1) (N-1)/(N-K) = 3/2 * 2/2 = 1.5 -> 1.5 * 14/9 = 7/3 as well.
    x, y, clusters, r = np.ones((3, 1)), np.array([1.0, 2.0, 6.0]), np.arange(3), np.array([1.0])
    jack = wild_bootstrap.jackknife_matrix(x, clusters, r)
    np.testing.assert_allclose(jack @ y, [1.0, 0.5, -1.5])
    boot = wild_bootstrap.prepare_wild_bootstrap(x, y, clusters, r, draws=9, variance="CV3")
    assert boot.theta == pytest.approx(3.0)
    assert boot.se_cv3 == pytest.approx(np.sqrt(7 / 3))
    assert boot.se_crve == pytest.approx(np.sqrt(7 / 3))
    assert boot.variance == "CV3" and boot.n_clusters == 3


def test_fast_bootstrap_matches_brute_force_refits():
    # The closed form (Roodman et al. 2019) against re-running least squares on each y*.
    rng = np.random.default_rng(5)
    clusters, x, y = clustered_regression(rng)
    r = np.array([0.0, 1.0])
    boot = wild_bootstrap.prepare_wild_bootstrap(x, y, clusters, r, draws=199, rng=rng)
    theta0 = 0.1
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    beta_r = beta - xtx_inv @ r * (r @ beta - theta0) / (r @ xtx_inv @ r)
    u_r = y - x @ beta_r
    g, n, k = 8, len(y), 2
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
    v, name = wild_bootstrap.draw_weights(10, 2000, rng)
    assert name == "Webb six-point"
    assert set(np.round(np.unique(v), 6)) == set(np.round(wild_bootstrap.WEBB_POINTS, 6))
    # Webb (2014): mean 0, variance 1
    assert abs(v.mean()) < 0.02 and abs(v.var() - 1) < 0.02
    v, name = wild_bootstrap.draw_weights(13, 10, rng)
    assert name == "Rademacher" and set(np.unique(v)) == {-1.0, 1.0}


def test_jackknife_bootstrap_matches_brute_force_refits():
    # WCR13 and WCU13 (MacKinnon, Nielsen & Webb 2023) in closed form against refitting least
    # squares on each y* and on each delete-one-cluster sample, by their definitions:
    # CV3 = (G-1)/G sum_g (r'beta_(g) - r'beta_hat)^2.
    clusters, x, y = clustered_regression(np.random.default_rng(5))
    r, theta0 = np.array([0.0, 1.0]), 0.1

    def fit(values, keep):
        return np.linalg.lstsq(x[keep], values[keep], rcond=None)[0]

    def cv3(values):
        every = np.ones(len(values), dtype=bool)
        dev = [r @ fit(values, clusters != g) - r @ fit(values, every) for g in range(8)]
        return np.sqrt(7 / 8 * np.sum(np.square(dev)))

    beta = fit(y, np.ones(len(y), dtype=bool))
    xtx_inv = np.linalg.inv(x.T @ x)
    for restricted in (True, False):
        boot = wild_bootstrap.prepare_wild_bootstrap(
            x, y, clusters, r, 99, np.random.default_rng(1), "CV3", restricted
        )
        shift = (r @ beta - theta0) / (r @ xtx_inv @ r) if restricted else 0.0
        beta_null = beta - xtx_inv @ r * shift
        u_null = y - x @ beta_null
        t_obs = (r @ beta - theta0) / cv3(y)
        t_star = [
            (
                r @ fit(x @ beta_null + v[clusters] * u_null, np.ones(len(y), dtype=bool))
                - r @ beta_null
            )
            / cv3(x @ beta_null + v[clusters] * u_null)
            for v in boot.v
        ]
        assert boot.se_cv3 == pytest.approx(cv3(y))
        assert boot.p_value(theta0) == pytest.approx(np.mean(np.abs(t_star) >= abs(t_obs)))
