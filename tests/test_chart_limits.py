"""evaluation.reports.chart_limits: label limits dropped only where no label can reach them, with
the SVG unchanged; fonts.text_width, the width it decides with."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc

from evaluation.reports import charts, fonts
from evaluation.reports.chart_limits import drop_needless_limits

pytestmark = pytest.mark.skipif(
    fonts.font_directory() is None, reason="Liberation Sans is not installed (fonts-liberation2)"
)

LONG = "Spørgsmål: »Er der en voksen på skolen, du kan gå til, hvis du er ked af det?«"


def plain_svg(chart: alt.TopLevelMixin) -> str:
    """The SVG as vl-convert draws the spec untouched (charts.chart_to_svg before issue 17)."""
    fonts.register_for_charts()
    spec = chart.to_dict(validate=False)
    return vlc.vegalite_to_svg(spec, config=charts.chart_config(), format_locale="da-DK")


def vega_cuts(text: str, size: float, limit: float) -> bool:
    """Whether vl-convert shortens `text` drawn with `limit` (its own measurement)."""
    fonts.register_for_charts()
    mark = {"text": {"value": text}, "limit": {"value": limit}, "fontSize": {"value": size}}
    mark["font"] = {"value": charts.FONT}
    spec = {"width": 10, "height": 10, "marks": [{"type": "text", "encode": {"enter": mark}}]}
    return "…" in vlc.vega_to_svg(spec)


def test_text_width_is_arials_advance_widths():
    # Liberation Sans has Arial's metrics; Arial's advance widths in its 2048-unit em:
    # a 1139, W 1933, space 569 (Monotype's Arial hmtx table)
    assert fonts.text_width("a", 2048) == pytest.approx(1139)
    assert fonts.text_width("W a", 2048) == pytest.approx(1933 + 569 + 1139)


@pytest.mark.parametrize("text", [LONG, "Kommunen 2025/26", "19\u00a0%", "AVAWAVA To Ty"])
def test_text_width_is_never_narrower_than_vl_converts_measure(text):
    width = fonts.text_width(text, 13)
    assert not vega_cuts(text, 13, width * 1.001)  # the estimate is room enough
    assert vega_cuts(text, 13, width * 0.9)  # and not far too much


def test_short_labels_lose_their_limit_and_the_svg_stays_the_same():
    data = pd.DataFrame(
        {
            "row": ["Alle børn og unge har en god ven", "Børn og unge lytter til hinanden"] * 2,
            "series": ["Nord", "Nord", "Kommunen", "Kommunen"],
            "value": [59.0, 61.0, 60.0, 58.0],
            "lower": [50.0, 52.0, None, None],
            "upper": [68.0, 70.0, None, None],
        }
    )
    labels = {"x": "Andel (%)", "row": "", "series": ""}
    chart = charts.build_interval_chart(data, labels, neutral="Kommunen")
    spec = drop_needless_limits(chart.to_dict(validate=False), charts.chart_config())
    y_axes = [layer["encoding"]["y"]["axis"] for layer in spec["layer"]]
    assert all(axis["labelLimit"] == 0 for axis in y_axes)  # was 330
    assert all(layer["encoding"]["color"]["legend"]["labelLimit"] == 0 for layer in spec["layer"])
    assert charts.chart_to_svg(chart) == plain_svg(chart)


def test_a_label_that_may_not_fit_keeps_its_limit_and_is_still_cut():
    data = pd.DataFrame({"x": [1.0, 2.0], "y": [LONG, "Øst"]})
    chart = alt.Chart(data).mark_point().encode(x="x:Q", y=alt.Y("y:N", axis=alt.Axis()))
    spec = drop_needless_limits(chart.to_dict(validate=False), charts.chart_config())
    assert "labelLimit" not in spec["encoding"]["y"]["axis"]  # Vega's 180 px stays
    assert spec["encoding"]["x"]["axis"] == {"labelLimit": 0}  # numbers always fit
    svg = charts.chart_to_svg(chart)
    assert "…" in svg and svg == plain_svg(chart)


def test_own_labels_and_constant_channels_are_left_alone():
    data = pd.DataFrame({"x": ["a", "b"], "y": [1.0, 2.0]})
    x = alt.X("x:N", axis=alt.Axis(labelExpr="'a long label of its own'"))
    chart = alt.Chart(data).mark_point().encode(x=x, y=alt.YValue(5))
    spec = drop_needless_limits(chart.to_dict(validate=False), charts.chart_config())
    assert "labelLimit" not in spec["encoding"]["x"]["axis"]
    assert spec["encoding"]["y"] == {"value": 5}
