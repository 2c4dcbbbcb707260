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
- Beside it (`wild_*` columns, `evaluation.stats.wild_bootstrap`): the wild cluster restricted
  bootstrap-t studentised with the same CV3 error (their WCR13), interval by test inversion;
  Webb's six-point weights when there are 12 or fewer clusters (Webb 2023, "Reworking wild
  bootstrap-based inference for clustered errors", Canadian J. Economics), Rademacher otherwise;
  the fast algebra of Roodman, Nielsen, MacKinnon & Webb (2019, "Fast and wild", Stata Journal
  19:4-60).
- Plain cluster-robust (CR1) standard errors with t(G-1) (`crve_*` columns), for comparison
  only: they over-reject with few clusters.
- Randomisation inference over the start-year assignments (`randomisation_p_value`).

What cannot be known is refused, not estimated another way: a row (overall, event time, or
ATT(g, t) cell) that rests on fewer than two treated clusters gets no interval and no p-value,
only its point estimate and a `refused` reason. With one treated cluster deleting it leaves no
estimate, so CV3 is undefined, and the CR1 error that would stand in for it treats one cluster's
own noise as the effect (on organ_donations, California alone, it gave p = 0.0008 where the wild
bootstrap gave 0.39; MacKinnon & Webb 2018 show why). A row whose jackknife is undefined for
another reason (say a single comparison cluster) is refused the same way, with its own reason.

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

from evaluation.errors import ParameterError
from evaluation.stats import distribution_functions as dist
from evaluation.stats.effect_validation import attach_validation
from evaluation.stats.panel import check_panel
from evaluation.stats.wild_bootstrap import (
    WEBB_MAX_CLUSTERS as WEBB_MAX_CLUSTERS,  # re-exported: the evaluation report reads it here
)
from evaluation.stats.wild_bootstrap import prepare_wild_bootstrap

CV3_LABEL = "cluster jackknife CV3 standard error, t(G-1)"
WILD_LABEL = (
    "beside it: wild cluster bootstrap-t (restricted, CV3 standard error, WCR13; "
    "{weights} weights, B={b})"
)
CRVE_LABEL = "cluster-robust CR1, t(G-1): for comparison only, over-rejects with few clusters"
REFUSED_LABEL = "no interval and no p-value in the rows with a `refused` reason"
ALL_REFUSED_LABEL = "no interval and no p-value: every row refused (overall: {reason})"

MIN_TREATED_CLUSTERS = 2  # fewer treated clusters behind a row: no interval can be known
REFUSED_FEW_TREATED = "fewer than two treated clusters ({n}): no interval can be known"
REFUSED_JACKKNIFE = (
    "the cluster jackknife (CV3) is undefined here (deleting a cluster left no estimate, "
    "although {n} treated clusters stand behind the row): no interval rather than another "
    "method's"
)
# The columns a refused row leaves empty (NaN); its point estimate stays.
INTERVAL_COLUMNS = tuple(
    "ci_low ci_high p_value se wild_ci_low wild_ci_high wild_p_value "
    "crve_se crve_ci_low crve_ci_high crve_p_value".split()
)
EVENT_STUDY_COLUMNS = (
    "event_time",
    "estimate",
    *INTERVAL_COLUMNS[:4],
    "se_method",
    *INTERVAL_COLUMNS[4:],
    *("n_groups", "n_cells", "n_treated_clusters", "refused"),
)


# ---------------------------------------------------------------------------------------------
# Panel and the 2x2 cells
# ---------------------------------------------------------------------------------------------


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
    years, values = wide_arrays(wide)
    return cells_of_arrays(values, years, start_array(start, wide), comparison)


def wide_arrays(wide: pd.DataFrame) -> tuple[list, np.ndarray]:
    """The years in order and the cluster-by-year values as a float array."""
    years = sorted(wide.columns)
    return years, wide[years].to_numpy(dtype=float)


def start_array(start: pd.Series, wide: pd.DataFrame) -> np.ndarray:
    """Start years in the order of `wide`'s rows (NaN = never)."""
    return start.reindex(wide.index).to_numpy(dtype=float)


