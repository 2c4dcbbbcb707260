"""Turn a frame of text cells into typed, checked values and file:row:column Problems.

`validate_frame` checks a frame of text cells (as read from CSV/XLSX/YAML, or typed from Parquet)
against a file kind of evaluation.data.schemas and returns the typed frame and a list of
`Problem`s. The frame's index must be the row number as the user sees it in the file, so every
problem can say file:row:column.
"""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa

from evaluation.cpr import find_cpr, looks_like_cpr
from evaluation.data.rules import RULES, FileKind
from evaluation.errors import Problem, ValidationError

MAX_PROBLEMS = 50  # problems listed at most in one ValidationError

LARGEST_WHOLE = 2_147_483_647  # the warehouse's INTEGER columns
LARGEST_NUMBER = 1e15  # far beyond any real value; infinity ("1e999") is refused by this too
DECIMAL_COMMA = re.compile(r"^[+-]?[\d.]*,\d+$")


def parse_number_text(values: pd.Series) -> pd.Series:
    """Text cells to numbers: decimal comma or point; "1.234,5" with thousands points."""
    text_values = values.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    comma = text_values.str.match(DECIMAL_COMMA.pattern).fillna(False)
    text_values = text_values.where(
        ~comma, text_values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    return pd.to_numeric(text_values, errors="coerce").astype("Float64")


def convert_types(
    df: pd.DataFrame, kind: FileKind, file: str, strip_text: bool = True
) -> tuple[pd.DataFrame, list]:
    """Numeric columns to numbers; each cell that is not a number becomes a Problem.

    Text cells are trimmed and "" becomes empty, unless `strip_text` is False (the public files
    are checked as published, so a stray space is an error there).
    """
    problems = []
    out = df.copy()
    for column, sort in kind.numbers.items():
        if column not in out.columns:
            continue
        raw = out[column]
        if pd.api.types.is_numeric_dtype(raw.dtype):
            parsed = raw.astype("Float64")
        else:
            parsed = parse_number_text(raw)
            bad = raw.notna() & raw.astype("string").str.strip().ne("") & parsed.isna()
            problems += [
                not_a_number(file, int(row), column, v, sort) for row, v in raw[bad].items()
            ]
        too_big = parsed.abs() > (LARGEST_WHOLE if sort == "int" else LARGEST_NUMBER)
        too_big = too_big.fillna(False)
        problems += [too_large(file, int(row), column, v, sort) for row, v in raw[too_big].items()]
        out[column] = parsed.mask(too_big)
    for column in kind.columns:
        if column in out.columns and column not in kind.numbers:
            cleaned = out[column].astype("string")
            if strip_text:
                cleaned = cleaned.str.strip()
                cleaned = cleaned.mask(cleaned == "")
            out[column] = cleaned.astype("str")
    return out, problems


def too_large(file: str, row: int, column: str, value, sort: str) -> Problem:
    """A number the warehouse cannot hold (whole numbers are 32-bit; 1e999 is infinite)."""
    limit = f"{LARGEST_WHOLE:,}" if sort == "int" else "1e15"
    return Problem(
        file,
        row,
        column,
        repr(str(value)),
        f"a number of at most {limit} in size",
        f"Correct {column}; a count or value this large is a typing or export error.",
    )


def not_a_number(file: str, row: int, column: str, value, sort: str) -> Problem:
    if column == "year" or column.endswith("_year"):
        expected = "a year as a whole number"
        fix = "Write the year the school year starts in: 2023 for 2023/24."
    else:
        expected = "a whole number" if sort == "int" else "a number (decimal comma or point)"
        fix = f"Write a number in {column}; leave the cell empty if it is unknown."
    return Problem(file, row, column, repr(str(value)), expected, fix)


def validate_frame(
    df: pd.DataFrame, kind: FileKind, file: str, strip_text: bool = True
) -> tuple[pd.DataFrame, list[Problem]]:
    """Type and check a frame; return the typed frame and every problem found."""
    typed, problems = convert_types(df, kind, file, strip_text)
    not_numbers = {(p.row, p.column) for p in problems}
    try:
        kind.schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        found = problems_from_failures(exc.failure_cases, typed, kind, file)
        # a cell that is not a number is empty now; do not report it twice
        problems += [p for p in found if (p.row, p.column) not in not_numbers]
    if kind.more_checks is not None:
        problems += kind.more_checks(typed, file)
    return typed, sort_problems(problems)


def raise_problems(problems: list[Problem], cap: int = MAX_PROBLEMS) -> None:
    """Raise one ValidationError listing up to `cap` problems (and how many more there are)."""
    if problems:
        raise ValidationError(problems[:cap], more=max(0, len(problems) - cap))


def sort_problems(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.row or 0, p.column or ""))


