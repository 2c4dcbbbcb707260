"""Content of the leader summary (ledelsesoverblik): all clusters side by side, one screen first.

The notebook `notebooks/leader_summary.ipynb` calls `prepare_report(...)` right after its
parameters, then one `build_*` function per section, and finally `collect_key_figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation.errors import ParameterError
from evaluation.reports import charts, key_figures
from evaluation.reports import common as rc
from evaluation.reports.html import scroll_region
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year, texts_for

LEADER_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "inklusionsgrad",
    "fravaer",
    "ventetid",
)
TREND_INDICATORS = ("generel_trivsel", "social_trivsel", "inklusionsgrad", "fravaer")
ATTENTION_SHOWN = 5
# tighter spacing on the first screen: the attention list and the table fit in 1280x900
LEADER_CSS = """
<style>
.wb-report h1 { margin: 0.2rem 0 0.3rem 0; font-size: 1.7rem; }
section[aria-labelledby="se-naermere"], section[aria-labelledby="alle-klynger"] {
  margin-top: 0.6rem; }
section[aria-labelledby="se-naermere"] h2, section[aria-labelledby="alle-klynger"] h2 {
  margin: 0.4rem 0 0.2rem 0; font-size: 1.3rem; }
section[aria-labelledby="se-naermere"] p, section[aria-labelledby="se-naermere"] ul {
  margin: 0.2rem 0; }
.wb-attention li { margin-bottom: 0.1rem; }
</style>
"""
SECTIONS = (
    ("se-naermere", "attention"),
    ("alle-klynger", "overview"),
    ("aendring", "change_chart"),
    ("kommunen", "municipality"),
    ("datakvalitet", "quality"),
)


@dataclass
class LeaderReport:
    data: rc.ReportData
    t: Texts
    municipality: str
    year: int
    tables_dir: Path | None
    cache: dict = field(default_factory=dict)

    @property
    def school_year(self) -> str:
        return format_school_year(self.year)

    @property
    def previous(self) -> int | None:
        return rc.previous_year(self.year, self.data.years)

    def cluster_ids(self) -> list[str]:
        c = self.data.clusters
        if c is None or c.empty:
            return []
        if "municipality" in c.columns:
            c = c[c["municipality"] == self.municipality]
        return c.sort_values("name")["cluster_id"].astype(str).tolist()

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


def check_municipality(municipality: str, names: list[str]) -> str:
    """The municipality name (the only one when empty), or ParameterError listing the valid."""
    if not municipality and len(names) == 1:
        return names[0]
    if municipality in names:
        return municipality
    valid = ", ".join(names) or "none"
    raise ParameterError(
        f"municipality={municipality!r} is not in the warehouse; valid municipalities: {valid}"
    )


def check_parameters(municipality: str, year: int, language: str, warehouse: str, min_n: int):
    """Stop with a ParameterError (listing valid values) before any work is done."""
    language, path, min_n = rc.check_common(language, warehouse, min_n)
    tables = rc.read_warehouse_tables(path)
    names = sorted(tables["units"]["municipality"].dropna().astype(str).unique())
    municipality = check_municipality(municipality, names)
    year = rc.check_year(year, tables["years"])
    return municipality, year, language, path, min_n, tables


def prepare_report(
    municipality: str = "",
    year: int = 2024,
    language: str = "da",
    warehouse: str = "",
    min_n: int = 5,
    tables_dir: str = "",
) -> LeaderReport:
    municipality, year, language, path, min_n, tables = check_parameters(
        municipality, year, language, warehouse, min_n
    )
    data = rc.load_report_data(path, min_n, tables)
    return LeaderReport(
        data, texts_for(language), municipality, year, Path(tables_dir) if tables_dir else None
    )


def section_title(report: LeaderReport, key: str) -> str:
    return report.t(f"leader_summary.sections.{key}")


def build_title(report: LeaderReport) -> rc.Html:
    t = report.t
    title = t(
        "leader_summary.title", municipality=report.municipality, school_year=report.school_year
    )
    facts = t(
        "common.report_for",
        municipality=report.municipality,
        school_year=report.school_year,
        min_n=report.data.min_n,
    )
    toc = rc.table_of_contents(
        t, [(a, section_title(report, k)) for a, k in SECTIONS], compact=True
    )
    return rc.Html(
        rc.REPORT_CSS
        + LEADER_CSS
        + '<header class="wb-report">'
        + f"<h1>{rc.esc(title)}</h1>"
        + rc.paragraph(t("leader_summary.lead") + " " + facts, "wb-meta")
        + public_credit_html(report)
        + toc
        + "</header>"
    )


def public_credit_html(report: LeaderReport) -> str:
    """The ministry's credit line, when the figures are its published school aggregates."""
    if not report.data.public:
        return ""

    return rc.credit_html(report.t.language)


