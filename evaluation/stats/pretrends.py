"""Pre-trend checks for the staggered event study of `evaluation.stats.effect`.

Two checks of the parallel-trends assumption behind the effect estimate:

1. A joint Wald test that every pre-start event-time estimate is zero, with the headline
   variance: the joint cluster-jackknife (CV3) covariance of the event-time estimates. Each
   cluster is deleted in turn from the stacked problem and the whole vector of event-time
   estimates recomputed with the same aggregation weights (`jackknife_matrix` of
   `evaluation.stats.wild_bootstrap`, the very deletions behind the rows' standard errors), and
   V = (G-1)/G sum_g (theta_(g) - theta_hat)(theta_(g) - theta_hat)'. Like effect.py (and
   MacKinnon, Nielsen & Webb 2023's CV3) the deviations are centred at the full-sample
   estimate, not at the mean of the deletions, so diag(V) is exactly the rows' se squared.
   The p-value of W = theta' V^-1 theta comes from a wild cluster restricted bootstrap, not
   from F(k, G-1), which over-rejects badly with about 10 clusters (see PretrendTest).
2. Rambachan & Roth (2023, "A More Credible Approach to Parallel Trends", Review of Economic
   Studies 90:2555-2591) relative-magnitude sensitivity, Delta^RM(Mbar): after the start the
   deviation from parallel trends may change from one period to the next by at most Mbar times
   the largest such change before the start. Reported: the robust interval for the target at
   chosen Mbar and the breakdown value, the largest Mbar at which it still excludes zero.

The target of the sensitivity analysis is the report's headline, the "overall" row: the average
of the post-start event-time estimates weighted by their treated clusters (n_e / sum n_e, n_e the
treated clusters summed over the cells at event time e), which is exactly Callaway & Sant'Anna's
"simple" aggregation that effect.py reports. When a post row is refused (too few treated
clusters) it is left out and the target is the same weighted average over the rest.

The robust interval follows diff_diff's port of HonestDiD (`diff_diff.honest_did`,
`HonestDiD(method="relative_magnitude")`) exactly, so that the numbers agree: the identified set
is computed with the pre-start deviations pinned at their estimates (Rambachan & Roth eqs 5-6,
Lemma 2.2: the union over where the largest pre-start change sits reduces to the largest one),
and widened on each side by the critical value times the target's standard error. With the
deviations' changes boxed in |fd_j| <= B = Mbar * max pre change, the linear program has the
closed form l'beta_post -/+ B * sum_j |sum_{k>=j} l_k|, used here. The critical value is t(G-1),
as in the headline. This is NOT the paper's recommended conditional/hybrid (ARP) confidence set,
which R's HonestDiD uses and diff_diff (3.13) has implemented but switched off pending
calibration: the interval here treats the largest pre-start change as known, ignoring its
sampling error, so its coverage is not guaranteed when the pre-start estimates are noisy, and
R's numbers will differ. The breakdown value is the supremum of the Mbar whose interval excludes
zero (there the interval touches zero), found in closed form, not by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.stats import distribution_functions as dist
from evaluation.stats.effect import (
    aggregation_weights,
    cell_effects,
    estimate_cells,
    stack_cells,
)
from evaluation.stats.wild_bootstrap import draw_weights, jackknife_matrix

SINGLE_LEVEL = 0.05  # a single pre-start row "rejects on its own" at this level
MBAR_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)

# Why a test or an analysis has no result (codes; the report words them from the texts files).
NO_PRE_PERIODS = "no_pre_periods"
ALL_PRE_REFUSED = "all_pre_refused"
TOO_FEW_CLUSTERS = "too_few_clusters"
SINGULAR = "singular"
NO_POST_PERIODS = "no_post_periods"
NO_VARIANCE = "no_variance"


# ---------------------------------------------------------------------------------------------
# The joint covariance of the event-time estimates
# ---------------------------------------------------------------------------------------------


@dataclass
class EventStudyCovariance:
    """Event-time estimates, their joint CV3 covariance and each one's treated clusters, with
    the stacked problem behind them (for the bootstrap of the joint test)."""

    event_times: list[int]
    estimates: np.ndarray
    covariance: np.ndarray  # NaN in the rows and columns whose jackknife is undefined
    treated_cells: np.ndarray  # n_e: treated clusters summed over the cells at event time e
    n_clusters: int
    x: np.ndarray  # the stacked design of effect.stack_cells
    y: np.ndarray
    cluster_index: np.ndarray  # each stacked row's cluster, 0..G-1
    restrictions: np.ndarray  # (event times, coefficients): estimate e = restrictions[e] @ beta
    jackknife: np.ndarray  # (event times, G, N): deviations of estimate e = jackknife[e] @ y

    def select(self, event_times: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and covariance of some event times, in the order given."""
        index = self.index(event_times)
        return self.estimates[index], self.covariance[np.ix_(index, index)]

    def index(self, event_times: list[int]) -> list[int]:
        return [self.event_times.index(e) for e in event_times]


