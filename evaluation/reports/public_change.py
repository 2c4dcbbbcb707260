"""Change over the years of published figures without n (issue 16), for the cluster report
and the leader summary on a multi-year public warehouse.

A published index or absence has no respondent count, so its change gets no sampling interval.
Beside it stands only the band of usual year-to-year variation (`evaluation.stats.usual_change`):
estimated from the municipality's schools' own changes between the same two years, narrowed for
a cluster's or the municipality's pupil-weighted mean (H), and labelled as such. A verdict is
given only outside that band, in the words "larger than the usual swings", never "clear".
Shares with published counts (statements, inclusion) keep their sampling intervals elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.data.public_files import ABSENCE_INDICATOR, WELLBEING_INDICATORS
from evaluation.reports import charts
from evaluation.reports.formatting import format_difference, format_value, indicator_name
from evaluation.reports.inputs import load_report_data, previous_year
from evaluation.reports.public_cluster import change_without_counts
from evaluation.stats.usual_change import (
    UsualBand,
    against_usual,
    concentration,
    usual_change_band,
)
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year

PUBLISHED_WITHOUT_N = (*WELLBEING_INDICATORS, ABSENCE_INDICATOR)  # the indices and absence


def shown_values(data, indicator_id: str) -> pd.DataFrame:
    values = data.values
    keep = (values["indicator_id"] == indicator_id) & ~values["suppressed"].astype(bool)
    return values[keep & values["value"].notna()]


def school_changes(of_indicator: pd.DataFrame, year: int) -> pd.Series:
    """Every school's published change between consecutive years with data, up to `year`
    (the usual swings of all the published years, not of one pair alone)."""
    units = of_indicator[(of_indicator["level"] == "unit") & (of_indicator["year"] <= year)]
    wide = units.pivot_table(index="entity_id", columns="year", values="value", aggfunc="first")
    years = sorted(wide.columns)
    pairs = [wide[now] - wide[before] for before, now in zip(years, years[1:], strict=False)]
    return pd.concat(pairs).dropna().astype(float) if pairs else pd.Series(dtype=float)


def members_weights(of_indicator: pd.DataFrame, level: str, entity_id: str, year: int):
    """The pupil counts of the schools that make up the entity's value in `year`."""
    units = of_indicator[(of_indicator["level"] == "unit") & (of_indicator["year"] == year)]
    if level == "cluster":
        units = units[units["cluster_id"] == entity_id]
    elif level == "municipality":
        units = units[units["municipality"] == entity_id]
    else:
        units = units[units["entity_id"] == entity_id]
    return pd.to_numeric(units["n"], errors="coerce").dropna().to_numpy(float)


def entity_band(
    of_indicator: pd.DataFrame, level: str, entity_id: str, year: int
) -> UsualBand | None:
    """The school band, narrowed by H for a mean of schools (None without enough changes): a
    mean of schools swings less when the schools swing independently of each other."""
    band = usual_change_band(school_changes(of_indicator, year))
    weights = members_weights(of_indicator, level, entity_id, year)
    if band is None or len(weights) == 0 or not np.all(weights > 0):
        return None
    return band.scaled(concentration(weights)) if level != "unit" else band


def usual_change_rows(data, level: str, entity_id: str, year: int, indicator_ids) -> list[dict]:
    """One row per published index or absence: its values by year, the change since the
    previous year with data, the band of usual swings and the verdict against it."""
    previous = previous_year(year, [y for y in data.years if y <= year])
    rows = []
    for indicator_id in indicator_ids:
        if indicator_id not in data.catalog.by_id:
            continue
        indicator = data.catalog.get(indicator_id)
        of_ind = shown_values(data, indicator_id)
        own = of_ind[(of_ind["level"] == level) & (of_ind["entity_id"] == entity_id)]
        own = own[own["year"] <= year].set_index("year")["value"].astype(float)
        if own.empty or year not in own.index:
            continue
        if not change_without_counts(data, indicator, of_ind[of_ind["year"] == year].iloc[0]):
            continue
        change, band = np.nan, None
        if previous is not None and previous in own.index:
            change = float(own[year] - own[previous])
            band = entity_band(of_ind, level, entity_id, year)
        verdict = against_usual(change, band)
        rows.append(
            {
                "indicator": indicator,
                "by_year": own.to_dict(),
                "change": change,
                "band": band,
                "verdict": verdict,
                "previous": previous,
            }
        )
    return rows


def band_text(t: Texts, indicator, half_width: float | None) -> str:
    """'±0,21' in the change's unit, or the missing mark."""
    if half_width is None or np.isnan(half_width):
        return SUPPRESSED_MARKER
    shown = format_difference(t, indicator, half_width)
    if not any(c in "123456789" for c in shown):  # a narrow band never prints as ±0,0
        shown = format_difference(t, indicator, half_width, extra=1)
    return "±" + shown.lstrip("+±")


def usual_change_table(t: Texts, rows: list[dict], years: list[int]) -> pd.DataFrame:
    """The rows as printed: values by year, change, band of usual swings, verdict."""
    labels = [format_school_year(y) for y in years]
    out = []
    for row in rows:
        ind = row["indicator"]
        cells = {t("common.indicator"): indicator_name(t, ind)}
        for year, label in zip(years, labels, strict=True):
            cells[label] = format_value(t, ind, row["by_year"].get(year, np.nan))
        cells[t("public3.columns.change")] = format_difference(t, ind, row["change"])
        cells[t("public3.columns.usual")] = band_text(
            t, ind, row["band"].half_width if row["band"] else None
        )
        cells[t("public3.columns.verdict")] = t(f"public3.verdict.{row['verdict']}")
        out.append(cells)
    return pd.DataFrame(out)


def usual_change_html(
    data, t: Texts, level: str, entity_id: str, name: str, year: int, ids=PUBLISHED_WITHOUT_N
) -> str:
    """The table of published values over the years with the band of usual swings, or "" when
    the warehouse is not public, holds one year, or has no published index or absence."""
    if not getattr(data, "public", False):
        return ""
    rows = usual_change_rows(data, level, entity_id, year, ids)
    years = sorted({y for row in rows for y in row["by_year"]})
    if len(years) < 2:
        return ""
    bands = [row["band"] for row in rows if row["band"] is not None]
    notes = [
        t(
            "public3.usual_note",
            first=format_school_year(years[0]),
            school_year=format_school_year(year),
            changes=bands[0].changes if bands else 0,
        ),
        t("public3.usual_not_sampling"),
    ]
    if level != "unit":
        notes.append(t("public3.usual_mean_note"))
    caption = t("public3.caption", name=name)
    return charts.table_to_html(usual_change_table(t, rows, years), caption, notes)


def load_published(warehouse: str | None, min_n: int):
    """The warehouse's values when it holds the ministry's published figures (a ReportData),
    else None: the public report then reads the CSV files alone."""
    if not warehouse or not Path(warehouse).is_file():
        return None
    data = load_report_data(Path(warehouse), min_n)
    return data if data.public else None


def as_history(data):
    """The published values when they span two or more years (else None)."""
    return data if data is not None and len(data.years) >= 2 else None


def municipality_history_html(report) -> str:
    """The public report's municipality over the warehouse's years with the usual swings."""
    data = report.history
    if data is None:
        return ""
    year = max(data.years)
    name = report.comparison.municipality
    return usual_change_html(data, report.t, "municipality", name, name, year)
