"""The community's decisions as the later stages read them, and the suggestions a meeting starts
from (`workbench actions template`).

`load_decisions` reads the warehouse's decisions table (empty for a warehouse from before it);
`decision_targets` gives one row per decision and target indicator. `suggest_decisions` lists
the indicators where a cluster's latest value is clearly apart from its municipality (the
funnel comparison of the reports, evaluation.stats.compare: Spiegelhalter 2005) or changed
clearly since the previous survey (evaluation.stats.change: Newcombe's interval for shares, a
normal interval otherwise). "Clearly" means the 95 % limits or interval exclude it; suppressed
values are never used.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from evaluation import config
from evaluation.catalog import Catalog, Indicator, load_catalog
from evaluation.data import warehouse
from evaluation.errors import ParameterError
from evaluation.stats import followup
from evaluation.texts import Texts, format_school_year
from evaluation.values import decision_drift

DECISION_COLUMNS = list(warehouse.TABLE_COLUMNS["decisions"])


def load_decisions(warehouse_path: Path | str | None = None) -> pd.DataFrame:
    """The decisions table, sorted by cluster and date; empty with its columns if there is none."""
    path = warehouse.require_warehouse(warehouse_path or config.warehouse_path())
    with warehouse.connect(path) as con:
        if "decisions" not in warehouse.list_tables(con):
            return pd.DataFrame(columns=DECISION_COLUMNS)
        frame = con.execute("SELECT * FROM decisions ORDER BY cluster_id, decided, decision_id")
        return frame.df()


def decision_targets(decisions: pd.DataFrame) -> pd.DataFrame:
    """One row per decision and target indicator (column `indicator_id`)."""
    ids = decisions["targets"].fillna("").str.split(",")
    out = decisions.assign(indicator_id=ids).explode("indicator_id")
    out["indicator_id"] = out["indicator_id"].str.strip()
    return out[out["indicator_id"] != ""].reset_index(drop=True)


def cluster_names(warehouse_path: Path | str) -> dict[str, str]:
    """Cluster id -> name, from the warehouse's clusters table."""
    with warehouse.connect(warehouse_path) as con:
        rows = con.execute("SELECT cluster_id, name FROM clusters ORDER BY cluster_id").fetchall()
    return dict(rows)


# --- suggestions ----------------------------------------------------------------------------


def suggest_decisions(
    values: pd.DataFrame, catalog: Catalog, cluster_id: str, year: int, t: Texts
) -> list[dict]:
    """Suggested rows of a decisions sheet: one per indicator whose value for the cluster in
    `year` is clearly apart from the municipality or clearly changed since the survey before.
    Rows where it went the bad way come first; action and responsible are left to the meeting."""
    worse, better = [], []
    for indicator in catalog.indicators:
        of_ind = values[values["indicator_id"] == indicator.id]
        reasons = position_reason(indicator, of_ind, cluster_id, year, t)
        reasons += change_reason(indicator, of_ind, cluster_id, year, t)
        if not reasons:
            continue
        row = suggestion_row(cluster_id, indicator, [text for _, text in reasons], t)
        (worse if any(way == "worse" for way, _ in reasons) else better).append(row)
    return worse + better


def suggestion_row(cluster_id: str, indicator: Indicator, reasons: list[str], t: Texts) -> dict:
    name = indicator.name_da if t.language == "da" else indicator.name_en
    note = t("decisions.suggestion", indicator=name, reasons="; ".join(reasons))
    return {"cluster_id": cluster_id, "targets": indicator.id, "status": "planlagt", "note": note}


def entity_row(of_ind: pd.DataFrame, level: str, entity_id: str, year: int) -> pd.Series | None:
    rows = of_ind[
        (of_ind["level"] == level) & (of_ind["entity_id"] == entity_id) & (of_ind["year"] == year)
    ]
    if rows.empty or pd.isna(rows["value"].iloc[0]):
        return None
    return rows.iloc[0]


