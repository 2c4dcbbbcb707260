"""Effect of a staggered effort: event study / difference-in-differences on a cluster-year panel.

The estimator follows Callaway & Sant'Anna (2021), "Difference-in-differences with multiple time
periods", J. Econometrics 225:200-230: for each start-year group g and year t a 2x2 comparison

    ATT(g, t) = mean over g's clusters of (Y_t - Y_b)
                - mean over comparison clusters of (Y_t - Y_b)

with b the last observed year before g (the "universal base period"; one year may be missing in
the survey series) and as comparison the clusters not yet started by max(t, b), including those
never started. Naive two-way fixed effects is not used: with a staggered roll-out it compares
late starters against early starters and can even get the sign wrong (Goodman-Bacon 2021).
Per-event-time estimates average ATT(g, g + e) over groups weighted by their number of clusters;
the overall estimate averages all post-start cells the same way (Callaway & Sant'Anna's "simple"
aggregation). Clusters count equally (the effect is the average effect per cluster).

Inference with about 10 clusters (headline first, the others beside it, labelled):
- Headline: the cluster jackknife (CV3) standard error with t(G-1) critical values, the default
  recommended by MacKinnon, Nielsen & Webb ("Cluster-robust inference: a guide to empirical
  practice", J. Econometrics 232 (2023) 272-299; "Fast and reliable jackknife and bootstrap
  methods for cluster-robust inference", J. Applied Econometrics 38 (2023) 671-694).
- Beside it (`wild_*` columns): the wild cluster restricted bootstrap-t studentised with the
  same CV3 error (their WCR13), interval by test inversion; Webb's six-point weights when there
  are 12 or fewer clusters (Webb 2023, "Reworking wild bootstrap-based inference for clustered
  errors", Canadian J. Economics), Rademacher otherwise; the fast algebra of Roodman, Nielsen,
  MacKinnon & Webb (2019, "Fast and wild", Stata Journal 19:4-60).
- Plain cluster-robust (CR1) standard errors with t(G-1) (`crve_*` columns), for comparison
  only: they over-reject with few clusters.
- Randomisation inference over the start-year assignments (`randomisation_p_value`).

Why this order (validation/effect_coverage.py, README there): on demo-shaped simulations (10
clusters, cohorts of 3, 3 and 4 never) CR1 with t(G-1) falls short because each cohort's and
the comparison arm's mean is estimated, so its variance estimate has about G - 3 (Satterthwaite
6.9), not G - 1 = 9, degrees of freedom; the restricted bootstrap over-rejects there whichever
error it studentises with; the unrestricted one (WCU) holds 5 % there but over-rejects badly
with one or two treated clusters per cohort (as MacKinnon & Webb 2018, "The wild bootstrap for
few (treated) clusters", Econometrics J. 21:114-135, warn). CV3 with t(G-1) was the one method
near 5 % in both designs.

The 2x2 comparisons are written as one stacked least-squares problem (a cell intercept and a
cell effect per (g, t)), so each estimate is a linear restriction r'beta and the bootstrap
of Roodman et al. (2019) applies directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.errors import ParameterError, Problem, ValidationError

WEBB_MAX_CLUSTERS = 12  # Webb six-point weights at or below this many clusters
WEBB_POINTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
CV3_LABEL = "cluster jackknife CV3 standard error, t(G-1)"
WILD_LABEL = (
    "beside it: wild cluster bootstrap-t (restricted, CV3 standard error, WCR13; "
    "{weights} weights, B={b})"
)
CRVE_LABEL = "cluster-robust CR1, t(G-1): for comparison only, over-rejects with few clusters"


# ---------------------------------------------------------------------------------------------
# Panel and the 2x2 cells
# ---------------------------------------------------------------------------------------------


def check_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """Validate a cluster-year panel (cluster_id, year, value, start_year; NaN = never started).

    Returns a copy with one row per cluster and year and a float start_year.
    """
    needed = ["cluster_id", "year", "value", "start_year"]
    problems = [
        Problem("panel", None, c, "no such column", f"columns {needed}", "add the column")
        for c in needed
        if c not in panel.columns
    ]
    if problems:
        raise ValidationError(problems)
    df = panel.dropna(subset=["value"]).copy()
    df["start_year"] = df["start_year"].astype(float)
    starts = df.groupby("cluster_id")["start_year"].nunique(dropna=False)
    if (starts > 1).any():
        bad = starts[starts > 1].index[0]
        raise ValidationError(
            [
                Problem(
                    "panel",
                    None,
                    "start_year",
                    f"several start years for cluster {bad}",
                    "one start year per cluster",
                    "take start_year from the cluster_programme table",
                )
            ]
        )
    if df.duplicated(["cluster_id", "year"]).any():
        raise ValidationError(
            [
                Problem(
                    "panel",
                    None,
                    "year",
                    "duplicate cluster-year rows",
                    "one row per cluster and year",
                    "aggregate to cluster-year first",
                )
            ]
        )
    return df


@dataclass(frozen=True)
class Cell:
    """One 2x2 comparison: group g against not-yet-started clusters, from base year to year."""

    group: int
    year: int
    base_year: int
    treated: tuple
    comparison: tuple

    @property
    def event_time(self) -> int:
        return self.year - self.group


COMPARISONS = ("not_yet", "never")


def build_cells(wide: pd.DataFrame, start: pd.Series, comparison: str = "not_yet") -> list[Cell]:
    """All (g, t) cells with at least one treated and one comparison cluster observed.

    `wide` is value by cluster (rows) and year (columns); `start` is each cluster's start year.
    `comparison`: "not_yet" (default) compares with clusters not yet started and never started;
    "never" only with clusters that never start (a sensitivity check: fewer comparisons, but no
    reliance on the timing of later starters). Cells hold row positions in `wide`.
    """
    if comparison not in COMPARISONS:
        raise ParameterError(f"comparison {comparison!r}: use one of {', '.join(COMPARISONS)}")
    years = sorted(wide.columns)
    values = wide[years].to_numpy(dtype=float)
    col = {y: k for k, y in enumerate(years)}
    s = start.reindex(wide.index).to_numpy(dtype=float)
    never = np.isnan(s)
    cells = []
    for g in sorted({int(v) for v in s[~never]}):
        before = [y for y in years if y < g]
        if not before:
            continue  # started before the data begin: no base year
        base = before[-1]
        own = s == g
        base_seen = ~np.isnan(values[:, col[base]])
        for t in years:
            if t == base:
                continue
            not_yet = max(t, base)
            later = np.nan_to_num(s, nan=-1) > not_yet if comparison == "not_yet" else False
            comp = (never | later) & ~own
            observed = base_seen & ~np.isnan(values[:, col[t]])
            treated = tuple(np.flatnonzero(own & observed))
            compared = tuple(np.flatnonzero(comp & observed))
            if treated and compared:
                cells.append(Cell(g, t, base, treated, compared))
    return cells


def stack_cells(wide: pd.DataFrame, cells: list[Cell]):
    """The stacked least-squares problem: y = differences Y_t - Y_b, X = [cell intercepts,
    cell effects], and each row's cluster. The effect coefficient of cell c is ATT(g, t)."""
    years = sorted(wide.columns)
    values = wide[years].to_numpy(dtype=float)
    col = {y: k for k, y in enumerate(years)}
    ys, rows_cluster, rows_cell, rows_treat = [], [], [], []
    for k, cell in enumerate(cells):
        ids = np.asarray(cell.treated + cell.comparison)
        ys.append(values[ids, col[cell.year]] - values[ids, col[cell.base_year]])
        rows_cluster.append(ids)
        rows_cell.append(np.full(len(ids), k))
        rows_treat.append(np.r_[np.ones(len(cell.treated)), np.zeros(len(cell.comparison))])
    y = np.concatenate(ys)
    cell_idx = np.concatenate(rows_cell)
    n_cells, rows = len(cells), np.arange(len(y))
    x = np.zeros((len(y), 2 * n_cells))
    x[rows, cell_idx] = 1.0
    x[rows, n_cells + cell_idx] = np.concatenate(rows_treat)
    return x, y, np.asarray(wide.index)[np.concatenate(rows_cluster)]


