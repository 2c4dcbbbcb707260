"""Content of the cluster report (klyngerapport): one function per notebook cell.

The notebook `notebooks/cluster_report.ipynb` calls `prepare_report(...)` right after its
parameters (bad parameters stop there, before any work), then one `build_*` function per section,
each returning HTML to display, and finally `record_figures`. The helpers behind the sections
live in `cluster_parts`, `cluster_funnels` and `cluster_trends`.
"""

from __future__ import annotations

import pandas as pd

from evaluation.reports import charts, key_figures
from evaluation.reports import common as rc
from evaluation.reports.cluster_funnels import (
    funnel_for,
    funnel_indicators,
    funnel_parts,
    unit_standout_lines,
    worse_outliers,
)
from evaluation.reports.cluster_parts import (
    STATEMENT_INDICATORS,
    ClusterReport,
    member_units,
    membership_line,
    missing_year_lines,
    public_source_html,
    report_chart_html,
    response_lines,
    statement_chart_rows,
    statement_columns,
    statement_description,
    status_columns,
    status_standout_lines,
    suppressed_cells,
    suppressed_line,
    write_status_csv,
)
from evaluation.reports.cluster_trends import (
    trend_description,
    trend_frame,
    trend_slopes_html,
    trend_table,
)
from evaluation.reports.reflection import build_questions
from evaluation.texts import format_school_year

SECTIONS = (
    ("overblik", "overview"),
    ("udsagn", "statements"),
    ("inklusion", "inclusion"),
    ("tragtplot", "funnels"),
    ("udvikling", "trends"),
    ("skiller-sig-ud", "standouts"),
    ("refleksion", "reflection"),
    ("datakvalitet", "data_quality"),
    ("metode", "methods"),
)


def check_parameters(cluster: str, year: int, language: str, warehouse: str, min_n: int):
    """Stop with a ParameterError (listing valid values) before any work is done."""
    return rc.check_report_parameters(
        language,
        warehouse,
        min_n,
        year,
        lambda tables: rc.check_cluster(cluster, tables["clusters"]),
    )


def prepare_report(
    cluster: str,
    year: int,
    language: str = "da",
    warehouse: str = "",
    min_n: int = 5,
    tables_dir: str = "",
) -> ClusterReport:
    """Check the parameters, then load the suppressed indicator values once."""
    checked = check_parameters(cluster, year, language, warehouse, min_n)
    return rc.build_report(ClusterReport, checked, tables_dir, "cluster_id")


# --- sections ------------------------------------------------------------------------------


section_title = rc.section_titles("cluster_report")  # section_title(report, key): a heading


def build_title(report: ClusterReport) -> rc.Html:
    """Title (the one h1), lead, facts, how to read, and the table of contents."""
    t = report.t
    units = member_units(report.data, report.cluster_id, report.year)
    start = report.data.programme
    start_year = None
    if start is not None and not start.empty:
        match = start.loc[start["cluster_id"] == report.cluster_id, "start_year"]
        if len(match) and not rc.is_missing(match.iloc[0]):
            start_year = int(match.iloc[0])
    programme = (
        t("cluster_report.meta_programme", school_year=format_school_year(start_year))
        if start_year
        else t("cluster_report.meta_no_programme")
    )
    facts = [
        rc.report_for(t, report.data.municipality, report.school_year, report.data.min_n),
        t(
            "cluster_report.meta_units",
            school_year=report.school_year,
            units=rc.join_names(t, units["name"].tolist()),
        ),
        programme,
    ]
    how = [t("decided_interval.how_to_read"), t("how_to_read.changes"), t("status_legend")]
    if report.data.public:  # one year, and intervals from the spread of schools, not chance
        how = [t("public_cluster.how_intervals"), how[0], t("status_legend")]
    title = t("cluster_report.title", cluster=report.cluster_name, school_year=report.school_year)
    intro = (
        rc.paragraph(t("cluster_report.lead", cluster=report.cluster_name), "wb-lead")
        + rc.bullets(facts)
        + f'<div class="wb-note"><p><strong>{rc.esc(t("how_to_read.title"))}</strong></p>'
        + "".join(rc.paragraph(p) for p in how)
        + rc.paragraph(t("how_to_read.purpose"))
        + "</div>"
        + public_source_html(report)
    )
    return rc.report_header(t, "cluster_report", SECTIONS, title, intro)


def build_overview(report: ClusterReport) -> rc.Html:
    """Headline indicators: level, interval, municipality, position and change."""
    t = report.t
    rows = report.status("headline", rc.HEADLINE_INDICATORS)
    parts = []
    if report.previous is None:
        parts.append(rc.paragraph(t("cluster_report.overview_no_previous")))
    else:
        parts += [rc.paragraph(line) for line in overview_lines(report, rows)]
    caption = t(
        "cluster_report.table_caption", cluster=report.cluster_name, school_year=report.school_year
    )
    parts.append(rc.status_table(t, rows, caption, status_columns(report), report.data.min_n))
    write_status_csv(report, rows, "overblik")
    return rc.section("overblik", section_title(report, "overview"), "".join(parts))