def position_reason(indicator, of_ind, cluster_id: str, year: int, t: Texts) -> list:
    """[(better|worse, text)] when the cluster is outside the 95 % funnel limits around its
    municipality's value among the municipality's clusters; else []."""
    from evaluation.stats import compare  # why: scipy loads only when suggestions are made

    mine = entity_row(of_ind, "cluster", cluster_id, year)
    if mine is None:
        return []
    muni = entity_row(of_ind, "municipality", mine["municipality"], year)
    peers = of_ind[
        (of_ind["level"] == "cluster")
        & (of_ind["year"] == year)
        & (of_ind["municipality"] == mine["municipality"])
        & of_ind["value"].notna()
    ]
    if muni is None or len(peers) < 2:
        return []
    kind = funnel_kind(indicator, peers)
    result = compare.compare_units(peers, target=float(muni["value"]), kind=kind).units
    found = result.loc[result["entity_id"] == cluster_id, "classification"]
    if found.empty or found.iloc[0] == "within":
        return []
    way = better_or_worse(indicator, found.iloc[0] == "above")
    shown = {"value": show(t, indicator, mine["value"]), "reference": show(t, indicator, muni)}
    return [(way, t(f"decisions.position_{way}", **shown))]


def funnel_kind(indicator: Indicator, rows: pd.DataFrame) -> str:
    """A mean known only with its own se (published figures) is compared on that se."""
    only_se = rows["sd"].isna().all() and rows["se"].notna().any()
    return "median" if indicator.kind in ("mean", "rate") and only_se else indicator.kind


def change_reason(indicator, of_ind, cluster_id: str, year: int, t: Texts) -> list:
    """[(better|worse, text)] when the change since the cluster's previous survey with a value
    has a 95 % interval that excludes zero; else []."""
    from evaluation.stats import change  # why: scipy loads only when suggestions are made

    now = entity_row(of_ind, "cluster", cluster_id, year)
    earlier = of_ind[
        (of_ind["level"] == "cluster")
        & (of_ind["entity_id"] == cluster_id)
        & (of_ind["year"] < year)
        & of_ind["value"].notna()
    ]
    if now is None or earlier.empty:
        return []
    before = earlier.sort_values("year").iloc[-1]
    if indicator.kind == "proportion":
        counts = [now["numerator"], now["n"], before["numerator"], before["n"]]
        if any(pd.isna(x) for x in counts):
            return []
        result = change.change_in_proportions(*([float(x)] for x in counts))
    else:
        if pd.isna(now["se"]) or pd.isna(before["se"]):
            return []
        result = change.change_in_means(
            [now["value"]], [now["se"]], [before["value"]], [before["se"]]
        )
    low, high = float(result["ci_low"].iloc[0]), float(result["ci_high"].iloc[0])
    if math.isnan(low) or low <= 0 <= high:
        return []
    way = better_or_worse(indicator, low > 0)
    shown = {
        "school_year": format_school_year(int(before["year"])),
        "before": show(t, indicator, before["value"]),
        "value": show(t, indicator, now["value"]),
    }
    return [(way, t(f"decisions.change_{way}", **shown))]


def better_or_worse(indicator: Indicator, higher: bool) -> str:
    return "better" if higher == (indicator.direction == "higher_better") else "worse"


def show(t: Texts, indicator: Indicator, value) -> str:
    """A value as the reports write it: shares in %, means with two decimals."""
    value = float(value["value"] if isinstance(value, pd.Series) else value)
    if indicator.kind == "proportion":
        return t.percent(value)
    return t.number(value, decimals={"mean": 2, "rate": 1}.get(indicator.kind, 0))


# --- the template ---------------------------------------------------------------------------


