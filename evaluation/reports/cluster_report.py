"""Content of the cluster report (klyngerapport): one function per notebook cell.

The notebook `notebooks/cluster_report.ipynb` calls `prepare_report(...)` right after its
parameters (bad parameters stop there, before any work), then one `build_*` function per section,
each returning HTML to display, and finally `collect_key_figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.reports import charts, key_figures
from evaluation.reports import common as rc
from evaluation.reports.reflection import build_questions
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year, texts_for  # noqa: F401

STATEMENT_INDICATORS = (
    "udsagn_vaere_sig_selv",
    "udsagn_god_ven",
    "udsagn_nysgerrighed",
    "udsagn_fysisk_mentalt",
    "udsagn_voksen",
    "udsagn_lytter",
)
FUNNEL_INDICATORS = ("generel_trivsel", "social_trivsel", "inklusionsgrad", "fravaer")
# published aggregates (evaluation.values.published) have the five indices and no register data
PUBLIC_FUNNEL_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "stoette_og_inspiration",
    "ro_og_orden",
)
TREND_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "ro_og_orden",
    "inklusionsgrad",
    "fravaer",
)
TREND_YEARS = 5  # the trend over the last five school years with figures
SECTIONS = (
    ("overblik", "overview"),
    ("udsagn", "statements"),
    ("inklusion", "inclusion"),
    ("tragtplot", "funnels"),
    ("udvikling", "trends"),
    ("skiller-sig-ud", "standouts"),
    ("refleksion", "reflection"),
    ("datakvalitet", "quality"),
    ("metode", "methods"),
)


@dataclass
class ClusterReport:
    """Everything the section builders need; made once by `prepare_report`."""

    data: rc.ReportData
    t: Texts
    cluster_id: str
    year: int
    tables_dir: Path | None
    cache: dict = field(default_factory=dict)

    @property
    def cluster_name(self) -> str:
        return self.data.cluster_name(self.cluster_id)

    @property
    def previous(self) -> int | None:
        return rc.previous_year(self.year, self.data.years)

    @property
    def school_year(self) -> str:
        return format_school_year(self.year)

    def status(self, key: str, indicator_ids) -> pd.DataFrame:
        """Cached status rows of the cluster for a set of indicators."""
        if key not in self.cache:
            self.cache[key] = rc.summarise_entity(
                self.data, "cluster", self.cluster_id, self.year, indicator_ids
            )
        return self.cache[key]


def check_parameters(cluster: str, year: int, language: str, warehouse: str, min_n: int):
    """Stop with a ParameterError (listing valid values) before any work is done."""
    return rc.check_report_parameters(
        language,
        warehouse,
        min_n,
        year,
        lambda tables: rc.check_cluster(cluster, tables["clusters"]),
    )


def prepare_report(
    cluster: str,
    year: int,
    language: str = "da",
    warehouse: str = "",
    min_n: int = 5,
    tables_dir: str = "",
) -> ClusterReport:
    """Check the parameters, then load the suppressed indicator values once."""
    checked = check_parameters(cluster, year, language, warehouse, min_n)
    data, t, tables = rc.open_report(checked, tables_dir)
    return ClusterReport(
        data=data, t=t, cluster_id=checked.subject, year=checked.year, tables_dir=tables
    )


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
    return units[["unit_id", "name", "kind"]].sort_values("name").reset_index(drop=True)


def membership_changes(data: rc.ReportData, cluster_id: str) -> list[tuple[str, str, int]]:
    """("join"/"leave", unit name, year) for units that joined or left inside the data years."""
    m = data.membership
    if m is None or m.empty or not data.years:
        return []
    first, last = min(data.years), max(data.years)
    out = []
    for row in m[m["cluster_id"] == cluster_id].itertuples(index=False):
        name = data.unit_name(row.unit_id)
        if not rc.is_missing(row.from_year) and first < int(row.from_year) <= last:
            out.append(("join", name, int(row.from_year)))
        if not rc.is_missing(row.to_year) and first <= int(row.to_year) < last:
            out.append(("leave", name, int(row.to_year)))
    return sorted(out, key=lambda x: (x[2], x[1]))


# --- sections ------------------------------------------------------------------------------


section_title = rc.section_titles("cluster_report")  # section_title(report, key): a heading


def build_title(report: ClusterReport) -> rc.Html:
    """Title (the one h1), lead, facts, how to read, and the table of contents."""
    t = report.t
    units = member_units(report.data, report.cluster_id, report.year)
    start = report.data.programme
    start_year = None
    if start is not None and not start.empty:
        match = start.loc[start["cluster_id"] == report.cluster_id, "start_year"]
        if len(match) and not rc.is_missing(match.iloc[0]):
            start_year = int(match.iloc[0])
    programme = (
        t("cluster_report.meta_programme", school_year=format_school_year(start_year))
        if start_year
        else t("cluster_report.meta_no_programme")
    )
    facts = [
        rc.report_for(t, report.data.municipality, report.school_year, report.data.min_n),
        t(
            "cluster_report.meta_units",
            school_year=report.school_year,
            units=rc.join_names(t, units["name"].tolist()),
        ),
        programme,
    ]
    how = [t("how_to_read.intervals"), t("how_to_read.changes"), t("status_legend")]
    if report.data.public:  # one year, and intervals from the spread of schools, not chance
        how = [t("public_cluster.how_intervals"), t("status_legend")]
    title = t("cluster_report.title", cluster=report.cluster_name, school_year=report.school_year)
    intro = (
        rc.paragraph(t("cluster_report.lead", cluster=report.cluster_name), "wb-lead")
        + rc.bullets(facts)
        + f'<div class="wb-note"><p><strong>{rc.esc(t("how_to_read.title"))}</strong></p>'
        + "".join(rc.paragraph(p) for p in how)
        + rc.paragraph(t("how_to_read.purpose"))
        + "</div>"
        + public_source_html(report)
    )
    return rc.report_header(t, "cluster_report", SECTIONS, title, intro)


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
            (t("cluster_report.columns.change"), "change"),
            (t("cluster_report.columns.verdict"), "verdict"),
        ]
    return cols


def write_status_csv(report: ClusterReport, rows: pd.DataFrame, slug: str) -> None:
    if report.tables_dir is not None and len(rows):
        table = rc.status_frame(report.t, rows, status_columns(report))
        charts.write_table_csv(table, slug, report.tables_dir, report.t.language)


def build_overview(report: ClusterReport) -> rc.Html:
    """Headline indicators: level, interval, municipality, position and change."""
    t = report.t
    rows = report.status("headline", rc.HEADLINE_INDICATORS)
    parts = []
    if report.previous is None:
        parts.append(rc.paragraph(t("cluster_report.overview_no_previous")))
    else:
        previous = format_school_year(report.previous)
        parts.append(
            rc.paragraph(
                t(
                    "cluster_report.overview_intro",
                    school_year=report.school_year,
                    previous=previous,
                )
            )
        )
        verdicts = rows["change_verdict"].value_counts() if len(rows) else pd.Series(dtype=int)
        assessed = int(sum(verdicts.get(k, 0) for k in ("better", "worse", "none")))
        parts.append(
            rc.paragraph(
                t(
                    "cluster_report.overview_summary",
                    total=assessed,
                    better=int(verdicts.get("better", 0)),
                    worse=int(verdicts.get("worse", 0)),
                    none=int(verdicts.get("none", 0)),
                    previous=previous,
                )
            )
        )
        if report.year - report.previous > 1:
            parts.append(
                rc.paragraph(
                    t(
                        "change.gap_note",
                        school_year=report.school_year,
                        previous=previous,
                        years=report.year - report.previous,
                    )
                )
            )
    caption = t(
        "cluster_report.table_caption", cluster=report.cluster_name, school_year=report.school_year
    )
    parts.append(rc.status_table(t, rows, caption, status_columns(report), report.data.min_n))
    write_status_csv(report, rows, "overblik")
    return rc.section("overblik", section_title(report, "overview"), "".join(parts))


def build_statements(report: ClusterReport) -> rc.Html:
    """The six "Vi er på vej til at lykkes, når ..." statements: chart, table, status."""
    t = report.t
    rows = report.status("statements", STATEMENT_INDICATORS)
    parts = [rc.paragraph(t("cluster_report.statements_intro"))]
    if report.data.public and rows.empty:
        body = parts[0] + rc.paragraph(t("public_cluster.no_statements"))
        return rc.section("udsagn", section_title(report, "statements"), body)
    chart_rows, hidden = [], []
    muni_name = t("common.municipality")
    for row in rows.itertuples(index=False):
        label = rc.indicator_name(t, row.indicator)
        if rc.is_missing(row.value):
            hidden.append(label)
            continue
        chart_rows.append(
            {
                "row": label,
                "series": report.cluster_name,
                "value": row.value * 100,
                "lower": row.lower * 100,
                "upper": row.upper * 100,
            }
        )
        if not rc.is_missing(row.reference):
            chart_rows.append(
                {
                    "row": label,
                    "series": muni_name,
                    "value": row.reference * 100,
                    "lower": math.nan,
                    "upper": math.nan,
                }
            )
    table = rc.status_frame(t, rows, statement_columns(report))
    title = t(
        "cluster_report.statements_chart_title",
        cluster=report.cluster_name,
        school_year=report.school_year,
    )
    footnotes = [t("common.suppressed_note", min_n=report.data.min_n)]
    if chart_rows:
        chart = charts.build_interval_chart(
            pd.DataFrame(chart_rows),
            {"x": t("cluster_report.statements_chart_x"), "series": ""},
        )
        description = statement_description(report, rows, hidden)
        parts.append(
            charts.chart_html(
                chart,
                table,
                title,
                description,
                "udsagn",
                report.tables_dir,
                language=t.language,
                footnotes=footnotes,
            )
        )
    else:
        parts.append(charts.table_to_html(table, title, footnotes))
        if report.tables_dir is not None:
            charts.write_table_csv(table, "udsagn", report.tables_dir, t.language)
    parts.append(rc.paragraph(t("cluster_report.statements_items_note"), "wb-meta"))
    return rc.section("udsagn", section_title(report, "statements"), "".join(parts))


def statement_columns(report: ClusterReport) -> list[tuple[str, str]]:
    cols = status_columns(report)
    return [(report.t("cluster_report.statement_col"), "indicator")] + cols[1:]


def statement_description(report: ClusterReport, rows: pd.DataFrame, hidden: list[str]) -> str:
    t = report.t
    parts = []
    for row in rows.itertuples(index=False):
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


def build_inclusion(report: ClusterReport) -> rc.Html:
    """Inclusion and early help: inklusionsgrad, nærhed, return, waiting time, absence, language."""
    t = report.t
    rows = report.status("inclusion", rc.INCLUSION_INDICATORS)
    parts = [
        rc.paragraph(t("cluster_report.inclusion_intro")),
        rc.paragraph(t("cluster_report.inclusion_register_note"), "wb-meta"),
    ]
    if report.data.public and rows.empty:
        body = parts[0] + rc.paragraph(t("public_cluster.no_inclusion"))
        return rc.section("inklusion", section_title(report, "inclusion"), body)
    caption = t(
        "cluster_report.table_caption", cluster=report.cluster_name, school_year=report.school_year
    )
    caption = f"{section_title(report, 'inclusion')}: {caption}"
    parts.append(rc.status_table(t, rows, caption, status_columns(report), report.data.min_n))
    write_status_csv(report, rows, "inklusion")
    return rc.section("inklusion", section_title(report, "inclusion"), "".join(parts))


# --- funnels -------------------------------------------------------------------------------


def funnel_for(report: ClusterReport, indicator_id: str) -> dict | None:
    """Compare every unit of the municipality that year; keep the cluster's units for the plot."""
    from evaluation.stats import compare

    data, year = report.data, report.year
    if indicator_id not in data.catalog.by_id:
        return None
    indicator = data.catalog.get(indicator_id)
    values = data.values
    of_ind = values[(values["indicator_id"] == indicator_id) & (values["year"] == year)]
    muni = of_ind[of_ind["level"] == "municipality"]
    if muni.empty or muni["value"].isna().all():
        return None
    target = float(muni["value"].iloc[0])
    units = of_ind[of_ind["level"] == "unit"]
    members = member_units(data, report.cluster_id, year)
    mine = units[units["entity_id"].isin(members["unit_id"])]
    hidden = [data.unit_name(u) for u in mine.loc[mine["value"].isna(), "entity_id"]]
    shown_all = units[units["value"].notna()]
    if shown_all.empty or mine["value"].notna().sum() == 0:
        return {"indicator": indicator, "target": target, "hidden": hidden, "units": None}
    kind = rc.comparison_kind(indicator, shown_all)
    comparison = compare.compare_units(shown_all, target=target, kind=kind)
    everyone = comparison.units
    result = everyone[everyone["entity_id"].isin(mine["entity_id"])].copy()
    others = everyone[~everyone["entity_id"].isin(mine["entity_id"])]
    result["name"] = [data.unit_name(u) for u in result["entity_id"]]
    curve = funnel_limits(indicator, comparison, shown_all, target)
    return {
        "indicator": indicator,
        "target": target,
        "hidden": hidden,
        "units": result,
        "curve": curve,
        "others": others[["n", "value"]].reset_index(drop=True),
        "adjustment": comparison.adjustment,
    }


