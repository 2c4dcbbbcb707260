"""The six statements with their questions: each question's text, a "foreløbig" tag where the
catalog marks it modelled, and the answer distribution (1-5, "ønsker ikke at svare" apart) for
the cluster this year and last year and for the municipality, as a stacked bar and a table.

Question-level answers as the ministry's trivselsmåling pages and Panorama's item reports show
them; the counts and their protection come from `evaluation.values.distributions`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.cluster_parts import STATEMENT_INDICATORS, ClusterReport
from evaluation.texts import format_school_year
from evaluation.values.distributions import MUNICIPALITY, Distribution, answer_distributions

# answers 1 (worst) to 5 (best): vermillion through grey to bluish green, the valence palette's
# ends (charts.VALENCE_COLOURS); dark text on every shade, and the share written on the bar
ANSWER_COLOURS = {1: "#D55E00", 2: "#F2B48A", 3: "#D9D9D9", 4: "#8FD3BF", 5: "#009E73"}
BAND = "4-9"  # the statements are measured in grades 4-9 (catalog.yaml)


def statement_items(report: ClusterReport) -> list[tuple[object, list[str]]]:
    """(indicator, its item ids) for the six statements, in the catalog's order."""
    catalog = report.data.catalog
    return [
        (catalog.get(i), list(catalog.get(i).items))
        for i in STATEMENT_INDICATORS
        if i in catalog.by_id
    ]


def load_distributions(report: ClusterReport) -> dict:
    """{(year, item): {entity: Distribution}} for this year and the previous one: the same
    protected table of the municipality's clusters for every cluster report, so once per run
    (evaluation.reports.shared)."""
    items = sorted({q for _, qs in statement_items(report) for q in qs})
    years = [y for y in (report.year, report.previous) if y is not None]
    municipality = report.data.municipality
    return rc.shared_result(
        report.data,
        ("answer_distributions", municipality, *years),
        lambda: answer_distributions(
            report.data.warehouse,
            report.data.catalog,
            BAND,
            items,
            years,
            municipality,
            report.data.min_n,
        ),
    )


def common_groups(distributions: list[Distribution]) -> tuple[tuple[int, int], ...]:
    """The finest grouping coarser than each shown distribution's, so one table has one set of
    columns (a union of protected groups is still protected: its complement is other groups)."""
    shown = [d for d in distributions if d.groups]
    if not shown:
        return ()
    cuts = set.intersection(*({hi for _, hi in d.groups} for d in shown))
    groups, first = [], 1
    for last in sorted(cuts):
        groups.append((first, last))
        first = last + 1
    return tuple(groups) if len(groups) > 1 else ()


def regroup(d: Distribution, groups) -> list[float]:
    """The distribution's shares summed into the wider `groups`."""
    return [
        sum(s for (lo, hi), s in zip(d.groups, d.shares, strict=True) if lo >= g_lo and hi <= g_hi)
        for g_lo, g_hi in groups
    ]


def group_label(t, group: tuple[int, int]) -> str:
    first, last = group
    if first == last:
        return t("meeting2.group_one", first=first)
    return t("meeting2.group_span", first=first, last=last)


def question_rows(report: ClusterReport, item: str) -> list[tuple[str, Distribution | None]]:
    """(row name, distribution or None) for the cluster this year, last year, the municipality."""
    t, found = report.t, load_distributions(report)
    rows = [(report.cluster_name, report.year, report.cluster_id)]
    if report.previous is not None:
        rows.append((report.cluster_name, report.previous, report.cluster_id))
    rows.append((t("common.municipality"), report.year, MUNICIPALITY))
    return [
        (
            t("meeting2.row_year", name=name, school_year=format_school_year(year)),
            found.get((year, item), {}).get(entity),
        )
        for name, year, entity in rows
    ]


def answer_table(report: ClusterReport, rows, groups) -> pd.DataFrame:
    """One row per cluster/year: the share per answer group, refusals apart, and the n."""
    t = report.t
    out = []
    for name, d in rows:
        shares = regroup(d, groups) if d is not None and groups else [None] * len(groups)
        record = {"": name}
        for group, share in zip(groups, shares, strict=True):
            label = t("meeting2.answer_word", group=group_label(t, group))
            record[label] = None if share is None else t.percent(share)
        refused = None if d is None or d.refused_share is None else t.percent(d.refused_share)
        record[t("meeting2.refused")] = refused
        record[t("meeting2.respondents")] = None if d is None else t.number(d.n, decimals=0)
        out.append(record)
    return pd.DataFrame(out)


def chart_records(report: ClusterReport, question: str, rows, groups) -> list[dict]:
    """The parts of the stacked bars of one question: where each starts and ends, its label."""
    t = report.t
    records = []
    for name, d in rows:
        if d is None or not groups:
            continue
        start = 0.0
        for group, share in zip(groups, regroup(d, groups), strict=True):
            records.append(
                {
                    "question": question,
                    "row": name,
                    "group": t("meeting2.answer_word", group=group_label(t, group)),
                    "first": group[0],
                    "last": group[1],
                    "colour": ANSWER_COLOURS[round((group[0] + group[1]) / 2)],
                    "start": start,
                    "end": start + share,
                    "middle": start + share / 2,
                    "text": t.percent(share) if share >= 0.07 else "",
                }
            )
            start += share
    return records


