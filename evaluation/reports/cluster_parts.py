"""What the cluster report's sections share: the report object, the cluster's units, the status
table's columns, the statements chart's rows and the data-quality sentences.

`evaluation.reports.cluster_report` is the notebook's façade (one `build_*` per cell); the
helpers live here, in `cluster_funnels`, `cluster_trends` and `cluster_findings`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import pandas as pd

from evaluation.reports import charts, public_cluster
from evaluation.reports import common as rc
from evaluation.reports.chart_records import named_rows
from evaluation.reports.status import position_decimals
from evaluation.texts import SUPPRESSED_MARKER, Texts, danish_order, format_school_year

STATEMENT_INDICATORS = (
    "udsagn_vaere_sig_selv",
    "udsagn_god_ven",
    "udsagn_nysgerrighed",
    "udsagn_fysisk_mentalt",
    "udsagn_voksen",
    "udsagn_lytter",
)


@dataclass(kw_only=True)
class ClusterReport(rc.ReportFrame):
    """Everything the section builders need; made once by `prepare_report`."""

    cluster_id: str

    @property
    def cluster_name(self) -> str:
        return self.data.cluster_name(self.cluster_id)

    @property
    def previous(self) -> int | None:
        return rc.previous_year(self.year, self.data.years)

    def status(self, key: str, indicator_ids) -> pd.DataFrame:
        """Cached status rows of the cluster for a set of indicators."""
        if key not in self.cache:
            self.cache[key] = rc.summarise_entity(
                self.data, "cluster", self.cluster_id, self.year, indicator_ids
            )
        return self.cache[key]


# --- the cluster's units -------------------------------------------------------------------


def member_units(data: rc.ReportData, cluster_id: str, year: int) -> pd.DataFrame:
    """unit_id, name, kind of the units in the cluster that year (membership table)."""
    m = data.membership
    if m is None or m.empty:
        return pd.DataFrame(columns=["unit_id", "name", "kind"])
    start = m["from_year"].fillna(-1).astype(int) <= year
    end = m["to_year"].isna() | (m["to_year"].fillna(9999).astype(int) >= year)
    ids = m.loc[(m["cluster_id"] == cluster_id) & start & end, "unit_id"].tolist()
    units = data.units[data.units["unit_id"].isin(ids)]
    units = units[["unit_id", "name", "kind"]]
    return units.sort_values("name", key=lambda n: n.map(danish_order)).reset_index(drop=True)


def membership_changes(data: rc.ReportData, cluster_id: str) -> list[tuple[str, str, int]]:
    """("join"/"leave", unit name, year) for units that joined or left inside the data years."""
    m = data.membership
    if m is None or m.empty or not data.years:
        return []
    first, last = min(data.years), max(data.years)
    out = []
    for row in named_rows(m[m["cluster_id"] == cluster_id]):
        name = data.unit_name(row.unit_id)
        if not rc.is_missing(row.from_year) and first < int(row.from_year) <= last:
            out.append(("join", name, int(row.from_year)))
        if not rc.is_missing(row.to_year) and first <= int(row.to_year) < last:
            out.append(("leave", name, int(row.to_year)))
    return sorted(out, key=lambda x: (x[2], danish_order(x[1])))


# --- tables and charts ---------------------------------------------------------------------


def status_columns(report: ClusterReport) -> list[tuple[str, str]]:
    t = report.t
    cols = [
        (t("cluster_report.columns.indicator"), "indicator"),
        (
            t(
                "cluster_report.columns.cluster_value",
                cluster=report.cluster_name,
                school_year=report.school_year,
            ),
            "value_interval",
        ),
        (t("cluster_report.columns.municipality"), "reference"),
        (t("cluster_report.columns.versus"), "position"),
    ]
    if report.previous is not None:
        cols += [
            (
                t(
                    "cluster_report.columns.previous",
                    cluster=report.cluster_name,
                    school_year=format_school_year(report.previous),
                ),
                "previous",
            ),
            (change_header(report), "change"),
            (t("cluster_report.columns.verdict"), "verdict"),
        ]
    return cols


def change_header(report: ClusterReport) -> str:
    """Published indices carry the band of usual swings, not an interval, beside their change."""
    key = "public4.columns.change_public" if report.data.public else "cluster_report.columns.change"
    return report.t(key)


def write_status_csv(report: ClusterReport, rows: pd.DataFrame, slug: str) -> None:
    if report.tables_dir is not None and len(rows):
        table = rc.status_frame(report.t, rows, status_columns(report))
        charts.write_table_csv(table, slug, report.tables_dir, report.t.language)


def report_chart_html(report: ClusterReport, chart, table, title, description, slug, **options):
    """A chart of this report: its tables folder, language and the suppression footnote."""
    return charts.chart_html(
        chart,
        table,
        title,
        description,
        slug,
        report.tables_dir,
        language=report.t.language,
        footnotes=[report.t("common.suppressed_note", min_n=report.data.min_n)],
        **options,
    )


def public_source_html(report: ClusterReport) -> str:
    """The ministry's credit line and what the figures are, when they are published aggregates."""
    if not report.data.public:
        return ""

    note = report.t("public_cluster.source_note", school_year=report.school_year)
    return rc.credit_html(report.t.language) + rc.paragraph(note, "wb-meta")