def funnel_limits(indicator, comparison, shown: pd.DataFrame, target: float) -> pd.DataFrame:
    """Limit lines along n, with the same over-dispersion adjustment as the classification."""
    from evaluation.stats import compare

    n_max = float(shown["n"].max()) * 1.1
    n_min = max(2.0, float(shown["n"].min()) * 0.8)
    n = np.unique(np.round(np.geomspace(n_min, n_max, 80)))
    if rc.comparison_kind(indicator, shown) == "median":
        se0 = spread_along_n(shown, n)
    elif indicator.kind == "proportion":
        se0 = np.sqrt(target * (1 - target) / n)
    elif indicator.kind in ("mean", "rate"):
        sd = compare.pooled_sd(shown["n"].to_numpy(float), shown["sd"].to_numpy(float))
        se0 = sd / np.sqrt(n)
    else:
        return pd.DataFrame(columns=["n", "limit", "side", "value"])
    rows = []
    for level, tag in zip(compare.LEVELS, ("95", "998"), strict=True):
        if comparison.adjustment == "none" and indicator.kind == "proportion":
            lower, upper = compare.proportion_limits(n, target, level)
        else:
            half = compare.adjusted_half_width(
                se0, level, comparison.adjustment, comparison.dispersion
            )
            lower, upper = target - half, target + half
            if indicator.kind == "proportion":
                lower, upper = np.clip(lower, 0, 1), np.clip(upper, 0, 1)
        for side, line in (("lower", lower), ("upper", upper)):
            rows.append(pd.DataFrame({"n": n, "limit": tag, "side": side, "value": line}))
    return pd.concat(rows, ignore_index=True)


