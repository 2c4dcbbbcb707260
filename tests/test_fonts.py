"""evaluation.reports.fonts: the embedded subset of Liberation Sans and the chart converter's
font."""

from __future__ import annotations

import base64
import re

import pytest

from evaluation.reports import charts, fonts

pytestmark = pytest.mark.skipif(
    fonts.font_directory() is None, reason="Liberation Sans is not installed (fonts-liberation2)"
)


def test_the_subset_holds_every_character_the_reports_need():
    woff = fonts.subset_woff(fonts.font_directory() / fonts.FACES["normal"], "Åbyen æøå ▲▼● −–")
    assert woff[:4] == b"wOFF"
    assert set("Åbyen æøå ▲▼● −–") <= fonts.covered_characters(woff)
    assert "Ж" not in fonts.covered_characters(woff)  # cut down: not the whole font


def test_the_page_rules_carry_both_weights_small():
    css = fonts.font_face_css()
    sources = re.findall(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", css)
    assert len(sources) == 2 and "font-weight: bold" in css
    for data in sources:
        woff = base64.b64decode(data)
        assert set(fonts.EMBEDDED_CHARACTERS) <= fonts.covered_characters(woff)
        assert len(woff) < 40_000  # the whole regular face is about 400 kB


def test_charts_name_the_font_they_were_measured_in():
    import altair as alt
    import pandas as pd

    chart = alt.Chart(pd.DataFrame({"x": [1, 2], "y": ["Åbyen", "Øst"]})).mark_point()
    svg = charts.chart_to_svg(chart.encode(x="x:Q", y="y:N"))
    assert 'font-family="Liberation Sans' in svg


def test_the_subset_is_the_same_bytes_every_time():
    # fontTools stamps the save time into the head table unless told not to: the page's bytes
    # would then change with every report (issue 17 compares reports before and after)
    import io

    from fontTools.ttLib import TTFont

    path = fonts.font_directory() / fonts.FACES["normal"]
    woff = fonts.subset_woff.__wrapped__(path, "Åbyen")
    assert TTFont(io.BytesIO(woff))["head"].modified == TTFont(path)["head"].modified
    assert fonts.subset_woff.__wrapped__(path, "Åbyen") == woff
