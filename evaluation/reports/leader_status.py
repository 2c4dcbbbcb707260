"""The leader summary's report object and what it shows of every cluster: the status rows, the
verdicts in words (for the CSV file) and the detail with intervals (the appendix).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evaluation.reports import common as rc
from evaluation.texts import SUPPRESSED_MARKER, danish_order, format_school_year

LEADER_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "inklusionsgrad",
    "fravaer",
    "ventetid",
)


@dataclass(kw_only=True)
class LeaderReport(rc.ReportFrame):
    """Everything the section builders need; made once by `prepare_report`."""

    municipality: str

    @property
    def previous(self) -> int | None:
        return rc.previous_year(self.year, self.data.years)

    def cluster_ids(self) -> list[str]:
        c = self.data.clusters
        if c is None or c.empty:
            return []
        if "municipality" in c.columns:
            c = c[c["municipality"] == self.municipality]
        c = c.sort_values("name", key=lambda names: names.map(danish_order), kind="stable")
        return c["cluster_id"].astype(str).tolist()

    def status(self) -> pd.DataFrame:
        """Status rows of every cluster (cached): cluster_id plus summarise_entity columns."""
        if "status" not in self.cache:
            parts = []
            for cluster_id in self.cluster_ids():
                rows = rc.summarise_entity(
                    self.data, "cluster", cluster_id, self.year, LEADER_INDICATORS
                )
                parts.append(rows.assign(cluster_id=cluster_id))
            self.cache["status"] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return self.cache["status"]


def overview_cells(report: LeaderReport) -> list[tuple[str, list[dict | None]]]:
    """Per cluster (name) one cell per leader indicator: value text plus the placement and
    change codes (better/worse/within|none/missing), or None when the cluster has no row."""
    t, status = report.t, report.status()
    out = []
    for cluster_id in report.cluster_ids():
        mine = status[status["cluster_id"] == cluster_id] if len(status) else status
        cells = []
        for indicator_id in LEADER_INDICATORS:
            match = mine[mine["indicator_id"] == indicator_id] if len(mine) else mine
            if len(match) == 0:
                cells.append(None)
                continue
            r = match.iloc[0]
            indicator = report.data.catalog.get(indicator_id)
            cells.append(
                {
                    "value": rc.format_value(t, indicator, r["value"]),
                    "place": r["position"],
                    "change": r["change_verdict"],
                }
            )
        out.append((report.data.cluster_name(cluster_id), cells))
    return out


def cell_spoken(report: LeaderReport, cell: dict) -> tuple[str, str]:
    """The full words of a cell's two symbols (for screen readers and the CSV file)."""
    t = report.t
    previous = format_school_year(report.previous) if report.previous else ""
    place = t(f"leader_summary.spoken_place.{cell['place']}")
    change = t(f"leader_summary.spoken_change.{cell['change']}", previous=previous)
    return place, change


def short_name(report: LeaderReport, indicator_id: str) -> str:
    """The indicator's short name with its unit, for the narrow columns of the overview."""
    return rc.indicator_name(report.t, report.data.catalog.get(indicator_id), short=True)


def overview_headers(report: LeaderReport) -> list[str]:
    return [report.t("common.cluster")] + [short_name(report, i) for i in LEADER_INDICATORS]


def overview_frame(report: LeaderReport) -> pd.DataFrame:
    """Clusters as rows, indicators as columns; each cell the value and both verdicts in words
    (what goes to the CSV file)."""
    headers = overview_headers(report)
    rows = []
    for name, cells in overview_cells(report):
        row = {headers[0]: name}
        for header, cell in zip(headers[1:], cells, strict=True):
            if cell is None:
                row[header] = SUPPRESSED_MARKER
            else:
                row[header] = "; ".join((cell["value"], *cell_spoken(report, cell)))
        rows.append(row)
    return pd.DataFrame(rows, columns=headers)


def detail_frame(report: LeaderReport) -> pd.DataFrame:
    """Every cluster and indicator with its interval, the municipality and the change interval."""
    t, status = report.t, report.status()
    if status.empty:
        return pd.DataFrame()
    # the verdicts in words are in the table above (symbols) and its CSV file; here the numbers
    columns = [
        (t("leader_summary.detail_columns.value"), "value_interval"),
        (t("cluster_report.columns.municipality"), "reference"),
    ]
    if report.previous is not None:
        columns.append(
            (
                t(
                    "public4.columns.change_since"
                    if report.data.public
                    else "leader_summary.detail_columns.change",
                    previous=format_school_year(report.previous),
                ),
                "change",
            )
        )
    order = {c: k for k, c in enumerate(report.cluster_ids())}
    rows = status.assign(_order=status["cluster_id"].map(order)).sort_values(
        ["_order"], kind="stable"
    )
    frame = rc.status_frame(t, rows, columns)
    frame.insert(
        0,
        t("common.indicator"),
        [short_name(report, i) for i in rows["indicator_id"]],
    )
    frame.insert(0, t("common.cluster"), [report.data.cluster_name(c) for c in rows["cluster_id"]])
    return frame
