"""What each importable file must look like: one pandera schema per file kind.

Each kind is a small table (one builder below) of the rules in evaluation.data.rules: its
columns with the checks every cell must pass, checks across a row, the columns that identify
the kind and the key that must be unique. `evaluation.data.validation` checks a frame against a
kind; `evaluation.data.public_schemas` builds the ministry's published files on these kinds.
Cross-table checks live in evaluation.data.cross_checks (they need the warehouse) but produce
the same Problems.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from evaluation import config
from evaluation.catalog import SCALE_BY_KIND as SCALE_BY_KIND  # re-exported (issue 17)
from evaluation.data.decision_schema import decisions_kind
from evaluation.data.rules import (
    FileKind,
    at_most,
    count,
    count_check,
    equal_sum,
    id_check,
    make_kind,
    not_cpr_check,
    number,
    one_of,
    optional_text,
    optional_year,
    parts_at_most,
    rule,
    school_year_check,
    text,
    value_on_scale,
    whole,
    within,
    year,
    year_check,
    years_in_order,
)
from evaluation.data.settings import settings_kind

UNIT_KINDS = ["school", "special_school", "daycare", "club", "municipality"]
ANSWERS = [0, 1, 2, 3, 4, 5]  # 0 = does not want to answer
GENDERS = ["girl", "boy", "pige", "dreng"]  # optional; only for breakdowns by gender


# --- the kinds the importer accepts ---------------------------------------------------------


def read_catalog() -> dict:
    return yaml.safe_load(Path(config.catalog_path()).read_text(encoding="utf-8"))


def item_columns(forms: dict[str, dict]) -> tuple[list[str], list[str]]:
    """Answer columns of the forms: (asked in every form, asked only in some forms)."""
    items = [set(form["items"]) for form in forms.values()]
    every = sorted(set.intersection(*items))
    some = sorted(set.union(*items) - set(every))
    return every, some


def units_kind() -> FileKind:
    return make_kind(
        "units",
        {
            "unit_id": text(id_check("unit")),
            "name": text(),
            "kind": text(
                one_of(
                    UNIT_KINDS,
                    f"one of {', '.join(UNIT_KINDS)}",
                    "Write the unit kind in English as listed.",
                )
            ),
            "municipality": text(),
            "first_year": optional_year(),
            "last_year": optional_year(),
        },
        signature=["unit_id", "name", "kind"],
        key=["unit_id"],
        checks=[years_in_order("first_year", "last_year")],
    )


def clusters_kind() -> FileKind:
    return make_kind(
        "clusters",
        {"cluster_id": text(id_check("cluster")), "name": text(), "municipality": text()},
        signature=["cluster_id", "name"],
        key=["cluster_id"],
    )


def membership_columns(member: str, what: str, from_year: pa.Column, **extra) -> dict:
    """A member's id, its cluster (and `extra` columns), and the years it belongs there."""
    return {
        member: text(id_check(what)),
        "cluster_id": text(id_check("cluster")),
        **extra,
        "from_year": from_year,
        "to_year": optional_year(),
    }


def membership_kind() -> FileKind:
    return make_kind(
        "cluster_membership",
        membership_columns("unit_id", "unit", year()),
        signature=["unit_id", "cluster_id", "from_year"],
        key=["unit_id", "from_year"],
        checks=[years_in_order("from_year", "to_year")],
    )


def programme_kind() -> FileKind:
    return make_kind(
        "cluster_programme",
        {"cluster_id": text(id_check("cluster")), "start_year": whole(year_check(), nullable=True)},
        signature=["cluster_id", "start_year"],
        key=["cluster_id"],
    )


def outside_form_check(forms: dict[str, dict], items: list[str]) -> pa.Check:
    """Row check: a pupil answers only the items of the form for their grade."""

    def answers_outside_form(df: pd.DataFrame) -> pd.Series:
        ok = pd.Series(True, index=df.index)
        for form in forms.values():
            extra = [q for q in items if q not in form["items"] and q in df.columns]
            in_form = df["grade"].isin(form["grades"])
            if extra:
                ok &= ~(in_form & df[extra].notna().any(axis=1))
        return ok

    return rule(
        pa.Check(answers_outside_form),
        "no answers to items outside the pupil's form (grades 0-3 answer q01-q20 only)",
        "Check the grade of this pupil, or move the answers to the right item columns.",
        ["grade"],
    )


def responses_kind(forms: dict[str, dict]) -> FileKind:
    every, some = item_columns(forms)
    grades = sorted({g for form in forms.values() for g in form["grades"]})
    answer = one_of(
        ANSWERS,
        "an answer 1-5, 0 (does not want to answer) or empty (skipped)",
        "Correct the answer; the survey scale is 1-5. Leave skipped items empty.",
    )
    grade = one_of(
        grades,
        f"a grade {grades[0]}-{grades[-1]} (0 = børnehaveklasse)",
        "Write the grade as a number; 0 for børnehaveklasse.",
    )
    gender = one_of(
        GENDERS,
        "girl or boy (pige or dreng), or empty",
        "Write the pupil's gender as girl or boy, or leave the cell empty.",
    )
    return make_kind(
        "responses",
        {
            "year": year(),
            "unit_id": text(id_check("unit")),
            "grade": whole(grade),
            "pupil_key": text(not_cpr_check()),
            **{q: whole(answer, nullable=True) for q in every},
            **{q: whole(answer, nullable=True, required=False) for q in some},
            "gender": text(gender, nullable=True, required=False),
        },
        signature=["year", "unit_id", "grade", "pupil_key"],
        key=["year", "unit_id", "pupil_key"],
        checks=[outside_form_check(forms, every + some)],
        optional=[*some, "gender"],
    )


