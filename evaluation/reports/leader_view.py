"""The leader summary's first screen: one combined verdict per cluster and key indicator, the
cluster's start year, the effort's effect in one sentence, and two named lists (what to look at,
whom to learn from), each item linked to the cluster report that shows it.

The combined verdict folds status (placement against the municipality) and change (since the
year before) into one of five levels, as the California School Dashboard folds its 5x5 status x
change grid into five colours; like NHS England's "Making Data Count" icons, each level has its
own symbol, so colour is never the only cue. Only statistically clear findings move a cell off
the middle.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from evaluation.errors import EvaluationError
from evaluation.reports import common as rc
from evaluation.reports import public_cluster
from evaluation.reports.html import scroll_region
from evaluation.reports.leader_status import LeaderReport
from evaluation.texts import SUPPRESSED_MARKER, danish_order, format_school_year

# (placement, change) -> level; "missing" on one side leaves the other to decide.
VERDICT_GRID = {
    ("better", "better"): "very_good",
    ("better", "none"): "good",
    ("better", "worse"): "fair",
    ("within", "better"): "good",
    ("within", "none"): "fair",
    ("within", "worse"): "watch",
    ("worse", "better"): "watch",
    ("worse", "none"): "watch",
    ("worse", "worse"): "concern",
}
ONE_SIDED = {"better": "good", "within": "fair", "none": "fair", "worse": "watch"}
VERDICT_LEVELS = ("very_good", "good", "fair", "watch", "concern")
VERDICT_SYMBOLS = {
    "very_good": "▲▲",
    "good": "▲",
    "fair": "●",
    "watch": "▼",
    "concern": "▼▼",
    "missing": SUPPRESSED_MARKER,
}
ITEMS_SHOWN = 5
# light fills by valence (blue good, orange/red bad) under dark text: contrast above 7:1
VIEW_CSS = """
<style>
.wb-report td.wb-v { white-space: nowrap; }
.wb-v-very_good { background: #9ecae1 !important; }
.wb-v-good { background: #deebf7 !important; }
.wb-v-watch { background: #fdd0a2 !important; }
.wb-v-concern { background: #f4a582 !important; }
.wb-v .wb-sym { margin-left: 0.35rem; }
.wb-report ul.wb-verdict-key { display: inline-flex; flex-wrap: wrap; gap: 0.2rem 0.6rem;
  list-style: none;
  padding: 0; margin: 0.1rem 0; font-size: 0.9rem; }
.wb-report ul.wb-verdict-key li { padding: 0 0.35rem; border: 1px solid #bbb; list-style: none;
  margin: 0; }
.wb-effect { margin: 0.3rem 0; padding: 0.3rem 0.8rem; }
.wb-report p.wb-key-text { font-size: 0.85rem; margin: 0.1rem 0; max-width: none; }
.wb-lists { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr));
  gap: 0 2rem; }
.wb-lists h3 { margin: 0.3rem 0 0.1rem 0; font-size: 1.1rem; }
.wb-lists ul { margin: 0.1rem 0; padding-left: 1.2rem; }
.wb-lists li { margin-bottom: 0.1rem; }
@media print {
  .wb-v-very_good, .wb-v-good, .wb-v-watch, .wb-v-concern { print-color-adjust: exact;
    -webkit-print-color-adjust: exact; }
}
</style>
"""


def combined_verdict(place: str, change: str) -> str:
    """One of VERDICT_LEVELS (or "missing") from the placement and the change codes."""
    if (place, change) in VERDICT_GRID:
        return VERDICT_GRID[(place, change)]
    for code in (place, change):
        if code in ONE_SIDED:
            return ONE_SIDED[code]
    return "missing"


def report_href(cluster_id: str, anchor: str = "") -> str:
    """The cluster report's file in the same run folder (evaluation.render.registry names it
    cluster_report-<id>.html with the same character rule), with a section anchor."""
    name = "cluster_report-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", str(cluster_id)) + ".html"
    return name + (f"#{anchor}" if anchor else "")


def cluster_link(report: LeaderReport, cluster_id: str, anchor: str = "") -> str:
    """The cluster's name, linked to its report when the run has one (the leader covers its
    municipality's clusters; the run renders a report for each of them)."""
    name = rc.esc(report.data.cluster_name(cluster_id))
    if cluster_id not in report.cluster_ids():
        return name
    return f'<a href="{rc.esc(report_href(cluster_id, anchor))}">{name}</a>'


def start_label(report: LeaderReport, cluster_id: str) -> str:
    """The school year the cluster started the effort, or "not started"."""
    programme = report.data.programme
    if programme is not None and len(programme):
        match = programme[programme["cluster_id"].astype(str) == cluster_id]["start_year"]
        if len(match) and not rc.is_missing(match.iloc[0]):
            return format_school_year(int(match.iloc[0]))
    if public_cluster.programme_unknown(report.data):
        return public_cluster.start_unknown_label(report.t)
    return report.t("leader_view.not_started")


def status_rows(status) -> dict[tuple[str, str], object]:
    """The first status row of each (cluster, indicator), looked up per cell of a table."""
    if status.empty:
        return {}
    first = ~status.duplicated(["cluster_id", "indicator_id"])
    keys = zip(status["cluster_id"][first], status["indicator_id"][first], strict=True)
    return {key: status.iloc[i] for key, i in zip(keys, first.to_numpy().nonzero()[0], strict=True)}


def verdict_cell_html(report: LeaderReport, row) -> str:
    """Value and symbol on a fill by valence; screen readers get the word and both reasons."""
    t = report.t
    if row is None:
        return f"<td>{rc.esc(SUPPRESSED_MARKER)}</td>"
    level = combined_verdict(row["position"], row["change_verdict"])
    previous = format_school_year(report.previous) if report.previous else ""
    value = rc.format_value(t, row["indicator"], row["value"])
    spoken = "; ".join(
        (
            t(f"leader_view.verdict.{level}"),
            value,
            t(f"leader_summary.spoken_place.{row['position']}"),
            t(f"leader_summary.spoken_change.{row['change_verdict']}", previous=previous),
        )
    )
    return (
        f'<td class="wb-v wb-v-{level}"><span aria-hidden="true">{rc.esc(value)}'
        f'<span class="wb-sym">{rc.esc(VERDICT_SYMBOLS[level])}</span></span>'
        f'<span class="wb-sr">{rc.esc(spoken)}</span></td>'
    )


def verdict_key_html(report: LeaderReport) -> str:
    """The five levels with their symbols and fills, and what decides them."""
    t = report.t
    previous = format_school_year(report.previous) if report.previous else ""
    items = "".join(
        f'<li class="wb-v wb-v-{level}"><span aria-hidden="true">{VERDICT_SYMBOLS[level]} </span>'
        f"{rc.esc(t(f'leader_view.verdict.{level}'))}</li>"
        for level in VERDICT_LEVELS
    )
    return (
        f'<ul class="wb-verdict-key" aria-label="{rc.esc(t("leader_view.key_label"))}">'
        f'{items}</ul> <p class="wb-legend wb-key-text" id="wb-verdict-key-text">'
        f"{rc.esc(public_cluster.key_intro(t, previous))}</p>"
    )


def verdict_table_html(
    report: LeaderReport, status, indicator_ids, caption: str, with_start: bool = True
) -> str:
    """Clusters (Danish order, linked) as rows, one verdict cell per indicator."""
    t = report.t
    names = [rc.indicator_name(t, report.data.catalog.get(i), short=True) for i in indicator_ids]
    heads = [t("common.cluster")] + ([t("leader_view.started")] if with_start else []) + names
    head = "".join(f'<th scope="col">{rc.esc(h)}</th>' for h in heads)
    body, rows = "", status_rows(status)
    for cluster_id in report.cluster_ids():
        cells = "".join(verdict_cell_html(report, rows.get((cluster_id, i))) for i in indicator_ids)
        start = f"<td>{rc.esc(start_label(report, cluster_id))}</td>" if with_start else ""
        body += (
            f'<tr><th scope="row">{cluster_link(report, cluster_id, "overblik")}</th>'
            f"{start}{cells}</tr>"
        )
    return scroll_region(
        '<table class="wb-table wb-compact wb-grid" aria-describedby="wb-verdict-key-text">'
        f"<caption>{rc.esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>",
        caption,
    )


# --- the effect in one sentence ----------------------------------------------------------------


def evaluation_defaults() -> dict:
    """The evaluation report's indicator, bootstrap draws and seed (its prepare_report
    defaults), so the leader shows the very estimate the evaluation report shows."""
    import inspect

    from evaluation.reports import evaluation_report  # why: heavy; only the effect needs it

    params = inspect.signature(evaluation_report.prepare_report).parameters
    return {k: params[k].default for k in ("indicator", "bootstrap_draws", "seed")}


def effect_sentence(report: LeaderReport) -> str:
    """The effort's effect on the evaluation's indicator with its interval, in one sentence:
    "no clear effect yet" when the interval holds zero, a short reason when it was refused."""
    from evaluation.reports import evaluation_effect as ee  # why: scipy loads only here

    t = report.t
    defaults = evaluation_defaults()
    indicator = report.data.catalog.get(defaults["indicator"])
    name = rc.indicator_phrase(t, indicator)
    name = name[:1].lower() + name[1:]  # mid-sentence
    if report.data.public:  # one published year per school: no panel to estimate from
        return t("leader_view.effect_unavailable", indicator=name)
    frame = SimpleNamespace(
        year=report.year, data=report.data, draws=defaults["bootstrap_draws"], seed=defaults["seed"]
    )
    try:
        result = ee.shared_effect(frame, defaults["indicator"], event_times=False)
    except EvaluationError:
        return t("leader_view.effect_unavailable", indicator=name)
    overall = result.overall_row()
    estimate = ee.format_effect(t, indicator, overall["estimate"])
    if overall["refused"]:
        return t(
            "leader_view.effect_refused",
            indicator=name,
            estimate=estimate,
            reason=ee.refusal_text(t, overall),
        )
    interval = ee.format_effect_interval(t, indicator, overall["ci_low"], overall["ci_high"])
    if overall["ci_low"] <= 0 <= overall["ci_high"]:
        key = "effect_unclear"
    else:
        better = (overall["estimate"] > 0) == (indicator.direction == "higher_better")
        key = "effect_better" if better else "effect_worse"
    return t(f"leader_view.{key}", indicator=name, estimate=estimate, interval=interval)


# --- the two named lists -----------------------------------------------------------------------


def cluster_items(report: LeaderReport, status) -> tuple[list, list]:
    """(look closer, learn from) items from the clusters' clear placements and changes:
    (rank, sort name, cluster link HTML, text); the rank puts the most serious first
    (concern -4 before watch -3) and the best first (very good 0 before good 1)."""
    t = report.t
    previous = format_school_year(report.previous) if report.previous else ""
    closer, learn = [], []
    for row in status.itertuples(index=False):
        name = report.data.cluster_name(row.cluster_id)
        link = cluster_link(report, row.cluster_id, "overblik")
        phrase = rc.indicator_name(t, row.indicator, short=True)
        level = combined_verdict(row.position, row.change_verdict)
        rank = VERDICT_LEVELS.index(level) if level in VERDICT_LEVELS else 2
        value = rc.format_value(t, row.indicator, row.value)
        for code, side in ((row.position, "level"), (row.change_verdict, "change")):
            if code not in ("better", "worse"):
                continue
            text = t(
                f"leader_view.{side}_{code}",
                indicator=phrase,
                value=value,
                reference=rc.format_value(t, row.indicator, row.reference),
                previous=previous,
                before=rc.format_value(t, row.indicator, row.previous_value),
            )
            target = learn if code == "better" else closer
            target.append((rank if code == "better" else -rank, danish_order(name), link, text))
    return closer, learn


def unit_items(report: LeaderReport) -> tuple[list, list]:
    """Units outside the 99.8 % funnel limits, as the cluster reports' funnel plots show them:
    (rank, sort name, unit and cluster link HTML, text); worse side first list."""
    from evaluation.reports.cluster_funnels import funnel_for, funnel_indicators, outside

    t = report.t
    closer, learn = [], []
    for cluster_id in report.cluster_ids():
        frame = SimpleNamespace(data=report.data, year=report.year, cluster_id=cluster_id)
        for indicator_id in funnel_indicators(frame):
            try:
                found = funnel_for(frame, indicator_id)
            except EvaluationError:
                continue
            if not found or found["units"] is None:
                continue
            indicator = found["indicator"]
            good = "above" if indicator.direction == "higher_better" else "below"
            for row in found["units"].itertuples(index=False):
                if not outside(row.classification_998):
                    continue
                side = "better" if row.classification_998 == good else "worse"
                link = (
                    f'<a href="{rc.esc(report_href(cluster_id, "tragtplot"))}">'
                    f"{rc.esc(row.name)}</a> ({rc.esc(report.data.cluster_name(cluster_id))})"
                )
                text = t(
                    f"leader_view.unit_{side}",
                    indicator=rc.indicator_name(t, indicator, short=True),
                    value=rc.format_value(t, indicator, row.value),
                    reference=rc.format_value(t, indicator, found["target"]),
                )
                # after the clusters in either list (clusters rank -4..2)
                rank = 5 if side == "better" else 0
                (learn if side == "better" else closer).append(
                    (rank, danish_order(row.name), link, text)
                )
    return closer, learn


def named_list_html(report: LeaderReport, items: list, heading_key: str, none_key: str) -> str:
    """One of the two lists: an h3, the first ITEMS_SHOWN items, how many more."""
    t = report.t
    body = f"<h3>{rc.esc(t(f'leader_view.{heading_key}'))}</h3>"
    if not items:
        return body + rc.paragraph(t(f"leader_view.{none_key}"))
    grouped: dict[str, list] = {}  # one line per cluster or unit, its findings joined
    for _rank, _name, link, text in sorted(items, key=lambda item: (item[0], item[1])):
        grouped.setdefault(link, []).append(text)
    ordered = list(grouped.items())
    body += "<ul>" + "".join(
        f"<li>{link}: {rc.esc('; '.join(texts))}</li>" for link, texts in ordered[:ITEMS_SHOWN]
    )
    body += "</ul>"
    if len(ordered) > ITEMS_SHOWN:
        body += rc.paragraph(t("leader_view.more", count=len(ordered) - ITEMS_SHOWN), "wb-meta")
    return body


def named_lists_html(report: LeaderReport) -> tuple[str, int]:
    """Both lists side by side, and how many items the first one holds."""
    closer, learn = cluster_items(report, report.status())
    unit_closer, unit_learn = unit_items(report)
    closer += unit_closer
    learn += unit_learn
    html = (
        '<div class="wb-lists"><div>'
        + named_list_html(report, closer, "look_closer", "look_closer_none")
        + "</div><div>"
        + named_list_html(report, learn, "learn_from", "learn_from_none")
        + "</div></div>"
    )
    return html, len(closer)


def statement_status(report: LeaderReport):
    """Status rows of the six statements for every cluster (cached) and the statements the
    data have."""
    import pandas as pd

    from evaluation.reports.cluster_parts import STATEMENT_INDICATORS

    if "statements" not in report.cache:
        parts = [
            rc.summarise_entity(
                report.data, "cluster", cluster_id, report.year, STATEMENT_INDICATORS
            ).assign(cluster_id=cluster_id)
            for cluster_id in report.cluster_ids()
        ]
        status = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        shown = [
            i for i in STATEMENT_INDICATORS if len(status) and i in set(status["indicator_id"])
        ]
        report.cache["statements"] = (status, shown)
    return report.cache["statements"]
