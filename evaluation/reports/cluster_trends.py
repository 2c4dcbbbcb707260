"""The cluster report's trends: values per school year beside the municipality's, and the
linear trend over the last years with figures (evaluation.stats.change.trend)."""

from __future__ import annotations

import math

import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.cluster_parts import ClusterReport
from evaluation.stats import change
from evaluation.texts import Texts, format_school_year

TREND_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "ro_og_orden",
    "inklusionsgrad",
    "fravaer",
)
TREND_YEARS = 5  # the trend over the last five school years with figures
EMPTY = pd.DataFrame(columns=["year", "value", "se"])  # an entity without the indicator


def trend_frame(report: ClusterReport) -> pd.DataFrame:
    """Cluster and municipality values per year for the trend indicators (suppressed = NaN)."""
    t, data = report.t, report.data
    rows = []
    muni_name = t("common.municipality")
    for indicator_id in TREND_INDICATORS:
        if indicator_id not in data.catalog.by_id:
            continue
        indicator = data.catalog.get(indicator_id)
        panel = rc.axis_label(t, indicator)
        for level, entity, series in (
            ("cluster", report.cluster_id, report.cluster_name),
            ("municipality", data.municipality, muni_name),
        ):
            sel = rc.rows_by_indicator(data, level, entity).get(indicator_id, EMPTY)
            sel = sel[sel["year"] <= report.year]
            # the three columns read, not itertuples over every column of the values (#17)
            for year, value, se in zip(sel["year"], sel["value"], sel["se"], strict=True):
                lower, upper = rc.level_interval(indicator, value, se)
                rows.append(
                    {
                        "indicator_id": indicator_id,
                        "panel": panel,
                        "series": series,
                        "year": int(year),
                        "year_label": format_school_year(year),
                        "value": rc.shown_value(indicator, value),  # as printed (issue #18)
                        "lower": rc.shown_value(indicator, lower),
                        "upper": rc.shown_value(indicator, upper),
                    }
                )
    return pd.DataFrame(rows)


def trend_description(report: ClusterReport, frame: pd.DataFrame) -> str:
    """The chart in words: each indicator's first and last value of the cluster."""
    t = report.t
    own = frame[frame["series"] == report.cluster_name].dropna(subset=["value"])
    own_rows = dict(iter(own.groupby("indicator_id", sort=False)))  # one split, not one per id
    details = []
    for indicator_id in TREND_INDICATORS:
        sel = own_rows.get(indicator_id, own.iloc[:0]).sort_values("year")
        if len(sel) < 2:
            continue
        indicator = report.data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        details.append(
            t(
                "cluster_report.trends_detail",
                indicator=rc.indicator_name(t, indicator),
                cluster=report.cluster_name,
                first_value=rc.format_value(t, indicator, sel["value"].iloc[0] / scale),
                first=sel["year_label"].iloc[0],
                last_value=rc.format_value(t, indicator, sel["value"].iloc[-1] / scale),
                last=sel["year_label"].iloc[-1],
            )
        )
    return t(
        "cluster_report.trends_description", cluster=report.cluster_name, detail=" ".join(details)
    )


def trend_table(report: ClusterReport, frame: pd.DataFrame, all_years: list[str]) -> pd.DataFrame:
    """Rows: indicator and series; columns: every school year (missing years show –)."""
    t = report.t
    rows = []
    for (indicator_id, series), sel in frame.groupby(["indicator_id", "series"], sort=False):
        indicator = report.data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        by_year = dict(zip(sel["year_label"], sel["value"], strict=True))
        row = {t("common.indicator"): f"{rc.indicator_name(t, indicator)}: {series}"}
        for label in all_years:
            value = by_year.get(label, math.nan)
            row[label] = rc.format_value(
                t, indicator, value / scale if not rc.is_missing(value) else value
            )
        rows.append(row)
    return pd.DataFrame(rows)


# --- the trend per year --------------------------------------------------------------------


def trend_slopes(report: ClusterReport) -> pd.DataFrame:
    """Linear trend per year over the last TREND_YEARS years with data (stats.change.trend) for
    the cluster's trend indicators; verdict better/worse/none from the fit's own direction, so it
    is the printed slope interval that decided it."""
    own = rc.rows_by_indicator(report.data, "cluster", report.cluster_id)
    rows = []
    for indicator_id in TREND_INDICATORS:
        if indicator_id not in report.data.catalog.by_id:
            continue
        indicator = report.data.catalog.get(indicator_id)
        sel = own.get(indicator_id, EMPTY)
        sel = sel[sel["year"] <= report.year].dropna(subset=["value", "se"])
        sel = sel[sel["se"] > 0]
        try:
            fit = change.trend(sel["year"], sel["value"], sel["se"], last_k=TREND_YEARS)
        except EvaluationError:
            continue  # fewer than 3 years with figures
        rows.append(
            {
                "indicator": indicator,
                **fit,
                "verdict": rc.verdict_for(indicator, fit["direction"]),
            }
        )
    return pd.DataFrame(rows)


def format_slope(t: Texts, indicator, value) -> str:
    """A change per year: 3 decimals on a 1-5 scale (yearly steps are small), else as changes."""
    if indicator.kind == "mean" and not rc.is_missing(value):
        return t.number(value, decimals=3, signed=True)
    return rc.format_difference(t, indicator, value)


def trend_slopes_html(report: ClusterReport) -> str:
    """The trend table with one plain sentence before it; empty when no indicator has 3 years."""
    t = report.t
    slopes = trend_slopes(report)
    report.cache["trend_slopes"] = slopes
    if slopes.empty:
        return ""
    cols = t.lookup("cluster_report.trend_columns")
    table = pd.DataFrame(
        {
            cols["indicator"]: [rc.indicator_name(t, i) for i in slopes["indicator"]],
            cols["period"]: [
                t(
                    "cluster_report.trend_period",
                    first=format_school_year(a),
                    last=format_school_year(b),
                    years=k,
                )
                for a, b, k in zip(
                    slopes["first_year"], slopes["last_year"], slopes["n_years"], strict=True
                )
            ],
            cols["slope"]: [
                format_slope(t, i, v)
                for i, v in zip(slopes["indicator"], slopes["slope"], strict=True)
            ],
            cols["interval"]: [
                t(
                    "format.interval_signed",
                    lower=format_slope(t, i, lo),
                    upper=format_slope(t, i, hi),
                )
                for i, lo, hi in zip(
                    slopes["indicator"], slopes["ci_low"], slopes["ci_high"], strict=True
                )
            ],
            cols["verdict"]: [t(f"cluster_report.trend_verdict.{v}") for v in slopes["verdict"]],
        }
    )
    if report.tables_dir is not None:
        charts.write_table_csv(table, "udvikling-tendens", report.tables_dir, t.language)
    caption = t("cluster_report.trend_caption", cluster=report.cluster_name)
    intro = rc.paragraph(t("cluster_report.trend_intro", years=TREND_YEARS))
    return intro + charts.table_to_html(table, caption, [t("cluster_report.trend_note")])
