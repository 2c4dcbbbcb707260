"""The public report: the municipality's schools against the country, the municipality against
the other municipalities, and the municipal series, from the ministry's published figures.

The notebook `notebooks/public_report.ipynb` calls `prepare_report(...)` right after its
parameters (bad parameters stop there), then one `build_*` function per section, each returning
HTML to display, and finally `record_figures`. The numbers come from
`evaluation.reports.public_comparison`, the funnels from `evaluation.reports.public_parts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.catalog import load_catalog
from evaluation.data.public_files import ABSENCE_INDICATOR
from evaluation.reports import (
    charts,
    key_figures,
    public_change,
    public_counts,
    public_official,
)
from evaluation.reports import common as rc
from evaluation.reports.funnels import position_label
from evaluation.reports.public_comparison import (
    COMPARED_INDICATORS,
    build_public_comparison,
    same_value_contrasts,
)
from evaluation.reports.public_parts import (
    PublicReport,
    format_value,
    municipality_funnel_html,
    school_funnel_html,
    value_decimals,
)
from evaluation.reports.public_svg import compact_svgs
from evaluation.stats.spread import ROUNDING_VARIANCE
from evaluation.texts import format_school_year, texts_for

SECTIONS = (
    ("overblik", "overview"),
    ("skoler", "schools"),
    ("kommuner", "municipalities"),
    ("udvikling", "series"),
    ("begraensninger", "cannot"),
    ("metode", "methods"),
)
ANCHORS = {key: anchor for anchor, key in SECTIONS}
UNWEIGHTED_MARK = " †"  # a published value of a school without a pupil count (not placed)


def prepare_report(
    municipality: str,
    language: str = "da",
    data_dir: str = "",
    min_n: int = config.MIN_N_DEFAULT,
    tables_dir: str = "",
    warehouse: str = "",
) -> PublicReport:
    """Bind the texts (a bad language stops here), then compare the municipality once. A
    `warehouse` with the ministry's answer distributions adds the schools' published
    respondent counts (`public_counts`); without one the report reads the CSV files alone."""
    t = texts_for(language)
    comparison = build_public_comparison(municipality, data_dir or None, min_n)
    counts = public_counts.published_respondents(warehouse or None, comparison.year)
    published = public_change.load_published(warehouse or None, min_n)
    history = public_change.as_history(published)
    catalog = load_catalog()
    return PublicReport(
        comparison, t, catalog, min_n, tables_dir or None, counts, history, published
    )


section_title = rc.section_titles("public")  # section_title(report, key): a heading


def section(report: PublicReport, key: str, body: str) -> rc.Html:
    """An h2 section of the report, linked from the table of contents."""
    return rc.section(ANCHORS[key], section_title(report, key), body)


def section_intro(report: PublicReport, key: str) -> str:
    return rc.paragraph(report.t(f"public.intro.{key}", **report.names))


def build_title(report: PublicReport) -> rc.Html:
    """Title (the one h1), lead, the credit line, what the report rests on, the contents."""
    t = report.t
    notes = {n["key"]: n for n in report.comparison.notes}
    facts = t(
        "public.facts",
        schools=notes["schools"]["count"],
        **report.names,
        school_year=report.school_year,
    )
    title = t("public.title", **report.names, school_year=report.school_year)
    intro = (
        rc.paragraph(t("public.lead"), "wb-lead")
        + rc.credit_html(t.language)
        + rc.paragraph(facts)
        + f'<div class="wb-note">{rc.paragraph(t("public.how_to_read"))}</div>'
    )
    return rc.report_header(t, "public", SECTIONS, title, intro)


def overview_table(report: PublicReport) -> pd.DataFrame:
    """One row per indicator: the municipality's value, the country's, and the placement."""
    t, comp = report.t, report.comparison
    rows = []
    for ind, result in comp.municipalities.items():
        own = result["units"].set_index("entity_id").loc[comp.municipality]
        schools = comp.own_schools(ind)
        rows.append(
            {
                t("public.columns.indicator"): report.indicator_name(ind),
                t("public.columns.municipality"): format_value(t, ind, own["value"]),
                t("public.columns.country"): format_value(t, ind, result["plain"].target),
                t("public.columns.position_95"): position_label(t, own["classification"]),
                t("public.columns.position_998"): position_label(t, own["classification_998"]),
                t("public.columns.schools"): len(schools),
                t("public.columns.schools_outside"): int(
                    schools["classification"].isin(["above", "below"]).sum()
                ),
                t("public_band.schools_at_limit"): int(
                    (schools["classification"] == "at_limit").sum()
                ),
            }
        )
    return pd.DataFrame(rows)


def build_overview(report: PublicReport) -> rc.Html:
    t = report.t
    caption = t("public.overview_caption", **report.names, school_year=report.school_year)
    notes = [t("public.direction_note"), *contrast_lines(report), t("public.credit_line")]
    body = rc.paragraph(t("public.overview_intro")) + charts.table_to_html(
        overview_table(report), caption, notes
    )
    return section(report, "overview", body)


def contrast_lines(report: PublicReport) -> list[str]:
    """One sentence per school that has the municipality's value but another position: the two
    are placed in different bands (`public_comparison.same_value_contrasts` says which)."""
    t, comp = report.t, report.comparison
    lines = []
    for ind in comp.municipalities:
        for c in same_value_contrasts(comp, ind, value_decimals(ind)):
            limits = {
                key: t(
                    "format.interval",
                    lower=format_value(t, ind, c[key][0]),
                    upper=format_value(t, ind, c[key][1]),
                )
                for key in ("school_limits", "municipality_limits")
            }
            lines.append(
                t(
                    "public_band.same_value",
                    school=c["school"],
                    municipality=comp.municipality,
                    value=format_value(t, ind, c["value"]),
                    indicator=report.indicator_name(ind),
                    school_position=position_label(t, c["school_state"]),
                    municipality_position=position_label(t, c["municipality_state"]),
                    reason=t(f"public_band.{c['reason']}"),
                    **limits,
                )
            )
    return lines


def schools_table(report: PublicReport) -> pd.DataFrame:
    """All the municipality's schools, one column per indicator: value and a mark when outside."""
    t, comp = report.t, report.comparison
    marks = {"above": " ▲", "below": " ▼", "at_limit": " ◆", "within": ""}
    out = comp.units[["unit_id", "name"]].rename(columns={"name": t("public.columns.school")})
    unweighted = comp.unweighted.set_index(["unit_id", "indicator_id"])["value"]
    for ind in COMPARED_INDICATORS:
        own = comp.own_schools(ind).set_index("entity_id")
        cells = [
            format_value(t, ind, own.at[u, "value"]) + marks[own.at[u, "classification"]]
            if u in own.index
            else format_value(t, ind, unweighted[(u, ind)]) + UNWEIGHTED_MARK
            if (u, ind) in unweighted.index
            else None
            for u in out["unit_id"]
        ]
        out[report.indicator_name(ind)] = cells
    return out.drop(columns="unit_id").sort_values(t("public.columns.school"))