def event_study_covariance(
    panel: pd.DataFrame, comparison: str = "not_yet"
) -> EventStudyCovariance:
    """The joint cluster-jackknife (CV3) covariance of all event-time estimates of
    `estimate_effect(panel, comparison=comparison)`, built from the same cells, weights and
    deletions, so its diagonal is the event-study rows' se squared."""
    wide, _, cells = estimate_cells(panel, comparison)
    x, y, clusters = stack_cells(wide, cells)
    att = cell_effects(x, y, len(cells))
    _, cluster_index = np.unique(clusters, return_inverse=True)
    g_count = int(cluster_index.max()) + 1
    times = sorted({c.event_time for c in cells})
    weights = np.array([aggregation_weights(cells, e) for e in times])
    restrictions = np.hstack([np.zeros_like(weights), weights])
    jackknife = np.array([jackknife_matrix(x, cluster_index, r) for r in restrictions])
    deviations = np.einsum("kgn,n->gk", jackknife, y)
    covariance = (g_count - 1) / g_count * deviations.T @ deviations
    treated_cells = np.array(
        [sum(len(c.treated) for c in cells if c.event_time == e) for e in times], dtype=float
    )
    return EventStudyCovariance(
        times,
        weights @ att,
        covariance,
        treated_cells,
        g_count,
        x,
        y,
        cluster_index,
        restrictions,
        jackknife,
    )


def usable_event_times(event_study: pd.DataFrame, pre: bool) -> tuple[list[int], list[int]]:
    """(event times with an interval, refused ones) before (pre) or from (not pre) the start."""
    rows = event_study[event_study["event_time"] != "overall"]
    times = rows["event_time"].astype(int)
    side = rows[(times < 0) if pre else (times >= 0)]
    refused = side["refused"].astype(bool)
    usable = sorted(int(e) for e in side.loc[~refused, "event_time"])
    return usable, sorted(int(e) for e in side.loc[refused, "event_time"])


# ---------------------------------------------------------------------------------------------
# 1. Joint pre-trend test
# ---------------------------------------------------------------------------------------------


