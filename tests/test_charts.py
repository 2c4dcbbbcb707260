"""Charts: inline SVG with one accessible name, escaped names, the table behind each chart."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from evaluation.reports import charts

SCRIPT = "<script>alert(1)</script>"


def small_interval_chart():
    data = pd.DataFrame(
        {
            "row": ["A", "A", SCRIPT, SCRIPT],
            "series": ["Nord", "Kommunen", "Nord", "Kommunen"],
            "value": [80.0, 78.0, 60.0, 70.0],
            "lower": [75.0, float("nan"), 50.0, float("nan")],
            "upper": [85.0, float("nan"), 70.0, float("nan")],
        }
    )
    return charts.build_interval_chart(data, {"x": "Andel (%)", "series": ""})


def test_svg_gets_role_img_and_an_accessible_name():
    svg = charts.label_svg(charts.chart_to_svg(small_interval_chart()), 'Titel "A" & B')
    assert svg.startswith("<svg")
    opening = svg[: svg.index(">") + 1]
    assert 'role="img"' in opening
    assert 'aria-label="Titel &quot;A&quot; &amp; B"' in opening
    assert "<title>Titel &quot;A&quot; &amp; B</title>" in svg
    assert svg.count("role=") == 1  # vega's inner roles are removed


def test_names_from_data_are_escaped_in_svg_and_table(tmp_path):
    table = pd.DataFrame({"Enhed": [SCRIPT], "Værdi": ["3,5"]})
    html = charts.chart_html(
        small_interval_chart(), table, "Titel", "Beskrivelse", "udsagn", tmp_path
    )
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (tmp_path / "udsagn.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "Enhed;Værdi",
        f"{SCRIPT};3,5",
    ]


def test_table_shows_the_marker_for_missing_cells_with_caption_and_headers():
    table = pd.DataFrame({"Enhed": ["A", "B"], "Værdi": ["3,5", None]})
    html = charts.table_to_html(table, "Tabel", footnotes=["– færre end 5 svar"])
    assert "<caption>Tabel</caption>" in html
    assert '<th scope="col">Værdi</th>' in html
    assert '<th scope="row">B</th><td>–</td>' in html
    assert "None" not in html and "nan" not in html


def test_lines_break_at_a_missing_year():
    frame = pd.DataFrame(
        {"series": ["a"] * 4, "year": [2019, 2021, 2022, 2023], "value": [1.0, 2.0, 3.0, 4.0]}
    )
    segments = charts.add_segments(frame, ["series"])["segment"].tolist()
    assert segments == [0, 1, 1, 1]


def test_trend_chart_renders_with_a_gap_year_on_the_axis():
    rows = [
        {
            "panel": "P",
            "series": s,
            "year": y,
            "year_label": f"{y}/{(y + 1) % 100:02d}",
            "value": v,
            "lower": v - 0.1,
            "upper": v + 0.1,
        }
        for s in ("Nord", "Kommunen")
        for y, v in ((2021, 3.5), (2023, 3.6), (2024, 3.7))
    ]
    chart = charts.build_trend_chart(
        pd.DataFrame(rows),
        ["2021/22", "2022/23", "2023/24", "2024/25"],
        {"x": "Skoleår", "y": None, "series": ""},
    )
    svg = charts.chart_to_svg(chart)
    assert "2022/23" in svg  # the missing year keeps its place on the axis
    assert "Kommunen" in svg and "Nord" in svg  # legend names the series, not colour alone


def test_the_municipality_is_neutral_grey_and_dashed_and_others_avoid_valence_colours():
    scales = charts.series_scales(["Nord", "Kommunen"], neutral="Kommunen")
    assert scales["color"]["range"] == [charts.OKABE_ITO["blue"], charts.MUNICIPALITY_COLOUR]
    assert scales["dash"]["range"][1] != [1, 0]
    plain = charts.series_scales(["Nord", "Kommunen"])
    assert plain["color"]["range"][1] == charts.OKABE_ITO["vermillion"]  # other reports: unchanged


def test_the_trend_chart_marks_the_start_year_in_every_panel():
    data = pd.DataFrame(
        {
            "panel": ["A", "A", "B", "B"],
            "series": ["Nord"] * 4,
            "year": [2023, 2024, 2023, 2024],
            "year_label": ["2023/24", "2024/25"] * 2,
            "value": [1.0, 2.0, 3.0, 4.0],
            "lower": [float("nan")] * 4,
            "upper": [float("nan")] * 4,
        }
    )
    labels = {"x": "Skoleår", "y": None, "series": ""}
    years = ["2023/24", "2024/25"]
    marked = charts.build_trend_chart(data, years, labels, marker=("2024/25", "start"))
    spec = marked.to_dict(validate=False)["spec"]["layer"]
    assert spec[0]["mark"]["type"] == "rule" and spec[-1]["encoding"]["text"] == {"value": "start"}
    assert len(charts.build_trend_chart(data, years, labels).to_dict()["spec"]["layer"]) == 3
    svg = charts.chart_to_svg(marked)
    assert svg.count(">start<") == 2  # one per panel


def scene_items(mark, marktype, role=None, dx=0.0, dy=0.0):
    """Every item of the given mark type (and role) in a Vega scenegraph, as (x, y, item) with
    x and y on the whole chart; the item's own x and y are inside its panel."""
    found = []
    for item in mark.get("items", []):
        if mark.get("marktype") == marktype and role in (None, mark.get("role")):
            found.append((dx + item.get("x", 0), dy + item.get("y", 0), item))
        if mark.get("marktype") == "group" or "marktype" not in mark:
            for child in item.get("items", []):
                found += scene_items(
                    child, marktype, role, dx + item.get("x", 0), dy + item.get("y", 0)
                )
    return found


