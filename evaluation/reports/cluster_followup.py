"""The cluster report's section "Opfølgning på vores handlinger": each decision of the cluster
(the municipality's decisions file, warehouse table `decisions`) with its target before and now,
the cluster's change against the rest of the municipality's, a small run chart with the decision
marked, and one verdict read off its printed 95 % interval (evaluation.stats.followup, via
evaluation.values.decisions.follow_up_decisions). Compact: it sits near the front of the
meeting view.

`report_follow_ups` is shared with the leader overview (leader_followup) and the evaluation
report's table (evaluation_decisions).
"""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.chart_records import named_rows
from evaluation.texts import format_school_year
from evaluation.values import decisions as decision_values
from evaluation.values import year_overlap

ANCHOR = "opfoelgning"
DETAILS_ANCHOR = "opfoelgning-tal"
CHART_COLUMNS = 3
YEARS_BEFORE = 4  # the run chart starts this many surveys before the decision
CHART_FIELDS = [
    "panel",
    "panel_order",
    "series",
    "year",
    "school_year",
    "value",
    "decision_x",
    "label_row",
]


def report_follow_ups(report, today: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the decisions table, their follow-up rows) for the report's year; cached on the report.

    Only decisions that can belong to the report's year are kept: those whose first survey is
    at most the one after the report's (a decision made after the report's survey)."""
    key = ("followup", today)
    if key not in report.cache:
        day = today or date.today()
        report.cache[key] = rc.shared_result(  # every cluster's decisions: once per run
            report.data,
            ("follow_ups", int(report.year), day.isoformat()),
            lambda: compute_follow_ups(report, day),
        )
    return report.cache[key]


def cluster_follow_ups(report, today: date | None = None) -> pd.DataFrame:
    """The follow-up rows of the report's cluster: from the run's every-decision result when it
    is there (a run with the leader summary), else of this cluster's decisions only, once per
    run. The rows are the same either way: each decision is followed up on its own."""
    day = (today or date.today()).isoformat()
    every = report.data.shared.get(("follow_ups", int(report.year), day))
    if every is None:
        every = rc.shared_result(
            report.data,
            ("follow_ups", int(report.year), day, report.cluster_id),
            lambda: compute_follow_ups(report, date.fromisoformat(day), report.cluster_id),
        )
    follow = every[1]
    return follow[follow["cluster_id"] == report.cluster_id].reset_index(drop=True)


def compute_follow_ups(
    report, today: date, cluster_id: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(decisions, follow-up rows) of every cluster, or of `cluster_id`'s decisions only."""
    every = decision_values.load_decisions(report.data.warehouse)
    every = every[every["first_year"].astype(float) <= report.year + 1]
    if len(report.data.clusters):  # the report's municipality's (a warehouse may hold several)
        own = report.data.clusters["cluster_id"].astype(str)
        every = every[every["cluster_id"].astype(str).isin(own)]
    decisions = every
    if cluster_id is not None:
        decisions = every[every["cluster_id"].astype(str) == str(cluster_id)]
    # the pupils answering in both years tie a group's two years (values.year_overlap)
    covariances = year_overlap.load_overlap_covariances(report.data.warehouse)
    follow = decision_values.follow_up_decisions(
        decisions, report.data.values, report.data.catalog, report.year, today, covariances, every
    )
    return decisions.reset_index(drop=True), follow


def build_followup(report, today: date | None = None, section=rc.section) -> rc.Html:
    """The section: how the verdict is read, the run charts, one line per decision with its
    verdict and interval, the decisions too early to judge in one sentence, the KL question for
    decisions due for review without clear progress, and decisions overdue for a status. The
    full table and the method stay in the appendix (`build_followup_details`), so the meeting
    view fits a projector. `section(anchor, title, body)` wraps it (the meeting view's own)."""
    t = report.t
    follow = cluster_follow_ups(report, today)
    if follow.empty:
        return section(ANCHOR, t("followup.cluster_title"), rc.paragraph(t("followup.none")))
    body = (
        f"<p>{rc.esc(t('meeting3.followup_intro'))} "
        f'<a href="#{DETAILS_ANCHOR}">{rc.esc(t("meeting3.followup_details_link"))}</a></p>'
    )
    body += figure_html(report, follow)
    body += verdict_lines_html(report, follow)
    body += question_html(report, follow)
    body += overdue_html(report, follow)
    return section(ANCHOR, t("followup.cluster_title"), body)


