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
