"""The one home of a funnel figure: the chart, its description and its table, as HTML.

The cluster report (units against the municipality) and the public report (schools against the
country, municipalities against each other) fill a `FunnelFigure` with their own points, limits
and words; `funnel_figure_html` draws every funnel the same way (shapes and colours by position,
dashed limit lines, grey context points) and shows it with `charts.chart_html`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import pandas as pd

from evaluation.reports.charts import (
    MUNICIPALITY_COLOUR,
    OKABE_ITO,
    TEXT_COLOUR,
    VALENCE_COLOURS,
    VALENCE_SHAPES,
    chart_html,
    encode,
    mark,
    props,
)
from evaluation.texts import Texts

# classification of evaluation.stats.compare -> the key of its words under `position.`
POSITION_KEYS = {"above": "over", "within": "within", "below": "under"}
POSITION_SHAPES = ["triangle-down", "circle", "triangle-up"]  # under, within, over
POSITION_COLOURS = [OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"]]
# published (rounded) figures have a fourth state, evaluation.stats.rounding's "at_limit": a
# limit inside the value's rounding interval. Its own colour and shape: under, at, within, over
AT_LIMIT_KEY = "public_band.at_limit"
AT_LIMIT_SHAPES = ["triangle-down", "diamond", "circle", "triangle-up"]
AT_LIMIT_COLOURS = [
    OKABE_ITO["vermillion"],
    OKABE_ITO["orange"],
    OKABE_ITO["blue"],
    OKABE_ITO["bluish_green"],
]


# what each position means where higher is better; `valence_of` turns it for lower-is-better
HIGHER_BETTER_VALENCE = {
    "under": "worse",
    "at_limit": "at_limit",
    "within": "none",
    "over": "better",
}


def valence_of(key: str, lower_better: bool = False) -> str:
    """better / worse / none / at_limit of a position key ("under", "over", ...): for fravær
    under the limits is the good side, so the palette follows the valence, not the axis."""
    valence = HIGHER_BETTER_VALENCE[key]
    if lower_better and valence in ("better", "worse"):
        return "worse" if valence == "better" else "better"
    return valence


@dataclass
class FunnelFigure:
    """What one funnel figure shows: the chart's data, then its words and its table."""

    points: pd.DataFrame  # name, n, value, position (a label of position_order)
    limits: pd.DataFrame  # n, limit (label), side (lower/upper), value: one line per limit, side
    target: float
    labels: dict[str, str]  # x, y, position, limit (see funnel_labels)
    y_format: str
    others: pd.DataFrame | None  # n, value, group: context points drawn grey without names
    title: str
    description: str
    table: pd.DataFrame
    slug: str
    footnotes: list[str]
    csv_table: pd.DataFrame | None = None  # written instead of `table` when given
    table_caption: str | None = None  # the title when not given
    at_limit: bool = False  # published figures: the legend carries "at the limit" too
    lower_better: bool = False  # lower is better: colours and symbols follow the valence
    valence_words: bool = False  # positions say which side is better ("(dårligere)")


def position_label(t: Texts, classification: str, valence_words: bool = False) -> str:
    """ "above" -> "over grænserne" (words of the texts' `position.` keys); "at_limit" ->
    "på grænsen". With `valence_words` the label also says which side is the good one,
    "under grænserne (bedre)" for fravær: the word beside the symbol, never colour alone."""
    if classification == "at_limit":
        return t(AT_LIMIT_KEY)
    label = t(f"position.{POSITION_KEYS.get(classification, 'within')}")
    if valence_words is not False and classification in ("above", "below"):
        key = POSITION_KEYS[classification]
        label += t(f"meeting.valence_suffix.{valence_of(key, valence_words == 'lower_better')}")
    return label


def position_labels(t: Texts, classifications, valence_words=False) -> list[str]:
    return [position_label(t, c, valence_words) for c in classifications]