def attention_items(report: LeaderReport) -> tuple[list[str], list[str]]:
    """(needs attention, clearly better): only statistically clear findings."""
    t, status = report.t, report.status()
    worse, better = [], []
    if status.empty:
        return worse, better
    for row in status.itertuples(index=False):
        name = rc.indicator_phrase(t, row.indicator)
        cluster = report.data.cluster_name(row.cluster_id)
        if row.change_verdict == "worse":
            worse.append(
                (
                    0,
                    t(
                        "leader_summary.attention_item_change",
                        cluster=cluster,
                        indicator=name,
                        previous=format_school_year(row.previous_year),
                        before=rc.format_value(t, row.indicator, row.previous_value),
                        after=rc.format_value(t, row.indicator, row.value),
                    ),
                )
            )
        if row.position == "worse":
            worse.append(
                (
                    1,
                    t(
                        "leader_summary.attention_item_level",
                        cluster=cluster,
                        indicator=name,
                        value=rc.format_value(t, row.indicator, row.value),
                        reference=rc.format_value(t, row.indicator, row.reference),
                    ),
                )
            )
        if row.change_verdict == "better":
            better.append((cluster, name))
    by_cluster: dict[str, list[str]] = {}
    for cluster, name in better:
        by_cluster.setdefault(cluster, []).append(name)
    better_lines = [f"{c}: {rc.join_names(t, names)}" for c, names in by_cluster.items()]
    return [text for _, text in sorted(worse, key=lambda x: x[0])], better_lines


def build_attention(report: LeaderReport) -> rc.Html:
    """The few things to look at first (clear worsening or clearly below the municipality)."""
    t = report.t
    worse, better = attention_items(report)
    report.cache["attention"] = len(worse)
    body = rc.paragraph(t("leader_summary.attention_intro"))
    if worse:
        body += '<ul class="wb-attention">'
        body += "".join(f"<li>{rc.esc(x)}</li>" for x in worse[:ATTENTION_SHOWN]) + "</ul>"
        if len(worse) > ATTENTION_SHOWN:
            body += rc.paragraph(
                t("leader_summary.attention_more", count=len(worse) - ATTENTION_SHOWN)
            )
    else:
        body += rc.paragraph(t("leader_summary.attention_none", school_year=report.school_year))
    if better:
        # one line: the good news should not push the table off the first screen
        body += rc.paragraph(t("leader_summary.positive_intro") + " " + "; ".join(better) + ".")
    return rc.section("se-naermere", section_title(report, "attention"), body)


PLACE_SYMBOLS = {"better": "▲", "worse": "▼", "within": "●", "missing": SUPPRESSED_MARKER}
CHANGE_SYMBOLS = {"better": "↑", "worse": "↓", "none": "→", "missing": SUPPRESSED_MARKER}


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


def overview_cell_html(report: LeaderReport, cell: dict | None) -> str:
    """Value, placement symbol and change symbol; a word only where it is statistically clear.
    Symbols and words are hidden from screen readers, which get the full sentence instead."""
    t = report.t
    if cell is None:
        return rc.esc(SUPPRESSED_MARKER)
    place, change = cell_spoken(report, cell)
    visible = ""
    for symbols, code in ((PLACE_SYMBOLS, cell["place"]), (CHANGE_SYMBOLS, cell["change"])):
        word = t(f"leader_summary.word.{code}") if code in ("better", "worse") else ""
        visible += f'<span class="wb-sym">{rc.esc(symbols[code])}</span>'
        if word:
            visible += f'<span class="wb-word"> {rc.esc(word)}</span>'
    return (
        f'{rc.esc(cell["value"])}<span aria-hidden="true">{visible}</span>'
        f'<span class="wb-sr">: {rc.esc(place)}; {rc.esc(change)}</span>'
    )


