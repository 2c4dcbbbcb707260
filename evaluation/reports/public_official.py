"""The public report's shares with a published count (issue 16): the statements that rest on one
official question (TRIV/TRIVSP answer distributions with `Antal svar`), the inclusion rate
(ELEV/ELEVEX) and the share of pupils with more than 10 % absence (ELEVFRAV/FRAVAAR).

They come from the warehouse the run names (`render --source public --warehouse`), never from
the three CSV files. Each share stands with its n (respondents for a statement, pupils for the
other two). The municipality's share gets a 95 % Wilson interval (Wilson 1927,
`stats.change.wilson_interval`) and, with an earlier year, the change with Newcombe's interval
(`status.year_change`); a share is shown only where privacy allows (the values' `suppressed`,
as in every report).
"""

from __future__ import annotations

import pandas as pd

from evaluation.reports import charts, status
from evaluation.reports import common as rc
from evaluation.reports.formatting import (
    format_difference,
    format_interval,
    format_value,
    indicator_name,
)
from evaluation.reports.inputs import previous_year
from evaluation.texts import SUPPRESSED_MARKER, danish_order, format_school_year, is_missing

SHARES_WITH_COUNTS = ("inklusionsgrad", "fravaer_over_10")  # after the statements


def official_ids(catalog) -> list[str]:
    """The statements in their catalog order, then inclusion and the absence share."""
    statements = [i.id for i in catalog.indicators if getattr(i, "statement", None)]
    return [*statements, *SHARES_WITH_COUNTS]


def official_values(report) -> pd.DataFrame:
    """The municipality's and its schools' rows of those shares (every year), or no rows."""
    data = report.published
    if data is None:
        return pd.DataFrame()
    v = data.values
    keep = (
        v["indicator_id"].isin(official_ids(data.catalog))
        & (v["municipality"] == report.comparison.municipality)
        & v["level"].isin(["unit", "municipality"])
    )
    return v[keep]


def hidden(row) -> bool:
    return bool(row["suppressed"]) or is_missing(row["value"])


def share_with_n(t, indicator, row) -> str:
    """ "83 % (n = 290)", or the missing mark where the share is not shown."""
    if row is None or hidden(row):
        return SUPPRESSED_MARKER
    return t(
        "public4.share_with_n",
        share=format_value(t, indicator, row["value"]),
        n=t.number(float(row["n"]), 0),
    )


def row_of(values: pd.DataFrame, level: str, year: int | None) -> pd.Series | None:
    match = values[(values["level"] == level) & (values["year"] == year)]
    return match.iloc[0] if len(match) else None


def municipality_rows(report, values: pd.DataFrame) -> pd.DataFrame:
    """One row per share: the municipality's value with its interval and n, the schools it rests
    on, and the change since the previous year with data (Newcombe)."""
    from evaluation.stats.change import wilson_interval  # why: scipy loads only when needed

    t, year = report.t, report.comparison.year
    previous = previous_year(year, sorted(values["year"].unique()))
    rows = []
    for ind_id in official_ids(report.catalog):
        of_ind = values[values["indicator_id"] == ind_id]
        now = row_of(of_ind, "municipality", year)
        if now is None:
            continue
        indicator = report.catalog.get(ind_id)
        shown = not hidden(now)
        lower, upper = wilson_interval(now["numerator"], now["n"]) if shown else (None, None)
        change = status.year_change(indicator, now, row_of(of_ind, "municipality", previous))
        schools = of_ind[(of_ind["level"] == "unit") & (of_ind["year"] == year)]
        rows.append(
            {
                t("common.indicator"): indicator_name(t, indicator),
                report.comparison.municipality: share_with_n(t, indicator, now),
                t("public4.columns.interval"): format_interval(t, indicator, lower, upper),
                t("public4.columns.schools"): len(schools),
                t("public4.columns.change", previous=format_school_year(previous))
                if previous is not None
                else t("public4.columns.change_none"): change_text(t, indicator, change),
            }
        )
    return pd.DataFrame(rows)


def change_text(t, indicator, change: dict) -> str:
    """ "+13,0 pct.-point (+9,0 til +17,0) ▲ bedre", or the missing mark without two years."""
    if is_missing(change["change"]):
        return SUPPRESSED_MARKER
    interval = format_interval(
        t, indicator, change["change_lower"], change["change_upper"], signed=True
    )
    difference = format_difference(t, indicator, change["change"])
    return f"{difference} ({interval}) {t('change.' + change['change_verdict'])}"


def school_rows(report, values: pd.DataFrame) -> pd.DataFrame:
    """One row per school with any of the shares this year, one column per share."""
    t, year = report.t, report.comparison.year
    units = values[(values["level"] == "unit") & (values["year"] == year)]
    names = report.published.unit_name
    ids = [i for i in official_ids(report.catalog) if i in set(units["indicator_id"])]
    rows = []
    for unit_id in sorted(units["entity_id"].unique(), key=lambda u: danish_order(names(u))):
        mine = units[units["entity_id"] == unit_id].set_index("indicator_id")
        row = {t("public.columns.school"): names(unit_id)}
        for ind_id in ids:
            indicator = report.catalog.get(ind_id)
            cell = mine.loc[ind_id] if ind_id in mine.index else None
            row[indicator_name(t, indicator)] = share_with_n(t, indicator, cell)
        rows.append(row)
    return pd.DataFrame(rows)


def official_html(report) -> str:
    """The subsection of the schools section ("" when the run names no such warehouse)."""
    values = official_values(report)
    if values.empty:
        return ""
    t = report.t
    words = {**report.names, "school_year": report.school_year}
    notes = [t("public4.n_note"), t("public2.statements_from_answers"), t("public.credit_line")]
    municipality = municipality_rows(report, values)
    schools = school_rows(report, values)
    parts = [
        f'<h3 id="officielle-spoergsmaal">{rc.esc(t("public4.official_title", **words))}</h3>',
        rc.paragraph(t("public4.official_intro", **words)),
    ]
    if len(municipality):
        caption = t("public4.municipality_caption", **words)
        parts.append(charts.table_to_html(municipality, caption, notes))
    if len(schools):
        caption = t("public4.schools_caption", **words)
        parts.append(charts.table_to_html(schools, caption, notes[2:]))  # notes stand above
    return "".join(parts)


# what the CSV files alone cannot say, and what a warehouse of the ministry's figures adds
CANNOT_COUNTS, CANNOT_YEARS, CANNOT_INCLUSION = 0, 1, 5  # places in public.cannot_items


def cannot_items(report, items: list[str]) -> list[str]:
    """The general limits of the public figures, with the three that a warehouse of the
    ministry's figures lifts (counts, years, inclusion) said as they stand for this run."""
    t, items = report.t, list(items)
    counted = int(report.comparison.units["unit_id"].isin(report.respondents.index).sum())
    if counted:
        schools = len(report.comparison.units)
        items[CANNOT_COUNTS] = t("public4.cannot_counts", counted=counted, schools=schools)
    if report.history is not None:
        years = report.history.years
        first, last = format_school_year(years[0]), format_school_year(years[-1])
        items[CANNOT_YEARS] = t("public4.cannot_years", first=first, last=last)
    values = official_values(report)
    if len(values) and (values["indicator_id"] == "inklusionsgrad").any():
        items[CANNOT_INCLUSION] = t("public4.cannot_inclusion")
    return items


def series_missing(report) -> str:
    """The municipality is not in the ministry's series; with earlier years in the warehouse
    the table above stands in for it (the CSV files' "one year per school" no longer holds)."""
    key = "public.series_missing" if report.history is None else "public4.series_from_schools"
    return report.t(key, **report.names)