def spread_along_n(shown: pd.DataFrame, n: np.ndarray) -> np.ndarray:
    """se at each n for units with their own se: se^2 = a + b / n fitted through the units.

    Published aggregates have se^2 = intercept + b / pupils exactly (evaluation.values.published),
    so the fit returns those lines; with one size only the se is flat.
    """
    size = shown["n"].to_numpy(float)
    var = shown["se"].to_numpy(float) ** 2
    if np.unique(size).size < 2:
        return np.full(len(n), np.sqrt(var.mean()))
    design = np.column_stack([np.ones_like(size), 1 / size])
    (a, b), *_ = np.linalg.lstsq(design, var, rcond=None)
    return np.sqrt(np.clip(a + b / n, 0, None))


POSITION_KEYS = {"above": "over", "within": "within", "below": "under"}


def build_funnels(report: ClusterReport) -> rc.Html:
    """Funnel plots of the cluster's units against the municipality, one per key indicator."""
    t = report.t
    parts = [rc.paragraph(t("cluster_report.funnels_intro"))]
    if report.data.public:
        parts += [
            rc.paragraph(t("public_cluster.funnel_intro")),
            rc.paragraph(t("public_cluster.no_register_funnels")),
        ]
    outliers = []
    for indicator_id in funnel_indicators(report):
        found = funnel_for(report, indicator_id)
        if found is None:
            continue
        indicator = found["indicator"]
        name = rc.indicator_name(t, indicator)
        parts.append(f"<h3>{rc.esc(name)}</h3>")
        if found["units"] is None or found["units"].empty:
            parts.append(
                rc.paragraph(
                    t("cluster_report.funnel_none", indicator=name, school_year=report.school_year)
                )
            )
            if found["hidden"]:
                names = rc.join_names(t, found["hidden"])
                parts.append(
                    rc.paragraph(t(hidden_key(indicator), min_n=report.data.min_n, names=names))
                )
            continue
        parts.append(funnel_figure(report, found))
        for row in found["units"].itertuples(index=False):
            good = "above" if indicator.direction == "higher_better" else "below"
            if row.classification_998 != "within" and row.classification_998 != good:
                outliers.append((row.name, indicator))
    report.cache["unit_outliers"] = outliers
    return rc.section("tragtplot", section_title(report, "funnels"), "".join(parts))