def no_pupils_lines(report: PublicReport) -> list[str]:
    """One sentence naming the schools with values but no pupil count, when there are any."""
    names = next(n["names"] for n in report.comparison.notes if n["key"] == "no_pupils")
    if not names:
        return []
    return [report.t("public2.no_pupils_named", names=", ".join(names), **report.names)]


def build_schools(report: PublicReport) -> rc.Html:
    """The funnels of the municipality's schools, then one table with every school's values."""
    t = report.t
    parts = [section_intro(report, "schools"), counted_facts(report)]
    for ind in COMPARED_INDICATORS:
        parts += [school_funnel_html(report, ind), public_counts.counted_html(report, ind)]
    parts.append(
        charts.table_to_html(
            schools_table(report),
            t("public.schools_all_caption", **report.names),
            [
                t("public.schools_all_note"),
                *no_pupils_lines(report),
                *contrast_lines(report),
                t("public.credit_line"),
            ],
        )
    )
    parts.append(public_official.official_html(report))  # shares with a published n
    return section(report, "schools", "".join(parts))


def counted_facts(report: PublicReport) -> str:
    """Which figures rest on published respondent counts ("" when none were given)."""
    counted, schools = public_counts.counted_share(report)
    if not counted:
        return ""
    return rc.paragraph(report.t("public3.counted_facts", counted=counted, schools=schools))