def position_order(t: Texts, at_limit: bool = False, valence_words=False) -> list[str]:
    """The position labels from low to high: they pick shape and colour in that order.
    With at_limit, "på grænsen" comes second (AT_LIMIT_SHAPES, AT_LIMIT_COLOURS)."""
    middle = ["at_limit"] if at_limit else []
    return position_labels(t, ["below", *middle, "within", "above"], valence_words)


def limit_names(t: Texts) -> tuple[str, str]:
    """The names of the 95 % and the 99.8 % limit lines."""
    return t("position.limit_95"), t("position.limit_998")


def band_names(t: Texts) -> tuple[str, str]:
    """The 95 % and 99.8 % lines where no respondent count is known: a band of usual variation
    between schools, not sampling limits."""
    return t("public_band.limit_95"), t("public_band.limit_998")


def funnel_labels(t: Texts, x: str, y: str) -> dict[str, str]:
    """Axis titles and the legend titles every funnel shares."""
    return {
        "x": x,
        "y": y,
        "position": t("position.legend_title"),
        "limit": t("position.limit_title"),
    }


def outside_counts(classification: pd.Series) -> dict[str, int]:
    """How many points lie over and under the limits (for the descriptions' {over}, {under})."""
    counts = classification.value_counts()
    return {"over": int(counts.get("above", 0)), "under": int(counts.get("below", 0))}


def legend_valence_words(figure: FunnelFigure) -> str | bool:
    """The `valence_words` of position_label the figure's points were labelled with."""
    if not figure.valence_words:
        return False
    return "lower_better" if figure.lower_better else "higher_better"


def funnel_figure_html(t: Texts, figure: FunnelFigure, tables_dir: str | Path | None) -> str:
    """The figure with the SVG and its description, then its table (CSV when tables_dir is set)."""
    chart = build_funnel_chart(
        figure.points,
        figure.limits,
        figure.target,
        figure.labels,
        position_order(t, figure.at_limit, legend_valence_words(figure)),
        figure.y_format,
        others=figure.others,
        lower_better=figure.lower_better,
    )
    return chart_html(
        chart,
        figure.table,
        figure.title,
        figure.description,
        figure.slug,
        tables_dir,
        language=t.language,
        csv_table=figure.csv_table,
        footnotes=figure.footnotes,
        table_caption=figure.table_caption,
    )


# the chart ----------------------------------------------------------------------------------


def build_funnel_chart(
    points: pd.DataFrame,
    limits: pd.DataFrame,
    target: float,
    labels: dict[str, str],
    position_order: list[str],
    y_format: str = ".1f",
    others: pd.DataFrame | None = None,
    lower_better: bool = False,
) -> alt.TopLevelMixin:
    """Funnel plot: points by position (shape and colour) against the target and its limits.

    `points` columns: name, n, value, position (one of position_order, e.g. under/within/over).
    `limits` columns: n, limit (label), side (lower/upper), value: one line per limit and side.
    `others` (optional) columns: n, value, group: the rest of the units, drawn as small hollow
    grey circles without names, for context. `labels`: x, y, position, limit.

    Each unit is placed at its value as the page prints it (rounded to the axis format's
    decimals), never more precisely: an SVG coordinate must not publish a hidden decimal. The
    target line too, and the limits are moved with it (their midpoint is the target).
    """
    unknown = set(points["position"]) - set(position_order)
    if unknown:  # a point whose label the legend lacks is drawn without shape or colour
        raise ValueError(f"funnel positions {sorted(unknown)} not in the legend {position_order}")
    shown_target = round(float(target), shown_decimals(y_format))
    limits = limits.assign(value=limits["value"].astype(float) + (shown_target - float(target)))
    target = shown_target
    points = at_shown_precision(points, y_format)
    if others is not None:
        others = at_shown_precision(others, y_format)
    x = alt.X(
        "n:Q",
        title=labels["x"],
        scale=props(zero=False, nice=True, type="sqrt"),
        axis=props(format=",d", tickCount=6),
    )
    y = alt.Y(
        "value:Q",
        title=labels["y"],
        scale=props(zero=False, nice=True),
        axis=props(format=y_format),
    )
    layers = [limit_layer(limits, x, y, labels["limit"]), target_layer(target)]
    if others is not None and len(others):
        layers.append(others_layer(others, x))
    layers += point_layers(points, x, labels["position"], position_order, lower_better)
    # sizes and resolve given at construction, not by chained calls that copy the chart (#17)
    independent = alt.ScaleResolveMap(
        shape="independent", strokeDash="independent", color="independent"
    )
    return alt.layer(*layers, width=600, height=300, resolve=alt.Resolve(scale=independent))