def hidden_key(indicator) -> str:
    """Why a unit has no figure: a share is also hidden when the rest of the group is small."""
    if indicator.kind == "proportion":
        return "cluster_report.funnel_hidden_share"
    return "cluster_report.funnel_hidden"


def shrunk_units(report: ClusterReport, indicator_id: str) -> pd.DataFrame | None:
    """Empirical-Bayes values (evaluation.stats.shrinkage) of every unit of the municipality that
    year, pulled toward the mean of the municipality's units: entity_id, shrunk, reliability.
    None when shrinkage is not possible (too few units, no standard errors)."""
    from evaluation.errors import EvaluationError
    from evaluation.stats import shrinkage

    values = report.data.values
    units = values[
        (values["indicator_id"] == indicator_id)
        & (values["level"] == "unit")
        & (values["year"] == report.year)
    ]
    if units.empty or "se" not in units.columns:
        return None
    try:
        table, _ = shrinkage.shrink_values(units, by=None)
    except EvaluationError:
        return None
    return table[["entity_id", "shrunk", "reliability"]]


def funnel_figure(report: ClusterReport, found: dict) -> str:
    t = report.t
    indicator = found["indicator"]
    scale = rc.display_scale(indicator)
    units = found["units"]
    positions = [t(f"position.{POSITION_KEYS[c]}") for c in units["classification"]]
    points = pd.DataFrame(
        {
            "name": units["name"],
            "n": units["n"],
            "value": units["value"] * scale,
            "position": positions,
        }
    )
    curve = found["curve"].copy()
    curve["value"] = curve["value"] * scale
    curve["limit"] = curve["limit"].map(
        {"95": t("position.limit_95"), "998": t("position.limit_998")}
    )
    labels = {
        "x": t("cluster_report.funnel_x"),
        "y": rc.axis_label(t, indicator),
        "position": t("position.legend_title"),
        "limit": t("position.limit_title"),
        "target": t("position.target"),
    }
    order = [t("position.under"), t("position.within"), t("position.over")]
    y_format = (
        ".0f" if indicator.kind == "proportion" else (".1f" if indicator.kind == "rate" else ".2f")
    )
    others = found["others"].assign(
        value=found["others"]["value"] * scale, group=t("position.others")
    )
    chart = charts.build_funnel_chart(
        points, curve, found["target"] * scale, labels, order, y_format, others=others
    )
    name = rc.indicator_name(t, indicator)
    counts = units["classification"].value_counts()
    description = t(
        "cluster_report.funnel_description",
        target=rc.format_value(t, indicator, found["target"]),
        counts=t(
            "cluster_report.funnel_counts",
            shown=len(units),
            over=int(counts.get("above", 0)),
            under=int(counts.get("below", 0)),
        ),
    )
    if found["adjustment"] != "none":
        description += " " + t("cluster_report.funnel_adjusted")
    footnotes = [t("common.suppressed_note", min_n=report.data.min_n)]
    if found["hidden"]:
        footnotes.insert(
            0,
            t(
                hidden_key(indicator),
                min_n=report.data.min_n,
                names=rc.join_names(t, found["hidden"]),
            ),
        )
    cols = t.lookup("cluster_report.funnel_columns")
    table = pd.DataFrame(
        {
            cols["unit"]: units["name"].tolist(),
            cols["n"]: [t.number(n, decimals=0) for n in units["n"]],
            cols["value"]: [rc.format_value(t, indicator, v) for v in units["value"]],
            cols["position_95"]: positions,
            cols["position_998"]: [
                t(f"position.{POSITION_KEYS[c]}") for c in units["classification_998"]
            ],
        }
    )
    shrunk = shrunk_units(report, indicator.id)
    if shrunk is not None:
        match = units[["entity_id"]].merge(shrunk, on="entity_id", how="left")
        table.insert(3, cols["shrunk"], [rc.format_value(t, indicator, v) for v in match["shrunk"]])
        table.insert(
            4,
            cols["reliability"],
            [
                SUPPRESSED_MARKER if rc.is_missing(r) else t.number(r, 2)
                for r in match["reliability"]
            ],
        )
        footnotes.insert(0, t("cluster_report.shrinkage_note"))
    title = t("cluster_report.funnel_title", indicator=name, school_year=report.school_year)
    return charts.chart_html(
        chart,
        table,
        title,
        description,
        f"tragt-{indicator.id}",
        report.tables_dir,
        language=t.language,
        footnotes=footnotes,
    )


