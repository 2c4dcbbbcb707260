"""The meeting view's findings: the three to five things a learning community talks about first.

Ranked as issue 13 asks (after Data Wise's "dig into the data" step: few findings, each with its
evidence): clear changes since last year first, then units outside the 99.8 % funnel limits,
then clear differences from the municipality, and last the statements where the cluster lies
lowest against the municipality (a gap to talk about even when it is not clear). Each finding
carries its figure, the interval that decided it, a small chart and one question
(`evaluation.reports.reflection`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import pandas as pd

from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.chart_records import named_rows
from evaluation.reports.cluster_funnels import any_outside, funnel_indicators, funnel_of, outside
from evaluation.reports.cluster_parts import STATEMENT_INDICATORS, ClusterReport
from evaluation.reports.reflection import finding_question, movement_name, spoken
from evaluation.texts import format_school_year

MAX_FINDINGS = 5
MIN_FINDINGS = 3
KIND_RANK = {"change": 0, "unit": 1, "level": 2, "statement": 3}
KIND_CAP = {"change": 3, "unit": 2, "level": 2}


@dataclass
class Finding:
    """One finding. `value`/`reference` are the figure and what it is compared with (for a
    change: this year and last year); `lower`/`upper` the interval that decided it and `rule`
    the comparison value on the same scale (0 for a change)."""

    kind: str  # change, unit, level, statement
    indicator: object
    subject: str  # the cluster's or the unit's name
    verdict: str  # better, worse, none (by the indicator's valence)
    value: float
    reference: float
    lower: float
    upper: float
    rule: float
    strength: float  # distance of the rule from the interval's middle, in half-widths
    previous_year: int | None = None
    peer: tuple[str, float] | None = None


def strength_of(middle: float, lower: float, upper: float, rule: float) -> float:
    half = (upper - lower) / 2
    return abs(middle - rule) / half if half > 0 else 0.0


def cluster_status(report: ClusterReport) -> pd.DataFrame:
    """Headline, inclusion and statement rows of the cluster, one per indicator."""
    frames = [
        report.status("headline", rc.HEADLINE_INDICATORS),
        report.status("inclusion", rc.INCLUSION_INDICATORS),
        report.status("statements", STATEMENT_INDICATORS),
    ]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).drop_duplicates("indicator_id")


def change_findings(report: ClusterReport, status: pd.DataFrame) -> list[Finding]:
    out = []
    for row in named_rows(status):
        if row.change_verdict not in ("better", "worse"):
            continue
        out.append(
            Finding(
                "change",
                row.indicator,
                report.cluster_name,
                row.change_verdict,
                row.value,
                row.previous_value,
                row.change_lower,
                row.change_upper,
                0.0,
                strength_of(row.change, row.change_lower, row.change_upper, 0.0),
                previous_year=row.previous_year,
            )
        )
    return out


def level_findings(report: ClusterReport, status: pd.DataFrame) -> list[Finding]:
    out = []
    for row in named_rows(status):
        if row.position not in ("better", "worse"):
            continue
        out.append(level_finding(report, row, "level", row.position))
    return out


def level_finding(report: ClusterReport, row, kind: str, verdict: str) -> Finding:
    finding = Finding(
        kind,
        row.indicator,
        report.cluster_name,
        verdict,
        row.value,
        row.reference,
        row.decided_lower,
        row.decided_upper,
        row.reference,
        strength_of(row.value, row.decided_lower, row.decided_upper, row.reference),
    )
    finding.peer = peer_cluster(report, row.indicator, row.value)
    return finding


def statement_findings(report: ClusterReport, status: pd.DataFrame) -> list[Finding]:
    """Statements not already clear where the cluster lies on the bad side of the municipality
    as printed (a gap that shows as 68 % against 68 % is nothing to talk about), lowest first."""
    t = report.t
    rows = [
        r
        for r in named_rows(status)
        if r.indicator_id in STATEMENT_INDICATORS
        and r.position not in ("better", "worse")
        and not rc.is_missing(r.value)
        and not rc.is_missing(r.reference)
        and not rc.is_missing(r.decided_lower)
        and signed_gap(r.indicator, r.value, r.reference) < 0
        and rc.format_value(t, r.indicator, r.value) != rc.format_value(t, r.indicator, r.reference)
    ]
    rows.sort(key=lambda r: signed_gap(r.indicator, r.value, r.reference))
    return [level_finding(report, r, "statement", "none") for r in rows]


def signed_gap(indicator, value: float, reference: float) -> float:
    """value - reference turned so that negative is the bad side of the municipality."""
    gap = value - reference
    return -gap if indicator.direction == "lower_better" else gap


def unit_findings(report: ClusterReport) -> list[Finding]:
    """The cluster's units outside the 99.8 % limits, with their limits at their size."""
    out = []
    for indicator_id in funnel_indicators(report):
        found = funnel_of(report, indicator_id)
        if not found or found["units"] is None or found.get("published"):
            continue
        if not any_outside(found["units"]):
            continue
        indicator, units = found["indicator"], found["units"]
        for row in named_rows(units):
            if not outside(row.classification_998):
                continue
            high_is_good = indicator.direction == "higher_better"
            verdict = "better" if (row.classification_998 == "above") == high_is_good else "worse"
            finding = Finding(
                "unit",
                indicator,
                row.name,
                verdict,
                row.value,
                found["target"],
                row.lower_998,
                row.upper_998,
                found["target"],
                strength_of(found["target"], row.lower_998, row.upper_998, row.value),
            )
            finding.peer = peer_unit(units, indicator, row.value)
            out.append(finding)
    return out