def overview_headers(report: LeaderReport) -> list[str]:
    t = report.t
    return [t("common.cluster")] + [t(f"leader_summary.short_names.{i}") for i in LEADER_INDICATORS]


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


def overview_legend(report: LeaderReport) -> str:
    """The key to the symbols, shown above the table and tied to it by aria-describedby."""
    t = report.t
    previous = format_school_year(report.previous) if report.previous else ""
    keys = [
        t("leader_summary.legend_place"),
        t("leader_summary.legend_change", previous=previous),
        t("leader_summary.legend_other"),
    ]
    spans = "".join(f'<span class="wb-key">{rc.esc(k)}</span> ' for k in keys)
    return f'<p class="wb-legend" id="wb-legend-klynger">{spans}</p>'


def overview_table_html(report: LeaderReport) -> str:
    """The compact side-by-side table: one line per cluster."""
    t = report.t
    headers = overview_headers(report)
    head = "".join(f'<th scope="col">{rc.esc(h)}</th>' for h in headers)
    body = ""
    for name, cells in overview_cells(report):
        tds = "".join(f"<td>{overview_cell_html(report, c)}</td>" for c in cells)
        body += f'<tr><th scope="row">{rc.esc(name)}</th>{tds}</tr>'
    caption = t("leader_summary.table_caption", school_year=report.school_year)
    return scroll_region(
        '<table class="wb-table wb-compact" aria-describedby="wb-legend-klynger">'
        f"<caption>{rc.esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>",
        caption,
    )


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
                    "leader_summary.detail_columns.change",
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
        [t(f"leader_summary.short_names.{i}") for i in rows["indicator_id"]],
    )
    frame.insert(0, t("common.cluster"), [report.data.cluster_name(c) for c in rows["cluster_id"]])
    return frame


def build_overview(report: LeaderReport) -> rc.Html:
    t = report.t
    frame = overview_frame(report)
    body = overview_legend(report) + overview_table_html(report)
    body += rc.paragraph(t("common.suppressed_note", min_n=report.data.min_n), "wb-meta")
    detail = detail_frame(report)
    if len(detail):
        body += f"<h3>{rc.esc(t('leader_summary.detail_title'))}</h3>"
        body += rc.paragraph(t("leader_summary.detail_intro"))
        body += charts.table_to_html(
            detail,
            t("leader_summary.detail_caption", school_year=report.school_year),
            [t("common.suppressed_note", min_n=report.data.min_n)],
            css_class="wb-table wb-compact",
        )
    if report.tables_dir is not None:
        charts.write_table_csv(frame, "klynger", report.tables_dir, t.language)
        if len(detail):
            charts.write_table_csv(detail, "klynger-detaljer", report.tables_dir, t.language)
    return rc.section("alle-klynger", section_title(report, "overview"), body)


def build_change_chart(report: LeaderReport) -> rc.Html:
    """Change in general wellbeing per cluster with its interval (dot and whisker)."""
    t, status = report.t, report.status()
    body = ""
    sel = status[status["indicator_id"] == "generel_trivsel"] if len(status) else status
    sel = sel[sel["change"].notna()] if len(sel) else sel
    if report.previous is None or len(sel) == 0:
        body = rc.paragraph(t("cluster_report.overview_no_previous"))
        return rc.section("aendring", section_title(report, "change_chart"), body)
    indicator = report.data.catalog.get("generel_trivsel")
    verdict_words = {k: t(f"change.{k}") for k in ("better", "worse", "none")}
    data = pd.DataFrame(
        {
            "row": [report.data.cluster_name(c) for c in sel["cluster_id"]],
            "series": [verdict_words[v] for v in sel["change_verdict"]],
            "value": sel["change"].to_numpy(),
            "lower": sel["change_lower"].to_numpy(),
            "upper": sel["change_upper"].to_numpy(),
        }
    )
    previous = format_school_year(report.previous)
    order = [verdict_words[k] for k in ("better", "none", "worse")]
    chart = charts.build_interval_chart(
        data,
        {"x": t("leader_summary.change_chart_x"), "series": ""},
        ".2f",
        zero_line=True,
        series_order=order,
        shapes=["triangle-up", "circle", "triangle-down"],
    )
    counts = sel["change_verdict"].value_counts()
    detail = t(
        "leader_summary.change_chart_detail",
        clusters_better=int(counts.get("better", 0)),
        clusters_worse=int(counts.get("worse", 0)),
        clusters_none=int(counts.get("none", 0)),
    )
    title = t(
        "leader_summary.change_chart_title", previous=previous, school_year=report.school_year
    )
    description = t("leader_summary.change_chart_description", detail=detail)
    table = pd.DataFrame(
        {
            t("common.cluster"): data["row"],
            t("common.change"): [rc.format_difference(t, indicator, v) for v in sel["change"]],
            t("common.interval"): [
                rc.format_interval(t, indicator, lo, hi, signed=True)
                for lo, hi in zip(sel["change_lower"], sel["change_upper"], strict=True)
            ],
            t("common.status"): data["series"],
        }
    )
    body = charts.chart_html(
        chart,
        table,
        title,
        description,
        "aendring-generel-trivsel",
        report.tables_dir,
        language=t.language,
    )
    return rc.section("aendring", section_title(report, "change_chart"), body)


