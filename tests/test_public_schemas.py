"""evaluation.data.public_schemas: the kinds of the ministry's public files, built on the import
kinds and checked as published, on frames of a few hand-made rows."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from text_frames import frame, where  # noqa: E402

from evaluation.data import public_schemas, schemas, validation  # noqa: E402


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