def overview_lines(report: ClusterReport, rows: pd.DataFrame) -> list[str]:
    """What the overview compares with, how many changes are clear, and a gap in the years."""
    t = report.t
    previous = format_school_year(report.previous)
    verdicts = rows["change_verdict"].value_counts() if len(rows) else pd.Series(dtype=int)
    assessed = int(sum(verdicts.get(k, 0) for k in ("better", "worse", "none")))
    lines = [
        t("cluster_report.overview_intro", school_year=report.school_year, previous=previous),
        t(
            "cluster_report.overview_summary",
            total=assessed,
            better=int(verdicts.get("better", 0)),
            worse=int(verdicts.get("worse", 0)),
            none=int(verdicts.get("none", 0)),
            previous=previous,
        ),
    ]
    if report.year - report.previous > 1:
        lines.append(
            t(
                "change.gap_note",
                school_year=report.school_year,
                previous=previous,
                years=report.year - report.previous,
            )
        )
    return lines


def build_statements(report: ClusterReport) -> rc.Html:
    """The six "Vi er på vej til at lykkes, når ..." statements: chart, table, status."""
    t = report.t
    rows = report.status("statements", STATEMENT_INDICATORS)
    parts = [rc.paragraph(t("cluster_report.statements_intro"))]
    if report.data.public and rows.empty:
        body = parts[0] + rc.paragraph(t("public_cluster.no_statements"))
        return rc.section("udsagn", section_title(report, "statements"), body)
    chart_rows, hidden = statement_chart_rows(report, rows)
    table = rc.status_frame(t, rows, statement_columns(report))
    title = t(
        "cluster_report.statements_chart_title",
        cluster=report.cluster_name,
        school_year=report.school_year,
    )
    if chart_rows:
        chart = charts.build_interval_chart(
            pd.DataFrame(chart_rows),
            {"x": t("cluster_report.statements_chart_x"), "series": ""},
        )
        description = statement_description(report, rows, hidden)
        parts.append(report_chart_html(report, chart, table, title, description, "udsagn"))
    else:
        footnotes = [t("common.suppressed_note", min_n=report.data.min_n)]
        parts.append(charts.table_to_html(table, title, footnotes))
        if report.tables_dir is not None:
            charts.write_table_csv(table, "udsagn", report.tables_dir, t.language)
    parts.append(rc.paragraph(t("cluster_report.statements_items_note"), "wb-meta"))
    return rc.section("udsagn", section_title(report, "statements"), "".join(parts))


def build_inclusion(report: ClusterReport) -> rc.Html:
    """Inclusion and early help: inklusionsgrad, nærhed, return, waiting time, absence, language."""
    t = report.t
    rows = report.status("inclusion", rc.INCLUSION_INDICATORS)
    parts = [
        rc.paragraph(t("cluster_report.inclusion_intro")),
        rc.paragraph(t("cluster_report.inclusion_register_note"), "wb-meta"),
    ]
    if report.data.public and rows.empty:
        body = parts[0] + rc.paragraph(t("public_cluster.no_inclusion"))
        return rc.section("inklusion", section_title(report, "inclusion"), body)
    caption = t(
        "cluster_report.table_caption", cluster=report.cluster_name, school_year=report.school_year
    )
    caption = f"{section_title(report, 'inclusion')}: {caption}"
    parts.append(rc.status_table(t, rows, caption, status_columns(report), report.data.min_n))
    write_status_csv(report, rows, "inklusion")
    return rc.section("inklusion", section_title(report, "inclusion"), "".join(parts))


def build_funnels(report: ClusterReport) -> rc.Html:
    """Funnel plots of the cluster's units against the municipality, one per key indicator."""
    t = report.t
    parts = [rc.paragraph(t("cluster_report.funnels_intro"))]
    if report.data.public:
        parts += [
            rc.paragraph(t("public_cluster.funnel_intro")),
            rc.paragraph(t("public_cluster.no_register_funnels")),
        ]
    outliers = []
    for indicator_id in funnel_indicators(report):
        found = funnel_for(report, indicator_id)
        if found is None:
            continue
        parts += funnel_parts(report, found)
        outliers += worse_outliers(found)
    report.cache["unit_outliers"] = outliers
    return rc.section("tragtplot", section_title(report, "funnels"), "".join(parts))


