"""The leader summary's follow-up column: per cluster, how many of its decisions are in progress,
reviewed with clear progress, reviewed without clear progress, and overdue for review; each
cluster name links to its cluster report. One compact table, so the leader page stays within
its two printed pages.

A decision is counted once: reviewed when its status says so (fortsat, justeret, stoppet), with
clear progress when at least one of its targets shows clear progress (the cluster report's
verdict, evaluation.stats.followup) and none a clear decline; overdue when the review date has
passed and the status is still planlagt or i gang; else in progress.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from evaluation.reports import common as rc
from evaluation.reports.cluster_followup import report_follow_ups
from evaluation.reports.html import scroll_region
from evaluation.stats import followup
from evaluation.values.decisions import UPDATED_STATUSES

ANCHOR = "opfoelgning"
COUNTS = ("in_progress", "progress", "no_progress", "overdue")


def cluster_report_file(cluster_id: str) -> str:
    """The cluster report's file name beside the leader summary in a run: the report id of
    evaluation.render.registry.make_report_id ("cluster_report-<cluster>") plus ".html"."""
    return f"cluster_report-{re.sub(r'[^A-Za-z0-9_.-]+', '_', str(cluster_id))}.html"


def decision_states(decisions: pd.DataFrame, follow: pd.DataFrame) -> pd.DataFrame:
    """cluster_id and state (one of COUNTS) per decision."""
    progress = follow.groupby("decision_id")["verdict"].agg(
        lambda v: (v == followup.PROGRESS).any() and not (v == followup.DECLINE).any()
    )
    overdue = follow.groupby("decision_id")["overdue"].any()
    states = []
    for row in decisions.itertuples(index=False):
        if row.status in UPDATED_STATUSES:
            state = "progress" if progress.get(row.decision_id, False) else "no_progress"
        elif overdue.get(row.decision_id, False):
            state = "overdue"
        else:
            state = "in_progress"
        states.append(state)
    return pd.DataFrame({"cluster_id": decisions["cluster_id"].to_numpy(), "state": states})


def count_states(decisions: pd.DataFrame, follow: pd.DataFrame, cluster_ids) -> pd.DataFrame:
    """One row per cluster (in the order given) with the number of decisions in each state."""
    states = decision_states(decisions, follow)
    counts = pd.crosstab(states["cluster_id"], states["state"])
    return counts.reindex(index=list(cluster_ids), columns=list(COUNTS), fill_value=0)


def build_followup_overview(report, today: date | None = None) -> rc.Html:
    """The section: a how-to-read line and the table of counts, cluster names linked."""
    t = report.t
    decisions, follow = report_follow_ups(report, today)
    title = t("followup.leader_title")
    if decisions.empty:
        return rc.section(ANCHOR, title, rc.paragraph(t("followup.none_municipality")))
    counts = count_states(decisions, follow, report.cluster_ids())
    body = rc.paragraph(t("followup.leader_intro"), "wb-meta") + counts_table(report, counts)
    return rc.section(ANCHOR, title, body)


def counts_table(report, counts: pd.DataFrame) -> str:
    """A compact accessible table whose row headers link to the cluster reports."""
    t = report.t
    names = t.lookup("followup.leader_columns")
    head = "".join(f'<th scope="col">{rc.esc(names[c])}</th>' for c in ("cluster", *COUNTS))
    rows = []
    for cluster_id, row in counts.iterrows():
        link = (
            f'<a href="{rc.esc(cluster_report_file(cluster_id))}">'
            f"{rc.esc(report.data.cluster_name(cluster_id))}</a>"
        )
        cells = "".join(f"<td>{int(row[c])}</td>" for c in COUNTS)
        rows.append(f'<tr><th scope="row">{link}</th>{cells}</tr>')
    caption = t("followup.leader_caption")
    table = (
        f'<table class="wb-table wb-compact"><caption>{rc.esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return scroll_region(table, caption)