def template_rows(
    warehouse_path: Path | str,
    cluster_id: str,
    year: int | None = None,
    min_n: int = config.MIN_N_DEFAULT,
    language: str = "da",
) -> tuple[list[dict], int]:
    """The rows of a cluster's decisions sheet (its decisions so far, then the suggestions of
    `year`, default the latest year with values) and the year used."""
    from evaluation.values.load import load_indicator_values  # why: the values stage's door

    names = cluster_names(warehouse_path)
    if cluster_id not in names:
        raise ParameterError(
            f"--cluster {cluster_id!r} is not in the warehouse; clusters: {', '.join(names)}"
        )
    values = load_indicator_values(warehouse_path, min_n=min_n)
    own = values[(values["level"] == "cluster") & (values["entity_id"] == cluster_id)]
    years = sorted(own.loc[own["value"].notna(), "year"].unique())
    if year is None and not years:
        raise ParameterError(f"cluster {cluster_id!r} has no values in the warehouse yet")
    year = int(year if year is not None else years[-1])
    if year not in years:
        shown = ", ".join(str(int(y)) for y in years)
        raise ParameterError(f"--year {year}: cluster {cluster_id!r} has values in {shown}")
    existing = load_decisions(warehouse_path)
    existing = existing[existing["cluster_id"] == cluster_id]
    rows = existing.drop(columns=["decision_id", "first_year", "review_date"]).to_dict("records")
    suggestions = suggest_decisions(values, load_catalog(), cluster_id, year, Texts(language))
    if not suggestions:  # one open row for a decision of the meeting's own
        suggestions = [{"cluster_id": cluster_id, "status": "planlagt"}]
    return rows + suggestions, year


# --- follow-up (evaluation.stats.followup) ----------------------------------------------------

UPDATED_STATUSES = ("fortsat", "justeret", "stoppet")  # a status set at (or after) a review
HIDDEN = "not_shown"  # the verdict of a follow-up that shows "–" (the reason says why)
FOLLOWUP_COLUMNS = [
    "decision_id", "cluster_id", "action", "indicator_id", "grade_band", "decided", "first_year",
    "review", "review_date", "status", "level", "entity_id", "before_year", "now_year", "before",
    "now", "rest_before", "rest_now", "cluster_change", "rest_change", "estimate", "se", "low",
    "high", "verdict", "reason", "review_due", "overdue",
]  # fmt: skip


