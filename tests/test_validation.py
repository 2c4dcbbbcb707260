"""evaluation.data.validation: text cells to typed values and file:row:column Problems, on frames
of a few hand-made rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from text_frames import check, where  # noqa: E402

from evaluation.data import validation  # noqa: E402
from evaluation.errors import ValidationError  # noqa: E402


def test_decimal_comma_and_thousands_points():
    parsed = validation.parse_number_text(pd.Series(["41,5", "1.234,5", "7.25", " 3 ", "x", None]))
    assert parsed.tolist()[:4] == [41.5, 1234.5, 7.25, 3.0]
    assert parsed.isna().tolist()[4:] == [True, True]


def test_a_cell_that_is_not_a_number_is_reported_once():
    _, problems = check(
        "units",
        [
            {
                "unit_id": "1",
                "name": "A",
                "kind": "school",
                "municipality": "M",
                "first_year": "2016/17",
            }
        ],
    )
    assert where(problems) == [(2, "first_year", "'2016/17'", "a year as a whole number")]


def test_a_row_check_names_its_cells():
    row = {"year": "2023", "unit_id": "D1", "assessed": "10", "generel": "5"}
    _, problems = check("daycare_language", [{**row, "fokuseret": "3", "saerlig": "1"}])
    assert where(problems) == [
        (
            2,
            "assessed",
            "assessed=10, generel=5, fokuseret=3, saerlig=1",
            "assessed = generel + fokuseret + saerlig",
        )
    ]


def test_duplicate_names_the_first_row_with_the_same_key():
    rows = [{"cluster_id": c, "name": "N", "municipality": "M"} for c in ("a", "b", "a")]
    _, problems = check("clusters", rows)
    assert where(problems) == [
        (
            4,
            "cluster_id",
            "cluster_id=a, the same as row 2",
            "one row per cluster_id (a duplicate key)",
        )
    ]


def test_missing_column_lists_the_kind_columns():
    _, problems = check("clusters", [{"cluster_id": "a", "name": "N"}])
    assert where(problems) == [
        (
            None,
            "municipality",
            "no column 'municipality'",
            "a column 'municipality' in a clusters file (columns: cluster_id, name, municipality)",
        )
    ]


def test_cells_are_trimmed_unless_checked_as_published():
    rows = [{"cluster_id": " a ", "name": "N", "municipality": "M"}]
    typed, problems = check("clusters", rows)
    assert problems == [] and typed.loc[2, "cluster_id"] == "a"
    _, problems = check("clusters", rows, strip_text=False)
    assert [(p.row, p.column) for p in problems] == [(2, "cluster_id")]


def test_raise_problems_caps_the_list():
    problems = check("clusters", [{"cluster_id": "a b", "name": "N", "municipality": "M"}] * 3)[1]
    with pytest.raises(ValidationError) as caught:
        validation.raise_problems(problems, cap=2)
    assert len(caught.value.problems) == 2 and caught.value.more == len(problems) - 2
    validation.raise_problems([])  # nothing to raise