SPECIAL_MOVES = ["special_in_own_cluster", "returned_to_general"]


def register_kind() -> FileKind:
    special = ["in_special_class", "in_special_school"]
    settings = ["in_general_setting", *special]
    return make_kind(
        "register",
        {
            "year": year(),
            "unit_id": text(id_check("unit")),
            "home_cluster": text(id_check("cluster")),
            "pupils": count(),
            **{c: count() for c in [*settings, *SPECIAL_MOVES, "referrals"]},
            "median_wait_days": number(
                within(
                    0,
                    730,
                    "a median waiting time of 0-730 days, or empty without referrals",
                    "Write the median number of days; leave empty if nobody was referred.",
                ),
                nullable=True,
            ),
            "absence_pct": number(
                within(
                    0,
                    100,
                    "a percentage 0-100",
                    "Write absence as percent of school days (6,5 for 6.5 %), not as a fraction.",
                ),
                nullable=True,
            ),
            "absence_sd": number(
                within(
                    0,
                    100,
                    "a standard deviation 0-100 (percentage points)",
                    "Write the spread of pupils' absence in percentage points.",
                ),
                nullable=True,
            ),
            "pupils_over_10pct_absence": count(),
        },
        signature=["year", "unit_id", "home_cluster", "pupils"],
        key=["year", "unit_id", "home_cluster"],
        checks=register_row_checks(special, settings),
    )


def register_row_checks(special: list[str], settings: list[str]) -> list[pa.Check]:
    """The parts of a register row cannot exceed its wholes."""
    return [
        at_most("in_general_setting", ["pupils"], "pupils"),
        at_most("special_in_own_cluster", special, " + ".join(special)),
        at_most("returned_to_general", special, " + ".join(special)),
        at_most("pupils_over_10pct_absence", ["pupils"], "pupils"),
        parts_at_most(
            settings,
            "pupils",
            "Check the counts in this row: the settings cannot hold more pupils than the row has.",
        ),
    ]


def daycare_kind() -> FileKind:
    groups = ["generel", "fokuseret", "saerlig"]
    return make_kind(
        "daycare_language",
        {
            "year": year(),
            "unit_id": text(id_check("unit")),
            "assessed": count(),
            **{c: count() for c in groups},
        },
        signature=["year", "unit_id", "assessed", "fokuseret"],
        key=["year", "unit_id"],
        checks=[equal_sum("assessed", groups)],
    )


def school_file_columns(own: dict[str, pa.Column]) -> dict[str, pa.Column]:
    """The ministry's school files: school id, name and school year, their own columns, source."""
    return {
        "school_id": text(id_check("school")),
        "school_name": optional_text(),
        "school_year": text(school_year_check()),
        **own,
        "source": optional_text(),
    }


def aggregates_kind(indicators: list[dict]) -> FileKind:
    """Published school values of catalog indicators (e.g. school_wellbeing_2024_25.csv)."""
    indicator_ids = [i["id"] for i in indicators]
    scales = {i["id"]: SCALE_BY_KIND[i["kind"]] for i in indicators if i["kind"] in SCALE_BY_KIND}
    indicator = one_of(
        indicator_ids,
        "an indicator id of evaluation/catalog.yaml",
        "Use the catalog's ids, e.g. generel_trivsel, social_trivsel.",
    )
    return make_kind(
        "aggregates",
        school_file_columns(
            {
                "grade_band": text(),
                "indicator": text(indicator),
                "value": number(),
                "n": whole(count_check(), nullable=True, required=False),
            }
        ),
        signature=["school_id", "school_year", "indicator", "value"],
        key=["school_id", "school_year", "grade_band", "indicator"],
        checks=[value_on_scale(scales)],
    )


def public_overview_kind() -> FileKind:
    """The ministry's school overview (pupils, absence ...): shaped by data.public_ingest."""
    return make_kind(
        "public_overview",
        school_file_columns({"measure": text(), "value": number(nullable=True)}),
        signature=["school_id", "school_year", "measure", "value"],
        key=["school_id", "school_year", "measure"],
        table="aggregates",
    )


def cluster_map_kind() -> FileKind:
    """A cluster map keyed by the ministry's school ids: shaped by data.public_ingest."""
    return make_kind(
        "cluster_map",
        membership_columns("school_id", "school", optional_year(), cluster_name=optional_text()),
        signature=["school_id", "cluster_id"],
        key=["school_id", "from_year"],
        checks=[years_in_order("from_year", "to_year")],
        table="cluster_membership",
    )


def build_kinds() -> dict[str, FileKind]:
    """Every file kind the importer accepts, in the order kind detection prefers on a tie."""
    catalog = read_catalog()
    kinds = [
        units_kind(),
        clusters_kind(),
        membership_kind(),
        programme_kind(),
        responses_kind(catalog["forms"]),
        register_kind(),
        daycare_kind(),
        aggregates_kind(catalog["indicators"]),
        public_overview_kind(),
        cluster_map_kind(),
        decisions_kind(catalog["indicators"]),
        settings_kind(),
    ]
    return {kind.name: kind for kind in kinds}


_KINDS: dict[str, FileKind] | None = None


def file_kinds() -> dict[str, FileKind]:
    """The file kinds (built once; the catalog gives the answer columns)."""
    global _KINDS
    if _KINDS is None:
        _KINDS = build_kinds()
    return _KINDS