def build_followup_details(report, today: date | None = None) -> str:
    """The appendix's part of the follow-up: how to read it, the table of every decision with
    before, now and both changes, and the method note (empty without decisions)."""
    t = report.t
    follow = cluster_follow_ups(report, today)
    if follow.empty:
        return ""
    footnotes = [t("followup2.method")]
    table = charts.table_to_html(
        follow_up_table(report, follow), t("followup.table_caption"), footnotes
    )
    return (
        f'<h3 id="{DETAILS_ANCHOR}">{rc.esc(t("meeting3.followup_details_title"))}</h3>'
        + rc.paragraph(t("followup.intro"))
        + table
    )


def figure_html(report, follow: pd.DataFrame) -> str:
    """The run charts of the decisions with a measurement since (the table is the appendix's;
    the chart's figures are also written as CSV)."""
    t = report.t
    series = chart_rows(report, follow[follow["verdict"] != "too_early"])
    if series.empty:
        return ""
    title = t("followup.chart_title")
    if report.tables_dir:
        csv = series.drop(columns=["decision_x", "panel_order", "label_row"])
        slug = f"opfoelgning-{report.cluster_id}".lower()
        charts.write_table_csv(csv, slug, report.tables_dir, t.language)
    svg = charts.label_svg(charts.chart_to_svg(run_chart(series, t), t.language), title)
    return (
        # tabindex: on a phone the chart scrolls sideways, and a keyboard must reach it too
        '<figure class="wb-figure wb-followup-chart">'
        f'<div class="wb-chart" tabindex="0">{svg}</div>'
        f"<figcaption><strong>{rc.esc(title)}.</strong> "
        f"{rc.esc(t('meeting3.chart_description'))}</figcaption></figure>"
    )


def verdict_lines_html(report, follow: pd.DataFrame) -> str:
    """One line per decision judged (numbered as the charts' panels), then those too early in
    one sentence."""
    t = report.t
    lines, early = [], []
    for number, row in enumerate(named_rows(follow), start=1):
        ind = report.data.catalog.get(row.indicator_id)
        if row.verdict == "too_early":  # with its target: an action may aim at two indicators
            action = t(
                "followup5.early_item",
                action=f"{number}. {row.action}",
                target=target_label(report, row, ind),
            )
            early.append((action, int(row.first_year)))
            continue
        verdict = verdict_text(report, row)
        words = verdict if isinstance(verdict, str) else f"{verdict[0]} ({verdict[1]})"
        difference = difference_text(t, ind, row)
        lines.append(
            t(
                "meeting3.verdict_line",
                action=f"{number}. {row.action}",
                target=target_label(report, row, ind),
                verdict=words if difference is None else f"{words}: {difference}",
            )
        )
    items = "".join(f"<li>{rc.esc(line)}</li>" for line in lines)
    html = f'<ul class="wb-followup-lines">{items}</ul>' if lines else ""
    if early:
        html += rc.paragraph(
            t(
                "meeting3.too_early",
                actions=rc.join_names(t, [name for name, _ in early]),
                school_year=format_school_year(max(year for _, year in early)),
            )
        )
    return html


# --- the table ------------------------------------------------------------------------------


