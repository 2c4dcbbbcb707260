"""Pre-trend checks (evaluation.stats.pretrends): the joint CV3 covariance of the event study,
the joint Wald test, Rambachan & Roth relative magnitudes against diff_diff's HonestDiD port,
and, as a cross-check of evaluation.stats.effect itself, its ATT(g, t) against csdid."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import effect, pretrends

COHORTS = [2021] * 3 + [2023] * 3 + [np.nan] * 4


def staggered_panel(
    seed: int = 1,
    starts: list | None = None,
    years=range(2016, 2026),
    pre_trend: float = 0.0,
    noise: float = 0.03,
) -> pd.DataFrame:
    """A balanced cluster-year panel: cluster and year effects, noise, an effect of 0.1 from the
    start on and, for started clusters, an optional linear trend before the start."""
    rng = np.random.default_rng(seed)
    starts = COHORTS if starts is None else starts
    year_effect = {y: rng.normal(0, 0.03) for y in years}
    rows = []
    for i, start in enumerate(starts):
        level = 3.8 + rng.normal(0, 0.1)
        for year in years:
            started = not np.isnan(start)
            value = level + year_effect[year] + rng.normal(0, noise)
            if started and year >= start:
                value += 0.1
            elif started:
                value += pre_trend * (year - start)
            rows.append({"cluster_id": f"k{i:02d}", "year": year, "value": value})
            rows[-1]["start_year"] = start
    return pd.DataFrame(rows)


def checks_for(panel: pd.DataFrame, draws: int = 199):
    result = effect.estimate_effect(panel, draws=99)
    cov = pretrends.event_study_covariance(panel)
    return result, cov, pretrends.pretrend_checks(panel, result.event_study, draws=draws)


def with_interval(result) -> pd.DataFrame:
    rows = result.event_study
    return rows[(rows["event_time"] != "overall") & ~rows["refused"].astype(bool)]


# --- the joint covariance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "panel",
    [
        staggered_panel(),
        staggered_panel(2, years=[y for y in range(2016, 2026) if y != 2020]),  # a missing year
        staggered_panel(3, starts=[2018, 2021, 2021, 2021, np.nan, np.nan, np.nan]),  # refusals
    ],
)
def test_the_joint_covariance_has_the_event_study_se_squared_on_its_diagonal(panel):
    result = effect.estimate_effect(panel, draws=99)
    cov = pretrends.event_study_covariance(panel)
    rows = with_interval(result)
    times = [int(e) for e in rows["event_time"]]
    estimates, covariance = cov.select(times)
    np.testing.assert_allclose(np.diag(covariance), rows["se"].to_numpy() ** 2, rtol=0, atol=1e-10)
    np.testing.assert_allclose(estimates, rows["estimate"].to_numpy(), rtol=0, atol=1e-12)


def test_the_joint_covariance_is_the_jackknife_of_re_estimating_without_each_cluster():
    """Brute force: delete a cluster from the panel, rerun estimate_effect for its ATT(g, t)
    cells, average them per event time with the full sample's weights (the same aggregation
    weights, n_treated per cell), and take (G-1)/G sum (theta_(g) - theta_hat)(...)' centred
    at the full-sample estimate, as effect.py's CV3."""
    panel = staggered_panel(4)
    cells = effect.estimate_effect(panel, draws=99).cells
    cells["weight"] = cells["n_treated"] / cells.groupby("event_time")["n_treated"].transform("sum")

    def by_event_time(att: pd.Series) -> pd.Series:
        return (cells["weight"] * att).groupby(cells["event_time"]).sum()

    theta = by_event_time(cells["att"])
    clusters = sorted(panel["cluster_id"].unique())
    deviations = []
    for cluster in clusters:
        deleted = effect.estimate_effect(panel[panel["cluster_id"] != cluster], draws=99).cells
        att = cells.merge(deleted, on=["group", "year"], how="left", suffixes=("_full", ""))
        assert att["att"].notna().all()  # every cell survives each deletion in this design
        deviations.append(by_event_time(att["att"]) - theta)
    g = len(clusters)
    deviations = np.array(deviations)
    brute = (g - 1) / g * deviations.T @ deviations
    cov = pretrends.event_study_covariance(panel)
    np.testing.assert_allclose(cov.select(list(theta.index))[1], brute, rtol=0, atol=1e-12)


