"""Content of the leader summary (ledelsesoverblik): all clusters side by side, one screen first.

The notebook `notebooks/leader_summary.ipynb` calls `prepare_report(...)` right after its
parameters, then one `build_*` function per section, and finally `collect_key_figures`.
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.reports import charts, key_figures, leader_followup, public_change, public_cluster
from evaluation.reports import common as rc
from evaluation.reports.leader_status import (
    LEADER_INDICATORS,
    LeaderReport,
    detail_frame,
    overview_frame,
)
from evaluation.reports.leader_view import (
    VIEW_CSS,
    effect_sentence,
    named_lists_html,
    statement_status,
    verdict_key_html,
    verdict_table_html,
)
from evaluation.texts import format_school_year

MIN_INDEX_SPAN = 0.5  # scale points a 1-5 index's axis spans at least
TREND_INDICATORS = ("generel_trivsel", "social_trivsel", "inklusionsgrad", "fravaer")
# the first screen (1280x900) holds the title, the effect, the verdict grid and both lists
LEADER_CSS = """
<style>
body.jp-Notebook { max-width: 78rem; }
.wb-report h1 { margin: 0.2rem 0 0.3rem 0; font-size: 1.6rem; }
.wb-report .wb-meta { margin: 0.2rem 0; }
section[aria-labelledby="alle-klynger"], section[aria-labelledby="se-naermere"] {
  margin-top: 0.5rem; }
section[aria-labelledby="alle-klynger"] h2, section[aria-labelledby="se-naermere"] h2 {
  margin: 0.3rem 0 0.2rem 0; font-size: 1.25rem; }
section[aria-labelledby="alle-klynger"] .wb-table-wrap { margin: 0.2rem 0 0.3rem 0; }
section[aria-labelledby="alle-klynger"] p { margin: 0.2rem 0; }
.wb-toc-compact { font-size: 0.9rem; margin: 0.3rem 0; padding: 0.15rem 0.6rem; }
.wb-toc-compact h2 { font-size: 0.9rem; }
.wb-toc-compact ol { gap: 0 0.7rem; }
.wb-report .wb-lists h3 { font-size: 1.05rem; }
</style>
"""
SECTIONS = (
    ("alle-klynger", "overview"),
    ("se-naermere", "attention"),
    ("opfoelgning", "followup"),
    ("udsagn", "statements"),
    ("aendring", "change_chart"),
    ("kommunen", "municipality_trend"),
    ("bilag", "appendix"),
    ("datakvalitet", "quality"),
)
EVALUATION_EFFECT_HREF = "evaluation_report.html#effekt"
# clearly better / no clear change / clearly worse: blue, grey, orange (Okabe-Ito), never green
CHANGE_COLOURS = ("#0072B2", "#767676", "#D55E00")


def screen_only(html: rc.Html) -> rc.Html:
    """A section left out of print: the printed overview stays within two A4 pages."""
    return rc.Html(f'<div class="wb-screen-only">{html}</div>')


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
    intro += public_credit_html(report) + public_cluster.unmapped_html(t, report.data)
    return rc.report_header(
        t, "leader_summary", SECTIONS, title, intro, compact=True, extra_css=LEADER_CSS + VIEW_CSS
    )


def public_credit_html(report: LeaderReport) -> str:
    """The ministry's credit line, when the figures are its published school aggregates."""
    if not report.data.public:
        return ""
    return rc.credit_html(report.t.language)


def build_attention(report: LeaderReport) -> rc.Html:
    """Where to look: what needs a closer look and whom we can learn from, clusters and units
    named and linked to the cluster report that shows them."""
    t = report.t
    body, count = named_lists_html(report)
    report.cache["attention"] = count
    body += rc.paragraph(t("common.suppressed_note", min_n=report.data.min_n), "wb-meta")
    return rc.section("se-naermere", section_title(report, "attention"), body)


def build_overview(report: LeaderReport) -> rc.Html:
    """The effort's effect in one sentence, then one combined verdict per cluster and key
    indicator with the cluster's start year."""
    t = report.t
    effect = rc.esc(effect_sentence(report))
    if not report.data.public:  # published figures: the run has no evaluation report
        effect += f' <a href="{EVALUATION_EFFECT_HREF}">{rc.esc(t("leader_view.effect_link"))}</a>'
    body = f'<p class="wb-note wb-effect">{effect}</p>' + verdict_key_html(report)
    caption = t("leader_view.grid_caption", school_year=report.school_year)
    body += verdict_table_html(report, report.status(), LEADER_INDICATORS, caption)
    if report.tables_dir is not None:
        charts.write_table_csv(overview_frame(report), "klynger", report.tables_dir, t.language)
    return rc.section("alle-klynger", section_title(report, "overview"), body)


def build_followup(report: LeaderReport) -> rc.Html:
    """Per cluster: decisions in progress, reviewed with and without clear progress, overdue
    (leader_followup); each cluster linked to its report. Left out of print (two A4 pages)."""
    return screen_only(leader_followup.build_followup_overview(report))


