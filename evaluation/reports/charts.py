"""Charts for the reports: altair specs rendered to inline SVG, each shown with a text description
and the table behind it.

Rules kept here so every report follows them:
- Okabe-Ito colours (safe for the common colour-vision deficiencies), and always a second cue:
  point shape, line dash or a text label. Nothing is told by colour alone.
- SVG through vl-convert (what altair's "svg" renderer uses): no script, no request, prints well.
- The SVG gets role="img", an accessible name (aria-label and <title>) and no inner ARIA roles.
- Names from data are escaped everywhere (vl-convert escapes SVG text; tables use html.escape).

Funnel plots have their own home, `evaluation.reports.funnels`, built on `chart_html` here.
"""

from __future__ import annotations

import html
from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert as vlc

from evaluation.reports.chart_limits import drop_needless_limits
from evaluation.reports.chart_records import fast_data, plain_rows
from evaluation.reports.fonts import register_for_charts
from evaluation.reports.html import (  # noqa: F401 (charts.label_svg, as the reports call it)
    chart_box,
    label_svg,
    scroll_region,
)
from evaluation.reports.table_csv import write_table_csv  # noqa: F401 (charts.write_table_csv)
from evaluation.texts import SUPPRESSED_MARKER, is_missing

# Altair's debug mode validates every schema object as it is built (and rebuilt: each copy of a
# layer chart rebuilds its layers), ~0.1 CPU-s a cluster report (#17). The specs are converted
# with validate=False anyway, and vl-convert rejects an invalid one.
alt.utils.schemapi.disable_debug_mode()

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
# order used for series; yellow and sky blue are too light for thin lines on white, so last
SERIES_COLOURS = [
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["black"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
]
# one palette by valence on every chart (issue 13): the same colour and symbol mean the same
# thing everywhere, mapped by what is good for the indicator, never by the axis direction; the
# municipality (the comparison) is a neutral dark grey, drawn dashed
VALENCE_COLOURS = {
    "better": OKABE_ITO["bluish_green"],
    "worse": OKABE_ITO["vermillion"],
    "none": OKABE_ITO["blue"],
    "at_limit": OKABE_ITO["orange"],
}
VALENCE_SHAPES = {
    "better": "triangle-up",
    "worse": "triangle-down",
    "none": "circle",
    "at_limit": "diamond",
}
MUNICIPALITY_COLOUR = "#595959"
SERIES_SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "wedge"]
SERIES_DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 0], [4, 4], [2, 6]]
TEXT_COLOUR = "#1a1a1a"
GRID_COLOUR = "#d9d9d9"
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
FORMAT_LOCALES = {"da": "da-DK", "en": "en-US"}


def chart_config() -> dict:
    """Vega-Lite config shared by all charts: readable sizes, dark text, no inner ARIA."""
    return {
        "aria": False,
        "background": "white",
        "font": FONT,
        "view": {"stroke": None},
        "axis": {
            "labelColor": TEXT_COLOUR,
            "titleColor": TEXT_COLOUR,
            "labelFontSize": 12,
            "titleFontSize": 12,
            "titleFontWeight": "normal",
            "gridColor": GRID_COLOUR,
            "domainColor": "#666666",
            "tickColor": "#666666",
        },
        "legend": {
            "labelColor": TEXT_COLOUR,
            "titleColor": TEXT_COLOUR,
            "labelFontSize": 12,
            "titleFontSize": 12,
            "orient": "bottom",
            "direction": "horizontal",
            "columns": 3,
            "labelLimit": 420,
            "symbolStrokeWidth": 2,
        },
        "header": {"labelColor": TEXT_COLOUR, "labelFontSize": 13, "labelLimit": 300},
        "title": {"color": TEXT_COLOUR, "fontSize": 14, "anchor": "start"},
        "text": {"color": TEXT_COLOUR},
    }


