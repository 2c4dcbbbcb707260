"""The one funnel figure of the reports (evaluation.reports.funnels) on hand-made points."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.reports import charts, funnels
from evaluation.texts import texts_for

DA = texts_for("da")


def small_figure(others: pd.DataFrame | None = None) -> funnels.FunnelFigure:
    limits = pd.DataFrame(
        {
            "n": [10, 100] * 4,
            "limit": ["95 %-grænse"] * 4 + ["99,8 %-grænse"] * 4,
            "side": ["lower", "lower", "upper", "upper"] * 2,
            "value": [3.0, 3.4, 4.0, 3.6, 2.8, 3.3, 4.2, 3.7],
        }
    )
    points = pd.DataFrame(
        {
            "name": ["Skole <A>", ""],
            "n": [20, 80],
            "value": [3.9, 3.5],
            "position": funnels.position_labels(DA, ["above", "within"]),
        }
    )
    return funnels.FunnelFigure(
        points=points,
        limits=limits,
        target=3.5,
        labels=funnels.funnel_labels(DA, "Elevtal", "Generel trivsel"),
        y_format=".1f",
        others=others,
        title="Generel trivsel",
        description="To skoler.",
        table=pd.DataFrame({"Skole": ["Skole <A>"], "Værdi": ["3,9"]}),
        slug="tragt-test",
        footnotes=["En note."],
        csv_table=pd.DataFrame({"entity_id": ["a", "b"]}),
    )


def test_positions_are_worded_and_ordered_low_to_high():
    assert funnels.position_labels(DA, ["above", "within", "below"]) == [
        "over grænserne",
        "inden for grænserne",
        "under grænserne",
    ]
    assert funnels.position_order(DA) == [
        "under grænserne",
        "inden for grænserne",
        "over grænserne",
    ]
    assert funnels.limit_names(DA) == ("95 %-grænse", "99,8 %-grænse")


def test_outside_counts_count_over_and_under():
    counts = funnels.outside_counts(pd.Series(["above", "within", "below", "below"]))
    assert counts == {"over": 1, "under": 2}
    assert funnels.outside_counts(pd.Series([], dtype=str)) == {"over": 0, "under": 0}


def test_chart_has_limits_target_points_and_names_plus_optional_context():
    figure = small_figure()
    order = funnels.position_order(DA)
    plain = funnels.build_funnel_chart(figure.points, figure.limits, 3.5, figure.labels, order)
    assert len(plain.layer) == 4  # limits, target, points, names
    others = pd.DataFrame({"n": [30], "value": [3.2], "group": ["Landets øvrige skoler"]})
    context = funnels.build_funnel_chart(
        figure.points, figure.limits, 3.5, figure.labels, order, others=others
    )
    assert len(context.layer) == 5
    shape = context.to_dict(validate=False)["layer"][3]["encoding"]["shape"]["scale"]
    assert shape == {"domain": order, "range": funnels.POSITION_SHAPES}


def test_figure_html_has_named_svg_description_table_and_csv(tmp_path):
    html = funnels.funnel_figure_html(DA, small_figure(), tmp_path)
    assert html.startswith('<figure class="wb-figure" id="fig-tragt-test">')
    assert 'aria-label="Generel trivsel"' in html and "<svg" in html
    assert "<strong>Generel trivsel.</strong> To skoler." in html
    assert "Skole &lt;A&gt;" in html and "<p>En note.</p>" in html
    written = pd.read_csv(tmp_path / "tragt-test.csv", sep=";")
    assert list(written["entity_id"]) == ["a", "b"]  # the csv_table, not the shown table


def test_at_the_limit_has_its_own_word_shape_and_colour():
    assert funnels.position_label(DA, "at_limit") == "på grænsen"
    order = funnels.position_order(DA, at_limit=True)
    assert order == ["under grænserne", "på grænsen", "inden for grænserne", "over grænserne"]
    figure = small_figure()
    chart = funnels.build_funnel_chart(figure.points, figure.limits, 3.5, figure.labels, order)
    encoding = chart.to_dict(validate=False)["layer"][2]["encoding"]
    assert encoding["shape"]["scale"] == {"domain": order, "range": funnels.AT_LIMIT_SHAPES}
    assert encoding["color"]["scale"]["range"] == funnels.AT_LIMIT_COLOURS
    # its own shape and its own colour, not shared with any other state
    assert len(set(funnels.AT_LIMIT_SHAPES)) == 4 and len(set(funnels.AT_LIMIT_COLOURS)) == 4


def test_lower_is_better_is_coloured_by_valence_not_by_axis():
    # main drew the best absence school as an orange down-triangle and the worst as a green
    # up-triangle: the palette followed the axis
    order = funnels.position_order(DA, valence_words="lower_better")
    assert order == [
        "under grænserne (bedre)",
        "inden for grænserne",
        "over grænserne (dårligere)",
    ]
    figure = small_figure()
    figure.points["position"] = funnels.position_labels(DA, ["above", "within"], "lower_better")
    chart = funnels.build_funnel_chart(
        figure.points, figure.limits, 3.5, figure.labels, order, lower_better=True
    )
    encoding = chart.to_dict(validate=False)["layer"][2]["encoding"]
    under, over = 0, 2
    colours, shapes = encoding["color"]["scale"]["range"], encoding["shape"]["scale"]["range"]
    assert colours[under] == charts.VALENCE_COLOURS["better"] and shapes[under] == "triangle-up"
    assert colours[over] == charts.VALENCE_COLOURS["worse"] and shapes[over] == "triangle-down"
    figure.points["position"] = funnels.position_labels(DA, ["above", "within"], "higher_better")
    order = funnels.position_order(DA, valence_words="higher_better")
    higher = funnels.build_funnel_chart(figure.points, figure.limits, 3.5, figure.labels, order)
    assert higher.to_dict(validate=False)["layer"][2]["encoding"]["color"]["scale"]["range"] == (
        funnels.POSITION_COLOURS
    )
    assert funnels.valence_of("at_limit", lower_better=True) == "at_limit"


def test_units_are_placed_at_their_printed_value_never_more_precisely():
    """An SVG coordinate must not publish decimals the page hides (a 4 + 6 pair was pinned to
    [1.0000, 1.0007] from exact coordinates)."""
    import json

    points = pd.DataFrame(
        {"name": ["A", "B"], "n": [4, 60], "value": [3.0603751, 3.9549], "position": ["x", "y"]}
    )
    others = pd.DataFrame({"n": [30], "value": [4.1234567], "group": ["andre"]})
    limits = pd.DataFrame({"n": [1, 100], "limit": ["95", "95"], "side": ["lower"] * 2,
                           "value": [3.0, 3.5]})  # fmt: skip
    labels = {"x": "n", "y": "v", "position": "p", "limit": "l"}
    spec = json.dumps(
        funnels.build_funnel_chart(points, limits, 3.7, labels, ["x", "y"], ".2f", others).to_dict()
    )
    assert "3.06" in spec and "3.95" in spec and "4.12" in spec
    for hidden in ("3.0603751", "3.9549", "4.1234567"):
        assert hidden not in spec
    assert funnels.shown_decimals(".0%") == 2 and funnels.shown_decimals(".1f") == 1


def test_the_target_line_and_its_limits_publish_the_target_as_printed():
    """The target (the municipality's value) is drawn at its printed value, and its limits move
    with it, so their midpoint gives no hidden decimal either."""
    import json

    points = pd.DataFrame({"name": ["A"], "n": [40], "value": [3.5], "position": ["x"]})
    limits = pd.DataFrame(
        {
            "n": [10, 10],
            "limit": ["95", "95"],
            "side": ["lower", "upper"],
            "value": [3.3567891, 4.1],
        }
    )
    labels = {"x": "n", "y": "v", "position": "p", "limit": "l"}
    chart = funnels.build_funnel_chart(points, limits, 3.7284612, labels, ["x"], ".2f")
    spec = json.dumps(chart.to_dict())
    assert "3.7284612" not in spec and "3.3567891" not in spec
    data = [v for d in chart.to_dict()["datasets"].values() for v in d]
    assert {"target": 3.73} in data
    limit_values = sorted(round(row["value"], 9) for row in data if "side" in row)
    assert limit_values == [
        round(3.3567891 + 3.73 - 3.7284612, 9),
        round(4.1 + 3.73 - 3.7284612, 9),
    ]


def test_a_unit_below_the_limits_is_drawn_with_the_worse_shape_and_colour():
    # main labelled the cluster report's points "under grænserne (dårligere)" but gave the legend
    # the plain words: Tjørnehøjskolen, below the 99.8 % limit, was drawn as an unfilled circle
    figure = small_figure()
    figure.valence_words = True
    figure.points["position"] = funnels.position_labels(DA, ["below", "within"], "higher_better")
    svg = funnels.funnel_figure_html(DA, figure, None)
    assert f'fill="{charts.VALENCE_COLOURS["worse"]}"' in svg
    assert "under grænserne (dårligere)" in svg


def test_a_position_the_legend_lacks_is_refused():
    figure = small_figure()
    order = funnels.position_order(DA, valence_words="higher_better")
    with pytest.raises(ValueError, match="not in the legend"):
        funnels.build_funnel_chart(figure.points, figure.limits, 3.5, figure.labels, order)
