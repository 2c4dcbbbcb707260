"""The status of an indicator for one entity: level, change since the year before, and position
against the municipality, each judged only when its interval is clear.

Each verdict comes with the interval that decided it, from the same computation: the position
with the funnel limits of evaluation.stats.compare turned around the entity's value (the
municipality outside it <=> the entity outside the limits), the change with the interval of
evaluation.stats.change (zero outside it <=> a change). What a report prints beside a verdict
is that interval, never a second one computed elsewhere.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd

from evaluation.reports import charts, public_change, public_cluster
from evaluation.reports.formatting import (
    extra_decimals,
    format_difference,
    format_interval,
    format_value,
    indicator_name,
)
from evaluation.reports.inputs import (
    ReportData,
    previous_year,
    rows_by_indicator,
    shared_result,
    value_row,
)
from evaluation.stats.usual_change import against_usual
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year, is_missing

Z95 = 1.959963984540054
CLEAR = ("better", "worse")  # verdicts that say a clear difference or change
# compare_units' columns of the interval that decided a position -> the status row's names
DECIDED = {
    "decided_low_95": "decided_lower",
    "decided_high_95": "decided_upper",
    "difference_low_95": "difference_lower",
    "difference_high_95": "difference_upper",
}


def level_interval(indicator, value, se) -> tuple[float, float]:
    """95 % interval of a level from its standard error alone (chance only); shares kept inside
    0-1, other kinds at or above zero. For charts over the years, where no verdict stands beside
    it; beside a position verdict the reports print the deciding interval (`summarise_entity`)."""
    if is_missing(value) or is_missing(se):
        return (math.nan, math.nan)
    lower, upper = value - Z95 * se, value + Z95 * se
    if indicator.kind == "proportion":
        return max(lower, 0.0), min(upper, 1.0)
    return max(lower, 0.0), upper


def verdict_for(indicator, direction) -> str:
    """ "better" / "worse" / "none" for the direction evaluation.stats.change gives ("increase",
    "decrease", "no clear change"), turned by the indicator's good direction; "missing" without.
    The rule itself (an interval excluding zero) lives in change.describe_change only."""
    if is_missing(direction) or direction not in ("increase", "decrease", "no clear change"):
        return "missing"
    if direction == "no clear change":
        return "none"
    good = "increase" if indicator.direction == "higher_better" else "decrease"
    return "better" if direction == good else "worse"


def judge(indicator, lower, upper) -> str:
    """ "better" / "worse" / "none" for an interval of a difference; "missing" without one.

    A difference is only called one when its interval excludes zero (DESIGN.md, Statistics):
    change.describe_change decides, `verdict_for` names it.
    """
    from evaluation.stats import change  # why: scipy loads only when a report runs

    if is_missing(lower) or is_missing(upper):
        return "missing"
    return verdict_for(indicator, str(change.describe_change(lower, upper)))


NOT_ASSESSED = {"position": "missing", **dict.fromkeys(DECIDED.values(), math.nan)}
NO_CHANGE = {
    "change": math.nan,
    "change_lower": math.nan,
    "change_upper": math.nan,
    "change_verdict": "missing",
}


def year_change(indicator, now: pd.Series | None, before: pd.Series | None) -> dict:
    """Change between two years of one entity with its 95 % interval and the verdict that this
    interval decided, both from one call of evaluation.stats.change: Newcombe's hybrid score
    interval for proportions, a normal interval for the rest."""
    from evaluation.stats import change  # why: scipy loads only when a report runs

    out = {"change": math.nan, "change_lower": math.nan, "change_upper": math.nan}
    if now is None or before is None or is_missing(now["value"]) or is_missing(before["value"]):
        return {**out, "change_verdict": "missing"}
    if indicator.kind == "proportion":
        needed = (now["numerator"], now["n"], before["numerator"], before["n"])
        if any(is_missing(x) for x in needed):
            return {**out, "change_verdict": "missing"}
        result = change.proportion_change(*([float(x)] for x in needed))
    else:
        if is_missing(now["se"]) or is_missing(before["se"]):
            return {**out, "change_verdict": "missing"}
        result = change.mean_change(
            [float(now["value"])],
            [float(now["se"])],
            [float(before["value"])],
            [float(before["se"])],
        )
    row = {column: values[0] for column, values in result.items()}
    return {
        "change": float(row["change"]),
        "change_lower": float(row["ci_low"]),
        "change_upper": float(row["ci_high"]),
        "change_verdict": verdict_for(indicator, row["direction"]),
    }


def position_against(indicator, entities: pd.DataFrame, target: float) -> pd.DataFrame:
    """Funnel comparison (evaluation.stats.compare) of entities against the municipality value.

    Returns compare_units' unit columns (entity_id, classification at 95 % and 99.8 %, the
    limits, decided_low_95/decided_high_95 and difference_low_95/difference_high_95: the
    intervals that decided) and `position` as better/worse/within.
    """
    from evaluation.stats import compare  # why: scipy loads only when a report runs

    shown = entities[entities["value"].notna()]
    cols = ["entity_id", "classification", "classification_998", "position", *DECIDED]
    if shown.empty or is_missing(target):
        return pd.DataFrame(columns=cols)
    kind = comparison_kind(indicator, shown)
    result = compare.compare_units(shown, target=float(target), kind=kind)
    units = result.units.copy()
    good = "above" if indicator.direction == "higher_better" else "below"
    units["position"] = np.where(
        units["classification"] == "within",
        "within",
        np.where(units["classification"] == good, "better", "worse"),
    )
    return units  # no attrs: pandas deep-copies them on every filter (issue 17)


def comparison_kind(indicator, rows: pd.DataFrame) -> str:
    """The kind to give evaluation.stats.compare: a mean without pupil-level sd but with its own se
    (published aggregates, evaluation.values.published) is compared on that se ("median" path)."""
    no_sd = "sd" not in rows or rows["sd"].isna().all()
    has_se = "se" in rows and rows["se"].notna().any()
    if indicator.kind in ("mean", "rate") and no_sd and has_se:
        return "median"
    return indicator.kind


def summarise_entity(
    data: ReportData, level: str, entity_id: str, year: int, indicator_ids
) -> pd.DataFrame:
    """One row per indicator: value this year, the municipality's value, the position against
    the municipality among entities of the same level with the intervals that decided it
    (`position_of`), and the change since the previous year with data and its interval.

    Each row is computed once per run (`shared_result`: the run's precomputation or this report).
    """
    rows = []
    for ind_id in indicator_ids:
        if ind_id not in data.catalog.by_id:
            continue
        key = ("status_row", level, str(entity_id), int(year), ind_id)
        row = shared_result(data, key, lambda i=ind_id: status_row(data, level, entity_id, year, i))
        if row is not None:
            rows.append(row)
    return pd.DataFrame(rows)


def status_row(data: ReportData, level: str, entity_id: str, year: int, ind_id: str) -> dict | None:
    """`summarise_entity`'s row of one indicator; None when the entity has no value that year.
    Rows are looked up in indexes made once per report (`value_row`, `rows_by_indicator`): a
    filter of the indicator's rows per look-up cost the run seconds (issue 17)."""
    indicator = data.catalog.get(ind_id)
    now = value_row(data, ind_id, level, entity_id, year)
    if now is None:
        return None
    prev = previous_year(year, data.years)
    before = value_row(data, ind_id, level, entity_id, prev) if prev is not None else None
    muni = rows_by_indicator(data, "municipality", year=year).get(ind_id)
    reference = (
        float(muni["value"].iloc[0])
        if muni is not None and muni["value"].notna().iloc[0]
        else math.nan
    )
    return {
        "indicator_id": ind_id,
        "indicator": indicator,
        "n": now["n"],
        "value": now["value"],
        "suppressed": bool(now["suppressed"]),
        "reference": reference,
        **positions_of(data, indicator, level, year, reference).get(entity_id, NOT_ASSESSED),
        "previous_year": prev,
        "previous_value": before["value"] if before is not None else math.nan,
        **(
            usual_year_change(data, level, entity_id, year, now, before)
            if public_cluster.change_without_counts(data, indicator, now)
            else year_change(indicator, now, before)
        ),
    }


def positions_of(data: ReportData, indicator, level: str, year: int, reference: float) -> dict:
    """entity_id -> `position_of` for every entity of `level` in `year`: the funnel comparison
    once per run (`shared_result`), each entity's row read out once per report."""

    def compare() -> pd.DataFrame:
        peers = rows_by_indicator(data, level, year=year).get(indicator.id)
        peers = peers if peers is not None else data.values.iloc[:0]
        return position_against(indicator, peers, reference)

    key = ("positions", level, indicator.id, int(year))
    positions = shared_result(data, key, compare, keep=False)

    read_out = partial(positions_by_entity, positions)
    return shared_result(data, ("position_of", *key[1:]), read_out, keep=False)


def usual_year_change(data, level, entity_id, year, now, before) -> dict:
    """A published index's change (no n, so no sampling interval: `change_verdict` stays
    "missing" and no clear change is counted) with the band of usual year-to-year swings
    (`public_change.entity_band`) and where the change lies against it."""
    out = {**NO_CHANGE, "usual_band": math.nan, "usual_verdict": "missing"}
    if before is None or is_missing(now["value"]) or is_missing(before["value"]):
        return out
    change = float(now["value"]) - float(before["value"])
    of_indicator = public_change.shown_values(data, str(now["indicator_id"]))
    band = public_change.entity_band(of_indicator, level, entity_id, year)
    verdict = against_usual(change, band)
    return {
        **out,
        "change": change,
        "usual_band": band.half_width if band is not None else math.nan,
        "usual_verdict": verdict,
    }


def position_of(positions: pd.DataFrame, entity_id: str) -> dict:
    """The entity's position and the 95 % intervals that decided it (NaN when not assessed):
    decided_lower/upper for its level, difference_lower/upper for its difference from the
    municipality; the municipality lies outside the first exactly when 0 lies outside the second
    and the position is better or worse."""
    return positions_by_entity(positions).get(entity_id, dict(NOT_ASSESSED))


def positions_by_entity(positions: pd.DataFrame) -> dict:
    """entity_id -> `position_of` of each entity (its first row), the rows read once."""
    out: dict = {}
    for row in positions.to_dict("records"):
        if row["entity_id"] not in out:
            decided = {key: float(row[c]) for c, key in DECIDED.items()}
            out[row["entity_id"]] = {"position": str(row["position"]), **decided}
    return out


def status_table(
    t: Texts, rows: pd.DataFrame, caption: str, columns: list[tuple[str, str]], min_n: int
) -> str:
    """A table of indicator status rows; `columns` pairs a header with a field key.

    Field keys: indicator, value, interval, value_interval, reference, previous, change, verdict,
    position, n.
    """
    table = status_frame(t, rows, columns)
    return charts.table_to_html(
        table, caption, footnotes=[t("common.suppressed_note", min_n=min_n)]
    )


def status_frame(t: Texts, rows: pd.DataFrame, columns: list[tuple[str, str]]) -> pd.DataFrame:
    """The display strings of status rows (also what goes to the CSV file). A level, its interval
    and the municipality's value share their decimals, as do a change and its interval, so a
    clear verdict always reads off the printed numbers (formatting.extra_decimals)."""
    out = {header: [] for header, _ in columns}
    for row in rows.itertuples(index=False):
        ind = row.indicator
        extra = position_decimals(row)
        cells = {
            "indicator": indicator_name(t, ind),
            "value": format_value(t, ind, row.value, extra),
            "interval": format_interval(t, ind, row.decided_lower, row.decided_upper, extra=extra),
            "value_interval": _value_with_interval(t, ind, row, extra),
            "reference": format_value(t, ind, row.reference, extra),
            "previous": format_value(t, ind, row.previous_value),
            "change": _change_text(t, ind, row),
            "verdict": _verdict_text(t, row),
            "position": t("level." + row.position),
            "n": SUPPRESSED_MARKER if is_missing(row.n) else t.number(row.n, decimals=0),
        }
        for header, key in columns:
            out[header].append(cells[key])
    return pd.DataFrame(out)


def position_decimals(row) -> int:
    """Extra decimals for a level, its deciding interval and the municipality's value."""
    clear = row.position in CLEAR
    return extra_decimals(row.indicator, row.decided_lower, row.decided_upper, row.reference, clear)


def change_decimals(row) -> int:
    """Extra decimals for a change and its interval (zero printed outside it when clear)."""
    clear = row.change_verdict in CLEAR
    return extra_decimals(row.indicator, row.change_lower, row.change_upper, 0.0, clear, True)


def _value_with_interval(t: Texts, ind, row, extra: int) -> str:
    """The value with the interval that decided its position; the value alone when the position
    could not be assessed (no interval is printed that no verdict stands on)."""
    if is_missing(row.value):
        return SUPPRESSED_MARKER
    value = format_value(t, ind, row.value, extra)
    if is_missing(row.decided_lower) or is_missing(row.decided_upper):
        return value
    return f"{value} ({format_interval(t, ind, row.decided_lower, row.decided_upper, extra=extra)})"


def _verdict_text(t: Texts, row) -> str:
    """The change's verdict; for a published index the change against the usual swings, with
    the year named ("større end de sædvanlige udsving siden 2023/24"), never "tydelig"."""
    usual = getattr(row, "usual_verdict", None)
    if not isinstance(usual, str) or usual == "missing" or is_missing(row.previous_year):
        return t("change." + row.change_verdict)
    previous = format_school_year(int(row.previous_year))
    return t(f"public4.usual_verdict.{usual}", previous=previous)


def _change_text(t: Texts, ind, row) -> str:
    if is_missing(row.change):
        return SUPPRESSED_MARKER
    if not is_missing(getattr(row, "usual_band", math.nan)):  # a published index: no interval
        band = public_change.band_text(t, ind, row.usual_band)
        return t("public4.usual_change", change=format_difference(t, ind, row.change), band=band)
    if is_missing(row.change_lower):  # a published index whose band could not be estimated
        return format_difference(t, ind, row.change)
    extra = change_decimals(row)
    interval = format_interval(t, ind, row.change_lower, row.change_upper, True, extra)
    return f"{format_difference(t, ind, row.change, extra)} ({interval})"


def usual_count_sentence(t: Texts, rows: pd.DataFrame, previous: str) -> str:
    """How many published indices moved more than the usual swings ("" without any judged)."""
    if not len(rows) or "usual_verdict" not in rows:
        return ""
    verdicts = rows["usual_verdict"]
    judged = int(verdicts.isin(["larger_increase", "larger_decrease", "usual"]).sum())
    if not judged:
        return ""
    larger = int(verdicts.isin(["larger_increase", "larger_decrease"]).sum())
    return t("public4.usual_count", larger=larger, total=judged, previous=previous)