def build_statements(report: LeaderReport) -> rc.Html:
    """The six statements, one compact row per cluster, with the same combined verdict."""
    t = report.t
    status, indicator_ids = statement_status(report)
    body = rc.paragraph(t("leader_view.statements_intro"))
    if indicator_ids:
        caption = t("leader_view.statements_caption", school_year=report.school_year)
        body += verdict_table_html(report, status, indicator_ids, caption, with_start=False)
    else:
        body += rc.paragraph(t("public_cluster.no_statements"))
    return rc.section("udsagn", section_title(report, "statements"), body)


def build_appendix(report: LeaderReport) -> rc.Html:
    """Every cluster and indicator with its interval (on screen only)."""
    t = report.t
    detail = detail_frame(report)
    body = rc.paragraph(t("leader_view.appendix_intro"))
    if len(detail):
        body += rc.paragraph(t("leader_summary.detail_intro"))
        body += charts.table_to_html(
            detail,
            t("leader_summary.detail_caption", school_year=report.school_year),
            [t("common.suppressed_note", min_n=report.data.min_n)],
            css_class="wb-table wb-compact",
        )
        if report.tables_dir is not None:
            charts.write_table_csv(detail, "klynger-detaljer", report.tables_dir, t.language)
    return screen_only(rc.section("bilag", section_title(report, "appendix"), body))