def chart_to_svg(chart: alt.TopLevelMixin, language: str = "da") -> str:
    """Render an altair chart to an SVG string with the language's number format."""
    # Schema validation costs ~0.3 s a report; vl-convert rejects an invalid spec anyway.
    with fast_data():  # the same rows as altair's sanitiser writes, at a third of its cost
        spec = chart.to_dict(validate=False)
    config = chart_config()
    spec = drop_needless_limits(spec, config)  # a third of vl-convert's time, the same SVG
    register_for_charts()  # measure text in the font the page embeds
    return vlc.vegalite_to_svg(
        spec, config=config, format_locale=FORMAT_LOCALES.get(language, "en-US")
    )


def table_to_html(
    table: pd.DataFrame,
    caption: str,
    footnotes: list[str] | tuple[str, ...] = (),
    row_headers: bool = True,
    css_class: str = "wb-table",
) -> str:
    """An accessible HTML table: caption, column headers with scope, escaped cells.

    Missing values show the suppression marker, never a blank that could read as zero. A cell
    holding a tuple shows its parts on separate lines.
    """
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in table.columns)
    body = []
    for row in plain_rows(table):
        cells = []
        for i, value in enumerate(row):
            if isinstance(value, (tuple, list)):  # several short lines in one cell
                text = "<br>".join(html.escape(str(v)) for v in value) or SUPPRESSED_MARKER
            else:
                text = SUPPRESSED_MARKER if is_missing(value) else html.escape(str(value))
            if i == 0 and row_headers:
                cells.append(f'<th scope="row">{text}</th>')
            else:
                cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    foot = ""
    if footnotes:
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in footnotes)
        foot = f'<div class="wb-footnotes">{notes}</div>'
    table_html = (
        f'<table class="{css_class}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{foot}"
    )
    return scroll_region(table_html, caption)


def chart_html(
    chart: alt.TopLevelMixin,
    table: pd.DataFrame,
    title: str,
    description: str,
    slug: str,
    tables_dir: str | Path | None = None,
    *,
    language: str = "da",
    csv_table: pd.DataFrame | None = None,
    footnotes: list[str] | tuple[str, ...] = (),
    table_caption: str | None = None,
) -> str:
    """The HTML of one chart: a figure with the SVG and its description, then its table.

    Writes the table (or `csv_table` when given) to tables_dir/<slug>.csv when tables_dir is set.
    """
    box = chart_box(chart_to_svg(chart, language), title)
    if tables_dir:
        write_table_csv(table if csv_table is None else csv_table, slug, tables_dir, language)
    caption = table_caption or title
    return (
        f'<figure class="wb-figure" id="fig-{slug}">{box}'
        f"<figcaption><strong>{html.escape(title)}.</strong> {html.escape(description)}"
        f"</figcaption></figure>" + table_to_html(table, caption, footnotes)
    )


# chart builders --------------------------------------------------------------------------


def series_scales(series: list[str], neutral: str | None = None) -> dict:
    """Colour, shape and dash scales that give each series the same three cues. The `neutral`
    series (the municipality, the comparison) is dark grey and dashed; the others then avoid
    the valence colours, which mean better and worse on every chart."""
    k = len(series)
    scales = {
        "color": props(domain=series, range=_cycle(SERIES_COLOURS, k)),
        "shape": props(domain=series, range=_cycle(SERIES_SHAPES, k)),
        "dash": props(domain=series, range=_cycle(SERIES_DASHES, k)),
    }
    if neutral in series:
        valence = {VALENCE_COLOURS["better"], VALENCE_COLOURS["worse"]}
        own = iter([c for c in SERIES_COLOURS if c not in valence] * k)
        colours = [MUNICIPALITY_COLOUR if s == neutral else next(own) for s in series]
        dashes = [[6, 3] if s == neutral else [1, 0] for s in series]
        scales["color"] = props(domain=series, range=colours)
        scales["dash"] = props(domain=series, range=dashes)
    return scales