def follow_up_table(report, follow: pd.DataFrame) -> pd.DataFrame:
    """One row per decision and target, in the reader's words; "–" where nothing is shown."""
    t = report.t
    columns = t.lookup("followup.columns")
    rows = []
    for number, row in enumerate(named_rows(follow), start=1):
        ind = report.data.catalog.get(row.indicator_id)
        rows.append(
            {
                columns["action"]: (
                    f"{number}. {row.action}",
                    t("followup.decided", date=show_date(t, row.decided)),
                ),
                columns["target"]: target_label(report, row, ind),
                columns["before"]: value_in(t, ind, row.before, row.before_year),
                columns["now"]: value_in(t, ind, row.now, row.now_year),
                columns["cluster_change"]: rc.format_difference(t, ind, row.cluster_change),
                columns["rest_change"]: rc.format_difference(t, ind, row.rest_change),
                columns["difference"]: difference_text(t, ind, row),
                columns["verdict"]: verdict_text(report, row),
            }
        )
    return pd.DataFrame(rows, columns=list(columns.values()))


def target_label(report, row, ind) -> str:
    name = rc.indicator_name(report.t, ind)
    if row.level == "unit":
        return report.t(
            "followup.unit_only", indicator=name, unit=report.data.unit_name(row.entity_id)
        )
    return name


def value_in(t, ind, value, year) -> str | None:
    if rc.is_missing(value):
        return None
    return t(
        "followup.value_in",
        value=rc.format_value(t, ind, value),
        school_year=format_school_year(int(year)),
    )


def difference_text(t, ind, row) -> str | None:
    """The difference and its interval, with the decimals that make a clear verdict readable
    off the printed numbers (formatting.extra_decimals)."""
    if rc.is_missing(row.estimate):
        return None
    clear = row.verdict in ("clear_progress", "clear_decline")
    extra = rc.extra_decimals(ind, row.low, row.high, 0.0, clear, signed=True)
    return t(
        "followup.difference",
        difference=rc.format_difference(t, ind, row.estimate, extra),
        interval=rc.format_interval(t, ind, row.low, row.high, signed=True, extra=extra),
    )


def verdict_text(report, row) -> str | tuple[str, str]:
    """The verdict in words, with the reason beside "too early", "–" and a whole-municipality
    comparison."""
    t = report.t
    words = t(f"followup.verdicts.{row.verdict}")
    if row.verdict == "too_early":
        return words, t(
            "followup.reasons.too_early", school_year=format_school_year(int(row.first_year))
        )
    if row.reason is None or rc.is_missing(row.reason):
        return words
    entity = report.data.unit_name(row.entity_id) if row.level == "unit" else report.cluster_name
    reason = t(
        f"followup.reasons.{row.reason}",
        band="" if rc.is_missing(row.grade_band) else row.grade_band,
        min_n=report.data.min_n,
        entity=entity,
    )
    return words, reason


def show_date(t, value) -> str:
    when = pd.Timestamp(value)
    return t("followup.date", day=f"{when.day:02d}", month=f"{when.month:02d}", year=when.year)


# --- the run chart --------------------------------------------------------------------------


def chart_rows(report, follow: pd.DataFrame) -> pd.DataFrame:
    """Rows of the run charts: panel (numbered as the table's rows), series, year, school year,
    value (in the display scale), where the decision lies and the row that carries its label,
    for every follow-up with figures to draw, from a few surveys before the decision on."""
    t = report.t
    labels = t.lookup("followup.chart_labels")
    frames = []
    for number, row in enumerate(named_rows(follow), start=1):
        if row.verdict == decision_values.HIDDEN:
            continue
        series = decision_values.follow_up_series(
            report.data.values, pd.Series(row._asdict()), report.year
        )
        series = series[series["year"] >= int(row.first_year) - YEARS_BEFORE]
        if series.empty:
            continue
        ind = report.data.catalog.get(row.indicator_id)
        own = labels["unit"] if row.level == "unit" else labels["own"]
        frames.append(
            series.assign(
                panel=f"{number}. {rc.indicator_name(t, ind, short=True)}",
                panel_order=number,
                series=series["series"].map({"own": own, "rest": labels[rest_label(row)]}),
                school_year=series["year"].map(format_school_year),
                value=rc.shown_value(ind, series["value"]),  # as printed (issue #18)
                decision_x=float(row.first_year) - 0.5,
                label_row=[i == 0 for i in range(len(series))],
            )
        )
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out[CHART_FIELDS]


def rest_label(row) -> str:
    """A median is compared with the whole municipality (medians cannot be split)."""
    return "whole" if row.reason == "whole_municipality" else "rest"