def cells_of_arrays(
    values: np.ndarray, years: list, s: np.ndarray, comparison: str = "not_yet"
) -> list[Cell]:
    """build_cells on arrays: the randomisation test calls it 999 times a report."""
    col = {y: k for k, y in enumerate(years)}
    never = np.isnan(s)
    started = np.where(never, -1.0, s)  # never started: before every year
    seen = ~np.isnan(values)
    cells = []
    for g in sorted({int(v) for v in s[~never]}):
        before = [y for y in years if y < g]
        if not before:
            continue  # started before the data begin: no base year
        base = before[-1]
        own = s == g
        base_seen = seen[:, col[base]]
        for t in years:
            if t == base:
                continue
            later = started > max(t, base) if comparison == "not_yet" else False
            comp = (never | later) & ~own
            observed = base_seen & seen[:, col[t]]
            treated = tuple(np.flatnonzero(own & observed).tolist())
            compared = tuple(np.flatnonzero(comp & observed).tolist())
            if treated and compared:
                cells.append(Cell(g, t, base, treated, compared))
    return cells


def stack_cells(wide: pd.DataFrame, cells: list[Cell]):
    """The stacked least-squares problem: y = differences Y_t - Y_b, X = [cell intercepts,
    cell effects], and each row's cluster. The effect coefficient of cell c is ATT(g, t)."""
    years, values = wide_arrays(wide)
    y, cell_idx, treat, rows_cluster = stack_arrays(values, years, cells)
    n_cells, rows = len(cells), np.arange(len(y))
    x = np.zeros((len(y), 2 * n_cells))
    x[rows, cell_idx] = 1.0
    x[rows, n_cells + cell_idx] = treat
    return x, y, np.asarray(wide.index)[rows_cluster]


def stack_arrays(values: np.ndarray, years: list, cells: list[Cell]):
    """The stacked rows without the design matrix: differences, cell, treated (1/0), cluster."""
    col = {y: k for k, y in enumerate(years)}
    ys, rows_cluster, rows_cell, rows_treat = [], [], [], []
    for k, cell in enumerate(cells):
        ids = np.asarray(cell.treated + cell.comparison)
        ys.append(values[ids, col[cell.year]] - values[ids, col[cell.base_year]])
        rows_cluster.append(ids)
        rows_cell.append(np.full(len(ids), k))
        treat = np.zeros(len(ids))
        treat[: len(cell.treated)] = 1.0
        rows_treat.append(treat)
    return (
        np.concatenate(ys),
        np.concatenate(rows_cell),
        np.concatenate(rows_treat),
        np.concatenate(rows_cluster),
    )


def cell_effects(x: np.ndarray, y: np.ndarray, n_cells: int) -> np.ndarray:
    """ATT per cell: treated-arm mean minus comparison-arm mean of the differences (the
    least-squares solution of the stacked problem, computed directly)."""
    cell = x[:, :n_cells].argmax(axis=1)
    return arm_differences(y, cell, x[np.arange(len(y)), n_cells + cell], n_cells)


def arm_differences(y: np.ndarray, cell: np.ndarray, treat: np.ndarray, n_cells: int):
    """Per cell, the treated rows' mean of y less the comparison rows' mean."""
    sums_t = np.bincount(cell, weights=y * treat, minlength=n_cells)
    sums_c = np.bincount(cell, weights=y * (1 - treat), minlength=n_cells)
    n_t = np.bincount(cell, weights=treat, minlength=n_cells)
    n_c = np.bincount(cell, weights=1 - treat, minlength=n_cells)
    return sums_t / n_t - sums_c / n_c


def aggregation_weights(cells: list[Cell], which: str | int | tuple) -> np.ndarray:
    """Weights over cells for one event time (int), "overall" (all cells with t >= g) or one
    start-year group ("group", g: its cells with t >= g, Callaway & Sant'Anna's theta_sel(g));
    proportional to the number of treated clusters in each cell (Callaway & Sant'Anna 2021)."""
    if which == "overall":
        keep = np.array([c.year >= c.group for c in cells])
    elif isinstance(which, tuple):
        keep = np.array([c.group == which[1] and c.year >= c.group for c in cells])
    else:
        keep = np.array([c.event_time == which for c in cells])
    size = np.array([len(c.treated) for c in cells], dtype=float) * keep
    if size.sum() == 0:
        return size
    return size / size.sum()


def treated_clusters(cells: list[Cell], weights: np.ndarray) -> int:
    """How many distinct treated clusters stand behind an estimate: those of the cells it
    weights above zero."""
    return len({i for c, w in zip(cells, weights, strict=True) if w > 0 for i in c.treated})


def refusal(n_treated: int) -> str:
    """Why an estimate resting on `n_treated` treated clusters can have no interval ("" when
    it can): decided from the design before anything is estimated."""
    if n_treated < MIN_TREATED_CLUSTERS:
        return REFUSED_FEW_TREATED.format(n=n_treated)
    return ""