# --- the joint Wald test ------------------------------------------------------------------------


def test_with_one_pre_period_the_f_test_is_the_rows_t_test():
    """k = 1: F(1, G-1) = t(G-1) squared, so the p-value is the row's own CV3 p-value."""
    panel = staggered_panel(5, starts=[2021] * 4 + [np.nan] * 4, years=range(2019, 2025))
    result, _, checks = checks_for(panel)
    test = checks.test
    row = result.event_study.set_index("event_time").loc[-2]
    assert test.event_times == (-2,)
    assert test.f_statistic == pytest.approx((row["estimate"] / row["se"]) ** 2, rel=1e-10)
    assert test.f_p_value == pytest.approx(row["p_value"], rel=1e-10)
    assert test.df_denominator == 7


def test_the_wald_statistic_is_theta_v_inverse_theta_over_every_pre_row():
    panel = staggered_panel(6)
    result, cov, checks = checks_for(panel)
    pre = with_interval(result)
    pre = pre[pre["event_time"].astype(int) < 0]
    theta, v = cov.select([int(e) for e in pre["event_time"]])
    assert checks.test.event_times == tuple(int(e) for e in pre["event_time"])
    assert checks.test.wald == pytest.approx(theta @ np.linalg.inv(v) @ theta, rel=1e-10)
    assert 0 < checks.test.p_value <= 1
    assert checks.test.weights_name == "Webb six-point" and checks.test.draws == 199


def test_a_clear_pre_trend_is_rejected_and_the_p_value_is_reproducible():
    """20 clusters (Rademacher weights); with 10 the joint test has little power."""
    panel = staggered_panel(7, starts=[2021] * 6 + [2023] * 6 + [np.nan] * 8, pre_trend=0.05)
    _, _, first = checks_for(panel)
    _, _, again = checks_for(panel)
    assert first.test.p_value < 0.01
    assert first.test.p_value == again.test.p_value  # seeded
    assert first.test.weights_name == "Rademacher"


def test_single_rows_that_reject_alone_are_listed():
    panel = staggered_panel(8, pre_trend=0.05)
    result, _, checks = checks_for(panel)
    rows = with_interval(result)
    alone = tuple(
        int(e) for e, p in zip(rows["event_time"], rows["p_value"], strict=True) if p < 0.05
    )
    assert checks.test.single_rejections == tuple(e for e in alone if e < 0)
    assert checks.test.single_rejections  # the steep trend makes some rows reject alone
    pre = rows[rows["event_time"].astype(int) < 0]
    bonferroni = min(1.0, pre["p_value"].min() * len(pre))
    assert checks.test.bonferroni_p_value == pytest.approx(bonferroni, rel=1e-12)


def test_no_pre_period_and_all_pre_rows_refused_give_a_reason_and_no_p_value():
    no_pre = staggered_panel(9, starts=[2017] * 3 + [np.nan] * 3, years=range(2016, 2021))
    _, _, checks = checks_for(no_pre)
    assert checks.test.reason == pretrends.NO_PRE_PERIODS and np.isnan(checks.test.p_value)
    assert checks.sensitivity.reason == pretrends.NO_PRE_PERIODS
    refused = staggered_panel(10, starts=[2021] + [np.nan] * 3)  # one started cluster
    _, _, checks = checks_for(refused)
    assert checks.test.reason == pretrends.ALL_PRE_REFUSED and np.isnan(checks.test.p_value)
    assert checks.test.excluded and all(e < 0 for e in checks.test.excluded)
    assert checks.sensitivity.reason == pretrends.NO_POST_PERIODS


