"""Content of the leader summary (ledelsesoverblik): all clusters side by side, one screen first.

The notebook `notebooks/leader_summary.ipynb` calls `prepare_report(...)` right after its
parameters, then one `build_*` function per section, and finally `collect_key_figures`.
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.reports import charts, key_figures
from evaluation.reports import common as rc
from evaluation.reports.leader_status import (
    LEADER_INDICATORS,  # noqa: F401 - read as leader_summary.LEADER_INDICATORS
    LeaderReport,
    attention_items,
    detail_frame,
    overview_frame,
    overview_legend,
    overview_table_html,
)
from evaluation.texts import format_school_year

TREND_INDICATORS = ("generel_trivsel", "social_trivsel", "inklusionsgrad", "fravaer")
ATTENTION_SHOWN = 5
# tighter spacing on the first screen: the attention list and the table fit in 1280x900
LEADER_CSS = """
<style>
.wb-report h1 { margin: 0.2rem 0 0.3rem 0; font-size: 1.7rem; }
section[aria-labelledby="se-naermere"], section[aria-labelledby="alle-klynger"] {
  margin-top: 0.6rem; }
section[aria-labelledby="se-naermere"] h2, section[aria-labelledby="alle-klynger"] h2 {
  margin: 0.4rem 0 0.2rem 0; font-size: 1.3rem; }
section[aria-labelledby="se-naermere"] p, section[aria-labelledby="se-naermere"] ul {
  margin: 0.2rem 0; }
.wb-attention li { margin-bottom: 0.1rem; }
</style>
"""
SECTIONS = (
    ("se-naermere", "attention"),
    ("alle-klynger", "overview"),
    ("aendring", "change_chart"),
    ("kommunen", "municipality_trend"),
    ("datakvalitet", "quality"),
)


def prepare_report(
    municipality: str = "",
    year: int = 2024,
    language: str = "da",
    warehouse: str = "",
    min_n: int = 5,
    tables_dir: str = "",
) -> LeaderReport:
    """Check the parameters (an empty municipality: the only one in the warehouse), then load
    the suppressed indicator values once."""
    checked = rc.check_report_parameters(
        language, warehouse, min_n, year, lambda tables: rc.check_municipality(municipality, tables)
    )
    return rc.build_report(LeaderReport, checked, tables_dir, "municipality")


section_title = rc.section_titles("leader_summary")  # section_title(report, key): a heading


def build_title(report: LeaderReport) -> rc.Html:
    t = report.t
    title, facts = rc.municipality_title(report, "leader_summary")
    intro = rc.paragraph(t("leader_summary.lead") + " " + facts, "wb-meta")
    intro += public_credit_html(report)
    return rc.report_header(
        t, "leader_summary", SECTIONS, title, intro, compact=True, extra_css=LEADER_CSS
    )


def public_credit_html(report: LeaderReport) -> str:
    """The ministry's credit line, when the figures are its published school aggregates."""
    if not report.data.public:
        return ""
    return rc.credit_html(report.t.language)


def build_attention(report: LeaderReport) -> rc.Html:
    """The few things to look at first (clear worsening or clearly below the municipality)."""
    t = report.t
    worse, better = attention_items(report)
    report.cache["attention"] = len(worse)
    body = rc.paragraph(t("leader_summary.attention_intro"))
    if worse:
        body += '<ul class="wb-attention">'
        body += "".join(f"<li>{rc.esc(x)}</li>" for x in worse[:ATTENTION_SHOWN]) + "</ul>"
        if len(worse) > ATTENTION_SHOWN:
            body += rc.paragraph(
                t("leader_summary.attention_more", count=len(worse) - ATTENTION_SHOWN)
            )
    else:
        body += rc.paragraph(t("leader_summary.attention_none", school_year=report.school_year))
    if better:
        # one line: the good news should not push the table off the first screen
        body += rc.paragraph(t("leader_summary.positive_intro") + " " + "; ".join(better) + ".")
    return rc.section("se-naermere", section_title(report, "attention"), body)


def build_overview(report: LeaderReport) -> rc.Html:
    t = report.t
    frame = overview_frame(report)
    body = overview_legend(report) + overview_table_html(report)
    body += rc.paragraph(t("common.suppressed_note", min_n=report.data.min_n), "wb-meta")
    detail = detail_frame(report)
    if len(detail):
        body += f"<h3>{rc.esc(t('leader_summary.detail_title'))}</h3>"
        body += rc.paragraph(t("leader_summary.detail_intro"))
        body += charts.table_to_html(
            detail,
            t("leader_summary.detail_caption", school_year=report.school_year),
            [t("common.suppressed_note", min_n=report.data.min_n)],
            css_class="wb-table wb-compact",
        )
    if report.tables_dir is not None:
        charts.write_table_csv(frame, "klynger", report.tables_dir, t.language)
        if len(detail):
            charts.write_table_csv(detail, "klynger-detaljer", report.tables_dir, t.language)
    return rc.section("alle-klynger", section_title(report, "overview"), body)