def build_trends(report: ClusterReport) -> rc.Html:
    """Line charts over the years, missing years as gaps and said in words."""
    t, data = report.t, report.data
    frame = trend_frame(report)
    parts = [rc.paragraph(t("cluster_report.trends_intro"))]
    years = [y for y in data.years if y <= report.year]
    for sentence in rc.missing_years_sentences(
        t, data, "cluster_report.trends_missing", report.year
    ):
        parts.append(rc.paragraph(sentence))
    if data.public and len(years) < 2:
        parts = [rc.paragraph(t("public_cluster.no_trend", school_year=report.school_year))]
        return rc.section("udvikling", section_title(report, "trends"), "".join(parts))
    if frame.empty or frame["value"].notna().sum() == 0:
        return rc.section("udvikling", section_title(report, "trends"), "".join(parts))
    all_years = [format_school_year(y) for y in range(min(years), max(years) + 1)]
    labels = {"x": t("common.school_year"), "y": None, "series": ""}
    chart = charts.build_trend_chart(frame.dropna(subset=["value"]), all_years, labels)
    table = trend_table(report, frame, all_years)
    first, last = all_years[0], all_years[-1]
    title = t("cluster_report.trends_title", cluster=report.cluster_name, first=first, last=last)
    parts.append(
        report_chart_html(
            report,
            chart,
            table,
            title,
            trend_description(report, frame),
            "udvikling",
            table_caption=t("cluster_report.trends_table_caption", cluster=report.cluster_name),
        )
    )
    parts.append(trend_slopes_html(report))
    return rc.section("udvikling", section_title(report, "trends"), "".join(parts))


# --- what stands out, reflection, data quality, methods ------------------------------------


def standout_lines(report: ClusterReport) -> list[str]:
    """Only statistically clear findings: changes and differences whose interval excludes 0,
    and units outside the 99.8 % funnel limits."""
    status = pd.concat(
        [
            report.status("headline", rc.HEADLINE_INDICATORS),
            report.status("inclusion", rc.INCLUSION_INDICATORS),
            report.status("statements", STATEMENT_INDICATORS),
        ],
        ignore_index=True,
    ).drop_duplicates("indicator_id")
    return status_standout_lines(report, status) + unit_standout_lines(report)


def build_standouts(report: ClusterReport) -> rc.Html:
    t = report.t
    lines = standout_lines(report)
    report.cache["standouts"] = lines
    body = rc.paragraph(t("cluster_report.standouts_intro"))
    if lines:
        body += rc.bullets(lines)
    else:
        body += rc.paragraph(t("cluster_report.standouts_none", school_year=report.school_year))
    return rc.section("skiller-sig-ud", section_title(report, "standouts"), body)


def build_reflection(report: ClusterReport) -> rc.Html:
    """Questions tied to the FRA -> TIL movement and the statements, from the findings."""
    t = report.t
    status = pd.concat(
        [
            report.status("headline", rc.HEADLINE_INDICATORS),
            report.status("inclusion", rc.INCLUSION_INDICATORS),
        ],
        ignore_index=True,
    ).drop_duplicates("indicator_id")
    if "unit_outliers" not in report.cache:
        build_funnels(report)
    groups = build_questions(
        t, status, report.status("statements", STATEMENT_INDICATORS), report.cache["unit_outliers"]
    )
    body = rc.paragraph(t("cluster_report.reflection_intro"))
    for group in groups:
        body += f"<h3>{rc.esc(group.heading)}</h3>"
        body += (
            '<ul class="wb-questions">'
            + "".join(f"<li>{rc.esc(q)}</li>" for q in group.questions)
            + "</ul>"
        )
    report.cache["questions"] = sum(len(g.questions) for g in groups)
    return rc.section("refleksion", section_title(report, "reflection"), body)


def build_data_quality(report: ClusterReport) -> rc.Html:
    """Response, missing years, suppressed cells and membership changes, in words."""
    t = report.t
    hidden = suppressed_cells(report)
    lines = [
        *response_lines(report),
        *missing_year_lines(report),
        suppressed_line(report, hidden),
        membership_line(report),
        t("cluster_report.quality_items"),
    ]
    report.cache["suppressed_cells"] = len(hidden)
    body = rc.paragraph(t("cluster_report.quality_intro")) + rc.bullets(lines)
    return rc.section("datakvalitet", section_title(report, "data_quality"), body)


def build_methods(report: ClusterReport) -> rc.Html:
    t = report.t
    key = "public_cluster.methods_items" if report.data.public else "cluster_report.methods_items"
    items = [item.format(min_n=report.data.min_n) for item in t.lookup(key)]
    body = rc.bullets(items) + public_source_html(report)
    return rc.section("metode", section_title(report, "methods"), body)


def collect_key_figures(report: ClusterReport) -> dict:
    """Figures `workbench verify` compares between runs (no pupil rows, no suppressed values)."""
    rows = report.status("headline", rc.HEADLINE_INDICATORS)
    figures = {
        "report": "cluster_report",
        "cluster": report.cluster_id,
        "year": report.year,
        "min_n": report.data.min_n,
    }
    for row in rows.itertuples(index=False):
        if not rc.is_missing(row.value):
            figures[f"{row.indicator_id}.value"] = round(float(row.value), 6)
        if not rc.is_missing(row.change):
            figures[f"{row.indicator_id}.change"] = round(float(row.change), 6)
        figures[f"{row.indicator_id}.verdict"] = row.change_verdict
    figures["standouts"] = len(report.cache.get("standouts", standout_lines(report)))
    return figures


def record_figures(report: ClusterReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
