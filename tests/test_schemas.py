"""File kinds and their rules (evaluation.data.rules, .schemas, .public_schemas) and frame
validation (evaluation.data.validation), on frames of a few hand-made rows."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.data import public_schemas, rules, schemas, validation
from evaluation.errors import ValidationError


def frame(rows: list[dict], first_line: int = 2) -> pd.DataFrame:
    """Text cells as a reader returns them: index = line number."""
    df = pd.DataFrame(rows, dtype="str")
    return df.set_axis(range(first_line, first_line + len(df)))


def check(kind_name: str, rows: list[dict], **options):
    kind = schemas.file_kinds()[kind_name]
    return validation.validate_frame(frame(rows), kind, f"{kind_name}.csv", **options)


def where(problems) -> list[tuple]:
    return [(p.row, p.column, p.found, p.expected) for p in problems]


# --- rules ----------------------------------------------------------------------------------


def test_school_year_start_reads_only_consecutive_years():
    labels = pd.Series(["2024/2025", "2024/2026", "2024/25", "2024", None, " 2024/2025"])
    assert rules.school_year_start(labels).tolist() == [2024, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA]


def test_numbers_say_int_or_float_per_column():
    register = schemas.file_kinds()["register"]
    assert register.numbers["pupils"] == "int" and register.numbers["absence_pct"] == "float"
    assert "unit_id" not in register.numbers
    assert register.key == ["year", "unit_id", "home_cluster"] == register.schema.unique


def test_kinds_keep_their_detection_order():
    assert list(schemas.file_kinds()) == [
        "units",
        "clusters",
        "cluster_membership",
        "cluster_programme",
        "responses",
        "register",
        "daycare_language",
        "aggregates",
        "public_overview",
        "cluster_map",
    ]


# --- validation -----------------------------------------------------------------------------


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


def test_parts_at_most_the_whole():
    base = {"year": "2023", "unit_id": "S1", "home_cluster": "nord", "pupils": "10"}
    counts = dict.fromkeys(
        [
            "special_in_own_cluster",
            "returned_to_general",
            "referrals",
            "pupils_over_10pct_absence",
        ],
        "0",
    )
    unknown = dict.fromkeys(["median_wait_days", "absence_pct", "absence_sd"], "")
    settings = {"in_general_setting": "8", "in_special_class": "2", "in_special_school": "1"}
    _, problems = check("register", [{**base, **counts, **unknown, **settings}])
    assert [(p.row, p.column, p.expected) for p in problems] == [
        (2, "pupils", "in_general_setting + in_special_class + in_special_school at most pupils")
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


# --- the public files -----------------------------------------------------------------------


def test_public_kinds_build_on_the_import_kinds():
    kinds = public_schemas.public_kinds()
    assert kinds["wellbeing"].columns == public_schemas.WELLBEING_COLUMNS
    assert kinds["wellbeing"].table == "aggregates"
    assert all(kinds["wellbeing"].schema.columns[c].required for c in kinds["wellbeing"].columns)
    assert not schemas.file_kinds()["aggregates"].schema.columns["n"].required  # import untouched
    catalog_ids = {i["id"] for i in schemas.read_catalog()["indicators"]}
    assert set(public_schemas.WELLBEING_INDICATORS) <= catalog_ids


PUBLISHED = {  # the columns both published school files carry
    "school_id": "147002",
    "school_name": "A",
    "municipality": "M",
    "municipality_code": "147",
    "school_type": "folkeskole",
    "school_year": "2024/2025",
    "source": "s",
}


def test_overview_measure_outside_its_range_or_empty():
    kind = public_schemas.public_kinds()["overview"]
    base = {**PUBLISHED, "unit": "count"}
    rows = [
        {**base, "measure": "pupils", "value": "-3"},
        {**base, "measure": "class_size", "value": None},
        {**base, "measure": "grade_avg", "value": "7.5"},
    ]
    _, problems = validation.validate_frame(frame(rows), kind, "o.csv", strip_text=False)
    assert where(problems) == [
        (2, "value", "value=-3", "pupils between 0 and 5000"),
        (3, "value", "value=(empty)", "class_size between 0 and 60"),
    ]


def test_wellbeing_school_id_has_six_digits():
    kind = public_schemas.public_kinds()["wellbeing"]
    row = {
        "school_name": "A",
        "municipality": "M",
        "municipality_code": "147",
        "school_type": "folkeskole",
        "school_year": "2024/2025",
        "grade_band": "4-9",
        "indicator": "social_trivsel",
        "value": "3.9",
        "n": None,
        "source": "s",
    }
    rows = [
        {**row, "school_id": "147002"},
        {**row, "school_id": "14700", "indicator": "ro_og_orden"},
    ]
    _, problems = validation.validate_frame(frame(rows), kind, "w.csv", strip_text=False)
    assert where(problems) == [(3, "school_id", "14700", "a 6-digit institution number")]