@dataclass
class PretrendTest:
    """Joint Wald test that all pre-start event-time estimates are zero.

    W = theta' V^-1 theta with V the joint CV3 covariance (the headline variance).

    Its p-value (`p_value`, the one the report shows) is the wild cluster restricted bootstrap
    of W: the null (every tested estimate zero) imposed by restricted least squares, Webb's
    six-point weights for 12 or fewer clusters (Rademacher above), and W recomputed in each
    draw with that draw's own jackknife covariance (the WCR of Roodman, Nielsen, MacKinnon &
    Webb 2019, "Fast and wild", Stata Journal 19:4-60, which treat joint Wald tests too;
    studentised with CV3 as in MacKinnon, Nielsen & Webb 2023). The bootstrap reproduces how
    unstable V^-1 is when k is close to G.

    Beside it (`f_p_value`, not shown): F = W / k on (k, G-1) degrees of freedom, the usual
    few-cluster reference for a cluster-robust Wald test (the joint analogue of the rows'
    t(G-1): for k = 1 it gives exactly the row's p-value; Cameron & Miller 2015, "A
    practitioner's guide to cluster-robust inference", J. Human Resources 50:317-372). It is
    not the headline because with few clusters it over-rejects badly once k is more than one
    or two. validation/pretrend_size.py (effect_coverage.py's demo-shaped panels, 10 clusters,
    300 data sets each, B = 999) measured the share rejecting at 5 %:

        no pre-trend, k = 7 (demo design)        bootstrap 4.7 %   F(k, G-1) 70 %
        no pre-trend, k = 4 (--first-year 2019)  bootstrap 7.3 %   F(k, G-1) 20 %
        no pre-trend, k = 6 (few-treated design) bootstrap 7.0 %   F(k, G-1) 80 %
        pre-trend 0.01 a year, k = 7             bootstrap 11 %    (the effect is 0.08)
        pre-trend 0.02 a year, k = 7             bootstrap 19 %

    So the bootstrap holds its size but, with k close to G, has little power; the report says so.

    Also (`bonferroni_p_value`): the smallest single-row p-value times k (capped at 1), which
    says whether single rows that reject on their own still do once the k tries are allowed
    for. Same simulations: 5.0 % without a pre-trend (14 % in the few-treated design, where the
    rows' own CV3 t(G-1) p-values over-reject), 37 % and 92 % with the two pre-trends.

    `reason` is "" or a code saying why there is no p-value.
    """

    event_times: tuple  # the pre-start event times tested
    excluded: tuple  # pre-start rows refused in the event study: not tested
    single_rejections: tuple  # tested rows whose own p-value is below SINGLE_LEVEL
    n_clusters: int
    wald: float = np.nan
    f_statistic: float = np.nan
    f_p_value: float = np.nan  # F(k, G-1): beside, not the headline (see above)
    p_value: float = np.nan  # wild cluster restricted bootstrap (the headline)
    bonferroni_p_value: float = np.nan  # min over tested rows of the row p-value, times k
    draws: int = 0
    weights_name: str = ""
    reason: str = ""

    @property
    def k(self) -> int:
        return len(self.event_times)

    @property
    def df_denominator(self) -> int:
        return self.n_clusters - 1


def wald_statistics(theta: np.ndarray, deviations: np.ndarray, g_count: int) -> np.ndarray:
    """theta' V^-1 theta with V = (G-1)/G D'D, for one (theta (k,), D (G, k)) or a batch
    (theta (B, k), D (B, G, k))."""
    v = (g_count - 1) / g_count * np.einsum("...gk,...gl->...kl", deviations, deviations)
    # pinv, not solve: a bootstrap draw may give a singular V; it must not stop the report
    solved = np.einsum("...kl,...l->...k", np.linalg.pinv(v, hermitian=True), theta)
    return np.einsum("...k,...k->...", theta, solved)


def bootstrap_wald_p_value(
    covariance: EventStudyCovariance, tested: list[int], draws: int, seed: int
) -> tuple[float, str]:
    """Wild cluster restricted bootstrap p-value of the joint Wald statistic (PretrendTest)."""
    x, y, cluster_index = covariance.x, covariance.y, covariance.cluster_index
    index = covariance.index(tested)
    r, jack = covariance.restrictions[index], covariance.jackknife[index]
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    a = xtx_inv @ r.T
    beta_null = beta - a @ np.linalg.solve(r @ a, r @ beta)  # restricted: r beta = 0
    fitted, residuals = x @ beta_null, y - x @ beta_null
    to_theta = x @ a  # (N, k): theta = y @ to_theta
    g_count = covariance.n_clusters
    observed = wald_statistics(y @ to_theta, np.einsum("kgn,n->gk", jack, y), g_count)
    weights, name = draw_weights(g_count, draws, np.random.default_rng(seed))
    y_star = fitted + weights[:, cluster_index] * residuals
    drawn = wald_statistics(y_star @ to_theta, np.einsum("kgn,bn->bgk", jack, y_star), g_count)
    return float(np.mean(drawn >= observed - 1e-12 * max(1.0, observed))), name