def shown_decimals(y_format: str) -> int:
    """Decimals of a value printed with a d3 format: ".2f" -> 2, ".0%" -> 2 (a share)."""
    match = re.search(r"\.(\d+)([f%])", y_format)
    if not match:
        return 2
    return int(match.group(1)) + (2 if match.group(2) == "%" else 0)


def at_shown_precision(frame: pd.DataFrame, y_format: str) -> pd.DataFrame:
    """The frame with `value` rounded as the chart's axis prints it."""
    return frame.assign(value=frame["value"].astype(float).round(shown_decimals(y_format)))


def limit_layer(limits: pd.DataFrame, x: alt.X, y: alt.Y, title: str) -> alt.Chart:
    """The limit lines: one dash per limit, one line per side."""
    names = list(dict.fromkeys(limits["limit"]))
    dash = alt.StrokeDash("limit:N", title=title, scale=props(domain=names, range=[[6, 3], [2, 2]]))
    line = mark("line", color="#555555", strokeWidth=1.2)
    return encode(
        alt.Chart(limits, mark=line), x=x, y=y, strokeDash=dash, detail=alt.Detail("side:N")
    )


def target_layer(target: float) -> alt.Chart:
    rule = mark("rule", color=MUNICIPALITY_COLOUR, strokeWidth=1.5)
    return encode(alt.Chart(pd.DataFrame({"target": [target]}), mark=rule), y=alt.Y("target:Q"))


def others_layer(others: pd.DataFrame, x: alt.X) -> alt.Chart:
    """The context points, with one grey legend entry named by their `group`."""
    stroke = alt.Stroke("group:N", title=None, scale=props(range=["#777777"]), legend=props())
    hollow = mark("point", filled=False, size=40, color="#777777", opacity=0.9)
    return encode(alt.Chart(others, mark=hollow), x=x, y=alt.Y("value:Q"), stroke=stroke)


def point_layers(
    points: pd.DataFrame, x: alt.X, title: str, order: list[str], lower_better: bool = False
) -> list[alt.Chart]:
    """The points, shape and colour by valence (never colour alone: the legend's words say the
    position), and their names."""
    marks = alt.Chart(points, mark=mark("point", filled=True, size=150, opacity=1, stroke="white"))
    keys = (
        ["under", "at_limit", "within", "over"] if len(order) == 4 else ["under", "within", "over"]
    )
    valences = [valence_of(k, lower_better) for k in keys]
    shapes = [VALENCE_SHAPES[v] for v in valences]
    colours = [VALENCE_COLOURS[v] for v in valences]
    shown = encode(
        marks,
        x=x,
        y=alt.Y("value:Q"),
        shape=alt.Shape("position:N", title=title, scale=props(domain=order, range=shapes)),
        color=alt.Color("position:N", title=title, scale=props(domain=order, range=colours)),
    )
    words = mark("text", align="left", dx=9, dy=-7, fontSize=12, color=TEXT_COLOUR)
    names = encode(alt.Chart(points, mark=words), x=x, y=alt.Y("value:Q"), text=alt.Text("name:N"))
    return [shown, names]