def better_than(indicator, a: float, b: float) -> bool:
    return a < b if indicator.direction == "lower_better" else a > b


def best_of(indicator, named: list[tuple[str, float]], value: float) -> tuple[str, float] | None:
    """The best (name, value) of `named` when it is better than `value`."""
    shown = [(n, v) for n, v in named if not rc.is_missing(v)]
    if not shown:
        return None
    pick = min if indicator.direction == "lower_better" else max
    name, best = pick(shown, key=lambda nv: nv[1])
    return (name, best) if better_than(indicator, best, value) else None


def peer_unit(units: pd.DataFrame, indicator, value: float) -> tuple[str, float] | None:
    """The cluster's own unit that does best on the indicator, when it does better."""
    named = list(zip(units["name"], units["value"], strict=True))
    return best_of(indicator, named, value)


def year_rows(report: ClusterReport, level: str, indicator_id: str) -> pd.DataFrame:
    """The values rows of one indicator and level this year (split once per report)."""
    found = rc.rows_by_indicator(report.data, level, year=report.year)
    return found.get(indicator_id, report.data.values.iloc[:0])


def peer_cluster(report: ClusterReport, indicator, value: float) -> tuple[str, float] | None:
    """The other cluster of the municipality that does best, when it does better."""
    clusters = year_rows(report, "cluster", indicator.id)
    others = clusters[clusters["entity_id"] != report.cluster_id]
    pairs = zip(others["entity_id"], others["value"], strict=True)
    named = [(report.data.cluster_name(c), v) for c, v in pairs]
    return best_of(indicator, named, value)


def pick_varied(ranked: list[Finding]) -> list[Finding]:
    """At most MAX_FINDINGS in rank order, first at most KIND_CAP of each kind (so five clear
    changes do not hide a school far outside the limits), then the rest in rank order."""
    picked: list[Finding] = []
    for capped in (True, False):
        for finding in ranked:
            kind_count = sum(f.kind == finding.kind for f in picked)
            if finding in picked or len(picked) >= MAX_FINDINGS:
                continue
            if not capped or kind_count < KIND_CAP.get(finding.kind, MAX_FINDINGS):
                picked.append(finding)
    return sorted(picked, key=ranked.index)