def props(**properties) -> dict:
    """Vega-Lite properties (a scale, an axis, a legend, a header) as a plain dict, keys in the
    order altair's schema classes write them (alphabetical), so the spec is the same. A chart
    is copied deeply several times on its way to a spec (each layer chart is rebuilt), and an
    alt.Axis holds 78 fields, an alt.Scale 24, nearly all unset: a dict copies at once (#17)."""
    return {key: properties[key] for key in sorted(properties)}


def mark(kind: str, **properties) -> dict:
    """A mark with properties as a plain dict (`props`): the type first, as alt.MarkDef writes
    it, then the rest alphabetically; for alt.Chart(data, mark=...) instead of .mark_*(...)."""
    return {"type": kind, **props(**properties)}


def encode(chart: alt.Chart, **channels: alt.SchemaBase) -> alt.Chart:
    """`chart.encode(**channels)` with each channel already the dict altair writes for it (its
    to_dict, once): a layer chart copies its layers deeply (twice in alt.layer, rebuilding each
    channel object) and to_dict parses every shorthand again; dicts cost half (#17). The spec
    is the same: the channels name their types, so no data is needed to infer them."""
    copy = chart.copy(deep=False)
    written = {name: channel.to_dict(validate=False) for name, channel in channels.items()}
    copy.encoding = alt.FacetedEncoding(**written)
    return copy


def _cycle(values: list, k: int) -> list:
    return [values[i % len(values)] for i in range(k)]


def add_segments(frame: pd.DataFrame, by: list[str], year: str = "year") -> pd.DataFrame:
    """Number the unbroken runs of years per series, so a line never bridges a missing year."""
    frame = frame.sort_values([*by, year]).copy()
    gap = frame.groupby(by)[year].diff().fillna(1).ne(1) | frame["value"].isna()
    frame["segment"] = gap.groupby([frame[c] for c in by]).cumsum().astype(int)
    return frame


# A trend panel's width, and the band at its top that the start marker's words take (pixels);
# a point's radius (size 60)
TREND_PANEL_WIDTH = 230
MARKER_WORDS_BAND = 14
POINT_RADIUS = 5


def build_trend_chart(
    data: pd.DataFrame,
    all_years: list[str],
    labels: dict[str, str],
    columns: int = 3,
    marker: tuple[str, str] | None = None,
    neutral: str | None = None,
) -> alt.TopLevelMixin:
    """Small multiples of yearly values per panel, one line per series, gaps at missing years.
    `marker` (school-year label, words) draws a dashed vertical line with its words in every
    panel, e.g. the year the cluster started the effort; `neutral` names the comparison series
    drawn grey and dashed (`series_scales`).

    `data` columns: panel, series, year (int), year_label, value, lower, upper (lower/upper may
    be NaN). `all_years` lists every school-year label in the range, missing ones included, so
    the axis shows the missing year as an empty place. `labels`: x, y, series.
    """
    series = list(dict.fromkeys(data["series"]))
    scales = series_scales(series, neutral)
    frame = add_segments(data, ["panel", "series"])
    frame["line_id"] = frame["series"] + "#" + frame["segment"].astype(str)
    x = alt.X(
        "year_label:O",
        title=labels["x"],
        scale=props(domain=all_years),
        axis=props(labelAngle=0 if len(all_years) <= 5 else -45, labelOverlap=False),
    )
    marked = marker is not None and marker[0] in all_years
    # with the marker's words across the top of each panel, the scale keeps a band of pixels
    # above (and below) the data free, so the words never cover a point or an interval
    padding = {"padding": MARKER_WORDS_BAND + POINT_RADIUS} if marked else {}
    y = alt.Y("value:Q", title=labels["y"], scale=props(zero=False, **padding))
    colour = alt.Color("series:N", title=labels["series"], scale=scales["color"])
    # Layers that all draw one table are built without it and get it on the layer: the same
    # spec (altair lifts a table every layer shares to the top), but layers holding it are
    # hashed (json.dumps of the encoding and of the printed DataFrame) at every rebuild of the
    # layer chart, to_dict's included: ~0.03 CPU-s a cluster report (#17)
    base = alt.Chart()
    lines = encode(
        alt.Chart(mark=mark("line", strokeWidth=2)),
        x=x,
        y=y,
        color=colour,
        strokeDash=alt.StrokeDash("series:N", title=labels["series"], scale=scales["dash"]),
        detail=alt.Detail("line_id:N"),
    )
    bars = encode(
        alt.Chart(mark=mark("rule", strokeWidth=1.5)).transform_filter("isValid(datum.lower)"),
        x=x,
        y=alt.Y("lower:Q"),
        y2=alt.Y2("upper:Q"),
        color=colour,
    )
    points = encode(
        alt.Chart(mark=mark("point", filled=True, size=60, opacity=1)),
        x=x,
        y=y,
        color=colour,
        shape=alt.Shape("series:N", title=labels["series"], scale=scales["shape"]),
    )
    layers = [lines, bars, points]
    if marked:
        rule, words = start_marker_layers(base, x, all_years, marker)
        layers = [rule, *layers, words]
    # sizes and resolve given at construction: each chained .properties/.resolve_* call copies
    # the whole chart deeply, rebuilding every layer (#17); the spec is the same
    layered = alt.layer(*layers, data=frame, width=TREND_PANEL_WIDTH, height=150)
    return layered.facet(
        facet=alt.Facet("panel:N", title=None, sort=list(dict.fromkeys(data["panel"]))),
        columns=columns,
        resolve=alt.Resolve(
            scale=alt.ScaleResolveMap(y="independent"),
            legend=alt.LegendResolveMap(color="shared", shape="shared"),
        ),
    )


