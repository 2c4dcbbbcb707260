"""The ministry's three public files as the public report reads them (evaluation.data.public_files).

The wellbeing file is checked with the import's `aggregates` kind and the overview with its
`public_overview` kind (evaluation.data.schemas), each made stricter by what the published file
always holds: every published column, 6-digit institution numbers, the five wellbeing indices as
means 1-5, the overview's measures within plausible ranges. The municipal series has no import
kind; it is built from the same rules (school year, one row per key). `workbench ingest` keeps
the import kinds as they are, so it admits what it always admitted.
"""

from __future__ import annotations

import copy

import pandas as pd
import pandera.pandas as pa

from evaluation.catalog import WELLBEING_INDICATORS as WELLBEING_INDICATORS  # re-exported
from evaluation.data.rules import (
    FileKind,
    count_check,
    make_kind,
    number,
    one_of,
    optional_text,
    rule,
    school_year_check,
    text,
    whole,
    within,
    year,
)
from evaluation.data.schemas import file_kinds

OVERVIEW_RANGES = {  # plausible range per measure; outside it a value is an input error
    "pupils": (0, 5000),
    "absence_pct": (0, 100),
    "class_size": (0, 60),
    "grade_avg": (-3, 12),
    "qualified_teaching_pct": (0, 100),
    "socref_diff": (-12, 12),
    "to_youth_education_pct": (0, 100),
}
SERIES_LEVELS = ("municipality", "national")
SERIES_MEASURES = (
    "wellbeing_top_share_pct",
    "absence_pct",
    "class_size",
    "grade_avg",
    "qualified_teaching_pct",
    "to_youth_education_pct",
)
WELLBEING_COLUMNS = [
    "school_id",
    "school_name",
    "municipality",
    "municipality_code",
    "school_type",
    "school_year",
    "grade_band",
    "indicator",
    "value",
    "n",
    "source",
]
OVERVIEW_COLUMNS = [
    *WELLBEING_COLUMNS[:6],  # school_id ... school_year
    "measure",
    "value",
    "unit",
    "source",
]
README_KEYS = "use the {} keys of the README"
IMPORT_KINDS = {"wellbeing": "aggregates", "overview": "public_overview"}  # role -> import kind


def institution_number() -> pa.Column:
    """The ministry's school id: six digits, leading zeros kept (stricter than the import's id)."""
    return text(
        rule(
            pa.Check(lambda s: s.str.fullmatch(r"\d{6}")),
            "a 6-digit institution number",
            "keep leading zeros; read the id as text",
        )
    )


def measure_range(measure: str, low: float, high: float) -> pa.Check:
    """Row check: the value of a `measure` row lies in its range (an empty value does not)."""

    def check(df: pd.DataFrame) -> pd.Series:
        in_range = df["value"].between(low, high).fillna(False).astype(bool)
        return (df["measure"] != measure) | in_range

    return rule(
        pa.Check(check), f"{measure} between {low} and {high}", "check the value", ["value"]
    )


def as_published(
    base: FileKind,
    name: str,
    columns: list[str],
    stricter: dict[str, pa.Column],
    key: list[str],
    checks: list[pa.Check] | None = None,
) -> FileKind:
    """`base` with every published column required: its own columns keep their rules unless
    `stricter` replaces them; columns it does not know may be empty."""
    table = {}
    for column in columns:
        rules = stricter.get(column) or copy.deepcopy(base.schema.columns.get(column))
        if rules is None:
            rules = text(nullable=True)
        rules.required = True
        table[column] = rules
    return make_kind(name, table, base.signature, key, checks, base.table)


def wellbeing_kind() -> FileKind:
    """school_wellbeing_2024_25.csv: the import's aggregates, as the ministry publishes them."""
    indicator = one_of(
        WELLBEING_INDICATORS,
        f"one of {', '.join(WELLBEING_INDICATORS)}",
        README_KEYS.format("indicator"),
    )
    mean = within(
        1, 5, "a mean between 1 and 5", "check the decimal separator (a point) and the unit"
    )
    return as_published(
        file_kinds()[IMPORT_KINDS["wellbeing"]],
        "school_wellbeing",
        WELLBEING_COLUMNS,
        {"school_id": institution_number(), "indicator": text(indicator), "value": number(mean)},
        key=["school_year", "indicator", "school_id"],
    )


