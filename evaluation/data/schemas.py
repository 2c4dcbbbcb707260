"""What each importable file must look like: one pandera schema per file kind.

Each kind is a small table (one builder below): its columns with the checks every cell must
pass, checks across a row, the columns that identify the kind and the key that must be unique.
`evaluation.data.validation` turns a frame of text cells into typed values and `Problem`s
against a kind; `evaluation.data.public_schemas` builds the ministry's public files from the
same rules.

Each check carries its "expected" wording (pandera's `error`) and a fix, so a failure case turns
into a Problem without if-chains. Cross-table checks live in evaluation.data.cross_checks (they
need the warehouse) but produce the same Problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from evaluation import config

UNIT_KINDS = ["school", "special_school", "daycare", "club", "municipality"]
YEAR_RANGE = (2000, 2100)
ANSWERS = [0, 1, 2, 3, 4, 5]  # 0 = does not want to answer

# expected wording -> (columns a row-level check involves, how to fix it)
RULES: dict[str, tuple[list[str], str]] = {}


def rule(check: pa.Check, expected: str, fix: str, columns: list[str] | None = None) -> pa.Check:
    """Register a check's expected wording and fix; returns the check (named by the wording)."""
    RULES[expected] = (columns or [], fix)
    check.error = expected
    return check


# --- cell checks ----------------------------------------------------------------------------


def year_check() -> pa.Check:
    low, high = YEAR_RANGE
    return rule(
        pa.Check(lambda s: (s >= low) & (s <= high) & (s == s.round())),
        f"a school year as its first calendar year, {low}-{high}",
        "Write the year the school year starts in: 2024 for 2024/25.",
    )


def count_check() -> pa.Check:
    return rule(
        pa.Check(lambda s: (s >= 0) & (s == s.round()), element_wise=False),
        "a whole number, 0 or more",
        "Write a count without decimals and without a minus sign.",
    )


def id_check(what: str) -> pa.Check:
    return rule(
        pa.Check.str_matches(r"^[^\s;,]+$"),
        f"a {what} id without spaces, commas or semicolons",
        f"Correct the {what} id; it must match the id used in the other files.",
    )


def one_of(values, expected: str, fix: str) -> pa.Check:
    return rule(pa.Check.isin(list(values)), expected, fix)


def within(low: float, high: float, expected: str, fix: str) -> pa.Check:
    return rule(pa.Check.in_range(low, high), expected, fix)


def school_year_start(label: pd.Series) -> pd.Series:
    """ "2024/2025" -> 2024 (the project's year convention); anything else -> <NA>.

    The one reading of the ministry's school years: two years, the second one after the first.
    """
    parts = label.astype("string").str.extract(r"^(\d{4})/(\d{4})$")
    start = pd.to_numeric(parts[0], errors="coerce")
    end = pd.to_numeric(parts[1], errors="coerce")
    return start.where(end == start + 1).astype("Int64")


def school_year_check() -> pa.Check:
    return rule(
        pa.Check(lambda s: school_year_start(s).notna()),
        'a school year like "2024/2025"',
        'Write the school year as "2024/2025" (start year/end year).',
    )


# --- row checks -----------------------------------------------------------------------------


def row_rule(test: Callable, expected: str, fix: str, columns: list[str]) -> pa.Check:
    """A check across a row; rows with an empty cell in it pass (the cell check reports them)."""
    return rule(pa.Check(lambda df: test(df).fillna(True).astype(bool)), expected, fix, columns)


def at_most(column: str, limit: list[str], wording: str) -> pa.Check:
    """Row check: column <= sum of the limit columns (empty cells pass)."""
    return row_rule(
        lambda df: df[column] <= df[limit].sum(axis=1, min_count=1),
        f"{column} at most {wording}",
        f"Check {column} and {', '.join(limit)} in this row: the part cannot exceed the whole.",
        [column, *limit],
    )


def parts_at_most(parts: list[str], whole: str, fix: str) -> pa.Check:
    """Row check: the parts together at most the whole."""
    return row_rule(
        lambda df: sum(df[c] for c in parts) <= df[whole],
        f"{' + '.join(parts)} at most {whole}",
        fix,
        [whole, *parts],
    )


