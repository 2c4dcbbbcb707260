"""Content of the cluster report (klyngerapport): one function per notebook cell.

The notebook `notebooks/cluster_report.ipynb` calls `prepare_report(...)` right after its
parameters (bad parameters stop there, before any work), then one `build_*` function per section,
each returning HTML to display, and finally `record_figures`. The helpers behind the sections
live in `cluster_parts`, `cluster_funnels` and `cluster_trends`.
"""

from __future__ import annotations

import pandas as pd

from evaluation.reports import (
    charts,
    cluster_answers,
    cluster_breakdowns,
    cluster_followup,
    key_figures,
    public_change,
    public_cluster,
)
from evaluation.reports import common as rc
from evaluation.reports.chart_records import named_rows
from evaluation.reports.cluster_findings import MEETING_CSS, meeting_section, today_html
from evaluation.reports.cluster_funnels import (
    funnel_indicators,
    funnel_of,
    funnel_parts,
    unit_standout_lines,
)
from evaluation.reports.cluster_parts import (
    STATEMENT_INDICATORS,
    ClusterReport,
    definition_rows,
    effort_name,
    effort_status_line,
    member_units,
    membership_line,
    missing_year_lines,
    public_source_html,
    report_chart_html,
    response_lines,
    start_year_of,
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
from evaluation.reports.reflection import action_questions, effort_question
from evaluation.reports.status import usual_count_sentence
from evaluation.texts import danish_order, format_school_year

SECTIONS = (
    ("i-dag", "today"),
    ("opfoelgning", "followup"),
    ("naeste-skridt", "next_step"),
    ("bilag", "appendix"),
    ("overblik", "overview"),
    ("udsagn", "statements"),
    ("spoergsmaal", "questions"),
    ("opdeling", "breakdowns"),
    ("inklusion", "inclusion"),
    ("tragtplot", "funnels"),
    ("udvikling", "trends"),
    ("skiller-sig-ud", "standouts"),
    ("datakvalitet", "data_quality"),
    ("definitioner", "definitions"),
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


report_section_title = rc.section_titles("cluster_report")
OWN_TITLES = {
    "questions": "meeting2.questions_title",
    "breakdowns": "meeting2.breakdowns_title",
}  # sections titled in the meeting2 texts


def section_title(report: ClusterReport, key: str) -> str:
    """The heading of a section of this report."""
    return report.t(OWN_TITLES[key]) if key in OWN_TITLES else report_section_title(report, key)


def anchor_link(t, key: str, anchor: str, title: str) -> str:
    """A sentence of the texts with the section's title as a link to it."""
    before, _, after = t(key, title="\x00").partition("\x00")
    link = f'<a href="#{anchor}">{rc.esc(title)}</a>'
    return f"<p>{rc.esc(before)}{link}{rc.esc(after)}</p>"


def build_title(report: ClusterReport) -> rc.Html:
    """The first projector screen's top: the one h1, who the report is for, whose figures, where
    the cluster is with the effort, and a one-line table of contents."""
    t = report.t
    facts = [
        rc.report_for(
            t, report.data.municipality, report.school_year, report.data.min_n, report.data.public
        ),
        effort_status_line(report),
    ]
    title = t("cluster_report.title", cluster=report.cluster_name, school_year=report.school_year)
    intro = (
        rc.paragraph(t("meeting.audience", cluster=report.cluster_name), "wb-lead")
        + rc.bullets(facts)
        + public_source_html(report)
    )
    meeting_sections = SECTIONS[:3]  # the appendix lists its own sections (build_appendix)
    return rc.report_header(
        t, "cluster_report", meeting_sections, title, intro, compact=True, extra_css=MEETING_CSS
    )


def build_today(report: ClusterReport) -> rc.Html:
    """ "Det taler vi om i dag": three to five ranked findings, each with its number, the
    interval that decided it, a small chart and a question (cluster_findings)."""
    return today_html(report, section_title(report, "today"))


def build_followup(report: ClusterReport) -> rc.Html:
    """ "Opfølgning på vores handlinger": each decision of the cluster beside what moved since,
    with its interval and one honest verdict (cluster_followup)."""
    return cluster_followup.build_followup(report, section=meeting_section)


def build_next_step(report: ClusterReport) -> rc.Html:
    """The effort in the cluster's own time as a question, then the action step."""
    t = report.t
    status = report.status("headline", rc.HEADLINE_INDICATORS)
    general = status[status["indicator_id"] == "generel_trivsel"] if len(status) else status
    row = next(named_rows(general), None)
    effort = effort_question(
        t, report.cluster_name, effort_name(report), start_year_of(report), report.year, row
    )
    if effort and public_cluster.programme_unknown(report.data):  # no start is invented
        effort = public_cluster.effort_unknown_question(t, report.cluster_name, row)
    body = rc.paragraph(effort, "wb-question") if effort else ""
    body += rc.paragraph(t("meeting.next_intro"))
    body += '<ol class="wb-questions wb-action">'
    body += "".join(f"<li>{rc.esc(q)}</li>" for q in action_questions(t)) + "</ol>"
    return meeting_section("naeste-skridt", section_title(report, "next_step"), body)


def build_appendix(report: ClusterReport) -> rc.Html:
    """The appendix's heading: how to read the tables, and the cluster's units."""
    t = report.t
    units = member_units(report.data, report.cluster_id, report.year)
    # the other clusters' reports, linked where the appendix opens (issue 14)
    other_clusters = rc.cluster_links(report.data, report.data.municipality, report.cluster_id)
    how = [t("decided_interval.how_to_read"), t("how_to_read.changes"), t("status_legend")]
    if report.data.public:  # one year, and intervals from the spread of schools, not chance
        how = [t("public_cluster.how_intervals"), how[0], t("status_legend")]
    links = "".join(
        f'<li><a href="#{anchor}">{rc.esc(section_title(report, key))}</a></li>'
        for anchor, key in SECTIONS[3:]
    )
    body = (
        rc.paragraph(t("meeting.appendix_intro"))
        + f'<nav aria-label="{rc.esc(section_title(report, "appendix"))}"><ol>{links}</ol></nav>'
        + rc.clusters_nav(t, other_clusters)
        + rc.paragraph(
            t(
                "cluster_report.meta_units",
                school_year=report.school_year,
                units=rc.join_names(t, sorted(units["name"].tolist(), key=danish_order)),
            )
        )
        + f'<div class="wb-note"><p><strong>{rc.esc(t("how_to_read.title"))}</strong></p>'
        + "".join(rc.paragraph(p) for p in how)
        + rc.paragraph(t("how_to_read.purpose"))
        + "</div>"
        + cluster_followup.build_followup_details(report)  # the meeting view links here
    )
    return rc.Html(
        '<section class="wb-section wb-report wb-appendix" aria-labelledby="bilag">'
        f'<h2 id="bilag">{rc.esc(section_title(report, "appendix"))}</h2>{body}</section>'
    )


def build_overview(report: ClusterReport) -> rc.Html:
    """Headline indicators: level, interval, municipality, position and change."""
    t = report.t
    rows = report.status("headline", rc.HEADLINE_INDICATORS)
    parts = []
    if report.previous is None:
        parts.append(rc.paragraph(t("cluster_report.overview_no_previous")))
    else:
        parts += [rc.paragraph(line) for line in overview_lines(report, rows)]
    parts.append(public_cluster.unmapped_html(t, report.data))  # in the municipality's value
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
    usual = usual_count_sentence(t, rows, previous)  # published indices (issue 16)
    lines = [
        t("cluster_report.overview_intro", school_year=report.school_year, previous=previous),
        *([count_sentence(t, verdicts, assessed, previous)] if assessed or not usual else []),
        *([usual] if usual else []),
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


def count_sentence(t, verdicts: pd.Series, assessed: int, previous: str) -> str:
    """How many indicators changed clearly, without "0 er tydeligt bedre"."""
    counts = {k: int(verdicts.get(k, 0)) for k in ("better", "worse", "none")}
    parts = [t(f"meeting.overview_{k}", count=counts[k]) for k in ("better", "worse") if counts[k]]
    if not parts:
        return t("meeting.overview_none", total=assessed, previous=previous)
    text = t(
        "meeting.overview_some", total=assessed, parts=rc.join_names(t, parts), previous=previous
    )
    return text + (" " + t("meeting.overview_rest", none=counts["none"]) if counts["none"] else "")


def build_statements(report: ClusterReport) -> rc.Html:
    """The six "Vi er på vej til at lykkes, når ..." statements: chart, table, status."""
    t = report.t
    rows = report.status("statements", STATEMENT_INDICATORS)
    parts = [rc.paragraph(t("cluster_report.statements_intro"))]
    if report.data.public and rows.empty:
        body = parts[0] + rc.paragraph(t("public_cluster.no_statements"))
        return rc.section("udsagn", section_title(report, "statements"), body)
    if report.data.public:  # which figures rest on the published respondent counts
        parts.append(rc.paragraph(public_cluster.statements_note(t)))
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
            neutral=t("common.municipality"),
        )
        description = statement_description(report, rows, hidden)
        parts.append(report_chart_html(report, chart, table, title, description, "udsagn"))
    else:
        footnotes = [t("common.suppressed_note", min_n=report.data.min_n)]
        parts.append(charts.table_to_html(table, title, footnotes))
        if report.tables_dir is not None:
            charts.write_table_csv(table, "udsagn", report.tables_dir, t.language)
    parts.append(
        anchor_link(t, "meeting2.questions_link", "spoergsmaal", section_title(report, "questions"))
    )
    return rc.section("udsagn", section_title(report, "statements"), "".join(parts))


def build_questions(report: ClusterReport) -> rc.Html:
    """Under each statement its questions, "foreløbig" where modelled, and the answers 1-5
    (refusals apart) for the cluster this year and last year and the municipality."""
    body = cluster_answers.questions_body(report)
    return rc.section("spoergsmaal", section_title(report, "questions"), body)


def build_breakdowns(report: ClusterReport) -> rc.Html:
    """Key indicators of grades 4-9 by grade band and gender, each with the suppression rules."""
    body = cluster_breakdowns.breakdowns_body(report)
    return rc.section("opdeling", section_title(report, "breakdowns"), body)


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
    if report.data.public:  # the generic intro speaks of answers and chance: not these figures
        parts = [
            rc.paragraph(t("public_cluster.funnel_intro")),
            rc.paragraph(t("public_cluster.no_register_funnels")),
        ]
    for indicator_id in funnel_indicators(report):
        found = funnel_of(report, indicator_id)
        if found is not None:
            parts += funnel_parts(report, found)
    return rc.section("tragtplot", section_title(report, "funnels"), "".join(parts))


def build_trends(report: ClusterReport) -> rc.Html:
    """Line charts over the years, missing years as gaps and said in words."""
    t, data = report.t, report.data
    frame = trend_frame(report)
    parts = [
        rc.paragraph(t("cluster_report.trends_intro")),
        rc.paragraph(effort_status_line(report)),
    ]
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
    start = start_year_of(report)
    marker = None
    if start is not None and format_school_year(start) in all_years:
        marker = (format_school_year(start), t("meeting.start_marker", effort=effort_name(report)))
    chart = charts.build_trend_chart(
        frame.dropna(subset=["value"]),
        all_years,
        labels,
        marker=marker,
        neutral=t("common.municipality"),
    )
    table = trend_table(report, frame, all_years)
    first, last = all_years[0], all_years[-1]
    title = t("cluster_report.trends_title", cluster=report.cluster_name, first=first, last=last)
    parts.append(
        report_chart_html(
            report,
            chart,
            table,
            title,
            trend_description(report, frame)
            + (" " + t("meeting.start_marker_note", start=marker[0]) if marker else ""),
            "udvikling",
            table_caption=t("cluster_report.trends_table_caption", cluster=report.cluster_name),
        )
    )
    parts.append(trend_slopes_html(report))
    parts.append(  # published figures without n: the band of usual swings (issue 16)
        public_change.usual_change_html(
            data, t, "cluster", report.cluster_id, report.cluster_name, report.year
        )
    )
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


def build_data_quality(report: ClusterReport) -> rc.Html:
    """Response, missing years, suppressed cells and membership changes, in words."""
    t = report.t
    hidden = suppressed_cells(report)
    lines = [
        *response_lines(report),
        *missing_year_lines(report),
        suppressed_line(report, hidden),
        membership_line(report),
        public_cluster.quality_line(t) if report.data.public else t("cluster_report.quality_items"),
    ]
    report.cache["suppressed_cells"] = len(hidden)
    body = rc.paragraph(t("cluster_report.quality_intro")) + rc.bullets(lines)
    return rc.section("datakvalitet", section_title(report, "data_quality"), body)


def build_definitions(report: ClusterReport) -> rc.Html:
    """What each indicator shown counts: numerator, denominator, source, which way is better."""
    t = report.t
    ids = [*rc.HEADLINE_INDICATORS, *STATEMENT_INDICATORS, *rc.INCLUSION_INDICATORS]
    table = definition_rows(report, ids)
    title = section_title(report, "definitions")
    body = rc.paragraph(t("meeting.definitions_intro")) + charts.table_to_html(table, title, [])
    return rc.section("definitioner", title, body)


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
    shown = key_figures.Shown  # at the page's precision, never more (issue #18)
    for row in named_rows(rows):
        ind = report.data.catalog.get(row.indicator_id)
        if not rc.is_missing(row.value):
            figures[f"{row.indicator_id}.value"] = shown(row.value, rc.stored_decimals(ind))
        if not rc.is_missing(row.change):
            figures[f"{row.indicator_id}.change"] = shown(row.change, rc.stored_decimals(ind, True))
        figures[f"{row.indicator_id}.verdict"] = row.change_verdict
    figures["standouts"] = len(report.cache.get("standouts", standout_lines(report)))
    return figures


def record_figures(report: ClusterReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