def answer_chart(report: ClusterReport, frame: pd.DataFrame) -> alt.TopLevelMixin:
    """Stacked bars per question (a panel each) and row, the share written on each part, so
    nothing is told by colour alone."""
    t = report.t
    questions = list(dict.fromkeys(frame["question"]))  # in the statements' order
    rows = list(dict.fromkeys(frame["row"]))
    labels = list(dict.fromkeys(frame.sort_values(["first", "last"], kind="stable")["group"]))
    colours = dict(zip(frame["group"], frame["colour"], strict=True))
    # plain dicts in altair's key order (charts.props): cheap to copy, the same spec (#17)
    scale = charts.props(domain=labels, range=[colours[g] for g in labels])
    y = alt.Y("row:N", title=None, sort=rows)
    x_scale = charts.props(domain=[0, 1], nice=False)
    x_axis = charts.props(format=".0%", title=t("meeting2.chart_x"))
    bars = charts.encode(
        alt.Chart(mark=charts.mark("bar", stroke="white", strokeWidth=1)),
        y=y,
        x=alt.X("start:Q", scale=x_scale, axis=x_axis),
        x2=alt.X2("end:Q"),
        color=alt.Color("group:N", title=None, scale=scale, sort=labels),
    )
    words = charts.encode(
        alt.Chart(mark=charts.mark("text", color=charts.TEXT_COLOUR, fontSize=12)),
        y=y,
        x=alt.X("middle:Q", scale=x_scale),
        text=alt.Text("text:N"),
    )
    header = charts.props(title=None, labelOrient="top", labelAnchor="start", labelLimit=560)
    height = 28 * frame.groupby("question")["row"].nunique().max()
    layered = alt.layer(bars, words, data=frame, width=420, height=height)  # no chained copy
    return layered.facet(row=alt.Row("question:N", header=header, sort=questions))


def chart_description(report: ClusterReport, rows, groups) -> str:
    """The chart in words: each row's shares, or that it is not shown."""
    t = report.t
    lines = []
    for name, d in rows:
        if d is None or not groups:
            lines.append(t("meeting2.row_hidden", row=name))
            continue
        shares = ", ".join(
            f"{group_label(t, g)}: {t.percent(s)}"
            for g, s in zip(groups, regroup(d, groups), strict=True)
        )
        lines.append(t("meeting2.row_description", row=name, shares=shares))
    return "; ".join(lines) + "."


def question_parts(report: ClusterReport, item: str) -> tuple[str, str, list[dict], str]:
    """One question: its heading ("foreløbig" when modelled), its table, its bars, in words."""
    t = report.t
    spec = report.data.catalog.forms[BAND].items[item]
    html = f"<h4>{rc.esc(t('meeting2.question_label', text=spec.text_da))}"
    if spec.status == "modelled":
        html += f" ({rc.esc(t('meeting2.provisional'))})</h4>"
        html += rc.paragraph(t("meeting2.provisional_note"), "wb-meta")
    else:
        html += "</h4>"
    rows = question_rows(report, item)
    groups = common_groups([d for _, d in rows if d is not None])
    notes = [t("common.suppressed_note", min_n=report.data.min_n), t("meeting2.refused_note")]
    if groups and len(groups) < 5:
        notes.insert(0, t("meeting2.merged_note", min_n=report.data.min_n))
    caption = t("meeting2.table_caption", text=spec.text_da)
    table = answer_table(report, rows, groups)
    if report.tables_dir is not None:
        charts.write_table_csv(table, f"svar-{item}", report.tables_dir, t.language)
    table_html = charts.table_to_html(table, caption, notes)
    question = t("meeting2.question_label", text=spec.text_da)
    words = f"{question} {chart_description(report, rows, groups)}"
    return html, table_html, chart_records(report, question, rows, groups), words


def answers_figure(report: ClusterReport, records: list[dict], words: list[str]) -> str:
    """One figure for all the questions (one chart is one conversion: a report stays fast)."""
    t = report.t
    chart = answer_chart(report, pd.DataFrame(records))
    title = t("meeting2.chart_title")
    box = charts.chart_box(charts.chart_to_svg(chart, t.language), title)
    return (
        f'<figure class="wb-figure" id="fig-svar">'
        f"{box}<figcaption><strong>{rc.esc(title)}.</strong> "
        f"{rc.esc(t('meeting2.chart_description', rows=' '.join(words)))}</figcaption></figure>"
    )


def questions_body(report: ClusterReport) -> str:
    """The appendix section's body: one figure of every question's answers, then per statement
    its questions, each with its table."""
    t = report.t
    parts = [
        rc.paragraph(t("meeting2.questions_intro")),
        rc.paragraph(t("meeting2.questions_privacy", min_n=report.data.min_n), "wb-meta"),
    ]
    if not any(load_distributions(report).values()):
        return "".join(parts) + rc.paragraph(t("meeting2.questions_none"))
    records, words, statements = [], [], []
    for indicator, items in statement_items(report):
        questions = [question_parts(report, q) for q in items]
        records += [r for _, _, found, _ in questions for r in found]
        words += [text for *_, text in questions]
        statements.append(
            f"<h3>{rc.esc(rc.indicator_name(t, indicator))}</h3>"
            + "".join(heading + table for heading, table, _, _ in questions)
        )
    if records:
        parts.append(answers_figure(report, records, words))
    return "".join(parts + statements)
