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
from evaluation.texts import Texts, format_school_year

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