def cell_effects(x: np.ndarray, y: np.ndarray, n_cells: int) -> np.ndarray:
    """ATT per cell: treated-arm mean minus comparison-arm mean of the differences (the
    least-squares solution of the stacked problem, computed directly)."""
    cell = x[:, :n_cells].argmax(axis=1)
    treat = x[np.arange(len(y)), n_cells + cell]
    sums_t = np.bincount(cell, weights=y * treat, minlength=n_cells)
    sums_c = np.bincount(cell, weights=y * (1 - treat), minlength=n_cells)
    n_t = np.bincount(cell, weights=treat, minlength=n_cells)
    n_c = np.bincount(cell, weights=1 - treat, minlength=n_cells)
    return sums_t / n_t - sums_c / n_c


def aggregation_weights(cells: list[Cell], which: str | int) -> np.ndarray:
    """Weights over cells for one event time (int) or "overall" (all cells with t >= g);
    proportional to the number of treated clusters in each cell (Callaway & Sant'Anna 2021)."""
    if which == "overall":
        keep = np.array([c.year >= c.group for c in cells])
    else:
        keep = np.array([c.event_time == which for c in cells])
    size = np.array([len(c.treated) for c in cells], dtype=float) * keep
    if size.sum() == 0:
        return size
    return size / size.sum()