def rank_findings(report: ClusterReport) -> list[Finding]:
    """Three to five findings, most important first (module docstring); fewer only when fewer
    figures are shown at all."""
    if "findings" in report.cache:
        return report.cache["findings"]
    status = cluster_status(report)
    clear = []
    if len(status):
        clear += change_findings(report, status) + level_findings(report, status)
    clear += unit_findings(report)
    worse_first = {"worse": 0, "better": 1, "none": 2}
    clear.sort(key=lambda f: (KIND_RANK[f.kind], worse_first[f.verdict], -f.strength))
    picked = pick_varied(clear)
    if len(picked) < MIN_FINDINGS and len(status):
        picked += statement_findings(report, status)[: MIN_FINDINGS - len(picked)]
    report.cache["findings"] = picked
    return picked


# --- what each finding shows ---------------------------------------------------------------


def finding_title(report: ClusterReport, finding: Finding) -> str:
    t = report.t
    if finding.kind == "unit":
        return t("meeting.kind.unit", unit=finding.subject, indicator=spoken(t, finding.indicator))
    if finding.kind == "statement":
        return t("meeting.kind.statement", indicator=rc.indicator_phrase(t, finding.indicator))
    return t(f"meeting.kind.{finding.kind}", indicator=spoken(t, finding.indicator, True))


def finding_figure(report: ClusterReport, finding: Finding) -> str:
    """The one number of the finding, with what it is compared with."""
    t, ind = report.t, finding.indicator
    if finding.kind == "change":
        return t(
            "meeting.figure.change",
            after=rc.format_value(t, ind, finding.value),
            before=rc.format_value(t, ind, finding.reference),
            previous=format_school_year(finding.previous_year),
            change=rc.format_difference(t, ind, finding.value - finding.reference),
        )
    return t(
        "meeting.figure.versus",
        value=rc.format_value(t, ind, finding.value),
        reference=rc.format_value(t, ind, finding.reference),
    )


def finding_interval(report: ClusterReport, finding: Finding) -> str:
    """The interval that decided the finding, in one plain sentence."""
    t, ind = report.t, finding.indicator
    signed = finding.kind == "change"
    # a unit's limits lie around the municipality: what must show outside them is the unit
    outside_value = finding.value if finding.kind == "unit" else finding.rule
    extra = rc.extra_decimals(
        ind, finding.lower, finding.upper, outside_value, finding.verdict != "none", signed=signed
    )
    interval = rc.format_interval(t, ind, finding.lower, finding.upper, signed=signed, extra=extra)
    if finding.kind == "change":
        return t("meeting.interval.change", interval=interval)
    if finding.kind == "unit":
        return t("meeting.interval.unit", interval=interval, unit=finding.subject)
    key = "level_none" if finding.verdict == "none" else "level_clear"
    return t(f"meeting.interval.{key}", interval=interval)


def finding_chart_svg(report: ClusterReport, finding: Finding, title: str) -> str:
    """The finding's small chart as labelled SVG (display scale: percent for shares)."""
    t = report.t
    scale = rc.display_scale(finding.indicator)
    kind = "change" if finding.kind == "change" else "level"
    middle = finding.value - finding.reference if finding.kind == "change" else finding.value
    # placed as printed, never more precisely (issue #18); rule, value and interval alike
    shown = functools.partial(rc.shown_value, finding.indicator, signed=kind == "change")
    point = {
        "value": shown(middle),
        "lower": shown(finding.lower),
        "upper": shown(finding.upper),
        "rule": shown(finding.rule),
        "verdict": finding.verdict,
    }
    labels = {
        "interval": t(f"meeting.chart_interval.{'unit' if finding.kind == 'unit' else kind}"),
        "rule": t(f"meeting.rule.{kind}"),
    }
    x_format = ".2f" if finding.indicator.kind == "mean" else ".0f"
    if finding.indicator.kind == "rate" or (kind == "change" and scale != 1):
        x_format = ".1f"
    chart = charts.build_finding_chart(point, labels, x_format)
    return charts.label_svg(charts.chart_to_svg(chart, t.language), title)


def finding_ok(finding: Finding) -> bool:
    numbers = (finding.value, finding.reference, finding.lower, finding.upper)
    return all(not rc.is_missing(x) and math.isfinite(x) for x in numbers)


# --- the meeting view's HTML ---------------------------------------------------------------