def build_municipalities(report: PublicReport) -> rc.Html:
    """The municipality against the other municipalities, one funnel per indicator."""
    parts = [section_intro(report, "municipalities")]
    parts += [municipality_funnel_html(report, ind) for ind in COMPARED_INDICATORS]
    return section(report, "municipalities", "".join(parts))


def short_school_year(year: int) -> str:
    """2018 -> "18/19": eight years fit under a small chart."""
    return f"{year % 100:02d}/{(year + 1) % 100:02d}"


def series_frame(report: PublicReport) -> pd.DataFrame:
    """The series in the trend chart's shape: panel, series, year, year_label, value."""
    t, data = report.t, report.comparison.series
    national = t("public.country_level")
    return pd.DataFrame(
        {
            "panel": data["measure"].map(lambda m: t(f"public.series_measures.{m}")),
            "series": np.where(data["level"] == "national", national, data["municipality"]),
            "year": data["year"].astype(int),
            "year_label": data["year"].map(short_school_year),
            "value": data["value"].astype(float).round(1),  # as printed (issue #18)
            "lower": np.nan,
            "upper": np.nan,
        }
    )


def series_table(report: PublicReport, data: pd.DataFrame) -> pd.DataFrame:
    """One row per measure and school year, one column per series."""
    t = report.t
    table = data.pivot_table(
        index=["panel", "year_label"], columns="series", values="value", aggfunc="first"
    ).reset_index()
    table = table.rename(
        columns={"panel": t("public.columns.measure"), "year_label": t("common.school_year")}
    )
    for col in table.columns[2:]:
        table[col] = [t.number(v, 1) if pd.notna(v) else None for v in table[col]]
    return table


def build_series(report: PublicReport) -> rc.Html:
    """The municipality's and the country's series, or a note saying the file does not have it."""
    t = report.t
    head = section_intro(report, "series") + public_change.municipality_history_html(report)
    if report.comparison.series.empty:
        missing = public_official.series_missing(report)
        return section(report, "series", head + rc.paragraph(missing))
    data = series_frame(report)
    first, last = int(data["year"].min()), int(data["year"].max())
    all_years = [short_school_year(y) for y in range(first, last + 1)]
    labels = {"x": t("common.school_year"), "y": t("common.value"), "series": ""}
    chart = charts.build_trend_chart(data, all_years, labels, columns=3)
    title = t(
        "public.series_title",
        **report.names,
        first=format_school_year(first),
        last=format_school_year(last),
    )
    figure = charts.chart_html(
        chart,
        series_table(report, data),
        title,
        t("public.series_description", **report.names),
        "public-series",
        report.tables_dir,
        language=t.language,
        footnotes=[t("public.series_note"), t("public.credit_line")],
    )
    figure = compact_svgs(figure, "public-series")
    return section(report, "series", head + series_beside_ours(report) + figure)


def series_beside_ours(report: PublicReport) -> str:
    """The ministry's municipal absence of the report's year beside our pupil-weighted mean of
    the schools (the funnels' value), with why they differ (København 2024/25: 8,1 and 8,05)."""
    comp, t = report.comparison, report.t
    series = comp.series
    theirs = series[
        (series["measure"] == "absence_pct")
        & (series["level"] != "national")
        & (series["year"] == comp.year)
    ]
    if theirs.empty or ABSENCE_INDICATOR not in comp.municipalities:
        return ""
    own = comp.municipalities[ABSENCE_INDICATOR]["units"].set_index("entity_id")
    return rc.paragraph(
        t(
            "public2.series_beside_ours",
            **report.names,
            school_year=report.school_year,
            theirs=t.number(float(theirs["value"].iloc[0]), 1),
            ours=t.number(float(own.loc[comp.municipality, "value"]), 2),
        )
    )