# --- statements ----------------------------------------------------------------------------


def statement_columns(report: ClusterReport) -> list[tuple[str, str]]:
    cols = status_columns(report)
    return [(report.t("cluster_report.statement_col"), "indicator")] + cols[1:]


def statement_chart_rows(report: ClusterReport, rows: pd.DataFrame) -> tuple[list, list[str]]:
    """Chart rows in percent (the cluster with the interval that decided its position, so the
    municipality's point falls outside it exactly when the table says better or worse; the
    municipality without one) and the names of the statements whose figure is suppressed."""
    t = report.t
    chart_rows, hidden = [], []
    muni_name = t("common.municipality")
    for row in named_rows(rows):
        label = rc.indicator_name(t, row.indicator)
        if rc.is_missing(row.value):
            hidden.append(label)
            continue
        # placed as the table prints them (issue #18), with its extra decimals where it has any
        extra = position_decimals(row)
        shown = functools.partial(rc.shown_value, row.indicator, extra=extra)
        chart_rows.append(
            {
                "row": label,
                "series": report.cluster_name,
                "value": shown(row.value),
                "lower": shown(row.decided_lower),
                "upper": shown(row.decided_upper),
            }
        )
        if not rc.is_missing(row.reference):
            chart_rows.append(
                {
                    "row": label,
                    "series": muni_name,
                    "value": shown(row.reference),
                    "lower": math.nan,
                    "upper": math.nan,
                }
            )
    return chart_rows, hidden


def statement_description(report: ClusterReport, rows: pd.DataFrame, hidden: list[str]) -> str:
    t = report.t
    parts = []
    for row in named_rows(rows):
        if rc.is_missing(row.value):
            continue
        value = rc.format_value(t, row.indicator, row.value)
        reference = rc.format_value(t, row.indicator, row.reference)
        muni = t("common.municipality").lower()
        parts.append(f"{rc.indicator_name(t, row.indicator)}: {value} ({muni} {reference})")
    text = "; ".join(parts) + "."
    if hidden:
        names = rc.join_names(t, hidden)
        text += " " + t(
            "cluster_report.statements_chart_missing", min_n=report.data.min_n, names=names
        )
    return text


# --- data quality --------------------------------------------------------------------------


def response_lines(report: ClusterReport) -> list[str]:
    """Respondents (or pupils, for published figures) of generel trivsel, year by year."""
    t, data, values = report.t, report.data, report.data.values
    gen = values[
        (values["indicator_id"] == "generel_trivsel")
        & (values["level"] == "cluster")
        & (values["entity_id"] == report.cluster_id)
    ]
    counts = [
        format_school_year(r.year)
        + ": "
        + (SUPPRESSED_MARKER if rc.is_missing(r.n) else t.number(r.n, decimals=0))
        for r in named_rows(gen.sort_values("year"))
        if r.year <= report.year
    ]
    if counts and data.public:
        return [
            t("public_cluster.quality_pupils", counts="; ".join(counts)),
            t("public_cluster.quality_suppressed"),
        ]
    if counts:
        return [t("cluster_report.quality_response", counts="; ".join(counts))]
    return []