def test_the_start_markers_words_cover_no_point_or_interval():
    """The words across the top of each trend panel keep clear of the data: before, a panel
    whose values rose to the top of its axis had them written over its points."""
    import vl_convert as vlc

    years = [f"{y}/{str(y + 1)[2:]}" for y in range(2016, 2026)]
    rising = [3.50] * 7 + [3.52, 3.58, 3.61]
    data = pd.DataFrame(
        {
            "panel": ["A"] * 10 + ["B"] * 10,
            "series": ["Nord"] * 20,
            "year": list(range(2016, 2026)) * 2,
            "year_label": years * 2,
            "value": rising + rising[::-1],
            "lower": [v - 0.03 for v in rising + rising[::-1]],
            "upper": [v + 0.03 for v in rising + rising[::-1]],
        }
    )
    labels = {"x": "Skoleår", "y": None, "series": ""}
    for start, align in (("2024/25", "right"), ("2017/18", "left")):
        words = "start på Bredere børnefællesskaber"
        chart = charts.build_trend_chart(data, years, labels, marker=(start, words))
        scene = vlc.vegalite_to_scenegraph(
            chart.to_dict(validate=False), config=charts.chart_config()
        )
        texts = [
            i for _, _, i in scene_items(scene["scenegraph"], "text") if i.get("text") == words
        ]
        assert len(texts) == 2 and {t["align"] for t in texts} == {align}
        band = charts.MARKER_WORDS_BAND
        assert all(t["y"] + t["fontSize"] / 2 <= band for t in texts)
        points = [i for _, _, i in scene_items(scene["scenegraph"], "symbol", "mark")]
        rules = scene_items(scene["scenegraph"], "rule", "mark")
        whiskers = [i for _, _, i in rules if "y2" in i and "strokeDash" not in i]
        assert len(points) == 20 and len(whiskers) == 20
        # inside its panel (the items' own y), nothing reaches into the words' band
        assert min(i["y"] - i["size"] ** 0.5 / 2 for i in points) > band
        assert min(min(i["y"], i["y2"]) for i in whiskers) > band


def test_a_finding_chart_shows_point_interval_and_named_rule_in_valence_colour():
    point = {"value": 14.9, "lower": 5.0, "upper": 9.0, "rule": 7.0, "verdict": "worse"}
    chart = charts.build_finding_chart(point, {"interval": "grænserne", "rule": "kommunen"}, ".1f")
    layers = chart.to_dict(validate=False)["layer"]
    dot = next(layer["mark"] for layer in layers if layer["mark"]["type"] == "point")
    assert dot["color"] == charts.VALENCE_COLOURS["worse"] and dot["shape"] == "triangle-down"
    assert ">kommunen<" in charts.chart_to_svg(chart)


def test_a_finding_chart_axis_holds_a_value_outside_its_limits():
    point = {"value": 14.3, "lower": 4.0, "upper": 10.1, "rule": 7.0, "verdict": "worse"}
    chart = charts.build_finding_chart(point, {"interval": "grænserne", "rule": "kommunen"}, ".1f")
    low, high = chart.to_dict(validate=False)["layer"][2]["encoding"]["x"]["scale"]["domain"]
    assert low < 4.0 and high > 14.3


def test_plain_properties_write_the_spec_altairs_classes_write():
    """props and mark (plain dicts, cheap to copy) against altair's own Scale, Axis and MarkDef:
    the same keys in the same order, so the same spec reaches vl-convert (#17)."""
    import json

    import altair as alt

    def spec(chart):
        return json.dumps(chart.to_dict(validate=False))

    frame = pd.DataFrame({"n": [1, 4], "value": [2.0, 3.0]})
    by_altair = alt.Chart(frame).mark_point(size=60, filled=True, opacity=1, color="#555555")
    by_altair = by_altair.encode(
        x=alt.X("n:Q", scale=alt.Scale(zero=False, type="sqrt", nice=True)),
        y=alt.Y("value:Q", axis=alt.Axis(tickCount=4, format=".1f", labelOverlap=False)),
    )
    plain = charts.mark("point", size=60, filled=True, opacity=1, color="#555555")
    by_dicts = alt.Chart(frame, mark=plain).encode(
        x=alt.X("n:Q", scale=charts.props(zero=False, type="sqrt", nice=True)),
        y=alt.Y("value:Q", axis=charts.props(tickCount=4, format=".1f", labelOverlap=False)),
    )
    assert spec(by_dicts) == spec(by_altair)
    assert list(charts.mark("rule", strokeWidth=2, color="#000")) == [
        "type",
        "color",
        "strokeWidth",
    ]


def test_encode_writes_the_spec_altair_encode_writes():
    frame = pd.DataFrame(
        {"year_label": ["2023/24", "2024/25"], "value": [1.5, 2.0], "s": ["a", "b"]}
    )
    channels = {
        "x": alt.X("year_label:O", title="År", scale=charts.props(domain=["2023/24", "2024/25"])),
        "y": alt.Y("value:Q", title=None, scale=charts.props(zero=False)),
        "color": alt.Color("s:N", title="", scale=charts.props(domain=["a", "b"])),
        "text": alt.TextValue("start"),
    }
    line = alt.Chart(mark=charts.mark("line", strokeWidth=2)).transform_filter("datum.value")
    ours = alt.layer(charts.encode(line, **channels), data=frame, width=200, height=100)
    theirs = alt.layer(line.encode(**channels), data=frame, width=200, height=100)  # reference
    assert json.dumps(ours.to_dict(validate=False)) == json.dumps(theirs.to_dict(validate=False))
    assert charts.chart_to_svg(ours) == charts.chart_to_svg(theirs)
    assert "encoding" not in line.to_dict(validate=False)  # the chart given is left as it was