def run_chart(series: pd.DataFrame, t) -> alt.TopLevelMixin:
    """Small multiples: the cluster's (or unit's) and the rest's line, the decision dashed."""
    labels = t.lookup("followup.chart_labels")
    names = list(dict.fromkeys(series["series"]))
    scales = charts.series_scales(names)
    x = alt.X(
        "year:Q",
        title=labels["x"],
        # labels "2024/25", far inside any limit: none, so vl-convert measures each once (#17)
        axis=charts.props(
            tickMinStep=1,
            labelExpr="datum.value + '/' + slice(datum.value + 1 + '', 2)",
            labelLimit=0,
        ),
        scale=charts.props(zero=False, nice=False),
    )
    y = alt.Y("value:Q", title=None, scale=charts.props(zero=False))
    colour = alt.Color("series:N", title=None, scale=scales["color"])
    lines = charts.encode(
        alt.Chart(mark=charts.mark("line", strokeWidth=2)),
        x=x,
        y=y,
        color=colour,
        strokeDash=alt.StrokeDash("series:N", title=None, scale=scales["dash"]),
    )
    points = charts.encode(
        alt.Chart(mark=charts.mark("point", filled=True, size=45, opacity=1)),
        x=x,
        y=y,
        color=colour,
        shape=alt.Shape("series:N", title=None, scale=scales["shape"]),
    )
    rule = alt.Chart(mark=charts.mark("rule", color="#555555", strokeDash=[4, 3]))
    rule = charts.encode(rule, x=alt.X("decision_x:Q"))
    # above the plot area, so the label never sits on the lines it marks
    words = charts.mark(
        "text", align="left", dx=3, dy=-2, fontSize=10, color="#333333", baseline="bottom"
    )
    text = charts.encode(
        alt.Chart(mark=words).transform_filter("datum.label_row"),
        x=alt.X("decision_x:Q"),
        y=alt.YValue(0),
        text=alt.TextValue(labels["decided"]),
    )
    # sizes, resolve and the one table on the layer chart itself: no chained copies, no hashed
    # layers (charts.build_trend_chart, #17)
    layered = alt.layer(rule, text, lines, points, data=series, width=200, height=110)
    panels = list(dict.fromkeys(series.sort_values("panel_order")["panel"]))
    return layered.facet(
        facet=alt.Facet("panel:N", title=None, sort=panels, header=charts.props(labelLimit=260)),
        columns=CHART_COLUMNS,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(y="independent", x="independent")),
    )


# --- the KL question and the overdue list ---------------------------------------------------


def question_html(report, follow: pd.DataFrame) -> str:
    """ "Skal vi fortsætte, justere eller stoppe?" for decisions due without clear progress: their
    numbers and review dates in one sentence (their verdicts stand in the lines above)."""
    t = report.t
    due = [
        t("meeting3.review_item", number=number, review=review_text(t, row.review))
        for number, row in enumerate(named_rows(follow), start=1)
        if row.review_due
    ]
    if not due:
        return ""
    return f"<h3>{rc.esc(t('followup.question_heading'))}</h3>" + rc.paragraph(
        t("meeting3.review_due", decisions=rc.join_names(t, due))
    )


def overdue_html(report, follow: pd.DataFrame) -> str:
    """Decisions whose review date passed while their status stayed planned or in progress."""
    t = report.t
    late = follow[follow["overdue"].astype(bool)].drop_duplicates("decision_id")
    if late.empty:
        return ""
    items = [
        t(
            "followup.overdue_item",
            action=row.action,
            review=review_text(t, row.review),
            status=row.status,
        )
        for row in named_rows(late)
    ]
    return (
        f"<h3>{rc.esc(t('followup.overdue_heading'))}</h3>"
        + rc.paragraph(t("followup.overdue_intro"))
        + rc.bullets(items)
    )


def review_text(t, review) -> str:
    """A review date as the report writes dates; a school year as it is."""
    text = str(review)
    if "/" in text or rc.is_missing(review):
        return text
    return show_date(t, text)