def missing_year_lines(report: ClusterReport) -> list[str]:
    t, data = report.t, report.data
    years = [y for y in data.years if y <= report.year]
    lines = rc.missing_years_sentences(t, data, "cluster_report.quality_missing_years", report.year)
    if not lines and years:
        lines.append(
            t(
                "cluster_report.quality_no_missing",
                first=format_school_year(min(years)),
                last=format_school_year(max(years)),
            )
        )
    return lines


def suppressed_cells(report: ClusterReport) -> pd.DataFrame:
    """This year's suppressed unit values of the cluster's units."""
    values = report.data.values
    members = member_units(report.data, report.cluster_id, report.year)["unit_id"]
    mine = values[
        (values["level"] == "unit")
        & (values["year"] == report.year)
        & (values["entity_id"].isin(members))
    ]
    return mine[mine["suppressed"].astype(bool)]


def suppressed_line(report: ClusterReport, hidden: pd.DataFrame) -> str:
    t = report.t
    if not len(hidden):
        return t("cluster_report.quality_no_suppressed", school_year=report.school_year)
    reasons = hidden["suppression_reason"].value_counts()
    return t(
        "cluster_report.quality_suppressed",
        school_year=report.school_year,
        count=len(hidden),
        primary=int(reasons.get("primary", 0)),
        secondary=int(reasons.get("secondary", 0)),
    )


def membership_line(report: ClusterReport) -> str:
    t = report.t
    changes = membership_changes(report.data, report.cluster_id)
    if not changes:
        return t("cluster_report.quality_no_membership")
    words = [
        t(
            f"cluster_report.quality_membership_{kind}",
            unit=name,
            school_year=format_school_year(year),
        )
        for kind, name, year in changes
    ]
    return t("cluster_report.quality_membership", changes="; ".join(words))


# --- what stands out -----------------------------------------------------------------------


def status_standout_lines(report: ClusterReport, status: pd.DataFrame) -> list[str]:
    """Clear changes since the previous year and clear differences from the municipality: only
    those whose interval excludes 0."""
    lines = []
    for row in named_rows(status):
        if row.change_verdict in ("better", "worse"):
            lines.append(change_standout(report.t, row))
        if row.position in ("better", "worse"):
            lines.append(level_standout(report.t, row))
    return lines


def change_standout(t: Texts, row) -> str:
    extra = rc.change_decimals(row)
    return t(
        "cluster_report.standout_change",
        indicator=rc.indicator_phrase(t, row.indicator),
        direction=t(f"cluster_report.direction_{row.change_verdict}"),
        previous=format_school_year(row.previous_year),
        before=rc.format_value(t, row.indicator, row.previous_value),
        after=rc.format_value(t, row.indicator, row.value),
        change=rc.format_difference(t, row.indicator, row.change, extra),
        interval=rc.format_interval(
            t, row.indicator, row.change_lower, row.change_upper, signed=True, extra=extra
        ),
    )


def level_standout(t: Texts, row) -> str:
    """A clear difference from the municipality with the interval that decided it (compare's
    difference interval: it excludes 0 exactly when the cluster is above or below)."""
    low, high = row.difference_lower, row.difference_upper
    extra = rc.extra_decimals(row.indicator, low, high, 0.0, clear=True, signed=True)
    return t(
        "cluster_report.standout_level",
        indicator=rc.indicator_phrase(t, row.indicator),
        direction=t(
            "cluster_report.direction_" + ("above" if row.value > row.reference else "below")
        ),
        value=rc.format_value(t, row.indicator, row.value),
        reference=rc.format_value(t, row.indicator, row.reference),
        difference=rc.format_difference(t, row.indicator, row.value - row.reference, extra),
        interval=rc.format_interval(t, row.indicator, low, high, signed=True, extra=extra),
    )