# Body text of the meeting view at 18 px for a projector (issue 13: at least 16 px); cards in
# the valence colours of `charts.VALENCE_COLOURS`, always with a symbol and a word as well.
MEETING_CSS = f"""<style>
header.wb-report, .wb-meeting {{ font-size: 18px; }}
header.wb-report p, header.wb-report li, .wb-meeting p, .wb-meeting li {{ font-size: 18px; }}
header.wb-report h1 {{ margin-bottom: 0.4rem; }}
.wb-meeting h2 {{ font-size: 1.6rem; margin: 1.2rem 0 0.4rem 0; }}
/* the meeting view's sections closer together: five projector screens hold it (issue 13) */
.wb-meeting.wb-section {{ margin-top: 1.4rem; }}
.wb-meeting.wb-section h3 {{ margin-top: 1rem; }}
.wb-meeting figcaption, .wb-meeting caption, .wb-meeting th, .wb-meeting td,
.wb-meeting .wb-note, .wb-meeting .wb-footnotes {{ font-size: 16px; }}
.wb-finding {{ border-left: 8px solid {charts.VALENCE_COLOURS["none"]}; background: #f6f7f8;
  padding: 0.2rem 1rem 0.4rem 1rem; margin: 0.7rem 0; }}
.wb-finding-worse {{ border-left-color: {charts.VALENCE_COLOURS["worse"]}; }}
.wb-finding-better {{ border-left-color: {charts.VALENCE_COLOURS["better"]}; }}
.wb-finding h3 {{ font-size: 1.25rem; margin: 0.3rem 0 0.2rem 0; }}
.wb-finding p {{ margin: 0.2rem 0; max-width: 46rem; }}
.wb-finding-body {{ display: flex; flex-wrap: wrap; gap: 0.2rem 1.5rem; align-items: center; }}
.wb-finding-text {{ flex: 1 1 24rem; }}
.wb-finding .wb-figure {{ margin: 0; flex: 0 0 auto; }}
.wb-finding .wb-meta {{ color: #333; }}
/* the follow-up lines are numbered as the charts, not bulleted */
.wb-meeting ul.wb-followup-lines {{ list-style: none; padding-left: 0; }}
.wb-meeting ul.wb-followup-lines li {{ margin: 0.35rem 0; }}
.wb-appendix {{ border-top: 6px double #333; margin-top: 1.5rem; padding-top: 0.6rem; }}
@media (max-width: 600px) {{
  header.wb-report .wb-toc-compact li {{ white-space: normal; }}
  .wb-finding {{ padding: 0.2rem 0.6rem 0.4rem 0.6rem; }}
  .wb-finding-text {{ flex-basis: 100%; }}
  /* the chart shrinks to the card instead of widening the page */
  .wb-finding .wb-figure {{ flex: 1 1 100%; min-width: 0; max-width: 100%; }}
  /* the follow-up's run charts keep a readable size and scroll sideways on a phone */
  .wb-followup-chart .wb-chart {{ overflow-x: auto; }}
  .wb-followup-chart .wb-chart svg {{ min-width: 40rem; }}
}}
@media print {{
  .wb-meeting.wb-section {{ break-inside: auto; }}
  /* on paper: reading size, not projector size; the chart beside the text, so a card takes a
     fifth of a page and the first page holds the title and the first findings (issue 14) */
  header.wb-report, .wb-meeting, header.wb-report p, header.wb-report li, .wb-meeting p,
  .wb-meeting li {{ font-size: 10pt; }}
  .wb-meeting figcaption, .wb-meeting caption, .wb-meeting th, .wb-meeting td,
  .wb-meeting .wb-note, .wb-meeting .wb-footnotes {{ font-size: 9pt; }}
  .wb-meeting h2 {{ font-size: 14pt; margin: 0.8rem 0 0.3rem 0; }}
  .wb-finding h3 {{ font-size: 11pt; break-after: avoid; }}
  .wb-finding {{ break-inside: avoid; margin: 0.4rem 0; padding: 0.1rem 0.6rem 0.3rem 0.6rem;
    print-color-adjust: exact; -webkit-print-color-adjust: exact; }}
  .wb-finding-body {{ flex-wrap: nowrap; align-items: flex-start; gap: 0 0.8rem; }}
  .wb-finding-text {{ flex: 1 1 auto; min-width: 0; }}
  .wb-finding .wb-figure {{ flex: 0 0 38%; }}
  .wb-appendix {{ break-before: page; }}
}}
</style>
"""