# --- trends --------------------------------------------------------------------------------


def trend_frame(report: ClusterReport) -> pd.DataFrame:
    """Cluster and municipality values per year for the trend indicators (suppressed = NaN)."""
    t, data = report.t, report.data
    values = data.values
    rows = []
    muni_name = t("common.municipality")
    for indicator_id in TREND_INDICATORS:
        if indicator_id not in data.catalog.by_id:
            continue
        indicator = data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        panel = rc.axis_label(t, indicator)
        of_ind = values[(values["indicator_id"] == indicator_id) & (values["year"] <= report.year)]
        for level, entity, series in (
            ("cluster", report.cluster_id, report.cluster_name),
            ("municipality", data.municipality, muni_name),
        ):
            sel = of_ind[(of_ind["level"] == level) & (of_ind["entity_id"] == entity)]
            for r in sel.itertuples(index=False):
                lower, upper = rc.level_interval(indicator, r.value, r.se)
                rows.append(
                    {
                        "indicator_id": indicator_id,
                        "panel": panel,
                        "series": series,
                        "year": int(r.year),
                        "year_label": format_school_year(r.year),
                        "value": r.value * scale if not rc.is_missing(r.value) else math.nan,
                        "lower": lower * scale,
                        "upper": upper * scale,
                    }
                )
    return pd.DataFrame(rows)