# ---------------------------------------------------------------------------------------------
# Wild cluster bootstrap for a linear restriction r'beta = theta0
# ---------------------------------------------------------------------------------------------


def draw_weights(n_clusters: int, draws: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Bootstrap weights per cluster: Webb six-point for <= 12 clusters, else Rademacher."""
    if n_clusters <= WEBB_MAX_CLUSTERS:
        return rng.choice(WEBB_POINTS, size=(draws, n_clusters)), "Webb six-point"
    return rng.choice([-1.0, 1.0], size=(draws, n_clusters)), "Rademacher"


@dataclass
class WildBootstrap:
    """Pre-computed pieces so that the bootstrap p-value for any theta0 costs O(B G).

    Following Roodman et al. (2019): with the null imposed the restricted residuals are
    u_hat + d * delta (delta = theta_hat - theta0), so the bootstrap numerator and every piece
    of the bootstrap variance are linear in delta. The variance of each bootstrap sample is
    `scale * sum_g (c0 + c1 * delta + vp + vq * delta)_g ** 2`: for CV1 the pieces are the
    cluster scores (c0 = c1 = 0), for CV3 the delete-one-cluster deviations of theta
    (MacKinnon, Nielsen & Webb 2023). `restricted=False` gives the unrestricted bootstrap
    (WCU): the bootstrap sample does not depend on theta0.
    """

    theta: float
    se: float  # standard error in the t statistic (CV1 or CV3, see `variance`)
    se_crve: float  # plain CV1 standard error, for the comparison columns
    se_cv3: float  # jackknife CV3 standard error (NaN when a deletion leaves nothing)
    n_clusters: int
    s: np.ndarray  # (G,)   cluster sums of a * u_hat
    t: np.ndarray  # (G,)   cluster sums of a * d
    c0: np.ndarray  # (G,)  variance pieces not depending on the weights
    c1: np.ndarray  # (G,)  ... multiplying delta
    vp: np.ndarray  # (B, G) variance pieces depending on the weights
    vq: np.ndarray  # (B, G) ... multiplying delta
    v: np.ndarray  # (B, G) the weights
    scale: float  # G/(G-1) (N-1)/(N-K) for CV1, (G-1)/G for CV3
    weights_name: str
    variance: str = "CV1"
    restricted: bool = True

    def p_value(self, theta0: float) -> float:
        """Symmetric bootstrap p-value of H0: theta = theta0 (share of |t*| >= |t|)."""
        delta = self.theta - theta0
        t_obs = delta / self.se
        db = delta if self.restricted else 0.0  # WCU: bootstrap around theta_hat
        num = self.v @ (self.s + self.t * db)
        pieces = self.c0 + self.c1 * db + self.vp + self.vq * db
        var = self.scale * np.sum(pieces**2, axis=1)
        t_star = num / np.sqrt(np.maximum(var, 1e-300))
        return float(np.mean(np.abs(t_star) >= np.abs(t_obs) - 1e-12))

    def confidence_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of theta0 values not rejected at 1 - level.

        Unrestricted: theta_hat -/+ se times the order statistic of |t*| where p_value crosses
        1 - level. Restricted: test inversion, by bisection on each side.
        """
        alpha = 1 - level
        if not self.restricted:
            half = self.se * self.critical_value(alpha)
            return (self.theta - half, self.theta + half)
        return (self.find_bound(-1.0, alpha), self.find_bound(1.0, alpha))

    def critical_value(self, alpha: float) -> float:
        """For the unrestricted bootstrap: the largest |t| whose p-value exceeds alpha, i.e. the
        (floor(alpha B) + 1)-th largest |t*|."""
        pieces = self.c0 + self.vp
        t_star = (self.v @ self.s) / np.sqrt(np.maximum(self.scale * np.sum(pieces**2, 1), 1e-300))
        ranked = np.sort(np.abs(t_star))[::-1]
        return float(ranked[min(int(np.floor(alpha * len(ranked) + 1e-9)), len(ranked) - 1)])

    def find_bound(self, direction: float, alpha: float) -> float:
        inside, step = self.theta, max(self.se, 1e-12)
        outside = self.theta + direction * step
        tries = 0
        while self.p_value(outside) > alpha:
            inside, step = outside, step * 2
            outside = self.theta + direction * step
            tries += 1
            if tries > 40:
                return direction * np.inf
        for _ in range(40):
            mid = (inside + outside) / 2
            if self.p_value(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return (inside + outside) / 2


def jackknife_matrix(x: np.ndarray, cluster_index: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(G, N) matrix J with J[g] @ y = r'beta fitted without cluster g, minus r'beta_hat.

    The deviations behind CV3 = (G-1)/G sum_g J[g] y squared (MacKinnon, Nielsen & Webb 2023,
    centred at the full-sample estimate). When deleting a cluster leaves some coefficient in r
    unidentified (a cohort's only treated cluster, say), that coefficient is dropped and the
    rest rescaled to the same sum: r is an average of cell effects here. Returns rows of NaN
    where nothing in r is left.
    """
    a = x @ (np.linalg.pinv(x.T @ x) @ r)
    g_count = int(cluster_index.max()) + 1
    jack = np.full((g_count, len(a)), np.nan)
    for g in range(g_count):
        keep = cluster_index != g
        pinv = np.linalg.pinv(x[keep])
        identified = np.abs(np.einsum("ij,ji->i", pinv, x[keep]) - 1.0) < 1e-8
        r_g = np.where(identified, r, 0.0)
        if not identified[r != 0].all():
            if abs(r.sum()) < 1e-12 or abs(r_g.sum()) < 1e-12:
                continue  # a contrast or nothing left: no deleted-cluster estimate
            r_g = r_g * r.sum() / r_g.sum()
        jack[g] = 0.0
        jack[g, keep] = r_g @ pinv
        jack[g] -= a
    return jack


def prepare_wild_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    r: np.ndarray,
    draws: int = 999,
    rng: np.random.Generator | None = None,
    variance: str = "CV1",
    restricted: bool = True,
) -> WildBootstrap:
    """Set up the wild cluster bootstrap-t for r'beta in y = X beta + u.

    `variance` is the standard error in the t statistic: "CV1" (the classic WCR of Roodman et
    al. 2019; MacKinnon, Nielsen & Webb's WCR11) or "CV3" (the jackknife; their WCR13, or
    WCU13 with `restricted=False`). Falls back to CV1 when CV3 cannot be computed.
    """
    rng = rng if rng is not None else np.random.default_rng(20230101)
    codes, cluster_index = np.unique(clusters, return_inverse=True)
    g_count = len(codes)
    n, k = x.shape
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    u_hat = y - x @ beta
    a = x @ (xtx_inv @ r)  # theta_hat = a'y
    d = a / float(r @ xtx_inv @ r)  # restricted residuals: u_hat + d * delta
    member = np.zeros((g_count, n))
    member[cluster_index, np.arange(n)] = 1.0
    rank = np.linalg.matrix_rank(x)
    scale_cv1 = g_count / (g_count - 1) * (n - 1) / max(n - rank, 1)
    s = member @ (a * u_hat)
    se_crve = float(np.sqrt(scale_cv1 * np.sum(s**2)))
    jack = jackknife_matrix(x, cluster_index, r)
    scale_cv3 = (g_count - 1) / g_count
    se_cv3 = float(np.sqrt(scale_cv3 * np.sum((jack @ y) ** 2)))
    v, name = draw_weights(g_count, draws, rng)
    if variance == "CV3" and np.isfinite(se_cv3):
        # bootstrap deviations J y* with y* = (y_hat - d delta) + v * (u_hat + d delta)
        c0, c1 = jack @ (x @ beta), -(jack @ d)
        p, q = (jack * u_hat) @ member.T, (jack * d) @ member.T
        scale, se = scale_cv3, se_cv3
    else:
        # bootstrap scores: cluster sums of a * M y*, M the residual maker
        variance = "CV1"
        m = np.eye(n) - x @ xtx_inv @ x.T
        f = (member * a) @ m
        p, q = (f * u_hat) @ member.T, (f * d) @ member.T
        c0 = c1 = np.zeros(g_count)
        scale, se = scale_cv1, se_crve
    return WildBootstrap(
        theta=float(a @ y),
        se=se,
        se_crve=se_crve,
        se_cv3=se_cv3,
        n_clusters=g_count,
        s=s,
        t=member @ (a * d),
        c0=c0,
        c1=c1,
        vp=v @ p.T,
        vq=v @ q.T,
        v=v,
        scale=scale,
        weights_name=name,
        variance=variance,
        restricted=restricted,
    )


# ---------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------


@dataclass
class EffectResult:
    """Event-study estimates of a staggered effort.

    `cells`: one row per ATT(g, t). `event_study`: one row per event time (t - start year;
    negative = before the start, a placebo check that should be near zero) plus a row with
    event_time "overall". Columns: estimate, ci_low, ci_high, p_value, se (the headline: cluster
    jackknife CV3 with t(G-1)), se_method (CV3, or CV1 where the jackknife is undefined),
    wild_ci_low, wild_ci_high, wild_p_value (wild cluster bootstrap-t WCR13, beside),
    crve_se, crve_ci_low, crve_ci_high, crve_p_value (plain cluster-robust CR1, labelled),
    n_groups, n_cells.
    """

    cells: pd.DataFrame
    event_study: pd.DataFrame
    overall: dict
    n_clusters: int
    inference: str
    comparison_note: str = CRVE_LABEL

    def overall_row(self) -> pd.Series:
        return self.event_study.set_index("event_time").loc["overall"]


def estimate_cells(
    panel: pd.DataFrame, comparison: str = "not_yet"
) -> tuple[pd.DataFrame, pd.Series, list[Cell]]:
    """Wide table, start years and cells for a checked panel."""
    df = check_panel(panel)
    wide = df.pivot(index="cluster_id", columns="year", values="value")
    start = df.groupby("cluster_id")["start_year"].first().reindex(wide.index)
    cells = build_cells(wide, start, comparison)
    if not cells:
        raise ParameterError(
            "no usable comparison: every started group needs a year before its start and at "
            "least one cluster not yet started; check start_year in cluster_programme"
        )
    return wide, start, cells


def overall_att(panel: pd.DataFrame) -> float:
    """Only the overall ATT (used by the randomisation test)."""
    wide, start, _ = estimate_cells(panel)
    return overall_att_wide(wide, start)


def overall_att_wide(wide: pd.DataFrame, start: pd.Series) -> float:
    """Overall ATT from a wide cluster-by-year table and start years (NaN if no cells)."""
    cells = build_cells(wide, start)
    if not cells:
        return np.nan
    x, y, _ = stack_cells(wide, cells)
    return float(aggregation_weights(cells, "overall") @ cell_effects(x, y, len(cells)))


def estimate_effect(
    panel: pd.DataFrame,
    draws: int = 999,
    level: float = 0.95,
    seed: int = 20230101,
    event_times: bool = True,
    comparison: str = "not_yet",
) -> EffectResult:
    """Staggered difference-in-differences with not-yet-started comparison clusters.

    `panel`: cluster_id, year, value (cluster-year mean or share), start_year (NaN = never).
    Returns per-(g, t) cells, per-event-time and overall estimates with cluster jackknife (CV3)
    t(G-1) intervals and, beside them, wild cluster bootstrap-t intervals (WCR13, Webb weights
    for <= 12 clusters) and plain CR1 t(G-1) intervals.
    """
    wide, start, cells = estimate_cells(panel, comparison)
    x, y, clusters = stack_cells(wide, cells)
    n_cells = len(cells)
    att = cell_effects(x, y, n_cells)
    cell_table = pd.DataFrame(
        {
            "group": [c.group for c in cells],
            "year": [c.year for c in cells],
            "base_year": [c.base_year for c in cells],
            "event_time": [c.event_time for c in cells],
            "att": att,
            "n_treated": [len(c.treated) for c in cells],
            "n_comparison": [len(c.comparison) for c in cells],
        }
    )
    targets: list = ["overall"]
    if event_times:
        targets += sorted({c.event_time for c in cells})
    rows = []
    g_count = len(np.unique(clusters))
    t_crit = stats.t.ppf(0.5 + level / 2, g_count - 1)
    label = ""
    for which in targets:
        w = aggregation_weights(cells, which)
        if w.sum() == 0:
            continue
        r = np.concatenate([np.zeros(n_cells), w])
        boot = prepare_wild_bootstrap(x, y, clusters, r, draws, np.random.default_rng(seed), "CV3")
        wild_low, wild_high = boot.confidence_interval(level)
        label = CV3_LABEL + "; " + WILD_LABEL.format(weights=boot.weights_name, b=draws)
        if boot.variance != "CV3":
            label += "; CR1 where deleting a cluster left no estimate"
        headline = t_columns("cv3", boot.theta, boot.se, t_crit, g_count)
        rows.append(
            {
                "event_time": which,
                "estimate": boot.theta,
                "ci_low": headline["cv3_ci_low"],
                "ci_high": headline["cv3_ci_high"],
                "p_value": headline["cv3_p_value"],
                "se": boot.se,
                "se_method": boot.variance,
                "wild_ci_low": wild_low,
                "wild_ci_high": wild_high,
                "wild_p_value": boot.p_value(0.0),
                **t_columns("crve", boot.theta, boot.se_crve, t_crit, g_count),
                "n_groups": int(len({c.group for c, wi in zip(cells, w, strict=True) if wi > 0})),
                "n_cells": int((w > 0).sum()),
            }
        )
    event_study = pd.DataFrame(rows)
    overall = event_study.iloc[0].to_dict()
    return EffectResult(cell_table, event_study, overall, g_count, label)


def t_columns(prefix: str, theta: float, se: float, t_crit: float, g_count: int) -> dict:
    """se, interval and p-value from a standard error with t(G-1) critical values."""
    t_value = theta / se if se > 0 else np.nan
    return {
        f"{prefix}_se": se,
        f"{prefix}_ci_low": theta - t_crit * se,
        f"{prefix}_ci_high": theta + t_crit * se,
        f"{prefix}_p_value": float(2 * stats.t.sf(abs(t_value), g_count - 1)),
    }


def randomisation_p_value(
    panel: pd.DataFrame, permutations: int = 999, seed: int = 20230101
) -> tuple[float, float]:
    """Randomisation inference for the overall effect: shuffle start years across clusters
    (keeping how many start each year) and recompute; returns (estimate, two-sided p-value).

    Tests the sharp null of no effect in any cluster (Fisher; for DiD see e.g. MacKinnon &
    Webb 2020, "Randomization inference for difference-in-differences with few treated clusters",
    J. Econometrics 218:435-450).
    """
    wide, start, _ = estimate_cells(panel)
    observed = overall_att_wide(wide, start)
    rng = np.random.default_rng(seed)
    extreme, used = 0, 0
    for _ in range(permutations):
        shuffled = pd.Series(rng.permutation(start.to_numpy()), index=start.index)
        value = overall_att_wide(wide, shuffled)
        if np.isnan(value):
            continue
        used += 1
        extreme += abs(value) >= abs(observed) - 1e-12
    return observed, (extreme + 1) / (used + 1)