# --- the effort in the cluster's own time --------------------------------------------------


def start_year_of(report: ClusterReport) -> int | None:
    """The school year the cluster started the effort (cluster_programme), or None."""
    start = report.data.programme
    if start is None or start.empty:
        return None
    match = start.loc[start["cluster_id"] == report.cluster_id, "start_year"]
    if not len(match) or rc.is_missing(match.iloc[0]):
        return None
    return int(match.iloc[0])


def effort_name(report: ClusterReport) -> str:
    """The effort's name from the municipality's settings file (data.settings), otherwise
    "indsatsen"."""
    name = report.data.effort_names.get(report.data.municipality)
    return name or report.t("meeting.effort_default")


def effort_status_line(report: ClusterReport) -> str:
    """Not started / started this year / last year / N years ago, in words."""
    from evaluation.reports.reflection import (
        effort_stage,
    )  # why: reflection imports formatting only

    start = start_year_of(report)
    if start is None and public_cluster.programme_unknown(report.data):
        return public_cluster.start_unknown_line(report.t)
    stage, years = effort_stage(start, report.year)
    start_text = format_school_year(start) if start else ""
    return report.t(
        f"meeting.status_{stage}", effort=effort_name(report), start=start_text, years=years
    )


# --- definitions ---------------------------------------------------------------------------


def definition_rows(report: ClusterReport, indicator_ids) -> pd.DataFrame:
    """Numerator, denominator, source and which way is better of each indicator shown, from
    evaluation/catalog.yaml (the catalog is the one home of these definitions)."""
    t, catalog = report.t, report.data.catalog
    cols = t.lookup("meeting.definition_columns")
    rows = []
    for ind_id in dict.fromkeys(indicator_ids):
        if ind_id not in catalog.by_id:
            continue
        ind = catalog.get(ind_id)
        numerator, denominator = definition_parts(report, ind)
        source = t(f"meeting.source.{ind.source}")
        if getattr(report.data, "public", False):  # the ministry's figures, not our questions
            source = t("public4.definition_source")
            if ind.source == "survey" and ind.kind == "mean":
                numerator, denominator = (
                    t("public4.index_numerator"),
                    t("public4.index_denominator"),
                )
        rows.append(
            {
                cols["indicator"]: rc.indicator_name(t, ind),
                cols["numerator"]: numerator,
                cols["denominator"]: denominator,
                cols["source"]: source,
                cols["better"]: t(f"meeting.better.{ind.direction}"),
            }
        )
    return pd.DataFrame(rows)


def definition_parts(report: ClusterReport, ind) -> tuple[str, str]:
    t, catalog = report.t, report.data.catalog
    if ind.source == "survey":
        form = catalog.forms.get(ind.grade_band) if hasattr(catalog, "forms") else None
        texts = []
        for item in ind.items:
            spec = form.items.get(item) if form is not None else None
            texts.append(t("format.quote", text=spec.text_da) if spec is not None else item)
        items = "; ".join(texts)
        if ind.kind == "mean":
            return t("meeting.survey_numerator_mean", items=items), t("meeting.survey_denominator")
        if ind.items:
            threshold = t.number(ind.favourable_at or 4, decimals=0)
            numerator = t("meeting.survey_numerator_proportion", threshold=threshold, items=items)
            return numerator, t("meeting.survey_denominator")
        threshold = t.number(ind.threshold or 3, decimals=0)
        return t("meeting.survey_numerator_share", threshold=threshold), t(
            "meeting.survey_denominator"
        )
    words = t.lookup("meeting.columns")
    if ind.value_column:
        return words.get(ind.value_column, ind.value_column), SUPPRESSED_MARKER
    numerator = rc.join_names(t, [words.get(c, c) for c in ind.numerator])
    return numerator, rc.join_names(t, [words.get(c, c) for c in ind.denominator])