def build_trends(report: ClusterReport) -> rc.Html:
    """Line charts over the years, missing years as gaps and said in words."""
    t, data = report.t, report.data
    frame = trend_frame(report)
    parts = [rc.paragraph(t("cluster_report.trends_intro"))]
    years = [y for y in data.years if y <= report.year]
    for sentence in rc.missing_years_sentences(
        t, data, "cluster_report.trends_missing", report.year
    ):
        parts.append(rc.paragraph(sentence))
    if data.public and len(years) < 2:
        parts = [rc.paragraph(t("public_cluster.no_trend", school_year=report.school_year))]
        return rc.section("udvikling", section_title(report, "trends"), "".join(parts))
    if frame.empty or frame["value"].notna().sum() == 0:
        return rc.section("udvikling", section_title(report, "trends"), "".join(parts))
    all_years = [format_school_year(y) for y in range(min(years), max(years) + 1)]
    labels = {"x": t("common.school_year"), "y": None, "series": ""}
    chart = charts.build_trend_chart(frame.dropna(subset=["value"]), all_years, labels)
    table = trend_table(report, frame, all_years)
    first, last = all_years[0], all_years[-1]
    title = t("cluster_report.trends_title", cluster=report.cluster_name, first=first, last=last)
    details = []
    for indicator_id in TREND_INDICATORS:
        sel = frame[
            (frame["indicator_id"] == indicator_id) & (frame["series"] == report.cluster_name)
        ]
        sel = sel.dropna(subset=["value"]).sort_values("year")
        if len(sel) < 2:
            continue
        indicator = data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        details.append(
            t(
                "cluster_report.trends_detail",
                indicator=rc.indicator_name(t, indicator),
                cluster=report.cluster_name,
                first_value=rc.format_value(t, indicator, sel["value"].iloc[0] / scale),
                first=sel["year_label"].iloc[0],
                last_value=rc.format_value(t, indicator, sel["value"].iloc[-1] / scale),
                last=sel["year_label"].iloc[-1],
            )
        )
    description = t(
        "cluster_report.trends_description", cluster=report.cluster_name, detail=" ".join(details)
    )
    footnotes = [t("common.suppressed_note", min_n=data.min_n)]
    parts.append(
        charts.chart_html(
            chart,
            table,
            title,
            description,
            "udvikling",
            report.tables_dir,
            language=t.language,
            footnotes=footnotes,
            table_caption=t("cluster_report.trends_table_caption", cluster=report.cluster_name),
        )
    )
    parts.append(trend_slopes_html(report))
    return rc.section("udvikling", section_title(report, "trends"), "".join(parts))


def trend_slopes(report: ClusterReport) -> pd.DataFrame:
    """Linear trend per year over the last TREND_YEARS years with data (stats.change.trend) for
    the cluster's trend indicators; verdict better/worse/none as for changes."""
    from evaluation.errors import EvaluationError
    from evaluation.stats import change

    values = report.data.values
    rows = []
    for indicator_id in TREND_INDICATORS:
        if indicator_id not in report.data.catalog.by_id:
            continue
        indicator = report.data.catalog.get(indicator_id)
        sel = values[
            (values["indicator_id"] == indicator_id)
            & (values["level"] == "cluster")
            & (values["entity_id"] == report.cluster_id)
            & (values["year"] <= report.year)
        ].dropna(subset=["value", "se"])
        sel = sel[sel["se"] > 0]
        try:
            fit = change.trend(sel["year"], sel["value"], sel["se"], last_k=TREND_YEARS)
        except EvaluationError:
            continue  # fewer than 3 years with figures
        rows.append(
            {
                "indicator": indicator,
                **fit,
                "verdict": rc.judge(indicator, fit["ci_low"], fit["ci_high"]),
            }
        )
    return pd.DataFrame(rows)


def format_slope(t: Texts, indicator, value) -> str:
    """A change per year: 3 decimals on a 1-5 scale (yearly steps are small), else as changes."""
    if indicator.kind == "mean" and not rc.is_missing(value):
        return t.number(value, decimals=3, signed=True)
    return rc.format_difference(t, indicator, value)


def trend_slopes_html(report: ClusterReport) -> str:
    """The trend table with one plain sentence before it; empty when no indicator has 3 years."""
    t = report.t
    slopes = trend_slopes(report)
    report.cache["trend_slopes"] = slopes
    if slopes.empty:
        return ""
    cols = t.lookup("cluster_report.trend_columns")
    table = pd.DataFrame(
        {
            cols["indicator"]: [rc.indicator_name(t, i) for i in slopes["indicator"]],
            cols["period"]: [
                t(
                    "cluster_report.trend_period",
                    first=format_school_year(a),
                    last=format_school_year(b),
                    years=k,
                )
                for a, b, k in zip(
                    slopes["first_year"], slopes["last_year"], slopes["n_years"], strict=True
                )
            ],
            cols["slope"]: [
                format_slope(t, i, v)
                for i, v in zip(slopes["indicator"], slopes["slope"], strict=True)
            ],
            cols["interval"]: [
                t(
                    "format.interval_signed",
                    lower=format_slope(t, i, lo),
                    upper=format_slope(t, i, hi),
                )
                for i, lo, hi in zip(
                    slopes["indicator"], slopes["ci_low"], slopes["ci_high"], strict=True
                )
            ],
            cols["verdict"]: [t(f"cluster_report.trend_verdict.{v}") for v in slopes["verdict"]],
        }
    )
    if report.tables_dir is not None:
        charts.write_table_csv(table, "udvikling-tendens", report.tables_dir, t.language)
    caption = t("cluster_report.trend_caption", cluster=report.cluster_name)
    intro = rc.paragraph(t("cluster_report.trend_intro", years=TREND_YEARS))
    return intro + charts.table_to_html(table, caption, [t("cluster_report.trend_note")])


