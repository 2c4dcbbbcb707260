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


def test_the_subset_is_the_same_bytes_every_time(monkeypatch):
    # fontTools stamps the save time into the head table unless told not to: the page's bytes
    # would then change with every report (issue 17 compares reports before and after)
    import io

    from fontTools.ttLib import TTFont

    monkeypatch.setattr(fonts, "subset_cache_path", lambda *args: None)  # cut it each time
    path = fonts.font_directory() / fonts.FACES["normal"]
    woff = fonts.subset_woff.__wrapped__(path, "Åbyen")
    assert TTFont(io.BytesIO(woff))["head"].modified == TTFont(path)["head"].modified
    assert fonts.subset_woff.__wrapped__(path, "Åbyen") == woff


def test_a_subset_is_cut_once_and_read_by_the_next_process(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts.tempfile, "gettempdir", lambda: str(tmp_path))
    path = fonts.font_directory() / fonts.FACES["normal"]
    woff = fonts.subset_woff.__wrapped__(path, "Åbyen")
    (kept,) = (tmp_path / f"workbench-font-subsets-{fonts.os.getuid()}").iterdir()
    assert kept.read_bytes() == woff

    def cut_again(*args):
        raise AssertionError("cut again")

    monkeypatch.setattr(fonts, "subset_font", cut_again)  # as in another process: read it
    assert fonts.subset_woff.__wrapped__(path, "Åbyen") == woff
    assert fonts.subset_cache_path(path, "Åbyen") == kept
    assert fonts.subset_cache_path(path, "Åbyens") != kept  # other characters, another file


def test_a_subset_folder_others_can_read_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts.tempfile, "gettempdir", lambda: str(tmp_path))
    (tmp_path / f"workbench-font-subsets-{fonts.os.getuid()}").mkdir(mode=0o755)
    (tmp_path / f"workbench-font-subsets-{fonts.os.getuid()}").chmod(0o755)
    assert fonts.subset_cache_path(fonts.font_directory() / fonts.FACES["normal"], "Å") is None


def test_charts_are_measured_in_the_font_the_page_embeds():
    # labels cut at their limit: vl-convert measured them in Liberation Sans, registered with it,
    # so the cut falls where it falls on the page (Cyrillic, which the page's subset lacks, too)
    import altair as alt
    import pandas as pd

    names = ["Børnehuset Ærøskøbing og Åbyen Skole", "Skolen ved Søen, Øster Hæsinge", "Жук"]
    frame = pd.DataFrame({"x": [1.0, -2.0, 3.0], "name": names})
    y = alt.Y("name:N", axis=alt.Axis(labelLimit=120), title="Skole")
    svg = charts.chart_to_svg(alt.Chart(frame).mark_point().encode(x="x:Q", y=y))
    assert fonts.register_for_charts()
    assert svg.count("…") == 2 and "Жук" in svg
    assert 'font-family="Liberation Sans, Arial, Helvetica, sans-serif"' in svg


def test_a_subset_is_still_cut_without_a_temporary_folder_to_keep_it_in(monkeypatch, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the temporary folder should be")
    monkeypatch.setattr(fonts.tempfile, "gettempdir", lambda: str(blocked))
    path = fonts.font_directory() / fonts.FACES["normal"]
    assert fonts.subset_cache_path(path, "Åbyen") is None
    woff = fonts.subset_woff.__wrapped__(path, "Åbyen")
    assert fonts.covered_characters(woff) >= set("Åbyen")