def build_change_chart(report: LeaderReport) -> rc.Html:
    """Change in general wellbeing per cluster with its interval (dot and whisker)."""
    t, status = report.t, report.status()
    body = ""
    sel = status[status["indicator_id"] == "generel_trivsel"] if len(status) else status
    sel = sel[sel["change"].notna()] if len(sel) else sel
    if report.previous is None or len(sel) == 0:
        body = rc.paragraph(t("cluster_report.overview_no_previous"))
        return rc.section("aendring", section_title(report, "change_chart"), body)
    indicator = report.data.catalog.get("generel_trivsel")
    verdict_words = {k: t(f"change.{k}") for k in ("better", "worse", "none")}
    data = pd.DataFrame(
        {
            "row": [report.data.cluster_name(c) for c in sel["cluster_id"]],
            "series": [verdict_words[v] for v in sel["change_verdict"]],
            "value": sel["change"].to_numpy(),
            "lower": sel["change_lower"].to_numpy(),
            "upper": sel["change_upper"].to_numpy(),
        }
    )
    previous = format_school_year(report.previous)
    order = [verdict_words[k] for k in ("better", "none", "worse")]
    chart = charts.build_interval_chart(
        data,
        {"x": t("leader_summary.change_chart_x"), "series": ""},
        ".2f",
        zero_line=True,
        series_order=order,
        shapes=["triangle-up", "circle", "triangle-down"],
    )
    counts = sel["change_verdict"].value_counts()
    detail = t(
        "leader_summary.change_chart_detail",
        clusters_better=int(counts.get("better", 0)),
        clusters_worse=int(counts.get("worse", 0)),
        clusters_none=int(counts.get("none", 0)),
    )
    title = t(
        "leader_summary.change_chart_title", previous=previous, school_year=report.school_year
    )
    description = t("leader_summary.change_chart_description", detail=detail)
    extras = [rc.change_decimals(row) for row in sel.itertuples(index=False)]
    table = pd.DataFrame(
        {
            t("common.cluster"): data["row"],
            t("common.change"): [
                rc.format_difference(t, indicator, v, extra)
                for v, extra in zip(sel["change"], extras, strict=True)
            ],
            t("common.interval"): [
                rc.format_interval(t, indicator, lo, hi, signed=True, extra=extra)
                for lo, hi, extra in zip(
                    sel["change_lower"], sel["change_upper"], extras, strict=True
                )
            ],
            t("common.status"): data["series"],
        }
    )
    body = charts.chart_html(
        chart,
        table,
        title,
        description,
        "aendring-generel-trivsel",
        report.tables_dir,
        language=t.language,
    )
    return rc.section("aendring", section_title(report, "change_chart"), body)


def build_municipality_trend(report: LeaderReport) -> rc.Html:
    """The municipality's level over the years, gaps where data are missing."""
    t, data = report.t, report.data
    values = data.values
    rows = []
    for indicator_id in TREND_INDICATORS:
        indicator = data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        sel = values[
            (values["indicator_id"] == indicator_id)
            & (values["level"] == "municipality")
            & (values["entity_id"] == report.municipality)
            & (values["year"] <= report.year)
        ]
        for r in sel.itertuples(index=False):
            lower, upper = rc.level_interval(indicator, r.value, r.se)
            rows.append(
                {
                    "indicator_id": indicator_id,
                    "panel": rc.axis_label(t, indicator),
                    "series": report.municipality,
                    "year": int(r.year),
                    "year_label": format_school_year(r.year),
                    "value": r.value * scale if not rc.is_missing(r.value) else math.nan,
                    "lower": lower * scale,
                    "upper": upper * scale,
                }
            )
    frame = pd.DataFrame(rows).dropna(subset=["value"])
    body = rc.paragraph(t("leader_summary.municipality_intro"))
    for sentence in rc.missing_years_sentences(
        t, data, "cluster_report.trends_missing", report.year
    ):
        body += rc.paragraph(sentence)
    if frame.empty:
        return rc.section("kommunen", section_title(report, "municipality_trend"), body)
    years = [y for y in data.years if y <= report.year]
    all_years = [format_school_year(y) for y in range(min(years), max(years) + 1)]
    chart = charts.build_trend_chart(
        frame, all_years, {"x": t("common.school_year"), "y": None, "series": ""}, columns=2
    )
    table_rows = []
    for indicator_id, g in frame.groupby("indicator_id", sort=False):
        indicator = data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        row = {t("common.indicator"): g["panel"].iloc[0]}
        for label, v in zip(g["year_label"], g["value"], strict=True):
            row[label] = rc.format_value(t, indicator, v / scale)
        table_rows.append(row)
    table = pd.DataFrame(table_rows).reindex(columns=[t("common.indicator"), *all_years])
    title = f"{section_title(report, 'municipality_trend')}: {report.municipality}"
    description = t("leader_summary.municipality_intro")
    body += charts.chart_html(
        chart, table, title, description, "kommunen", report.tables_dir, language=t.language
    )
    return rc.section("kommunen", section_title(report, "municipality_trend"), body)


def build_quality(report: LeaderReport) -> rc.Html:
    t = report.t
    items = [t("leader_summary.quality_note")]
    items += rc.missing_years_sentences(
        t, report.data, "cluster_report.quality_missing_years", report.year
    )
    items += [x.format(min_n=report.data.min_n) for x in t.lookup("cluster_report.methods_items")]
    return rc.section("datakvalitet", section_title(report, "quality"), rc.bullets(items))


def collect_key_figures(report: LeaderReport) -> dict:
    status = report.status()
    figures = {"report": "leader_summary", "municipality": report.municipality, "year": report.year}
    for row in status.itertuples(index=False):
        key = f"{row.cluster_id}.{row.indicator_id}"
        if not rc.is_missing(row.value):
            figures[f"{key}.value"] = round(float(row.value), 6)
        figures[f"{key}.verdict"] = row.change_verdict
        figures[f"{key}.position"] = row.position
    figures["attention"] = report.cache.get("attention", len(attention_items(report)[0]))
    return figures


def record_figures(report: LeaderReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