def trend_table(report: ClusterReport, frame: pd.DataFrame, all_years: list[str]) -> pd.DataFrame:
    """Rows: indicator and series; columns: every school year (missing years show –)."""
    t = report.t
    rows = []
    for (indicator_id, series), sel in frame.groupby(["indicator_id", "series"], sort=False):
        indicator = report.data.catalog.get(indicator_id)
        scale = rc.display_scale(indicator)
        by_year = dict(zip(sel["year_label"], sel["value"], strict=True))
        row = {t("common.indicator"): f"{rc.indicator_name(t, indicator)}: {series}"}
        for label in all_years:
            value = by_year.get(label, math.nan)
            row[label] = rc.format_value(
                t, indicator, value / scale if not rc.is_missing(value) else value
            )
        rows.append(row)
    return pd.DataFrame(rows)


# --- what stands out, reflection, data quality, methods ------------------------------------


def standout_lines(report: ClusterReport) -> list[str]:
    """Only statistically clear findings: changes and differences whose interval excludes 0,
    and units outside the 99.8 % funnel limits."""
    t = report.t
    lines = []
    status = pd.concat(
        [
            report.status("headline", rc.HEADLINE_INDICATORS),
            report.status("inclusion", rc.INCLUSION_INDICATORS),
            report.status("statements", STATEMENT_INDICATORS),
        ],
        ignore_index=True,
    ).drop_duplicates("indicator_id")
    for row in status.itertuples(index=False):
        name = rc.indicator_phrase(t, row.indicator)
        if row.change_verdict in ("better", "worse"):
            lines.append(
                t(
                    "cluster_report.standout_change",
                    indicator=name,
                    direction=t(f"cluster_report.direction_{row.change_verdict}"),
                    previous=format_school_year(row.previous_year),
                    before=rc.format_value(t, row.indicator, row.previous_value),
                    after=rc.format_value(t, row.indicator, row.value),
                    change=rc.format_difference(t, row.indicator, row.change),
                    interval=rc.format_interval(
                        t, row.indicator, row.change_lower, row.change_upper, signed=True
                    ),
                )
            )
        if row.position in ("better", "worse"):
            lines.append(
                t(
                    "cluster_report.standout_level",
                    indicator=name,
                    direction=t(
                        "cluster_report.direction_"
                        + ("above" if row.value > row.reference else "below")
                    ),
                    value=rc.format_value(t, row.indicator, row.value),
                    reference=rc.format_value(t, row.indicator, row.reference),
                    difference=rc.format_difference(t, row.indicator, row.value - row.reference),
                    interval=rc.format_interval(
                        t,
                        row.indicator,
                        row.lower - row.reference,
                        row.upper - row.reference,
                        signed=True,
                    ),
                )
            )
    for indicator_id in funnel_indicators(report):
        found = funnel_for(report, indicator_id)
        if not found or found["units"] is None:
            continue
        for row in found["units"].itertuples(index=False):
            if row.classification_998 == "within":
                continue
            key = (
                "position_above_998" if row.classification_998 == "above" else "position_below_998"
            )
            lines.append(
                t(
                    "cluster_report.standout_unit",
                    unit=row.name,
                    position=t(f"cluster_report.{key}"),
                    indicator=rc.indicator_phrase(t, found["indicator"]),
                    value=rc.format_value(t, found["indicator"], row.value),
                    reference=rc.format_value(t, found["indicator"], found["target"]),
                )
            )
    return lines


def build_standouts(report: ClusterReport) -> rc.Html:
    t = report.t
    lines = standout_lines(report)
    report.cache["standouts"] = lines
    body = rc.paragraph(t("cluster_report.standouts_intro"))
    if lines:
        body += rc.bullets(lines)
    else:
        body += rc.paragraph(t("cluster_report.standouts_none", school_year=report.school_year))
    return rc.section("skiller-sig-ud", section_title(report, "standouts"), body)


def build_reflection(report: ClusterReport) -> rc.Html:
    """Questions tied to the FRA -> TIL movement and the statements, from the findings."""
    t = report.t
    status = pd.concat(
        [
            report.status("headline", rc.HEADLINE_INDICATORS),
            report.status("inclusion", rc.INCLUSION_INDICATORS),
        ],
        ignore_index=True,
    ).drop_duplicates("indicator_id")
    if "unit_outliers" not in report.cache:
        build_funnels(report)
    groups = build_questions(
        t, status, report.status("statements", STATEMENT_INDICATORS), report.cache["unit_outliers"]
    )
    body = rc.paragraph(t("cluster_report.reflection_intro"))
    for group in groups:
        body += f"<h3>{rc.esc(group.heading)}</h3>"
        body += (
            '<ul class="wb-questions">'
            + "".join(f"<li>{rc.esc(q)}</li>" for q in group.questions)
            + "</ul>"
        )
    report.cache["questions"] = sum(len(g.questions) for g in groups)
    return rc.section("refleksion", section_title(report, "reflection"), body)