def equal_sum(column: str, parts: list[str]) -> pa.Check:
    return row_rule(
        lambda df: df[column] == df[parts].sum(axis=1),
        f"{column} = {' + '.join(parts)}",
        f"Correct the counts in this row so {' + '.join(parts)} add up to {column}.",
        [column, *parts],
    )


def years_in_order(first: str, last: str) -> pa.Check:
    return row_rule(
        lambda df: df[first] <= df[last],
        f"{first} not after {last}",
        f"Swap or correct {first} and {last}; leave {last} empty if the period is open.",
        [first, last],
    )


# --- columns and kinds ----------------------------------------------------------------------


@dataclass
class FileKind:
    """One kind of importable file: its warehouse table, schema, numeric columns and key."""

    name: str
    table: str
    schema: pa.DataFrameSchema
    numbers: dict[str, str]  # column -> "int" | "float"
    signature: list[str]  # columns that identify the kind
    key: list[str]
    optional: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)


def text(*checks: pa.Check, nullable: bool = False, required: bool = True) -> pa.Column:
    return pa.Column(str, list(checks), nullable=nullable, required=required)


def number(
    *checks: pa.Check, nullable: bool = False, required: bool = True, sort: str = "float"
) -> pa.Column:
    """A numeric column; `sort` ("int" or "float") is how convert_types words a bad cell."""
    return pa.Column(
        "Float64", list(checks), nullable=nullable, required=required, metadata={"number": sort}
    )


def whole(*checks: pa.Check, nullable: bool = False, required: bool = True) -> pa.Column:
    return number(*checks, nullable=nullable, required=required, sort="int")


def year() -> pa.Column:
    return whole(year_check())


def optional_year() -> pa.Column:
    return whole(year_check(), nullable=True, required=False)


def count() -> pa.Column:
    return whole(count_check())


def optional_text() -> pa.Column:
    return text(nullable=True, required=False)


def make_kind(
    name: str,
    columns: dict[str, pa.Column],
    signature: list[str],
    key: list[str],
    checks: list[pa.Check] | None = None,
    table: str | None = None,
    optional: list[str] | None = None,
) -> FileKind:
    """A file kind from its column table; the key is also the schema's uniqueness rule."""
    schema = pa.DataFrameSchema(columns, checks=checks or [], unique=key, report_duplicates="all")
    numbers = {c: col.metadata["number"] for c, col in columns.items() if col.metadata}
    return FileKind(name, table or name, schema, numbers, signature, key, optional or [])


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


def membership_kind() -> FileKind:
    return make_kind(
        "cluster_membership",
        {
            "unit_id": text(id_check("unit")),
            "cluster_id": text(id_check("cluster")),
            "from_year": year(),
            "to_year": optional_year(),
        },
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
    return make_kind(
        "responses",
        {
            "year": year(),
            "unit_id": text(id_check("unit")),
            "grade": whole(grade),
            "pupil_key": text(),
            **{q: whole(answer, nullable=True) for q in every},
            **{q: whole(answer, nullable=True, required=False) for q in some},
        },
        signature=["year", "unit_id", "grade", "pupil_key"],
        key=["year", "unit_id", "pupil_key"],
        checks=[outside_form_check(forms, every + some)],
        optional=some,
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


def aggregates_kind(indicator_ids: list[str]) -> FileKind:
    """Published school values of catalog indicators (e.g. school_wellbeing_2024_25.csv)."""
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
        {
            "school_id": text(id_check("school")),
            "cluster_id": text(id_check("cluster")),
            "cluster_name": optional_text(),
            "from_year": optional_year(),
            "to_year": optional_year(),
        },
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
        aggregates_kind([i["id"] for i in catalog["indicators"]]),
        public_overview_kind(),
        cluster_map_kind(),
    ]
    return {kind.name: kind for kind in kinds}


_KINDS: dict[str, FileKind] | None = None


def file_kinds() -> dict[str, FileKind]:
    """The file kinds (built once; the catalog gives the answer columns)."""
    global _KINDS
    if _KINDS is None:
        _KINDS = build_kinds()
    return _KINDS