def build_cannot(report: PublicReport) -> rc.Html:
    """What the public figures cannot say, in general and for this municipality."""
    t = report.t
    notes = {n["key"]: n for n in report.comparison.notes}
    facts = [
        t("public.note_absence", count=notes["absence_artefacts"]["count"]),
        t("public.note_no_pupils", count=notes["no_pupils"]["count"], **report.names),
        *no_pupils_lines(report),
        t("public.note_no_support", count=notes["no_support_values"]["count"], **report.names),
        t("public.note_min_n", min_n=report.min_n, count=notes["small_schools"]["count"]),
    ]
    if "no_series" in notes:
        facts.append(public_official.series_missing(report))
    items = public_official.cannot_items(report, t.lookup("public.cannot_items"))
    return section(report, "cannot", rc.bullets([*items, *facts]))


def dispersion_table(report: PublicReport) -> pd.DataFrame:
    """The over-dispersion figures per indicator, formatted for the methods section."""
    t, d = report.t, report.comparison.dispersion

    def shares(at_95: str, at_998: str) -> list[str]:
        pairs = zip(d[at_95], d[at_998], strict=True)
        return [f"{t.percent(a, 0)} / {t.percent(b, 0)}" for a, b in pairs]

    return pd.DataFrame(
        {
            t("public.columns.indicator"): [report.indicator_name(i) for i in d["indicator_id"]],
            t("public.columns.schools"): d["schools"],
            t("public.columns.between_sd"): [t.number(v, 3) for v in d["between_school_sd"]],
            t("public.columns.tau_fitted"): [t.number(v, 3) for v in d["tau_fitted"]],
            t("public.columns.phi"): [t.number(v, 1) for v in d["phi_naive"]],
            t("public.columns.tau_naive"): [t.number(v, 3) for v in d["tau_naive"]],
            t("public.columns.outside_naive"): shares("outside_95_naive", "outside_998_naive"),
            t("public.columns.outside_naive_tau"): shares(
                "outside_95_naive_tau", "outside_998_naive_tau"
            ),
            t("public.columns.outside_shown"): shares("outside_95_shown", "outside_998_shown"),
            t("public.columns.municipal_phi"): [t.number(v, 1) for v in d["municipal_phi"]],
        }
    )


def build_methods(report: PublicReport) -> rc.Html:
    """How the limits are made and the over-dispersion measured, with the credit line."""
    t = report.t
    values = {"rounding": t.number(ROUNDING_VARIANCE, 5)}
    items = [s.format(**values) for s in t.lookup("public.methods_items")]
    table = charts.table_to_html(
        dispersion_table(report),
        t("public.dispersion_caption"),
        [t("public.dispersion_note"), t("public.credit_line")],
    )
    return section(report, "methods", rc.bullets(items) + table + rc.credit_html(t.language))


def collect_key_figures(report: PublicReport) -> dict:
    """The figures `workbench verify` compares between runs."""
    comp = report.comparison
    figures = {"municipality": comp.municipality, "year": comp.year}
    for ind, result in comp.municipalities.items():
        own = result["units"].set_index("entity_id").loc[comp.municipality]
        shown = key_figures.Shown  # at the page's precision, never more (issue #18)
        figures[f"{ind}_municipality"] = shown(own["value"], value_decimals(ind))
        figures[f"{ind}_country"] = shown(result["shown"].target, value_decimals(ind))
        figures[f"{ind}_position"] = str(own["classification"])
        schools = comp.own_schools(ind)["classification"]
        figures[f"{ind}_schools_at_limit"] = int((schools == "at_limit").sum())
    for row in comp.dispersion.itertuples(index=False):
        figures[f"{row.indicator_id}_phi_naive"] = key_figures.Shown(row.phi_naive, 1)
        figures[f"{row.indicator_id}_tau_fitted"] = key_figures.Shown(row.tau_fitted, 3)
    return figures


def record_figures(report: PublicReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
