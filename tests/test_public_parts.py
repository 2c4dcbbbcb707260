"""What the public report's sections share (evaluation.reports.public_parts): names in a
sentence, published decimals, and the funnels' limit lines, on hand-made values; a school funnel
with its table on the public fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE  # noqa: E402

from evaluation.reports import public_parts  # noqa: E402
from evaluation.reports import public_report as public  # noqa: E402
from evaluation.texts import texts_for  # noqa: E402


@pytest.mark.parametrize(
    "name, language, owner",
    [
        ("Aarhus", "da", "Aarhus'"),
        ("Vejle", "da", "Vejles"),
        ("Fåborg-Midtfyn", "da", "Fåborg-Midtfyns"),
        ("Aarhus", "en", "Aarhus's"),
    ],
)
def test_genitive(name, language, owner):
    assert public_parts.genitive(name, language) == owner


def test_values_keep_the_published_decimals():
    da = texts_for("da")
    assert public_parts.format_value(da, "generel_trivsel", 3.456) == "3,46"
    assert public_parts.format_value(da, "fravaer", 5.25) == "5,2"  # absence: one decimal


def test_value_span_adds_a_tenth_each_side():
    assert public_parts.value_span([3.0, 4.0, 3.5]) == pytest.approx((2.9, 4.1))


def test_limit_lines_are_target_plus_minus_z_sigma_within_the_span():
    # variance 0.01 everywhere: 95 % half-width 1.96 * 0.1, 99.8 % 3.09 * 0.1
    lines = public_parts.limit_lines(
        3.5, np.array([10.0, 100.0]), lambda n: np.full(len(n), 0.01), ("95", "998"), (0, 9)
    )
    assert len(lines) == 8
    upper_95 = lines[(lines["limit"] == "95") & (lines["side"] == "upper")]["value"]
    lower_998 = lines[(lines["limit"] == "998") & (lines["side"] == "lower")]["value"]
    assert upper_95.tolist() == pytest.approx([3.5 + 0.19600, 3.5 + 0.19600], abs=1e-4)
    assert lower_998.tolist() == pytest.approx([3.5 - 0.30902, 3.5 - 0.30902], abs=1e-4)
    narrow = public_parts.limit_lines(
        3.5, np.array([10.0]), lambda n: np.full(len(n), 0.01), ("95", "998"), (3.25, 3.75)
    )
    assert set(narrow["limit"]) == {"95"}  # the 99.8 % lines lie outside the span


def test_other_schools_are_the_grey_background():
    da = texts_for("da")
    units = pd.DataFrame(
        {"municipality": ["A", "B", "B"], "n": [10, 20, 30], "value": [3.1, 3.2, 3.3]}
    )
    others = public_parts.other_schools(da, units, "A")
    assert others["n"].tolist() == [20, 30]
    assert set(others["group"]) == {"Landets øvrige skoler"}
    assert public_parts.other_schools(da, units.iloc[0:1], "A") is None


def test_school_funnel_writes_its_table(tmp_path):
    report = public.prepare_report("Frederiksberg", "da", str(FIXTURE), tables_dir=str(tmp_path))
    html = public_parts.school_funnel_html(report, "social_trivsel")
    assert "<svg" in html and "Frederiksberg" in html
    table = pd.read_csv(tmp_path / "public-schools-social_trivsel.csv", sep=";", decimal=",")
    assert len(table) == 10


def test_tied_names_are_named_once_in_the_chart_and_listed_below():
    """Two schools with the same published value and nearly the same size overprinted
    ("SluseholmenHeibergskolen" on the real figures); a school far away keeps its name."""
    t = texts_for("da")
    points = pd.DataFrame(
        {
            "name": ["Sluseholmen Skole", "Heibergskolen", "Fjernskolen", ""],
            "n": [400.0, 410.0, 1600.0, 405.0],
            "value": [3.8, 3.8, 3.8, 3.8],
        }
    )
    all_n = pd.Series([25.0, 1600.0])
    all_values = pd.Series([3.0, 4.4])
    shown, tied = public_parts.labelled_points(t, points, all_n, all_values, "generel_trivsel")
    assert shown["name"].tolist() == ["Sluseholmen Skole", "", "Fjernskolen", ""]
    assert tied == [
        "Navne, der ville stå oven i hinanden i figuren, står her i stedet (værdi i parentes): "
        "Heibergskolen (3,80)."
    ]


def test_names_on_other_values_do_not_collide():
    points = pd.DataFrame(
        {"name": ["A skole", "B skole"], "n": [400.0, 400.0], "value": [3.8, 3.5]}
    )
    shown, dropped = public_parts.place_labels(points, pd.Series([25.0, 1600.0]), points["value"])
    assert shown == ["A skole", "B skole"] and dropped == []


def test_funnel_captions_say_the_axis_is_square_root_scaled():
    report = public.prepare_report("Frederiksberg", "da", str(FIXTURE))
    for html in (
        public_parts.school_funnel_html(report, "social_trivsel"),
        public_parts.municipality_funnel_html(report, "social_trivsel"),
    ):
        caption = html[html.index("<figcaption>") : html.index("</figcaption>")]
        assert "Den vandrette akse er kvadratrod-skaleret" in caption