def start_marker_layers(base: alt.Chart, x: alt.X, all_years: list[str], marker: tuple[str, str]):
    """The start marker of build_trend_chart: a dashed line at the year and its words across
    the panel's top band, on the wider side of the line, cut with an ellipsis at the edge."""
    at_start = base.transform_filter(alt.datum.year_label == marker[0])
    rule = at_start.mark_rule(color=TEXT_COLOUR, strokeDash=[3, 3], strokeWidth=1.5)
    where = all_years.index(marker[0]) / max(1, len(all_years) - 1)
    room = (where if where > 0.5 else 1 - where) * TREND_PANEL_WIDTH - 4
    words = at_start.mark_text(
        align="right" if where > 0.5 else "left",
        dx=-3 if where > 0.5 else 3,
        fontSize=12,
        color=TEXT_COLOUR,
        limit=max(40, int(room)),
    )
    text = alt.TextValue(marker[1])
    return encode(rule, x=x), encode(words, x=x, y=alt.YValue(MARKER_WORDS_BAND / 2), text=text)


def build_interval_chart(
    data: pd.DataFrame,
    labels: dict[str, str],
    x_format: str = ".0f",
    zero_line: bool = False,
    width: int = 420,
    series_order: list[str] | None = None,
    shapes: list[str] | None = None,
    neutral: str | None = None,
) -> alt.TopLevelMixin:
    """Dots with interval whiskers per row and series (e.g. statements, change per cluster).

    `data` columns: row (label), series, value, lower, upper. `labels`: x, row, series.
    `series_order` fixes the order (and so colour and shape) of the series; `shapes` overrides
    the shapes, e.g. triangle-up / circle / triangle-down for better / same / worse;
    `neutral` names the comparison series drawn grey (`series_scales`).
    """
    series = series_order or list(dict.fromkeys(data["series"]))
    scales = series_scales(series, neutral)
    if shapes:
        scales["shape"] = props(domain=series, range=shapes)
    rows = list(dict.fromkeys(data["row"]))
    y = alt.Y("row:N", title=None, sort=rows, axis=props(labelLimit=330))
    y_offset = alt.YOffset("series:N", sort=series)
    x = alt.X(
        "value:Q",
        title=labels["x"],
        scale=props(zero=False, nice=True),
        axis=props(format=x_format),
    )
    colour = alt.Color("series:N", title=labels["series"], scale=scales["color"])
    # without the zero line every layer draws `data`: it goes on the layer chart (as in
    # build_trend_chart: the same spec, no hashed layers); with it, each layer keeps its own
    own_data = {"data": data} if zero_line else {}
    on_layer = {} if zero_line else {"data": data}
    whiskers = encode(
        alt.Chart(mark=mark("rule", strokeWidth=2), **own_data).transform_filter(
            "isValid(datum.lower)"
        ),
        y=y,
        yOffset=y_offset,
        x=alt.X("lower:Q"),
        x2=alt.X2("upper:Q"),
        color=colour,
    )
    dots = encode(
        alt.Chart(mark=mark("point", filled=True, size=80, opacity=1), **own_data),
        y=y,
        yOffset=y_offset,
        x=x,
        color=colour,
        shape=alt.Shape("series:N", title=labels["series"], scale=scales["shape"]),
    )
    layers = [whiskers, dots]
    if zero_line:
        dashed = mark("rule", color="#555555", strokeDash=[4, 3])
        zero = alt.Chart(pd.DataFrame({"zero": [0]}), mark=dashed)
        layers.insert(0, encode(zero, x=alt.X("zero:Q")))
    height = max(60, 26 * len(rows) * max(1, len(series)) // 1)
    # sizes at construction: no copy by .properties
    return alt.layer(*layers, **on_layer, width=width, height=min(height, 520))


def build_finding_chart(point: dict, labels: dict[str, str], x_format: str) -> alt.TopLevelMixin:
    """One finding on one line: the figure (symbol and colour by valence), the interval that
    decided it as a bar, and the comparison value as a dashed grey rule with its name.

    `point`: value, lower, upper, rule (display scale) and verdict (better/worse/none).
    `labels`: interval (legend words of the bar) and rule (the comparison's name).
    """
    verdict = point["verdict"]
    frame = pd.DataFrame([{**point, "y": labels["interval"]}])
    # the value too: a unit outside its limits lies outside the interval drawn (Stensagerskolen's
    # 14,3 % against limits 4,0-10,1 was drawn past the axis' end)
    values = (point["lower"], point["upper"], point["rule"], point["value"])
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.15 or abs(hi) * 0.05 or 1.0
    x_scale = props(domain=[lo - pad, hi + pad], zero=False, nice=False)
    x = alt.X("value:Q", title=None, scale=x_scale, axis=props(format=x_format, tickCount=4))
    y = alt.Y("y:N", title=None, axis=None)
    colour = VALENCE_COLOURS[verdict]
    band = mark("rule", strokeWidth=6, color=colour, opacity=0.45)
    bar = encode(
        alt.Chart(frame, mark=band), x=alt.X("lower:Q", scale=x_scale), x2=alt.X2("upper:Q"), y=y
    )
    symbol = mark(
        "point", filled=True, size=170, opacity=1, color=colour, shape=VALENCE_SHAPES[verdict]
    )
    dot = encode(alt.Chart(frame, mark=symbol), x=x, y=y)
    rule_frame = pd.DataFrame([{"rule": point["rule"], "label": labels["rule"]}])
    dashed = mark("rule", color=MUNICIPALITY_COLOUR, strokeDash=[5, 3], strokeWidth=2)
    rule = encode(alt.Chart(rule_frame, mark=dashed), x=alt.X("rule:Q", scale=x_scale))
    name = mark("text", align="left", dx=4, dy=-22, fontSize=13, color=MUNICIPALITY_COLOUR)
    words = encode(
        alt.Chart(rule_frame, mark=name), x=alt.X("rule:Q", scale=x_scale), text=alt.Text("label:N")
    )
    return alt.layer(rule, bar, dot, words, width=300, height=46)  # no copy by .properties
