"""What the public report's sections share: the report object with its texts bound once, the
municipality's name in a sentence, numbers as published, and the two funnel figures (schools
against the country, municipalities against each other), drawn by `evaluation.reports.funnels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.catalog import Catalog
from evaluation.data.public_files import ABSENCE_INDICATOR
from evaluation.reports import common as rc
from evaluation.reports.funnels import (
    FunnelFigure,
    band_names,
    funnel_figure_html,
    funnel_labels,
    outside_counts,
    position_label,
    position_labels,
)
from evaluation.reports.public_comparison import PublicComparison
from evaluation.reports.public_svg import compact_svgs
from evaluation.stats import compare
from evaluation.texts import Texts, format_school_year


@dataclass
class PublicReport:
    """Everything the section builders need; made once by `public_report.prepare_report`."""

    comparison: PublicComparison
    t: Texts
    catalog: Catalog
    min_n: int
    tables_dir: str | None
    # unit_id -> published respondents (TRIVSP `Antal svar`) of the report's year, when a
    # warehouse with the ministry's answer distributions was given (public_counts)
    respondents: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    history: object = None  # a multi-year public warehouse's ReportData (public_change)
    published: object = None  # the public warehouse's ReportData, any years (public_official)

    @property
    def school_year(self) -> str:
        return format_school_year(self.comparison.year)

    @property
    def names(self) -> dict[str, str]:
        """The municipality's name and its genitive, for the texts' {municipality} and {owner}."""
        name = self.comparison.municipality
        return {"municipality": name, "owner": genitive(name, self.t.language)}

    def indicator_name(self, indicator_id: str) -> str:
        return rc.indicator_name(self.t, self.catalog.get(indicator_id))


def genitive(name: str, language: str) -> str:
    """ "Aarhus" -> "Aarhus'" and "København" -> "Københavns" (da); "Aarhus's" (en)."""
    if language == "en":
        return f"{name}'s"
    return f"{name}'" if name[-1:].lower() in ("s", "x", "z") else f"{name}s"


def value_decimals(indicator_id: str) -> int:
    """Decimals shown: indices 2 (means of one-decimal values), absence 1."""
    return 2 if indicator_id != ABSENCE_INDICATOR else 1


def as_printed(frame: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """The table's values and limits rounded as the page prints them: a CSV export publishes
    no decimal the page hides (issue #18)."""
    columns = [c for c in frame.columns if c == "value" or c.startswith(("lower_", "upper_"))]
    return frame.assign(
        **{c: frame[c].astype(float).round(value_decimals(indicator_id)) for c in columns}
    )


def format_value(t: Texts, indicator_id: str, value: float) -> str:
    """A value with the decimals of `value_decimals`."""
    return t.number(value, value_decimals(indicator_id))


# --- limit lines ----------------------------------------------------------------------------


def limit_lines(
    target: float, n_grid, variance, labels: tuple[str, str], span: tuple[float, float]
) -> pd.DataFrame:
    """Funnel lines target +/- z sqrt(variance(n)) at 95 % and 99.8 %, long for the chart.

    Points of a line outside `span` (the data's range plus a margin) are dropped, so the lines
    of the tiniest sizes do not stretch the y axis far beyond the data.
    """
    frames = []
    for level, label in zip(compare.LEVELS, labels, strict=True):
        half = compare.z_for_level(level) * np.sqrt(variance(n_grid))
        for side, sign in (("lower", -1), ("upper", 1)):
            frames.append(
                pd.DataFrame(
                    {"n": n_grid, "limit": label, "side": side, "value": target + sign * half}
                )
            )
    lines = pd.concat(frames, ignore_index=True)
    return lines[lines["value"].between(*span)].reset_index(drop=True)


def value_span(values) -> tuple[float, float]:
    """The range of the values plus a tenth of it each side."""
    low, high = float(np.min(values)), float(np.max(values))
    pad = max(high - low, 1e-9) * 0.1
    return low - pad, high + pad


def funnel_lines(t: Texts, target: float, sizes: pd.Series, variance, values) -> pd.DataFrame:
    """The band lines over the range of sizes shown, kept near the values shown."""
    grid = np.geomspace(sizes.min(), sizes.max(), 120)
    return limit_lines(target, grid, variance, band_names(t), value_span(values))


def flagged(classification: pd.Series) -> pd.Series:
    """Points named and listed: outside the band or at its limit (not "within")."""
    return classification != "within"


def with_at_limit(t: Texts, description: str, classification: pd.Series) -> str:
    """The description plus how many lie at the limit, when any do."""
    count = int((classification == "at_limit").sum())
    if not count:
        return description
    return f"{description} {t('public_band.at_limit_count', at_limit=count)}"


def band_notes(t: Texts, first: str) -> list[str]:
    """A funnel's footnotes: its own note, the rounding rule, the credit line."""
    return [first, t("public_band.rounding_note"), t("public.credit_line")]


# --- names that never print over each other ------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 600, 300  # px, as evaluation.reports.funnels draws a funnel
CHAR_WIDTH, LABEL_HEIGHT, LABEL_DX = 6.5, 13, 9  # px of a 12 px label drawn right of its point


def place_labels(
    points: pd.DataFrame, all_n: pd.Series, all_values: pd.Series
) -> tuple[list[str], list[int]]:
    """Names to draw (overlapping ones blanked) and the positions of the blanked ones.

    Points are placed as the funnel places them (square-root x over `all_n`, linear y over
    `all_values`); a name is kept when its box (right of the point) overlaps no kept name's
    box, highest value first, then left to right. Schools with one published decimal often
    share a value and a size ("SluseholmenHeibergskolen" on the real figures).
    """
    root = np.sqrt(pd.to_numeric(all_n, errors="coerce"))
    low, high = float(np.nanmin(root)), float(np.nanmax(root))
    y_low, y_high = float(np.nanmin(all_values)), float(np.nanmax(all_values))
    x = CHART_WIDTH * (np.sqrt(points["n"].to_numpy(float)) - low) / max(high - low, 1e-9)
    y = CHART_HEIGHT * (points["value"].to_numpy(float) - y_low) / max(y_high - y_low, 1e-9)
    names = [str(name) for name in points["name"]]
    kept: list[tuple[float, float, float]] = []  # left, right, y of each kept name
    dropped = []
    for i in sorted(range(len(names)), key=lambda i: (-y[i], x[i])):
        if not names[i]:
            continue
        left, right = x[i] + LABEL_DX, x[i] + LABEL_DX + CHAR_WIDTH * len(names[i])
        if any(abs(y[i] - ky) < LABEL_HEIGHT and left < kr and kl < right for kl, kr, ky in kept):
            dropped.append(i)
        else:
            kept.append((left, right, y[i]))
    shown = ["" if i in dropped else name for i, name in enumerate(names)]
    return shown, sorted(dropped)


def labelled_points(
    t: Texts, points: pd.DataFrame, all_n, all_values, indicator_id: str
) -> tuple[pd.DataFrame, list[str]]:
    """The points with overlapping names blanked, and the footnote that names them."""
    shown, dropped = place_labels(points, all_n, all_values)
    if not dropped:
        return points.assign(name=shown), []
    names = "; ".join(
        f"{points['name'].iloc[i]} ({format_value(t, indicator_id, points['value'].iloc[i])})"
        for i in dropped
    )
    return points.assign(name=shown), [t("public2.tied_labels", names=names)]


def with_axis_note(t: Texts, description: str) -> str:
    """A funnel's caption says that its x axis is square-root scaled."""
    return f"{description} {t('public2.sqrt_axis')}"


# --- the municipality's schools against the country's --------------------------------------


def school_funnel_html(report: PublicReport, indicator_id: str) -> str:
    """The municipality's schools against the country's schools for one indicator."""
    t, comp = report.t, report.comparison
    result = comp.schools[indicator_id]
    size, own = result["size"], comp.own_schools(indicator_id)
    name = report.indicator_name(indicator_id)
    if own.empty:
        return rc.paragraph(t("public.funnel_none", indicator=name))
    all_units = result["units"]
    points, tied = labelled_points(
        t,
        pd.DataFrame(
            {
                "name": np.where(flagged(own["classification"]), own["name"], ""),
                "n": own["n"],
                "value": own["value"],
                "position": position_labels(t, own["classification"]),
            }
        ),
        all_units["n"],
        all_units["value"],
        indicator_id,
    )
    figure = FunnelFigure(
        points=points,
        limits=funnel_lines(t, size.target, all_units["n"], size.variance, all_units["value"]),
        target=size.target,
        labels=funnel_labels(t, t("public.schools_x"), name),
        y_format=".1f",
        others=other_schools(t, all_units, comp.municipality),
        title=t(
            "public.schools_funnel_title",
            indicator=name,
            **report.names,
            school_year=report.school_year,
        ),
        description=with_axis_note(
            t,
            with_at_limit(
                t,
                t(
                    "public.schools_funnel_description",
                    target=format_value(t, indicator_id, size.target),
                    shown=len(own),
                    **outside_counts(own["classification"]),
                    **report.names,
                ),
                own["classification"],
            ),
        ),
        table=outside_schools_table(t, own, indicator_id),
        slug=f"public-schools-{indicator_id}",
        footnotes=[
            *tied,
            *band_notes(t, t("public_band.schools_note")),
            *counted_aside(report, own, indicator_id),
        ],
        csv_table=as_printed(
            own[["entity_id", "name", "n", "value", "lower_95", "upper_95"]].assign(
                lower_998=own["lower_998"],
                upper_998=own["upper_998"],
                classification=own["classification"],
                classification_998=own["classification_998"],
            ),
            indicator_id,
        ),
        table_caption=t("public.schools_table_caption", **report.names),
        at_limit=True,
    )
    return compact_svgs(funnel_figure_html(t, figure, report.tables_dir), figure.slug)


def counted_aside(report: PublicReport, own: pd.DataFrame, indicator_id: str) -> list[str]:
    """Which limits this funnel uses when some schools also have a published respondent count
    (public_counts draws their sampling-based funnel next): one sentence, or none."""
    counted = int(own["entity_id"].isin(report.respondents.index).sum())
    if not counted or indicator_id == ABSENCE_INDICATOR:
        return []
    return [report.t("public4.fit_beside_counted", count=counted)]


def other_schools(t: Texts, all_units: pd.DataFrame, municipality: str) -> pd.DataFrame | None:
    """The country's other schools (n, value, group), the funnel's grey background."""
    others = all_units.loc[all_units["municipality"] != municipality, ["n", "value"]]
    return others.assign(group=t("public.other_schools")) if not others.empty else None


def outside_schools_table(t: Texts, own: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """The municipality's schools outside the 95 % band or at its limit, lowest value first."""
    outside = own[flagged(own["classification"])].sort_values("value")
    return pd.DataFrame(
        {
            t("public.columns.school"): outside["name"],
            t("public.columns.pupils"): outside["n"].astype(int),
            t("public.columns.value"): [format_value(t, indicator_id, v) for v in outside["value"]],
            t("public.columns.limits_95"): [
                t("format.interval", lower=t.number(lo, 2), upper=t.number(hi, 2))
                for lo, hi in zip(outside["lower_95"], outside["upper_95"], strict=True)
            ],
            t("public.columns.position_95"): position_labels(t, outside["classification"]),
            t("public.columns.position_998"): position_labels(t, outside["classification_998"]),
        }
    )


# --- the municipality against the other municipalities -------------------------------------


def municipality_funnel_html(report: PublicReport, indicator_id: str) -> str:
    """The municipality against the other 97 for one indicator (means of school values)."""
    t, comp = report.t, report.comparison
    result = comp.municipalities[indicator_id]
    units, shown = result["units"], result["shown"]
    name = report.indicator_name(indicator_id)
    tau2, unit_var = result["tau2"], result["unit_var"]
    label_it = (units["entity_id"] == comp.municipality) | (units["classification_998"] != "within")
    points, tied = labelled_points(
        t,
        pd.DataFrame(
            {
                "name": np.where(label_it, units["name"], ""),
                "n": units["n"],
                "value": units["value"],
                "position": position_labels(t, units["classification"]),
            }
        ),
        units["n"],
        units["value"],
        indicator_id,
    )
    figure = FunnelFigure(
        points=points,
        limits=funnel_lines(t, shown.target, units["n"], lambda n: unit_var / n, units["value"]),
        target=shown.target,
        labels=funnel_labels(t, t("public.municipalities_x"), name),
        y_format=".2f",
        others=None,
        title=t(
            "public.municipalities_funnel_title", indicator=name, school_year=report.school_year
        ),
        description=with_axis_note(
            t, municipality_description(report, indicator_id, units, shown.target, tau2)
        ),
        table=named_municipalities_table(t, units[label_it], indicator_id),
        slug=f"public-municipalities-{indicator_id}",
        footnotes=[*tied, *band_notes(t, t("public.municipalities_funnel_note"))],
        csv_table=as_printed(
            units[["name", "schools", "pupils", "value", "lower_95", "upper_95"]].assign(
                classification=units["classification"],
                classification_998=units["classification_998"],
            ),
            indicator_id,
        ),
        table_caption=t("public.municipalities_table_caption", **report.names),
        at_limit=True,
    )
    return compact_svgs(funnel_figure_html(t, figure, report.tables_dir), figure.slug)


def municipality_description(
    report: PublicReport, indicator_id: str, units: pd.DataFrame, target: float, tau2: float
) -> str:
    """Where the municipality lies, how many lie outside, and whether the limits were widened."""
    t = report.t
    own = units.set_index("entity_id").loc[report.comparison.municipality]
    description = t(
        "public.municipalities_funnel_description",
        **report.names,
        value=format_value(t, indicator_id, own["value"]),
        target=format_value(t, indicator_id, target),
        position=position_label(t, own["classification"]),
        **outside_counts(units["classification"]),
        total=len(units),
    )
    description = with_at_limit(t, description, units["classification"])
    adjusted = t("public.municipalities_adjusted") if tau2 > 0 else ""
    return f"{description} {adjusted}".strip()


def named_municipalities_table(t: Texts, named: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """The municipalities named in the chart, highest value first."""
    rows = named.sort_values("value", ascending=False)
    return pd.DataFrame(
        {
            t("public.columns.municipality_name"): rows["name"],
            t("public.columns.schools"): rows["schools"],
            t("public.columns.value"): [format_value(t, indicator_id, v) for v in rows["value"]],
            t("public.columns.position_95"): position_labels(t, rows["classification"]),
            t("public.columns.position_998"): position_labels(t, rows["classification_998"]),
        }
    )