# ---------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------


@dataclass
class EffectResult:
    """Event-study estimates of a staggered effort.

    `cells`: one row per ATT(g, t), with n_treated (its treated clusters) and `refused`.
    `cohorts`: one row per start-year group (column `group`): the average of its post-start
    cells, with the same columns as `event_study`.
    `event_study`: one row per event time (t - start year; negative = before the start, a
    placebo check that should be near zero) plus a row with event_time "overall". Columns:
    estimate, ci_low, ci_high, p_value, se (the headline: cluster jackknife CV3 with t(G-1)),
    se_method ("CV3", or "none" in a refused row), wild_ci_low, wild_ci_high, wild_p_value (wild
    cluster bootstrap-t WCR13, beside), crve_se, crve_ci_low, crve_ci_high, crve_p_value (plain
    cluster-robust CR1, labelled), n_groups, n_cells, n_treated_clusters (distinct treated
    clusters behind the row), refused: "" or the plain reason the row has no interval and no
    p-value (then every interval column is NaN; the estimate stays), and what the simulations
    of validation/effect_rows.py measured for this kind of row (`effect_validation`):
    sim_coverage, sim_rejection, sim_datasets and caveat (True where they fall outside
    92.5-97.5 % coverage or above 7.5 % rejection: the report prints them beside the interval).
    """

    cells: pd.DataFrame
    event_study: pd.DataFrame
    overall: dict
    n_clusters: int
    inference: str
    comparison_note: str = CRVE_LABEL
    cohorts: pd.DataFrame | None = None

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


def overall_att_wide(wide: pd.DataFrame, start: pd.Series) -> float:
    """Overall ATT from a wide cluster-by-year table and start years (NaN if no cells)."""
    years, values = wide_arrays(wide)
    return overall_att_arrays(values, years, start_array(start, wide))


def overall_att_arrays(values: np.ndarray, years: list, s: np.ndarray) -> float:
    """overall_att_wide on arrays (rows of `values` and `s` are the clusters)."""
    cells = cells_of_arrays(values, years, s)
    if not cells:
        return np.nan
    y, cell, treat, _ = stack_arrays(values, years, cells)
    effects = arm_differences(y, cell, treat, len(cells))
    return float(aggregation_weights(cells, "overall") @ effects)


def cell_table(cells: list[Cell], att: np.ndarray) -> pd.DataFrame:
    """One row per ATT(g, t); a cell with fewer than two treated clusters is `refused`."""
    return pd.DataFrame(
        {
            "group": [c.group for c in cells],
            "year": [c.year for c in cells],
            "base_year": [c.base_year for c in cells],
            "event_time": [c.event_time for c in cells],
            "att": att,
            "n_treated": [len(c.treated) for c in cells],
            "n_comparison": [len(c.comparison) for c in cells],
            "refused": [refusal(len(c.treated)) for c in cells],
        }
    )


@dataclass(frozen=True)
class Design:
    """The stacked problem and what every event-study row shares."""

    cells: list[Cell]
    x: np.ndarray
    y: np.ndarray
    clusters: np.ndarray
    att: np.ndarray  # ATT(g, t) per cell
    draws: int
    level: float
    seed: int

    @property
    def g_count(self) -> int:
        return len(np.unique(self.clusters))

    @property
    def t_crit(self) -> float:
        return float(dist.t_ppf(0.5 + self.level / 2, self.g_count - 1))


def event_study_row(design: Design, which, weights: np.ndarray) -> tuple[dict, str]:
    """One event-study row and the bootstrap's weights name ("" when the row is refused)."""
    cells, n_cells, g_count = design.cells, len(design.cells), design.g_count
    n_treated = treated_clusters(cells, weights)
    facts = {
        "n_groups": int(len({c.group for c, w in zip(cells, weights, strict=True) if w > 0})),
        "n_cells": int((weights > 0).sum()),
        "n_treated_clusters": n_treated,
    }
    reason = refusal(n_treated)
    boot = None
    if not reason:
        r = np.concatenate([np.zeros(n_cells), weights])
        rng = np.random.default_rng(design.seed)
        boot = prepare_wild_bootstrap(
            design.x, design.y, design.clusters, r, design.draws, rng, "CV3"
        )
        if boot.variance != "CV3":  # never a silent change of method
            reason = REFUSED_JACKKNIFE.format(n=n_treated)
    if reason:
        estimate = float(weights @ design.att)
        empty = dict.fromkeys(INTERVAL_COLUMNS, np.nan)
        row = {"event_time": which, "estimate": estimate, **empty, "se_method": "none"}
        return {**row, **facts, "refused": reason}, ""
    wild_low, wild_high = boot.confidence_interval(design.level)
    headline = t_columns("cv3", boot.theta, boot.se, design.t_crit, g_count)
    row = {
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
        **t_columns("crve", boot.theta, boot.se_crve, design.t_crit, g_count),
    }
    return {**row, **facts, "refused": ""}, boot.weights_name


