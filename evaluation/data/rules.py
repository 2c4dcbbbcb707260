"""The rules a cell or a row of an importable file can be checked by, and how a kind is built.

Each check carries its "expected" wording (pandera's `error`) and a fix, registered in RULES, so
a failure case turns into a Problem without if-chains (evaluation.data.validation). The kinds
themselves, one small table each, are in evaluation.data.schemas and
evaluation.data.public_schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from evaluation.cpr import cpr_like, find_cpr
from evaluation.errors import Problem

YEAR_RANGE = (2000, 2100)

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


def not_cpr_check() -> pa.Check:
    return rule(
        pa.Check(lambda s: ~cpr_like(s)),
        "a pseudonymous pupil key, never a CPR number",
        "Export the survey's pseudonymous pupil key instead; a child's CPR number must not "
        "leave the school system.",
    )


def no_cpr_in_text_check() -> pa.Check:
    """Free text (a decision's action, responsible, note) holding no CPR-like number anywhere."""
    return rule(
        pa.Check(lambda s: ~s.map(lambda v: bool(find_cpr(v))).astype(bool)),
        "text without a CPR number (a decisions file never names a child)",
        "Remove the number: describe the action for a group, a class or a team, never one "
        "child. Children's identities stay in the school's own systems.",
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


def value_on_scale(scales: dict[str, tuple[float, float]]) -> pa.Check:
    """Each row's value within its indicator's scale (`scales`: indicator id -> (low, high))."""

    def on_scale(df: pd.DataFrame) -> pd.Series:
        low = df["indicator"].map(lambda i: scales.get(i, (-float("inf"), 0))[0])
        high = df["indicator"].map(lambda i: scales.get(i, (0, float("inf")))[1])
        value = df["value"].astype("Float64")
        return (value.isna() | ((value >= low) & (value <= high))).fillna(True).astype(bool)

    return row_rule(
        on_scale,
        "a value on the indicator's scale (means of the survey 1-5, shares 0-1, "
        "absence 0-100 %, waiting days 0 or more)",
        "Correct the value; a share is written as a fraction (0.85), not as 85.",
        ["value", "indicator"],
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
    aliases: dict[str, str] = field(default_factory=dict)  # other header -> column
    # checks beyond pandera's (typed frame, file name -> problems), and the kind's own shaping
    # of the typed frame into its warehouse table's rows
    more_checks: Callable[[pd.DataFrame, str], list[Problem]] | None = None
    shape: Callable[[pd.DataFrame], pd.DataFrame] | None = None

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
    **more,
) -> FileKind:
    """A file kind from its column table; the key is also the schema's uniqueness rule.
    `more`: FileKind's aliases, more_checks and shape."""
    schema = pa.DataFrameSchema(columns, checks=checks or [], unique=key, report_duplicates="all")
    numbers = {c: col.metadata["number"] for c, col in columns.items() if col.metadata}
    return FileKind(name, table or name, schema, numbers, signature, key, optional or [], **more)