def test_more_pre_rows_than_clusters_allow_is_refused():
    panel = staggered_panel(11, starts=[2022, 2022, np.nan, np.nan], years=range(2016, 2024))
    _, _, checks = checks_for(panel)
    assert checks.test.reason == pretrends.TOO_FEW_CLUSTERS
    assert np.isnan(checks.test.p_value)


def test_refused_pre_rows_are_left_out_of_the_test_and_of_the_restriction():
    """One cluster starts in 2024: event times -8..-6 rest on it alone and are refused."""
    panel = staggered_panel(17, starts=[2024] + [2021] * 3 + [np.nan] * 4)
    result, cov, checks = checks_for(panel)
    assert checks.test.excluded == (-8, -7, -6)
    assert checks.test.event_times == (-5, -4, -3, -2)
    theta, v = cov.select([-5, -4, -3, -2])
    assert checks.test.wald == pytest.approx(theta @ np.linalg.inv(v) @ theta, rel=1e-10)
    assert checks.sensitivity.pre_times == (-5, -4, -3, -2)
    assert {-8, -7, -6} <= set(checks.sensitivity.left_out)


def test_a_singular_covariance_gives_a_reason():
    cov = pretrends.event_study_covariance(staggered_panel(12))
    cov.covariance = np.zeros_like(cov.covariance)
    event_study = pd.DataFrame(
        {"event_time": [-3, -2, 0], "p_value": [0.5, 0.5, 0.5], "refused": ["", "", ""]}
    )
    test = pretrends.joint_pretrend_test(cov, event_study)
    assert test.reason == pretrends.SINGULAR and np.isnan(test.p_value)


# --- Rambachan & Roth relative magnitudes against diff_diff -------------------------------------


def diff_diff_results(cov, rm):
    """Our event study as diff_diff's MultiPeriodDiDResults (estimates, joint CV3 covariance,
    t(G-1) via df_inference), the way HonestDiD reads an event study."""
    from diff_diff.results import MultiPeriodDiDResults, PeriodEffect

    times = list(rm.pre_times + rm.post_times)
    beta, sigma = cov.select(times)
    effects = {
        e: PeriodEffect(e, b, np.sqrt(s), b / np.sqrt(s), np.nan, (np.nan, np.nan))
        for e, b, s in zip(times, beta, np.diag(sigma), strict=True)
    }
    results = MultiPeriodDiDResults(
        period_effects=effects,
        avg_att=rm.estimate,
        avg_se=rm.se,
        avg_t_stat=np.nan,
        avg_p_value=np.nan,
        avg_conf_int=(np.nan, np.nan),
        n_obs=len(cov.y),
        n_treated=0,
        n_control=0,
        pre_periods=list(rm.pre_times),
        post_periods=list(rm.post_times),
        vcov=sigma,
        interaction_indices={e: i for i, e in enumerate(times)},
        reference_period=-1,
    )
    results.df_inference = cov.n_clusters - 1
    return results