def follow_up_decisions(
    decisions: pd.DataFrame,
    values: pd.DataFrame,
    catalog: Catalog,
    year: int,
    today,
    covariances: pd.DataFrame | None = None,
    every_decision: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per decision and target indicator: before (the last survey before the decision's
    first_year) and now (the latest survey up to `year`), the cluster's (or the named unit's)
    change, the rest of the municipality's change, their difference with its 95 % interval and
    the verdict (evaluation.stats.followup). `reason` says why a follow-up shows "–": a grade
    band the indicator is not published for ("band"), a hidden value ("suppressed", the
    privacy rules of evaluation.values.privacy), no survey before the decision ("no_baseline"),
    no values at all for the group ("no_values");
    "whole_municipality" marks a median compared with the whole municipality (medians are not
    additive, so the rest cannot be found). `review_due`: the review date has passed without
    clear progress (the KL question); `overdue`: it has passed and the status was never updated.
    `covariances` (evaluation.values.year_overlap.overlap_covariances) tie a group's two years
    through the pupils answering in both; None treats the years as independent.
    `every_decision`: all the municipality's decisions when `decisions` are some of them (one
    cluster's report): every group a decision is meant to move leaves its years out of the
    drift, so each row is the same as when every decision is followed up (None: `decisions`).
    """
    rows = []
    known = {ind.id for ind in catalog.indicators}
    targets = decision_targets(decisions)
    everyone = targets if every_decision is None else decision_targets(every_decision)
    started = decisions_started(everyone)
    of_indicator = dict(iter(values.groupby("indicator_id", sort=False)))  # split once
    memo: dict = {}  # decisions on one indicator, level and years share their drift
    for target in targets.itertuples(index=False):
        if target.indicator_id not in known:
            continue
        indicator = catalog.get(target.indicator_id)
        of_ind = of_indicator.get(indicator.id, values.iloc[:0])
        row = follow_up_one(target, indicator, of_ind, year, covariances, started, memo)
        due = not pd.isna(target.review_date) and pd.Timestamp(target.review_date) < pd.Timestamp(
            today
        )
        row["review_due"] = due and row["verdict"] != followup.PROGRESS
        row["overdue"] = due and target.status not in UPDATED_STATUSES
        rows.append(row)
    return pd.DataFrame(rows, columns=FOLLOWUP_COLUMNS)


def decisions_started(targets: pd.DataFrame) -> dict:
    """(indicator_id, level, entity_id) -> the first survey year any decision on it can show:
    a decision is meant to move its group, so the drift leaves those years out."""
    started = {}
    for target in targets.itertuples(index=False):
        if pd.isna(target.first_year):
            continue
        key = (target.indicator_id, *level_entity(target))
        started[key] = min(started.get(key, math.inf), int(target.first_year))
    return started


def level_entity(target) -> tuple[str, str]:
    """("unit", unit_id) for a decision naming a unit, else ("cluster", cluster_id)."""
    unit = None if pd.isna(target.unit_id) or target.unit_id == "" else str(target.unit_id)
    return ("unit", unit) if unit else ("cluster", target.cluster_id)


def follow_up_one(
    target,
    indicator: Indicator,
    of_ind: pd.DataFrame,
    year: int,
    covariances=None,
    started=None,
    memo: dict | None = None,
) -> dict:
    """The follow-up of one decision on one indicator (see follow_up_decisions) from the
    indicator's values rows `of_ind`; `started` as decisions_started gives it (None: no group's
    years are left out of the drift); `memo` keeps what other decisions computed (drifts, the
    municipality's rows)."""
    level, entity = level_entity(target)
    row = {c: getattr(target, c, None) for c in FOLLOWUP_COLUMNS[:10]}
    row |= {"level": level, "entity_id": entity, "verdict": HIDDEN, "reason": None}
    own = of_ind[(of_ind["level"] == level) & (of_ind["entity_id"] == entity)]
    years = sorted(int(y) for y in own["year"].unique() if y <= year)
    first = int(target.first_year)
    if not years:
        return row | {"reason": "no_values"}
    if years[-1] < first:
        return row | {"verdict": followup.TOO_EARLY, "now_year": years[-1]}
    band = None if pd.isna(target.grade_band) else str(target.grade_band).strip()
    if band and band != indicator.grade_band:
        return row | {"reason": "band"}
    before_years = [y for y in years if y < first]
    if not before_years:
        return row | {"reason": "no_baseline", "now_year": years[-1]}
    row |= {"before_year": before_years[-1], "now_year": years[-1]}
    memo = {} if memo is None else memo
    if ("whole", indicator.id) not in memo:
        memo["whole", indicator.id] = rows_by_entity_year(of_ind[of_ind["level"] == "municipality"])
    own_rows = {year: r for (_, year), r in rows_by_entity_year(own).items()}
    whole_rows = memo["whole", indicator.id]
    pair = [group_pair(own_rows, whole_rows, y) for y in (row["before_year"], row["now_year"])]
    if any(p is None for p in pair):
        return row | {"reason": "suppressed"}
    (mine_before, rest_before, whole), (mine_now, rest_now, _) = pair
    municipality = own["municipality"].iloc[0]
    span = row["now_year"] - row["before_year"]
    tied = covariances_of(covariances, indicator.id, level)
    mine = {e: y for (i, lv, e), y in (started or {}).items() if i == indicator.id and lv == level}
    key = (indicator.id, level, municipality, row["before_year"], span)  # all the drift reads
    if key not in memo:
        memo[key] = decision_drift.drift_before(
            of_ind, level, municipality, row["before_year"], span, summary_of, tied, mine
        )
    drift = memo[key]
    pair_covariances = covariance_pair(tied, entity, row["before_year"], row["now_year"])
    result = followup.follow_up(
        mine_before,
        mine_now,
        rest_before,
        rest_now,
        indicator.direction,
        drift=drift,
        covariances=pair_covariances,
        nested=whole,
    )
    return row | {
        "before": mine_before.value,
        "now": mine_now.value,
        "rest_before": rest_before.value,
        "rest_now": rest_now.value,
        "cluster_change": result.cluster_change,
        "rest_change": result.rest_change,
        "estimate": result.estimate,
        "se": result.se,
        "low": result.low,
        "high": result.high,
        "verdict": result.verdict,
        "reason": "whole_municipality" if whole else None,
    }


def covariances_of(covariances: pd.DataFrame | None, indicator_id: str, level: str):
    """The overlap covariances of one indicator and level (None when there are none)."""
    if covariances is None or covariances.empty:
        return None
    mine = covariances[
        (covariances["indicator_id"] == indicator_id) & (covariances["level"] == level)
    ]
    return mine if not mine.empty else None


def covariance_pair(tied: pd.DataFrame | None, entity, year_from, year_to) -> tuple[float, float]:
    """(the group's, the rest's) Cov(before, now) of their means; (0, 0) when none are known."""
    if tied is None:
        return 0.0, 0.0
    row = tied[
        (tied["entity_id"] == entity)
        & (tied["year_from"] == year_from)
        & (tied["year_to"] == year_to)
    ]
    if row.empty:
        return 0.0, 0.0
    return float(row["covariance"].iloc[0]), float(row["rest_covariance"].iloc[0])


def group_pair(own_rows: dict, whole_rows: dict, year: int):
    """(the group's summary, the rest of its municipality's, whether the rest is the whole
    municipality) in `year` from the group's first row per year and the municipalities' first
    row per (municipality, year) (`rows_by_entity_year`); None when a value is missing or
    suppressed."""
    mine = own_rows.get(year)
    if mine is None:
        return None
    return summary_pair(mine, whole_rows.get((mine["municipality"], year)))


def rows_by_entity_year(rows: pd.DataFrame) -> dict[tuple, dict]:
    """(entity_id, year) -> the first of its rows as a dict, read once (a filter and a row of
    mixed dtypes per look-up cost the follow-ups a second, issue 17)."""
    found: dict[tuple, dict] = {}
    for row in rows.to_dict("records"):
        found.setdefault((row["entity_id"], int(row["year"])), row)
    return found


def summary_pair(mine_row: dict | None, whole_row: dict | None):
    """`group_pair` from the group's and its municipality's values rows (dicts, or None)."""
    mine = summary_of(mine_row)
    if mine is None:
        return None
    whole = summary_of(whole_row)
    if whole is None:
        return None
    rest = followup.rest_of(whole, mine)
    if rest is None and whole.kind == "median":
        return mine, whole, True
    return None if rest is None else (mine, rest, False)


def summary_of(r: dict | None) -> followup.Summary | None:
    """A values row (a dict) as a followup.Summary; None when absent, suppressed or without se."""
    if r is None or bool(r.get("suppressed", False)) or pd.isna(r["value"]) or pd.isna(r["n"]):
        return None
    fields = {k: float(r[k]) if not pd.isna(r[k]) else math.nan for k in ("numerator", "sd", "se")}
    summary = followup.Summary(str(r["kind"]), float(r["n"]), float(r["value"]), **fields)
    return None if math.isnan(summary.variance()) else summary


def follow_up_series(values: pd.DataFrame, follow: pd.Series, last_year: int) -> pd.DataFrame:
    """The run chart's rows of one follow-up: year, series ('own' or 'rest') and value, for the
    group's published years up to `last_year` (the rest only where both values are shown)."""
    level, entity = values["level"], values["entity_id"]
    needed = values[
        (values["indicator_id"] == follow["indicator_id"])
        & (
            (level == "municipality")
            | ((level == follow["level"]) & (entity == follow["entity_id"]))
        )
    ]
    own: dict[int, dict] = {}  # year -> the group's first row (as group_pair takes it)
    municipality: dict[tuple, dict] = {}  # (municipality, year) -> its first row
    for r in needed.to_dict("records"):
        if r["level"] == follow["level"] and r["entity_id"] == follow["entity_id"]:
            own.setdefault(int(r["year"]), r)
        if r["level"] == "municipality":
            municipality.setdefault((r["entity_id"], int(r["year"])), r)
    rows = []
    for year in sorted(y for y in own if y <= last_year):
        whole = municipality.get((own[year]["municipality"], year))
        pair = summary_pair(own[year], whole)
        if pair is not None:
            rows += [(year, "own", pair[0].value), (year, "rest", pair[1].value)]
    return pd.DataFrame(rows, columns=["year", "series", "value"])