def problems_from_failures(
    failures: pd.DataFrame, df: pd.DataFrame, kind: FileKind, file: str
) -> list[Problem]:
    """Turn pandera's failure cases into Problems (one per row and rule)."""
    uniqueness = failures[failures.check.astype(str).str.contains("uniqueness")]
    problems = duplicate_problems(uniqueness, df, kind, file) if len(uniqueness) else []
    reported = set()
    for case in failures.drop(uniqueness.index).itertuples():
        check = str(case.check)
        row = None if pd.isna(case.index) else int(case.index)
        if RULES.get(check, ([], ""))[0]:
            # a row check lists each filled cell of a failing row (or, without a row, an error
            # from a missing column, which column_in_dataframe reports): one problem per row
            if row is None or (check, row) in reported:
                continue
            reported.add((check, row))
        problem = case_problem(case, check, row, df, kind, file)
        if problem is not None:
            problems.append(problem)
    return problems


def case_problem(case, check: str, row: int | None, df, kind: FileKind, file: str):
    """One failure case as a Problem; None for a type failure convert_types has reported."""
    if check == "column_in_dataframe":
        return missing_column_problem(str(case.failure_case), kind, file)
    if check == "not_nullable":
        return Problem(
            file,
            row,
            case.column,
            "an empty cell",
            f"a value in {case.column}",
            "Fill in the value, or remove the row if it is not real data.",
        )
    if check in RULES:
        columns, fix = RULES[check]
        if not columns:
            return Problem(file, row, case.column, format_cell(case.failure_case), check, fix)
        found = ", ".join(f"{c}={format_cell(df.at[row, c])}" for c in columns)
        return Problem(file, row, columns[0], found, check, fix)
    if check.startswith(("dtype(", "coerce_dtype")):
        return None
    return Problem(file, row, case.column, format_cell(case.failure_case), check, "Correct it.")


def duplicate_problems(cases: pd.DataFrame, df: pd.DataFrame, kind: FileKind, file: str):
    """One problem per duplicated row, naming the first row with the same key."""
    rows = sorted({int(i) for i in cases["index"].dropna()})
    key = kind.key
    first_row: dict[tuple, int] = {}
    problems = []
    for row in rows:
        values = tuple(format_cell(df.at[row, c]) for c in key)
        if values not in first_row:
            first_row[values] = row
            continue
        problems.append(
            Problem(
                file,
                row,
                key[-1],
                ", ".join(f"{c}={v}" for c, v in zip(key, values, strict=True))
                + f", the same as row {first_row[values]}",
                f"one row per {', '.join(key)} (a duplicate key)",
                "Delete the duplicate row, or correct its key if it is a different record.",
            )
        )
    return problems


def missing_column_problem(column: str, kind: FileKind, file: str) -> Problem:
    other = [a for a, c in kind.aliases.items() if c == column]
    named = f"{column!r}" + (f" (or {other[0]!r})" if other else "")
    return Problem(
        file,
        None,
        column,
        f"no column {named}",
        f"a column {named} in a {kind.name} file (columns: {', '.join(kind.columns)})",
        f"Add the column {named} to the header row, or rename the column that holds it.",
    )


def format_cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, str) and looks_like_cpr(value):
        return "a CPR-like number (not repeated here)"  # a message must not spread it further
    if isinstance(value, str) and find_cpr(value):
        return "a text holding a CPR-like number (not repeated here)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