def build_change_chart(report: LeaderReport) -> rc.Html:
    """Change in general wellbeing per cluster with its interval (dot and whisker)."""
    t, status = report.t, report.status()
    body = ""
    sel = status[status["indicator_id"] == "generel_trivsel"] if len(status) else status
    # a change with an interval to draw: a published index's change has none (issue 16)
    sel = sel[sel["change_lower"].notna()] if len(sel) else sel
    if report.previous is None or len(sel) == 0:
        key = (
            "public4.no_change_chart" if report.previous else "cluster_report.overview_no_previous"
        )
        body = rc.paragraph(t(key))
        return screen_only(rc.section("aendring", section_title(report, "change_chart"), body))
    indicator = report.data.catalog.get("generel_trivsel")
    verdict_words = {k: t(f"change.{k}") for k in ("better", "worse", "none")}
    extras = [rc.change_decimals(row) for row in sel.itertuples(index=False)]
    shown_columns = {"value": "change", "lower": "change_lower", "upper": "change_upper"}
    data = pd.DataFrame(
        {
            "row": [report.data.cluster_name(c) for c in sel["cluster_id"]],
            "series": [verdict_words[v] for v in sel["change_verdict"]],
            # as the table prints them, never more precisely (issue #18)
            **{
                key: [
                    rc.shown_value(indicator, getattr(row, column), True, extra)
                    for row, extra in zip(sel.itertuples(index=False), extras, strict=True)
                ]
                for key, column in shown_columns.items()
            },
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
    chart = recolour_series(chart, order, list(CHANGE_COLOURS))
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
    description += " " + t("leader_view.change_colours_note")
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
    return screen_only(rc.section("aendring", section_title(report, "change_chart"), body))


def recolour_series(chart, domain: list[str], colours: list[str]):
    """Give the series fixed colours by valence (charts.py colours series by order only)."""
    import altair as alt  # why: charts already loaded it; only the leader's chart needs it here

    for layer in getattr(chart, "layer", []):
        colour = getattr(layer.encoding, "color", alt.Undefined)
        if colour is not alt.Undefined:
            colour = alt.Color(**colour)  # charts.encode gives channels as dicts
            colour.scale = alt.Scale(domain=domain, range=colours)
            layer.encoding.color = colour
    return chart


def municipality_trend_rows(report: LeaderReport) -> pd.DataFrame:
    """The municipality's level per trend indicator and year up to the report's, as printed,
    with its chance-only interval (none for published figures: they carry no count)."""
    t, data = report.t, report.data
    values = data.values
    rows = []
    for indicator_id in TREND_INDICATORS:
        indicator = data.catalog.get(indicator_id)
        sel = values[
            (values["indicator_id"] == indicator_id)
            & (values["level"] == "municipality")
            & (values["entity_id"] == report.municipality)
            & (values["year"] <= report.year)
        ]
        for r in sel.itertuples(index=False):
            # published figures carry no respondent count: no sampling interval to draw
            se = math.nan if data.public else r.se
            lower, upper = rc.level_interval(indicator, r.value, se)
            rows.append(
                {
                    "indicator_id": indicator_id,
                    "panel": rc.axis_label(t, indicator),
                    "series": report.municipality,
                    "year": int(r.year),
                    "year_label": format_school_year(r.year),
                    "value": rc.shown_value(indicator, r.value),  # as printed (issue #18)
                    "lower": rc.shown_value(indicator, lower),
                    "upper": rc.shown_value(indicator, upper),
                }
            )
    return pd.DataFrame(rows).dropna(subset=["value"])


def build_municipality_trend(report: LeaderReport) -> rc.Html:
    """The municipality's level over the years, gaps where data are missing."""
    t, data = report.t, report.data
    frame = municipality_trend_rows(report)
    body = rc.paragraph(t("leader_summary.municipality_intro"))
    for sentence in rc.missing_years_sentences(
        t, data, "cluster_report.trends_missing", report.year
    ):
        body += rc.paragraph(sentence)
    if frame.empty:
        return screen_only(
            rc.section("kommunen", section_title(report, "municipality_trend"), body)
        )
    years = [y for y in data.years if y <= report.year]
    if frame["year"].nunique() < 2:  # one point is no development over time
        body += rc.paragraph(public_cluster.one_year_note(t, report.school_year))
        return screen_only(
            rc.section("kommunen", section_title(report, "municipality_trend"), body)
        )
    all_years = [format_school_year(y) for y in range(min(years), max(years) + 1)]
    chart = steady_trend_chart(report, frame, all_years)
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
    start = effort_start_label(report)
    if start:
        description += " " + t("leader_view.effort_start", start=start)
    body += charts.chart_html(
        chart, table, title, description, "kommunen", report.tables_dir, language=t.language
    )
    body += public_change.usual_change_html(  # published figures without n (issue 16)
        data, t, "municipality", report.municipality, report.municipality, report.year
    )
    return screen_only(rc.section("kommunen", section_title(report, "municipality_trend"), body))


def effort_start_label(report: LeaderReport) -> str:
    """The school year the first cluster started the effort ("" when none has)."""
    programme = report.data.programme
    years = (
        [] if programme is None else [y for y in programme["start_year"] if not rc.is_missing(y)]
    )
    return format_school_year(int(min(years))) if years else ""


def steady_domain(indicator, panel: pd.DataFrame) -> list[float] | None:
    """A y-axis of at least MIN_INDEX_SPAN scale points for a 1-5 index (kind "mean"), so a
    0.1 change does not fill the panel; None (the data decide) for other kinds."""
    if indicator.kind != "mean":
        return None
    low = float(pd.concat([panel["value"], panel["lower"]]).min())
    high = float(pd.concat([panel["value"], panel["upper"]]).max())
    if high - low < MIN_INDEX_SPAN:
        middle = (low + high) / 2
        low, high = middle - MIN_INDEX_SPAN / 2, middle + MIN_INDEX_SPAN / 2
    return [max(1.0, low), min(5.0, high)]


def steady_trend_chart(report: LeaderReport, frame: pd.DataFrame, all_years: list[str]):
    """One small panel per indicator (charts.build_trend_chart), 1-5 indices on a steady axis
    and a dashed rule where the effort started; two panels a row."""
    import altair as alt  # why: charts already loaded it; the leader's panels need its classes

    labels = {"x": report.t("common.school_year"), "y": None, "series": ""}
    start = effort_start_label(report)
    panels = []
    for indicator_id, panel in frame.groupby("indicator_id", sort=False):
        chart = charts.build_trend_chart(panel, all_years, labels, columns=1)
        domain = steady_domain(report.data.catalog.get(indicator_id), panel)
        for layer in chart.spec.layer:
            if domain is not None and layer.encoding.y is not alt.Undefined:
                y = alt.Y(**layer.encoding.y)  # charts.encode gives channels as dicts
                y.scale = alt.Scale(domain=domain, zero=False, nice=False)
                layer.encoding.y = y
        if start:
            chart.spec.layer.append(
                alt.Chart()
                .transform_filter(alt.datum.year_label == start)
                .mark_rule(strokeDash=[6, 4], color="#333333", strokeWidth=1.5)
                .encode(x=alt.X("year_label:O"))
            )
        panels.append(chart)
    return alt.concat(*panels, columns=2)


def build_quality(report: LeaderReport) -> rc.Html:
    t = report.t
    items = [t("leader_summary.quality_note")]
    items += rc.missing_years_sentences(
        t, report.data, "cluster_report.quality_missing_years", report.year
    )
    if report.data.public:  # published school figures: no pupil answers behind them
        items = [public_cluster.quality_line(t)]
        items += public_cluster.methods_items(t, report.data.min_n)
    else:
        items += [
            x.format(min_n=report.data.min_n) for x in t.lookup("cluster_report.methods_items")
        ]
    return rc.section("datakvalitet", section_title(report, "quality"), rc.bullets(items))


def collect_key_figures(report: LeaderReport) -> dict:
    status = report.status()
    figures = {"report": "leader_summary", "municipality": report.municipality, "year": report.year}
    for row in status.itertuples(index=False):
        key = f"{row.cluster_id}.{row.indicator_id}"
        if not rc.is_missing(row.value):  # at the page's precision, never more (issue #18)
            decimals = rc.stored_decimals(report.data.catalog.get(row.indicator_id))
            figures[f"{key}.value"] = key_figures.Shown(row.value, decimals)
        figures[f"{key}.verdict"] = row.change_verdict
        figures[f"{key}.position"] = row.position
    if "attention" not in report.cache:
        named_lists_html(report)  # counts what needs a closer look
    figures["attention"] = report.cache.get("attention", 0)
    return figures


def record_figures(report: LeaderReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
