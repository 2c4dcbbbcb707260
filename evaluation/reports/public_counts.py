"""Sampling limits for the municipality's schools whose respondent count is published (issue 16).

The public funnels rest on a size-spread fit (`evaluation.stats.spread`): the ministry publishes
no n for the indices. Where the run has a warehouse with the ministry's answer distributions
(TRIV/TRIVSP, table `public_answers`), each school's `Antal svar` is published: the largest
question count of the school and year (`values.public_answers.school_respondents`) is taken as
its respondents, and the school gets sampling limits with that n,
target +/- z sqrt(tau2 + sd^2 / n + rounding) (`evaluation.stats.spread.counted_limits`): tau2
is the between-school variance of the country's fit, sd the pupil-level sd of an index (0.6,
DESIGN.md: not published, so stated). Schools without a published count keep only the fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.data import warehouse
from evaluation.data.public_files import ABSENCE_INDICATOR
from evaluation.reports.funnels import (
    FunnelFigure,
    funnel_figure_html,
    funnel_labels,
    limit_names,
    outside_counts,
    position_labels,
)
from evaluation.reports.public_parts import (
    as_printed,
    band_notes,
    labelled_points,
    limit_lines,
    value_span,
    with_at_limit,
    with_axis_note,
)
from evaluation.reports.public_svg import compact_svgs
from evaluation.stats.rounding import classify_rounded
from evaluation.stats.spread import ASSUMED_PUPIL_SD, ROUNDING_VARIANCE, counted_limits
from evaluation.values.aggregate import table_names
from evaluation.values.public_answers import read_answers, school_respondents


def published_respondents(warehouse_path: str | None, year: int) -> pd.Series:
    """unit_id -> respondents of `year` from the warehouse's `public_answers` (empty Series when
    no warehouse is given or it holds no answers)."""
    if not warehouse_path or not Path(warehouse_path).is_file():
        return pd.Series(dtype=float)
    with warehouse.connect(warehouse_path) as con:
        answers = read_answers(con, table_names(con))
    counts = school_respondents(answers)
    counts = counts[counts["year"] == int(year)]
    return counts.set_index("unit_id")["respondents"].astype(float)


WIDEST_Z = 3.09  # the 99.8 % limit: the y axis holds both bands over the n drawn


def counted_rows(report, indicator_id: str) -> pd.DataFrame:
    """The municipality's schools with a published count: n, value, limits, classification."""
    if indicator_id == ABSENCE_INDICATOR or report.respondents.empty:
        return pd.DataFrame()
    comp = report.comparison
    size = comp.schools[indicator_id]["size"]
    own = comp.own_schools(indicator_id)
    own = own[own["entity_id"].isin(report.respondents.index)]
    if own.empty:
        return pd.DataFrame()
    n = own["entity_id"].map(report.respondents).to_numpy(float)
    tau2 = max(size.intercept - ROUNDING_VARIANCE, 0.0)
    lower, upper = counted_limits(size.target, n, ASSUMED_PUPIL_SD["mean"], tau2, 0.95)
    return pd.DataFrame(
        {
            "name": own["name"].to_numpy(),
            "respondents": n,
            "value": own["value"].to_numpy(float),
            "lower_95": lower,
            "upper_95": upper,
            "classification": classify_rounded(own["value"], lower, upper),
            "fit_classification": own["classification"].to_numpy(),
        }
    ).sort_values("name")


def counted_table(report, rows: pd.DataFrame) -> pd.DataFrame:
    """The counted schools as printed: n, value, limits with n, both positions."""
    t = report.t
    return pd.DataFrame(
        {
            t("public.columns.school"): rows["name"],
            t("public3.columns.respondents"): [t.number(v, 0) for v in rows["respondents"]],
            t("public.columns.value"): [t.number(v, 1) for v in rows["value"]],
            t("public3.columns.counted_limits"): [
                t("format.interval", lower=t.number(lo, 2), upper=t.number(hi, 2))
                for lo, hi in zip(rows["lower_95"], rows["upper_95"], strict=True)
            ],
            t("public3.columns.counted_position"): position_labels(t, rows["classification"]),
            t("public3.columns.fit_position"): position_labels(t, rows["fit_classification"]),
        }
    )


def counted_variance(report, indicator_id: str):
    """(target, variance(n)) of the sampling-based funnel: a school mean of n answers."""
    size = report.comparison.schools[indicator_id]["size"]
    tau2 = max(size.intercept - ROUNDING_VARIANCE, 0.0)
    sd = ASSUMED_PUPIL_SD["mean"]
    return size.target, lambda n: tau2 + sd**2 / np.asarray(n, float) + ROUNDING_VARIANCE


def counted_html(report, indicator_id: str) -> str:
    """The sampling-based funnel of the schools with a published count, with their table under
    it ("" without any): x is the published `Antal svar`, the limits those of `counted_limits`
    (Spiegelhalter 2005), drawn over the same n as the points."""
    rows = counted_rows(report, indicator_id)
    if rows.empty:
        return ""
    t = report.t
    name = report.indicator_name(indicator_id)
    target, variance = counted_variance(report, indicator_id)
    # the lines run a little beyond the points' n, so one school still gets a funnel
    sizes = pd.Series([rows["respondents"].min() * 0.7, rows["respondents"].max() * 1.3])
    widest = target + np.array([-1, 1]) * WIDEST_Z * np.sqrt(variance(sizes.min()))
    grid = np.geomspace(sizes.min(), sizes.max(), 60)
    # sampling limits (with the between-school variance), not the fit's band of variation
    limits = limit_lines(target, grid, variance, limit_names(t), value_span(widest))
    points, tied = labelled_points(
        t,
        pd.DataFrame(
            {
                "name": rows["name"].to_numpy(),
                "n": rows["respondents"].to_numpy(),
                "value": rows["value"].to_numpy(),
                "position": position_labels(t, rows["classification"]),
            }
        ),
        pd.concat([rows["respondents"], sizes]),  # the chart's x and y extent, as drawn
        pd.concat([rows["value"], limits["value"]]),
        indicator_id,
    )
    words = {"indicator": name, **report.names, "school_year": report.school_year}
    description = t(
        "public4.counted_description",
        target=t.number(target, 2),
        count=len(rows),
        **outside_counts(rows["classification"]),
        **report.names,
    )
    figure = FunnelFigure(
        points=points,
        limits=limits,
        target=target,
        labels=funnel_labels(t, t("public3.columns.respondents"), name),
        y_format=".1f",
        others=None,
        title=t("public4.counted_title", **words),
        description=with_axis_note(t, with_at_limit(t, description, rows["classification"])),
        table=counted_table(report, rows),
        slug=f"public-counted-{indicator_id}",
        footnotes=[
            *tied,
            *band_notes(
                t,
                t(
                    "public3.counted_note",
                    sd=t.number(ASSUMED_PUPIL_SD["mean"], 1),
                    count=len(rows),
                ),
            ),
        ],
        csv_table=as_printed(rows.drop(columns="fit_classification"), indicator_id),
        table_caption=t("public3.counted_caption", **words),
        at_limit=True,
    )
    return compact_svgs(funnel_figure_html(t, figure, report.tables_dir), figure.slug)


def counted_share(report) -> tuple[int, int]:
    """(schools with a published count, the municipality's schools) for the report's facts."""
    units = report.comparison.units["unit_id"]
    return int(np.isin(units, report.respondents.index).sum()), len(units)