def build_municipality_trend(report: LeaderReport) -> rc.Html:
    """The municipality's level over the years, gaps where data are missing."""
    t, data = report.t, report.data
    values = data.values
    rows = []
    for indicator_id in TREND_INDICATORS:
        indicator = data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        sel = values[
            (values["indicator_id"] == indicator_id)
            & (values["level"] == "municipality")
            & (values["entity_id"] == report.municipality)
            & (values["year"] <= report.year)
        ]
        for r in sel.itertuples(index=False):
            lower, upper = rc.level_interval(indicator, r.value, r.se)
            rows.append(
                {
                    "indicator_id": indicator_id,
                    "panel": rc.axis_label(t, indicator),
                    "series": report.municipality,
                    "year": int(r.year),
                    "year_label": format_school_year(r.year),
                    "value": r.value * scale if not rc.is_missing(r.value) else math.nan,
                    "lower": lower * scale,
                    "upper": upper * scale,
                }
            )
    frame = pd.DataFrame(rows).dropna(subset=["value"])
    body = rc.paragraph(t("leader_summary.municipality_intro"))
    for sentence in rc.missing_years_sentences(
        t, data, "cluster_report.trends_missing", report.year
    ):
        body += rc.paragraph(sentence)
    if frame.empty:
        return rc.section("kommunen", section_title(report, "municipality"), body)
    years = [y for y in data.years if y <= report.year]
    all_years = [format_school_year(y) for y in range(min(years), max(years) + 1)]
    chart = charts.build_trend_chart(
        frame, all_years, {"x": t("common.school_year"), "y": None, "series": ""}, columns=2
    )
    table_rows = []
    for indicator_id, g in frame.groupby("indicator_id", sort=False):
        indicator = data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        row = {t("common.indicator"): g["panel"].iloc[0]}
        for label, v in zip(g["year_label"], g["value"], strict=True):
            row[label] = rc.format_value(t, indicator, v / scale)
        table_rows.append(row)
    table = pd.DataFrame(table_rows).reindex(columns=[t("common.indicator"), *all_years])
    title = f"{section_title(report, 'municipality')}: {report.municipality}"
    description = t("leader_summary.municipality_intro")
    body += charts.chart_html(
        chart, table, title, description, "kommunen", report.tables_dir, language=t.language
    )
    return rc.section("kommunen", section_title(report, "municipality"), body)


def build_quality(report: LeaderReport) -> rc.Html:
    t = report.t
    items = [t("leader_summary.quality_note")]
    items += rc.missing_years_sentences(
        t, report.data, "cluster_report.quality_missing_years", report.year
    )
    items += [x.format(min_n=report.data.min_n) for x in t.lookup("cluster_report.methods_items")]
    return rc.section("datakvalitet", section_title(report, "quality"), rc.bullets(items))


def collect_key_figures(report: LeaderReport) -> dict:
    status = report.status()
    figures = {"report": "leader_summary", "municipality": report.municipality, "year": report.year}
    for row in status.itertuples(index=False):
        key = f"{row.cluster_id}.{row.indicator_id}"
        if not rc.is_missing(row.value):
            figures[f"{key}.value"] = round(float(row.value), 6)
        figures[f"{key}.verdict"] = row.change_verdict
        figures[f"{key}.position"] = row.position
    figures["attention"] = report.cache.get("attention", len(attention_items(report)[0]))
    return figures


def record_figures(report: LeaderReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