def meeting_section(anchor: str, title: str, body: str, extra_class: str = "") -> rc.Html:
    """A section of the meeting view (before the appendix): its text at projector size."""
    css = f"wb-section wb-report wb-meeting {extra_class}".strip()
    return rc.Html(
        f'<section class="{css}" aria-labelledby="{anchor}">'
        f'<h2 id="{anchor}">{rc.esc(title)}</h2>{body}</section>'
    )


def namesake_rank(report: ClusterReport, finding: Finding) -> int:
    """The subject's place, by id, among the run's clusters (or units, for a unit finding) whose
    value of the finding's indicator this year prints as the finding's does: each such subject
    gets its own closing ask, so no two reports share a question with the names removed (as
    long as no more subjects share a printed figure than there are asks for the verdict)."""
    if finding.kind == "unit":
        level = "unit"
        ids = report.data.units.loc[report.data.units["name"] == finding.subject, "unit_id"]
        own = str(ids.iloc[0]) if len(ids) else ""
    else:
        level, own = "cluster", str(report.cluster_id)
    rows = year_rows(report, level, finding.indicator.id)
    rows = rows[~rows["suppressed"].astype(bool)]
    printed = rc.format_value(report.t, finding.indicator, finding.value)
    same = rows.loc[
        [rc.format_value(report.t, finding.indicator, v) == printed for v in rows["value"]],
        "entity_id",
    ]
    namesakes = sorted(set(same.astype(str)) | {own})
    return namesakes.index(own)


def finding_card(report: ClusterReport, number: int, finding: Finding) -> str:
    """One finding: heading, its number and verdict, its interval, a small chart, a question."""
    t = report.t
    title = finding_title(report, finding)
    heading = t("meeting.finding_heading", number=number, title=title)
    question = finding_question(t, finding, number - 1, namesake_rank(report, finding))
    verdict = t(f"meeting.verdict.{finding.verdict}")
    label = t("meeting.question_label", movement=movement_name(t, finding.indicator))
    text = (
        '<div class="wb-finding-text">'
        f'<p class="wb-finding-figure"><strong>{rc.esc(finding_figure(report, finding))}</strong>'
        f' <span class="wb-word">{rc.esc(verdict)}</span></p>'
        + rc.paragraph(finding_interval(report, finding), "wb-meta")
        + f'<p class="wb-question"><strong>{rc.esc(label)}</strong> '
        f'<span class="wb-question-text">{rc.esc(question)}</span></p></div>'
    )
    svg = finding_chart_svg(report, finding, t("meeting.chart_title", title=title))
    chart = f'<figure class="wb-figure wb-finding-chart"><div class="wb-chart">{svg}</div></figure>'
    return (
        f'<article class="wb-finding wb-finding-{finding.verdict}">'
        f"<h3>{rc.esc(heading)}</h3>"
        f'<div class="wb-finding-body">{text}{chart}</div></article>'
    )


def today_html(report: ClusterReport, title: str) -> rc.Html:
    """ "Det taler vi om i dag": the ranked findings as cards."""
    t = report.t
    findings = [f for f in rank_findings(report) if finding_ok(f)]
    body = rc.paragraph(t("meeting.today_intro"))
    if not findings:
        body += rc.paragraph(t("meeting.today_none"))
    body += "".join(finding_card(report, i, f) for i, f in enumerate(findings, start=1))
    body += (  # one line for both appendix links keeps the meeting view short
        f'<p><a href="#definitioner">{rc.esc(t("meeting.definitions_link"))}</a> '
        f'<a href="#spoergsmaal">{rc.esc(t("meeting2.questions_short_link"))}</a></p>'
    )
    report.cache["questions"] = len(findings)
    return meeting_section("i-dag", title, body)