def joint_pretrend_test(
    covariance: EventStudyCovariance,
    event_study: pd.DataFrame,
    draws: int = 999,
    seed: int = 20230101,
) -> PretrendTest:
    """Test all pre-start rows of `event_study` that are not refused (the base period, event
    time -1, is no row: it is zero by construction)."""
    tested, excluded = usable_event_times(event_study, pre=True)
    p_values = event_study.set_index("event_time")["p_value"]
    single = tuple(e for e in tested if p_values.loc[e] < SINGLE_LEVEL)
    g_count = covariance.n_clusters
    result = PretrendTest(tuple(tested), tuple(excluded), single, g_count)
    if tested:
        smallest = float(p_values.loc[tested].astype(float).min())
        result.bonferroni_p_value = min(1.0, smallest * len(tested))
    if not tested:
        result.reason = ALL_PRE_REFUSED if excluded else NO_PRE_PERIODS
        return result
    if len(tested) > g_count - 1:
        result.reason = TOO_FEW_CLUSTERS  # V has rank at most G-1
        return result
    theta, v = covariance.select(tested)
    if not np.isfinite(v).all() or np.linalg.matrix_rank(v) < len(tested):
        result.reason = SINGULAR
        return result
    result.wald = float(theta @ np.linalg.solve(v, theta))
    result.f_statistic = result.wald / len(tested)
    result.f_p_value = float(dist.f_sf(result.f_statistic, len(tested), g_count - 1))
    result.p_value, result.weights_name = bootstrap_wald_p_value(covariance, tested, draws, seed)
    result.draws = draws
    return result


# ---------------------------------------------------------------------------------------------
# 2. Rambachan & Roth (2023) relative magnitudes
# ---------------------------------------------------------------------------------------------


@dataclass
class RelativeMagnitudes:
    """Delta^RM(Mbar) sensitivity of the target l'beta_post (see the module docstring).

    `interval(mbar)` is the robust 1 - alpha interval; `breakdown` the largest Mbar at which
    it excludes zero (inf when there is no pre-start change to scale; NaN when even Mbar = 0
    does not exclude zero or when `reason` says there is no analysis).
    """

    pre_times: tuple
    post_times: tuple
    weights: np.ndarray  # l over post_times, summing to 1
    estimate: float = np.nan
    se: float = np.nan
    critical_value: float = np.nan
    max_pre_change: float = np.nan  # the largest |delta_{s+1} - delta_s| before the start
    slope: float = np.nan  # sum_j |sum_{k>=j} l_k|: the bias per unit of Mbar * max change
    reason: str = ""
    left_out: tuple = field(default_factory=tuple)  # refused or non-adjacent rows left out

    def identified_set(self, mbar: float) -> tuple[float, float]:
        half = mbar * self.max_pre_change * self.slope
        return self.estimate - half, self.estimate + half

    def interval(self, mbar: float) -> tuple[float, float]:
        low, high = self.identified_set(mbar)
        return low - self.critical_value * self.se, high + self.critical_value * self.se

    @property
    def breakdown(self) -> float:
        margin = abs(self.estimate) - self.critical_value * self.se
        if self.reason or not margin > 0:
            return np.nan
        scale = self.max_pre_change * self.slope
        return float(margin / scale) if scale > 0 else np.inf


def pre_changes(beta_pre: np.ndarray) -> np.ndarray:
    """|delta_{s+1} - delta_s| before the start, the last one against the base period (0)."""
    return np.abs(np.diff(np.append(beta_pre, 0.0)))


