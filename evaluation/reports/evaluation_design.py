"""The evaluation report's design tables: who started when (the start groups, or cohorts), the
effect for each start group, and every ATT(g, t) comparison with the clusters behind it
(Callaway & Sant'Anna 2021; the estimates come from evaluation.stats.effect).
"""

from __future__ import annotations

import pandas as pd

from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.evaluation_context import EvaluationReport
from evaluation.reports.evaluation_effect import (
    caveat_marks,
    format_effect,
    format_effect_interval,
    format_p,
    refusal_text,
    row_caveats,
    signed_event_time,
    subsection_start,
)
from evaluation.texts import SUPPRESSED_MARKER, Texts, danish_order, format_school_year


def start_groups(report: EvaluationReport) -> dict:
    """{start year or None (never started): [cluster names]} from cluster_programme."""
    programme = report.data.programme
    groups: dict = {}
    if programme is None:
        return groups
    for cluster, year in zip(programme["cluster_id"], programme["start_year"], strict=True):
        key = None if rc.is_missing(year) else int(year)
        groups.setdefault(key, []).append(report.data.cluster_name(str(cluster)))
    return groups


def cohort_table(report: EvaluationReport, result=None) -> tuple[pd.DataFrame, list[str]]:
    """One row per start year (school year, the clusters by name, how many) and one for the
    clusters that have not started; footnotes for start groups the effect cannot use."""
    t = report.t
    cols = t.lookup("effect_extras.cohorts.columns")
    groups = start_groups(report)
    started = sorted(k for k in groups if k is not None)
    rows = []
    for key in started + ([None] if None in groups else []):
        names = sorted(groups[key], key=danish_order)
        rows.append(
            {
                cols["start"]: (
                    format_school_year(key) if key else t("effect_extras.cohorts.never")
                ),
                cols["clusters"]: rc.join_names(t, names),
                cols["count"]: t.number(len(names), decimals=0),
            }
        )
    notes = []
    if result is not None:
        used = {int(g) for g in result.cells["group"]}
        notes = [
            t("effect_extras.cohorts.unused", school_year=format_school_year(g))
            for g in started
            if g not in used
        ]
    return pd.DataFrame(rows, columns=list(cols.values())), notes


def cohorts_html(report: EvaluationReport, result=None) -> str:
    """Who started when: the sub-heading, its lead and the table."""
    t = report.t
    body = subsection_start(t, "cohorts")
    table, notes = cohort_table(report, result)
    if table.empty:
        return body + rc.paragraph(t("effect_extras.cohorts.none"))
    if report.tables_dir is not None:
        charts.write_table_csv(table, "effekt-startgrupper", report.tables_dir, t.language)
    return body + charts.table_to_html(table, t("effect_extras.cohorts.caption"), notes)


def refusal_notes(t: Texts, reasons: list[str]) -> list[str]:
    """One footnote per distinct reason a row shows "–", in the order they first occur."""
    distinct = list(dict.fromkeys(r for r in reasons if r))
    return [t("effect_extras.dash_note", reason=r) for r in distinct]


def cells_table(t: Texts, indicator, cells: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Every ATT(g, t) with its base year and the treated and comparison clusters behind it; a
    refused cell (fewer than two treated clusters) shows "–" and its reason as a footnote."""
    cols = t.lookup("effect_extras.cells.columns")
    rows, reasons = [], []
    for c in cells.itertuples(index=False):
        reason = t("effect_extras.cells.refused") if c.refused else ""
        reasons.append(reason)
        rows.append(
            {
                cols["group"]: format_school_year(int(c.group)),
                cols["year"]: format_school_year(int(c.year)),
                cols["base_year"]: format_school_year(int(c.base_year)),
                cols["event_time"]: signed_event_time(c.event_time),
                cols["att"]: SUPPRESSED_MARKER if reason else format_effect(t, indicator, c.att),
                cols["treated"]: t.number(c.n_treated, decimals=0),
                cols["comparison"]: t.number(c.n_comparison, decimals=0),
            }
        )
    return pd.DataFrame(rows, columns=list(cols.values())), refusal_notes(t, reasons)


def cohort_estimates_table(t: Texts, indicator, cohorts: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """The effect for each start group (its post-start cells averaged): estimate, CV3 interval
    and p, treated clusters; a refused row keeps its estimate and shows "–" with its reason; a
    caveat from the estimator is a marked footnote beside the row."""
    cols = t.lookup("effect_extras.cohort_effects.columns")
    labels = [format_school_year(int(g)) for g in cohorts["group"]]
    labels, caveat_notes = caveat_marks(labels, row_caveats(t, cohorts))
    rows, reasons = [], []
    for label, r in zip(labels, cohorts.to_dict("records"), strict=True):
        reasons.append(refusal_text(t, r))
        rows.append(
            {
                cols["group"]: label,
                cols["estimate"]: format_effect(t, indicator, r["estimate"]),
                cols["interval"]: format_effect_interval(t, indicator, r["ci_low"], r["ci_high"]),
                cols["p"]: format_p(t, r["p_value"]),
                cols["treated"]: t.number(r["n_treated_clusters"], decimals=0),
            }
        )
    return pd.DataFrame(rows, columns=list(cols.values())), refusal_notes(t, reasons) + caveat_notes


def design_html(report: EvaluationReport, result) -> str:
    """The effect for each start group (when the estimator gives it) and every ATT(g, t)."""
    t, indicator = report.t, report.indicator
    name = rc.indicator_name(t, indicator)
    body = ""
    cohorts = getattr(result, "cohorts", None)  # evaluation.stats.effect gives it from 2026-11
    if cohorts is not None and len(cohorts):
        table, notes = cohort_estimates_table(t, indicator, cohorts)
        body += subsection_start(t, "cohort_effects")
        body += charts.table_to_html(
            table, t("effect_extras.cohort_effects.caption", indicator=name), notes
        )
        if report.tables_dir is not None:
            charts.write_table_csv(table, "effekt-pr-startgruppe", report.tables_dir, t.language)
    table, notes = cells_table(t, indicator, result.cells)
    body += subsection_start(t, "cells")
    body += charts.table_to_html(table, t("effect_extras.cells.caption", indicator=name), notes)
    if report.tables_dir is not None:
        charts.write_table_csv(table, "effekt-celler", report.tables_dir, t.language)
    return body