def build_data_quality(report: ClusterReport) -> rc.Html:
    """Response, missing years, suppressed cells and membership changes, in words."""
    t, data = report.t, report.data
    values = data.values
    lines = []
    gen = values[
        (values["indicator_id"] == "generel_trivsel")
        & (values["level"] == "cluster")
        & (values["entity_id"] == report.cluster_id)
    ]
    counts = [
        format_school_year(r.year)
        + ": "
        + (SUPPRESSED_MARKER if rc.is_missing(r.n) else t.number(r.n, decimals=0))
        for r in gen.sort_values("year").itertuples(index=False)
        if r.year <= report.year
    ]
    if counts and data.public:
        lines.append(t("public_cluster.quality_pupils", counts="; ".join(counts)))
        lines.append(t("public_cluster.quality_suppressed"))
    elif counts:
        lines.append(t("cluster_report.quality_response", counts="; ".join(counts)))
    years = [y for y in data.years if y <= report.year]
    gap_lines = rc.missing_years_sentences(
        t, data, "cluster_report.quality_missing_years", report.year
    )
    lines += gap_lines
    if not gap_lines and years:
        lines.append(
            t(
                "cluster_report.quality_no_missing",
                first=format_school_year(min(years)),
                last=format_school_year(max(years)),
            )
        )
    members = member_units(data, report.cluster_id, report.year)["unit_id"]
    mine = values[
        (values["level"] == "unit")
        & (values["year"] == report.year)
        & (values["entity_id"].isin(members))
    ]
    hidden = mine[mine["suppressed"].astype(bool)]
    if len(hidden):
        reasons = hidden["suppression_reason"].value_counts()
        lines.append(
            t(
                "cluster_report.quality_suppressed",
                school_year=report.school_year,
                count=len(hidden),
                primary=int(reasons.get("primary", 0)),
                secondary=int(reasons.get("secondary", 0)),
            )
        )
    else:
        lines.append(t("cluster_report.quality_no_suppressed", school_year=report.school_year))
    changes = membership_changes(data, report.cluster_id)
    if changes:
        words = [
            t(
                f"cluster_report.quality_membership_{kind}",
                unit=name,
                school_year=format_school_year(year),
            )
            for kind, name, year in changes
        ]
        lines.append(t("cluster_report.quality_membership", changes="; ".join(words)))
    else:
        lines.append(t("cluster_report.quality_no_membership"))
    lines.append(t("cluster_report.quality_items"))
    report.cache["suppressed_cells"] = len(hidden)
    body = rc.paragraph(t("cluster_report.quality_intro")) + rc.bullets(lines)
    return rc.section("datakvalitet", section_title(report, "quality"), body)


def build_methods(report: ClusterReport) -> rc.Html:
    t = report.t
    key = "public_cluster.methods_items" if report.data.public else "cluster_report.methods_items"
    items = [item.format(min_n=report.data.min_n) for item in t.lookup(key)]
    body = rc.bullets(items) + public_source_html(report)
    return rc.section("metode", section_title(report, "methods"), body)


def funnel_indicators(report: ClusterReport) -> tuple[str, ...]:
    return PUBLIC_FUNNEL_INDICATORS if report.data.public else FUNNEL_INDICATORS


def public_source_html(report: ClusterReport) -> str:
    """The ministry's credit line and what the figures are, when they are published aggregates."""
    if not report.data.public:
        return ""

    note = report.t("public_cluster.source_note", school_year=report.school_year)
    return rc.credit_html(report.t.language) + rc.paragraph(note, "wb-meta")


def collect_key_figures(report: ClusterReport) -> dict:
    """Figures `workbench verify` compares between runs (no pupil rows, no suppressed values)."""
    rows = report.status("headline", rc.HEADLINE_INDICATORS)
    figures = {
        "report": "cluster_report",
        "cluster": report.cluster_id,
        "year": report.year,
        "min_n": report.data.min_n,
    }
    for row in rows.itertuples(index=False):
        if not rc.is_missing(row.value):
            figures[f"{row.indicator_id}.value"] = round(float(row.value), 6)
        if not rc.is_missing(row.change):
            figures[f"{row.indicator_id}.change"] = round(float(row.change), 6)
        figures[f"{row.indicator_id}.verdict"] = row.change_verdict
    figures["standouts"] = len(report.cache.get("standouts", standout_lines(report)))
    return figures


def record_figures(report: ClusterReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