def overview_kind() -> FileKind:
    """school_overview.csv: the import's public_overview, each measure within its range."""
    measure = one_of(
        OVERVIEW_RANGES,
        f"one of {', '.join(OVERVIEW_RANGES)}",
        README_KEYS.format("measure"),
    )
    return as_published(
        file_kinds()[IMPORT_KINDS["overview"]],
        "school_overview",
        OVERVIEW_COLUMNS,
        {"school_id": institution_number(), "measure": text(measure)},
        key=["school_year", "measure", "school_id"],
        checks=[measure_range(m, low, high) for m, (low, high) in OVERVIEW_RANGES.items()],
    )


def series_kind() -> FileKind:
    """municipality_series.csv: municipal and national series (not a warehouse table)."""
    level = one_of(SERIES_LEVELS, " or ".join(SERIES_LEVELS), "use the levels of the README")
    measure = one_of(
        SERIES_MEASURES, f"one of {', '.join(SERIES_MEASURES)}", README_KEYS.format("measure")
    )
    return make_kind(
        "municipality_series",
        {
            "level": text(level),
            "municipality": text(nullable=True),
            "municipality_code": text(nullable=True),
            "school_year": text(school_year_check()),
            "measure": text(measure),
            "value": number(),
            "unit": text(nullable=True),
            "source": text(nullable=True),
        },
        signature=["level", "measure", "value"],
        key=["school_year", "measure", "municipality"],
    )


_KINDS: dict[str, FileKind] | None = None


def public_kinds() -> dict[str, FileKind]:
    """The three public file kinds, by file role: wellbeing, overview, series (built once)."""
    global _KINDS
    if _KINDS is None:
        _KINDS = {
            "wellbeing": wellbeing_kind(),
            "overview": overview_kind(),
            "series": series_kind(),
        }
    return _KINDS


# the ministry's other cubes (evaluation.data.public_records): one warehouse table each --------

PERCENT = (0, 100)


def percent(nullable: bool = True) -> pa.Column:
    low, high = PERCENT
    check = within(low, high, "a percentage between 0 and 100", "check the unit and decimal sign")
    return number(check, nullable=nullable, required=False)


def cube_columns(own: dict[str, pa.Column]) -> dict[str, pa.Column]:
    """year and unit_id as the warehouse holds them, the cube's own columns, source."""
    return {"year": year(), "unit_id": text(), **own, "source": optional_text()}


def answers_kind() -> FileKind:
    """TRIV/TRIVSP: the share of each answer to each official question, with respondents."""
    return make_kind(
        "public_answers",
        cube_columns(
            {
                "grade_band": text(),
                "question": text(),
                "answer": text(),
                "answer_value": whole(nullable=True, required=False),
                "share_pct": percent(),
                "share_municipality_pct": percent(),
                "share_country_pct": percent(),
                "respondents": whole(count_check(), nullable=True, required=False),
            }
        ),
        signature=["year", "unit_id", "question", "answer", "share_pct"],
        key=["year", "unit_id", "grade_band", "question", "answer"],
    )


def inclusion_kind() -> FileKind:
    """ELEV/ELEVEX: the school's inklusionsgrad (share of pupils taught in general classes)."""
    return make_kind(
        "public_inclusion",
        cube_columns(
            {
                "grade": text(),
                "pupils": whole(count_check(), nullable=True, required=False),
                "inclusion_pct": percent(),
                "special_education_pct": percent(),
            }
        ),
        signature=["year", "unit_id", "inclusion_pct"],
        key=["year", "unit_id", "grade"],
    )


def absence_kind() -> FileKind:
    """ELEVFRAV/FRAVAAR: absence per school and year, with the share of pupils over 10 %."""
    return make_kind(
        "public_absence",
        cube_columns(
            {
                "absence_pct": percent(),
                "unauthorised_absence_pct": percent(),
                "sick_absence_pct": percent(),
                "over_10_pct": percent(),
            }
        ),
        signature=["year", "unit_id", "absence_pct", "over_10_pct"],
        key=["year", "unit_id"],
    )


def unmapped_kind() -> FileKind:
    """Schools of the municipality that a cluster map left out (written by the public ingest)."""
    return make_kind(
        "unmapped_schools",
        {"unit_id": text(), "name": optional_text(), "municipality": text(), "year": year()},
        signature=["unit_id", "municipality", "year"],
        key=["unit_id"],
    )


def cube_kinds() -> dict[str, FileKind]:
    """The kinds the ministry's shapes are read into, by cube (not told from a file's columns)."""
    kinds = file_kinds()
    return {
        "TRIVIND": kinds["aggregates"],
        "OVERSKO": kinds["public_overview"],
        "TRIVSP": answers_kind(),
        "ELEVEX": inclusion_kind(),
        "FRAVAAR": absence_kind(),
    }