def inference_label(rows: list[dict], weights_name: str, draws: int) -> str:
    """What the intervals are; never CV3 for a row that has none."""
    refused = [r for r in rows if r["refused"]]
    if rows and len(refused) == len(rows):
        return ALL_REFUSED_LABEL.format(reason=rows[0]["refused"])
    label = CV3_LABEL + "; " + WILD_LABEL.format(weights=weights_name, b=draws)
    return label + "; " + REFUSED_LABEL if refused else label


def estimate_effect(
    panel: pd.DataFrame,
    draws: int = 999,
    level: float = 0.95,
    seed: int = 20230101,
    event_times: bool = True,
    comparison: str = "not_yet",
    cohorts: bool = True,
) -> EffectResult:
    """Staggered difference-in-differences with not-yet-started comparison clusters.

    `panel`: cluster_id, year, value (cluster-year mean or share), start_year (NaN = never).
    Returns per-(g, t) cells, per-event-time and overall estimates with cluster jackknife (CV3)
    t(G-1) intervals and, beside them, wild cluster bootstrap-t intervals (WCR13, Webb weights
    for <= 12 clusters) and plain CR1 t(G-1) intervals; a row resting on fewer than two treated
    clusters, or whose jackknife is undefined, has none of them and says why in `refused`.
    Without `event_times` and `cohorts` only the overall row is estimated (each row draws its
    own bootstrap from `seed`, so it is the same row either way).
    """
    wide, _, cells = estimate_cells(panel, comparison)
    x, y, clusters = stack_cells(wide, cells)
    att = cell_effects(x, y, len(cells))
    design = Design(cells, x, y, clusters, att, draws, level, seed)
    targets: list = ["overall"]
    if event_times:
        targets += sorted({c.event_time for c in cells})
    groups = [("group", g) for g in sorted({c.group for c in cells})] if cohorts else []
    rows, weights_name = [], ""
    for which in targets + groups:
        w = aggregation_weights(cells, which)
        if w.sum() == 0:
            continue
        row, name = event_study_row(design, which, w)
        rows.append(row)
        weights_name = name or weights_name
    by_group = [r for r in rows if isinstance(r["event_time"], tuple)]
    rows = [r for r in rows if not isinstance(r["event_time"], tuple)]
    event_study = attach_validation(pd.DataFrame(rows, columns=list(EVENT_STUDY_COLUMNS)))
    cohorts = pd.DataFrame(by_group, columns=list(EVENT_STUDY_COLUMNS))
    cohorts = cohorts.rename(columns={"event_time": "group"})
    cohorts["group"] = [which[1] for which in cohorts["group"]]
    cohorts = attach_validation(cohorts, kind_of=lambda _: "cohort", column="group")
    return EffectResult(
        cell_table(cells, att),
        event_study,
        event_study.iloc[0].to_dict(),
        design.g_count,
        inference_label(rows + by_group, weights_name, draws),
        cohorts=cohorts,
    )


def t_columns(prefix: str, theta: float, se: float, t_crit: float, g_count: int) -> dict:
    """se, interval and p-value from a standard error with t(G-1) critical values."""
    t_value = theta / se if se > 0 else np.nan
    return {
        f"{prefix}_se": se,
        f"{prefix}_ci_low": theta - t_crit * se,
        f"{prefix}_ci_high": theta + t_crit * se,
        f"{prefix}_p_value": float(2 * dist.t_sf(abs(t_value), g_count - 1)),
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
    years, values = wide_arrays(wide)
    starts = start_array(start, wide)
    observed = overall_att_arrays(values, years, starts)
    rng = np.random.default_rng(seed)
    extreme, used = 0, 0
    for _ in range(permutations):
        value = overall_att_arrays(values, years, rng.permutation(starts))
        if np.isnan(value):
            continue
        used += 1
        extreme += abs(value) >= abs(observed) - 1e-12
    return observed, (extreme + 1) / (used + 1)
