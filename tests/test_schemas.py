"""evaluation.data.schemas: the importable file kinds, their numeric columns, keys and detection
order, and a row rule of one kind, on frames of a few hand-made rows."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from text_frames import check  # noqa: E402

from evaluation.data import schemas  # noqa: E402


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
        "decisions",
        "settings",
    ]


def test_decisions_take_english_ids_or_danish_headers():
    kind = schemas.file_kinds()["decisions"]
    assert kind.aliases["klynge"] == "cluster_id" and kind.aliases["ses_igen"] == "review"
    assert set(kind.aliases.values()) <= set(kind.columns)
    assert kind.table == "decisions" and kind.numbers == {}


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