def tail_sum_slope(weights: np.ndarray) -> float:
    """sum_j |sum_{k>=j} l_k|: how much l'delta_post can move when every post-start change
    |delta_{t+1} - delta_t| (delta_0 = 0) is at most 1 (the closed form of the bounds LP)."""
    return float(np.abs(np.cumsum(weights[::-1])[::-1]).sum())


def adjacent_run(times: list[int], refused: list[int], pre: bool) -> tuple[list[int], list[int]]:
    """The usable rows that reach the start without a refused row in between (Rambachan & Roth
    build the restriction positionally, so a gap would change its meaning): a suffix of the
    pre-start rows, a prefix of the post-start rows. Returns (kept, left out)."""
    kept = []
    ordered = sorted(times, reverse=pre)
    for e in ordered:
        blocked = any((e < r < 0) if pre else (0 <= r < e) for r in refused)
        if blocked:
            break
        kept.append(e)
    return sorted(kept), sorted(set(times) - set(kept))


def relative_magnitudes(
    covariance: EventStudyCovariance, event_study: pd.DataFrame, level: float = 0.95
) -> RelativeMagnitudes:
    """Rambachan & Roth's Delta^RM analysis of the overall (average post-start) effect."""
    pre_ok, pre_refused = usable_event_times(event_study, pre=True)
    post_ok, post_refused = usable_event_times(event_study, pre=False)
    pre, pre_out = adjacent_run(pre_ok, pre_refused, pre=True)
    post, post_out = adjacent_run(post_ok, post_refused, pre=False)
    left_out = tuple(sorted(pre_out + pre_refused + post_out + post_refused))
    if not post:
        return RelativeMagnitudes((), (), np.empty(0), reason=NO_POST_PERIODS, left_out=left_out)
    sizes = covariance.treated_cells[[covariance.event_times.index(e) for e in post]]
    weights = sizes / sizes.sum()
    rm = RelativeMagnitudes(tuple(pre), tuple(post), weights, left_out=left_out)
    if not pre:
        rm.reason = ALL_PRE_REFUSED if pre_refused else NO_PRE_PERIODS
        return rm
    beta_pre, _ = covariance.select(pre)
    beta_post, v_post = covariance.select(post)
    variance = float(weights @ v_post @ weights)
    if not np.isfinite(variance) or variance <= 0:
        rm.reason = NO_VARIANCE
        return rm
    rm.estimate = float(weights @ beta_post)
    rm.se = float(np.sqrt(variance))
    rm.critical_value = float(dist.t_ppf(0.5 + level / 2, covariance.n_clusters - 1))
    rm.max_pre_change = float(pre_changes(beta_pre).max())
    rm.slope = tail_sum_slope(weights)
    return rm


def sensitivity_table(rm: RelativeMagnitudes, grid=MBAR_GRID) -> pd.DataFrame:
    """Mbar, the identified set and the robust interval, one row per Mbar."""
    rows = []
    for mbar in grid:
        set_low, set_high = rm.identified_set(mbar)
        low, high = rm.interval(mbar)
        rows.append(
            {
                "mbar": mbar,
                "set_low": set_low,
                "set_high": set_high,
                "ci_low": low,
                "ci_high": high,
                "excludes_zero": bool(low > 0 or high < 0),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class PretrendChecks:
    """Both checks of one event study."""

    test: PretrendTest
    sensitivity: RelativeMagnitudes
    table: pd.DataFrame


def pretrend_checks(
    panel: pd.DataFrame,
    event_study: pd.DataFrame,
    comparison: str = "not_yet",
    draws: int = 999,
    seed: int = 20230101,
) -> PretrendChecks:
    """The joint pre-trend test and the relative-magnitude sensitivity for the event study
    `estimate_effect(panel, comparison=comparison).event_study`."""
    covariance = event_study_covariance(panel, comparison)
    test = joint_pretrend_test(covariance, event_study, draws, seed)
    rm = relative_magnitudes(covariance, event_study)
    return PretrendChecks(test, rm, sensitivity_table(rm))
