"""The appendix's breakdowns: each key indicator of grades 4-9 for the cluster and the
municipality, split into mellemtrin (4-6) and udskoling (7-9) and, where the answers carry a
gender, into girls and boys; indskoling through the 0-3 form's own indicator.

The values and their protection come from `evaluation.values.breakdowns`; the total row is the
published (suppressed) value of the indicator table, so it is the figure printed elsewhere.
"""

from __future__ import annotations

import pandas as pd

from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.chart_records import named_rows
from evaluation.reports.cluster_parts import ClusterReport
from evaluation.values.breakdowns import part_stats, protected_breakdowns
from evaluation.values.distributions import MUNICIPALITY

BAND = "4-9"
INDSKOLING = "trivsel_indskoling"
Z95 = 1.959964


def key_indicators(report) -> list[str]:
    """The report's headline indicators measured in the survey of grades 4-9."""
    catalog = report.data.catalog
    return [
        i
        for i in rc.HEADLINE_INDICATORS
        if i in catalog.by_id
        and catalog.get(i).source == "survey"
        and catalog.get(i).grade_band == BAND
    ]


def hidden_totals(report, indicator_ids) -> set[tuple[str, str]]:
    """(indicator, entity) whose published total this year is hidden (clusters, municipality)."""
    v = report.data.values
    mine = v[(v["year"] == report.year) & v["indicator_id"].isin(indicator_ids)]
    hidden = mine[mine["suppressed"].astype(bool) & mine["level"].isin(["cluster", "municipality"])]
    return {
        (r.indicator_id, MUNICIPALITY if r.level == "municipality" else r.entity_id)
        for r in named_rows(hidden)
    }


def load_breakdowns(report) -> pd.DataFrame:
    """The shown parts of the key indicators this year: every cluster and the municipality, the
    same table for each cluster report of the municipality, so computed once per run
    (`shared_result`: the run's precomputation, evaluation.reports.shared)."""
    return rc.shared_result(
        report.data, ("breakdowns", int(report.year)), lambda: compute_breakdowns(report)
    )


def compute_breakdowns(report) -> pd.DataFrame:
    """`load_breakdowns`'s table: the parts' sums from the answers, then their protection."""
    ids = key_indicators(report)
    stats = part_stats(
        report.data.warehouse, report.data.catalog, ids, report.year, report.data.municipality
    )
    if not len(stats):
        return pd.DataFrame(columns=["entity", "part", "indicator_id", "n", "value", "se"])
    return protected_breakdowns(
        stats, report.data.catalog, report.data.min_n, hidden_totals(report, ids)
    )


def value_text(t, indicator, value, se) -> str | None:
    if rc.is_missing(value):
        return None
    interval = rc.format_interval(t, indicator, value - Z95 * se, value + Z95 * se)
    return t(
        "meeting2.breakdown_value", value=rc.format_value(t, indicator, value), interval=interval
    )


def published(report: ClusterReport, indicator_id: str, level: str, entity: str):
    """The indicator table's row of this year (value, se, n), or None."""
    return rc.value_row(report.data, indicator_id, level, entity, report.year)


def breakdown_table(report: ClusterReport, indicator, parts: list[str]) -> pd.DataFrame:
    """Rows: the total, then each part; columns: the cluster with interval, n, municipality."""
    t, found = report.t, load_breakdowns(report)
    found = found[found["indicator_id"] == indicator.id]
    cells: dict[tuple, tuple] = {}  # (entity, part) -> its first row
    for cell in named_rows(found):
        cells.setdefault((cell.entity, cell.part), cell)
    own = published(report, indicator.id, "cluster", report.cluster_id)
    muni = published(report, indicator.id, "municipality", report.data.municipality)
    cols = {
        "group": t("meeting2.breakdown_group"),
        "cluster": t(
            "meeting2.breakdown_cluster",
            cluster=report.cluster_name,
            school_year=report.school_year,
        ),
        "n": t("meeting2.breakdown_n"),
        "municipality": t("meeting2.breakdown_municipality", school_year=report.school_year),
    }
    rows = [
        {
            cols["group"]: t("meeting2.parts.total"),
            cols["cluster"]: None if own is None else value_text(t, indicator, own.value, own.se),
            cols["n"]: None if own is None or rc.is_missing(own.n) else t.number(own.n, 0),
            cols["municipality"]: None
            if muni is None
            else rc.format_value(t, indicator, muni.value),
        }
    ]
    for part in parts:
        r = cells.get((report.cluster_id, part))
        whole = cells.get((MUNICIPALITY, part))
        rows.append(
            {
                cols["group"]: t(f"meeting2.parts.{part}"),
                cols["cluster"]: None if r is None else value_text(t, indicator, r.value, r.se),
                cols["n"]: None if r is None or rc.is_missing(r.n) else t.number(r.n, 0),
                cols["municipality"]: None
                if whole is None
                else rc.format_value(t, indicator, whole.value),
            }
        )
    return pd.DataFrame(rows)


def indskoling_line(report: ClusterReport) -> str:
    """The 0-3 form's own indicator for the cluster and the municipality, in one sentence."""
    t, catalog = report.t, report.data.catalog
    if INDSKOLING not in catalog.by_id:
        return ""
    indicator = catalog.get(INDSKOLING)
    own = published(report, INDSKOLING, "cluster", report.cluster_id)
    muni = published(report, INDSKOLING, "municipality", report.data.municipality)
    if own is None:
        return ""
    return t(
        "meeting2.breakdowns_indskoling",
        indicator=rc.indicator_name(t, indicator),
        cluster=report.cluster_name,
        value=rc.format_value(t, indicator, own.value),
        reference=rc.format_value(t, indicator, None if muni is None else muni.value),
    )


def breakdowns_body(report: ClusterReport) -> str:
    """The section's body: how to read it, a table per key indicator, the indskoling line."""
    t = report.t
    found = load_breakdowns(report)
    has_gender = bool(found["part"].isin(["girl", "boy"]).any()) if len(found) else False
    parts = ["4-6", "7-9", *(["girl", "boy"] if has_gender else [])]
    html = rc.paragraph(t("meeting2.breakdowns_intro"))
    if found.empty:  # published figures only: no answers to split
        return html + rc.paragraph(t("meeting2.breakdowns_none"))
    html += rc.paragraph(t("meeting2.breakdowns_privacy", min_n=report.data.min_n), "wb-meta")
    if not has_gender:
        html += rc.paragraph(t("meeting2.breakdowns_no_gender"), "wb-meta")
    notes = [t("common.suppressed_note", min_n=report.data.min_n)]
    for ind_id in key_indicators(report):
        indicator = report.data.catalog.get(ind_id)
        table = breakdown_table(report, indicator, parts)
        caption = t(
            "meeting2.breakdowns_caption",
            indicator=rc.indicator_name(t, indicator),
            cluster=report.cluster_name,
            school_year=report.school_year,
        )
        html += charts.table_to_html(table, caption, notes)
        if report.tables_dir is not None:
            charts.write_table_csv(table, f"opdeling-{ind_id}", report.tables_dir, t.language)
    line = indskoling_line(report)
    return html + (rc.paragraph(line) if line else "")