@pytest.mark.parametrize("seed, pre_trend", [(1, 0.0), (13, 0.01)])
def test_relative_magnitude_intervals_and_breakdown_agree_with_diff_diff(seed, pre_trend):
    """diff_diff.honest_did.HonestDiD(method="relative_magnitude") with our weights l (the
    overall row's): identified set and robust interval at each Mbar to 1e-8, breakdown value to
    1e-6 (its bisection runs to 1e-9)."""
    from diff_diff.honest_did import HonestDiD

    panel = staggered_panel(seed, pre_trend=pre_trend)
    _, cov, checks = checks_for(panel)
    rm = checks.sensitivity
    assert not rm.reason and rm.left_out == ()
    results = diff_diff_results(cov, rm)
    honest = HonestDiD(method="relative_magnitude", alpha=0.05, l_vec=rm.weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in checks.table.itertuples():
            theirs = honest.fit(results, M=row.mbar)
            assert (row.set_low, row.set_high) == pytest.approx((theirs.lb, theirs.ub), abs=1e-8)
            assert (row.ci_low, row.ci_high) == pytest.approx(
                (theirs.ci_lb, theirs.ci_ub), abs=1e-8
            )
        breakdown = honest.breakdown_value(results, tol=1e-9)
    assert 0 < rm.breakdown < 10
    assert rm.breakdown == pytest.approx(breakdown, abs=1e-6)


def test_at_mbar_zero_the_robust_interval_is_the_headline_interval():
    result, _, checks = checks_for(staggered_panel(14))
    overall = result.overall_row()
    rm = checks.sensitivity
    assert rm.estimate == pytest.approx(overall["estimate"], abs=1e-12)
    assert rm.se == pytest.approx(overall["se"], abs=1e-12)
    assert rm.interval(0.0) == pytest.approx((overall["ci_low"], overall["ci_high"]), abs=1e-12)


def test_a_refused_trailing_post_row_is_left_out_of_the_target():
    """One cluster started early: its late event times rest on it alone and are refused."""
    panel = staggered_panel(15, starts=[2018, 2021, 2021, 2021, np.nan, np.nan, np.nan])
    result, _, checks = checks_for(panel)
    rm = checks.sensitivity
    rows = with_interval(result).set_index("event_time")
    post = [e for e in rows.index if int(e) >= 0]
    assert rm.post_times == tuple(post) and max(rm.left_out) > max(post)
    cells = result.cells[result.cells["event_time"].isin(post)]
    sizes = cells.groupby("event_time")["n_treated"].sum().loc[post].to_numpy(dtype=float)
    expected = sizes / sizes.sum() @ rows.loc[post, "estimate"].to_numpy(dtype=float)
    assert rm.estimate == pytest.approx(expected, abs=1e-12)


def test_the_restriction_uses_only_rows_that_reach_the_start():
    kept, out = pretrends.adjacent_run([-6, -5, -3, -2], [-4], pre=True)
    assert kept == [-3, -2] and out == [-6, -5]
    kept, out = pretrends.adjacent_run([0, 1, 3], [2], pre=False)
    assert kept == [0, 1] and out == [3]


# --- effect.py's ATT(g, t) against csdid (a cross-check of evaluation.stats.effect) ------------


@pytest.mark.parametrize(
    "comparison, control_group", [("not_yet", "notyettreated"), ("never", "nevertreated")]
)
def test_att_gt_cells_equal_csdid_with_universal_base_period(comparison, control_group):
    """csdid (Python port of R's did, Callaway & Sant'Anna 2021), no covariates, universal base
    period: every ATT(g, t) of effect.py equals csdid's to 1e-8 (csdid's extra cells are its
    base periods, ATT = 0 by construction, which effect.py leaves out)."""
    from csdid.att_gt import ATTgt

    panel = staggered_panel(16, starts=[2019, 2019, 2021, 2021, 2021, 2023, 2023] + [np.nan] * 5)
    ours = effect.estimate_effect(panel, draws=99, event_times=False, comparison=comparison).cells
    data = panel.assign(
        unit=panel["cluster_id"].str[1:].astype(int),
        group=panel["start_year"].fillna(0).astype(int),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # csdid warns about small groups
        att = ATTgt("value", "year", "unit", "group", data, control_group=control_group)
        att.fit(est_method="reg", base_period="universal", bstrap=False)
    theirs = pd.DataFrame({k: np.asarray(att.results[k]) for k in ("group", "year", "att")})
    merged = theirs.merge(ours, on=["group", "year"], how="left", suffixes=("_cs", ""))
    base = merged["att"].isna()
    assert (merged.loc[base, "year"] == merged.loc[base, "group"] - 1).all()
    assert merged.loc[base, "att_cs"].abs().max() < 1e-12
    assert len(merged) - base.sum() == len(ours)
    np.testing.assert_allclose(merged.loc[~base, "att"], merged.loc[~base, "att_cs"], atol=1e-8)
