"""The evaluation report's table of the clusters' decisions by school year: how many each cluster
decided and what they should move. A description of what was done, not an effect estimate (the
clusters chose their actions themselves, often where the figures were poor)."""

from __future__ import annotations

import pandas as pd

from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.texts import danish_order, format_school_year
from evaluation.values import decisions as decision_values

ANCHOR = "handlinger"
SCHOOL_YEAR_START_MONTH = 8  # a school year runs August-July


def decided_school_year(decided) -> int:
    """The school year (by its first calendar year) a decision was made in."""
    when = pd.Timestamp(decided)
    return when.year if when.month >= SCHOOL_YEAR_START_MONTH else when.year - 1


def decisions_by_year(decisions: pd.DataFrame) -> pd.DataFrame:
    """cluster_id, school_year, count and the target indicator ids (in first-seen order)."""
    targets = decision_values.decision_targets(decisions)
    targets = targets.assign(school_year=targets["decided"].map(decided_school_year))
    ids = targets.groupby(["cluster_id", "school_year"])["indicator_id"].agg(
        lambda s: list(dict.fromkeys(s))
    )
    frame = decisions.assign(school_year=decisions["decided"].map(decided_school_year))
    count = frame.groupby(["cluster_id", "school_year"]).size().rename("count")
    return pd.concat([count, ids.rename("indicators")], axis=1).reset_index()


def build_decisions_table(report) -> rc.Html:
    """The section: the description, then clusters by school year (count and targets)."""
    t = report.t
    title = t("followup.evaluation_title")
    decisions = decision_values.load_decisions(report.data.warehouse)
    if decisions.empty:
        return rc.section(ANCHOR, title, rc.paragraph(t("followup.none_municipality")))
    by_year = decisions_by_year(decisions)
    years = sorted(by_year["school_year"].unique())
    rows = []
    groups = dict(list(by_year.groupby("cluster_id")))
    for cluster_id in sorted(groups, key=lambda c: danish_order(report.data.cluster_name(c))):
        own = groups[cluster_id]
        row = {t("followup.leader_columns.cluster"): report.data.cluster_name(cluster_id)}
        for year in years:
            cell = own[own["school_year"] == year]
            row[format_school_year(int(year))] = cell_text(report, cell) if len(cell) else "0"
        row[t("followup.evaluation_total")] = str(int(own["count"].sum()))
        rows.append(row)
    table = pd.DataFrame(rows)
    body = rc.paragraph(t("followup.evaluation_intro"))
    body += charts.table_to_html(table, t("followup.evaluation_caption"))
    return rc.section(ANCHOR, title, body)


def cell_text(report, cell: pd.DataFrame) -> str:
    """ "2 (Ro og orden, Fravær)": the count and the short names of what they should move."""
    t = report.t
    catalog = report.data.catalog
    names = [
        rc.indicator_name(t, catalog.get(i), short=True) if i in catalog.by_id else i
        for i in cell["indicators"].iloc[0]
    ]
    return t("followup.evaluation_cell", count=int(cell["count"].iloc[0]), targets=", ".join(names))
