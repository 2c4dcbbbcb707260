"""What each importable file must look like: one pandera schema per file kind.

`validate_frame` checks a frame of text cells (as read from CSV/XLSX/YAML, or typed from Parquet)
and returns the typed frame and a list of `Problem`s. The frame's index must be the row number as
the user sees it in the file, so every problem can say file:row:column.

Each check carries its "expected" wording (pandera's `error`) and a fix, so a failure case turns
into a Problem without if-chains. Cross-table checks live in evaluation.data.ingest (they need the
warehouse) but produce the same Problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml

from evaluation import config
from evaluation.errors import Problem

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


def year_check() -> pa.Check:
    low, high = YEAR_RANGE
    return rule(
        pa.Check(lambda s: (s >= low) & (s <= high) & (s == s.round())),
        f"a school year as its first calendar year, {YEAR_RANGE[0]}-{YEAR_RANGE[1]}",
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


def at_most(column: str, limit: list[str], wording: str) -> pa.Check:
    """Row check: column <= sum of the limit columns (empty cells pass)."""

    def check(df: pd.DataFrame) -> pd.Series:
        ok = df[column] <= df[limit].sum(axis=1, min_count=1)
        return ok.fillna(True).astype(bool)

    return rule(
        pa.Check(check),
        f"{column} at most {wording}",
        f"Check {column} and {', '.join(limit)} in this row: the part cannot exceed the whole.",
        [column, *limit],
    )


def equal_sum(column: str, parts: list[str]) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        return (df[column] == df[parts].sum(axis=1)).fillna(True).astype(bool)

    return rule(
        pa.Check(check),
        f"{column} = {' + '.join(parts)}",
        f"Correct the counts in this row so {' + '.join(parts)} add up to {column}.",
        [column, *parts],
    )


def years_in_order(first: str, last: str) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        return (df[first] <= df[last]).fillna(True).astype(bool)

    return rule(
        pa.Check(check),
        f"{first} not after {last}",
        f"Swap or correct {first} and {last}; leave {last} empty if the period is open.",
        [first, last],
    )


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


def number(*checks: pa.Check, nullable: bool = False, required: bool = True) -> pa.Column:
    return pa.Column("Float64", list(checks), nullable=nullable, required=required)


def item_columns() -> tuple[list[str], list[str]]:
    """Answer columns from the catalog: (asked in every form, asked only in some forms)."""
    catalog = yaml.safe_load(Path(config.catalog_path()).read_text(encoding="utf-8"))
    forms = [set(form["items"]) for form in catalog["forms"].values()]
    every = sorted(set.intersection(*forms))
    some = sorted(set.union(*forms) - set(every))
    return every, some


def catalog_forms() -> dict[str, dict]:
    catalog = yaml.safe_load(Path(config.catalog_path()).read_text(encoding="utf-8"))
    return catalog["forms"]


def catalog_indicator_ids() -> list[str]:
    catalog = yaml.safe_load(Path(config.catalog_path()).read_text(encoding="utf-8"))
    return [i["id"] for i in catalog["indicators"]]


def unique_key(columns: list[str]) -> dict:
    return {"unique": columns, "report_duplicates": "all"}


def build_kinds() -> dict[str, FileKind]:
    """Every file kind the importer accepts."""
    every, some = item_columns()
    forms = catalog_forms()
    grades = sorted({g for form in forms.values() for g in form["grades"]})
    answer = rule(
        pa.Check.isin(ANSWERS),
        "an answer 1-5, 0 (does not want to answer) or empty (skipped)",
        "Correct the answer; the survey scale is 1-5. Leave skipped items empty.",
    )

    def answers_outside_form(df: pd.DataFrame) -> pd.Series:
        ok = pd.Series(True, index=df.index)
        for form in forms.values():
            extra = [q for q in every + some if q not in form["items"] and q in df.columns]
            in_form = df["grade"].isin(form["grades"])
            if extra:
                ok &= ~(in_form & df[extra].notna().any(axis=1))
        return ok

    outside = rule(
        pa.Check(answers_outside_form),
        "no answers to items outside the pupil's form (grades 0-3 answer q01-q20 only)",
        "Check the grade of this pupil, or move the answers to the right item columns.",
        ["grade"],
    )
    kinds = [
        FileKind(
            "units",
            "units",
            pa.DataFrameSchema(
                {
                    "unit_id": text(id_check("unit")),
                    "name": text(),
                    "kind": text(
                        rule(
                            pa.Check.isin(UNIT_KINDS),
                            f"one of {', '.join(UNIT_KINDS)}",
                            "Write the unit kind in English as listed.",
                        )
                    ),
                    "municipality": text(),
                    "first_year": number(year_check(), nullable=True, required=False),
                    "last_year": number(year_check(), nullable=True, required=False),
                },
                checks=[years_in_order("first_year", "last_year")],
                **unique_key(["unit_id"]),
            ),
            {"first_year": "int", "last_year": "int"},
            ["unit_id", "name", "kind"],
            ["unit_id"],
        ),
        FileKind(
            "clusters",
            "clusters",
            pa.DataFrameSchema(
                {
                    "cluster_id": text(id_check("cluster")),
                    "name": text(),
                    "municipality": text(),
                },
                **unique_key(["cluster_id"]),
            ),
            {},
            ["cluster_id", "name"],
            ["cluster_id"],
        ),
        FileKind(
            "cluster_membership",
            "cluster_membership",
            pa.DataFrameSchema(
                {
                    "unit_id": text(id_check("unit")),
                    "cluster_id": text(id_check("cluster")),
                    "from_year": number(year_check()),
                    "to_year": number(year_check(), nullable=True, required=False),
                },
                checks=[years_in_order("from_year", "to_year")],
                **unique_key(["unit_id", "from_year"]),
            ),
            {"from_year": "int", "to_year": "int"},
            ["unit_id", "cluster_id", "from_year"],
            ["unit_id", "from_year"],
        ),
        FileKind(
            "cluster_programme",
            "cluster_programme",
            pa.DataFrameSchema(
                {
                    "cluster_id": text(id_check("cluster")),
                    "start_year": number(year_check(), nullable=True),
                },
                **unique_key(["cluster_id"]),
            ),
            {"start_year": "int"},
            ["cluster_id", "start_year"],
            ["cluster_id"],
        ),
        FileKind(
            "responses",
            "responses",
            pa.DataFrameSchema(
                {
                    "year": number(year_check()),
                    "unit_id": text(id_check("unit")),
                    "grade": number(
                        rule(
                            pa.Check.isin(grades),
                            f"a grade {grades[0]}-{grades[-1]} (0 = børnehaveklasse)",
                            "Write the grade as a number; 0 for børnehaveklasse.",
                        )
                    ),
                    "pupil_key": text(),
                    **{q: number(answer, nullable=True) for q in every},
                    **{q: number(answer, nullable=True, required=False) for q in some},
                },
                checks=[outside],
                **unique_key(["year", "unit_id", "pupil_key"]),
            ),
            {"year": "int", "grade": "int", **{q: "int" for q in every + some}},
            ["year", "unit_id", "grade", "pupil_key"],
            ["year", "unit_id", "pupil_key"],
            optional=some,
        ),
        FileKind(
            "register",
            "register",
            pa.DataFrameSchema(
                {
                    "year": number(year_check()),
                    "unit_id": text(id_check("unit")),
                    "home_cluster": text(id_check("cluster")),
                    "pupils": number(count_check()),
                    "in_general_setting": number(count_check()),
                    "in_special_class": number(count_check()),
                    "in_special_school": number(count_check()),
                    "special_in_own_cluster": number(count_check()),
                    "returned_to_general": number(count_check()),
                    "referrals": number(count_check()),
                    "median_wait_days": number(
                        rule(
                            pa.Check.in_range(0, 730),
                            "a median waiting time of 0-730 days, or empty without referrals",
                            "Write the median number of days; leave empty if nobody was referred.",
                        ),
                        nullable=True,
                    ),
                    "absence_pct": number(
                        rule(
                            pa.Check.in_range(0, 100),
                            "a percentage 0-100",
                            "Write absence as percent of school days (6,5 for 6.5 %), "
                            "not as a fraction.",
                        ),
                        nullable=True,
                    ),
                    "absence_sd": number(
                        rule(
                            pa.Check.in_range(0, 100),
                            "a standard deviation 0-100 (percentage points)",
                            "Write the spread of pupils' absence in percentage points.",
                        ),
                        nullable=True,
                    ),
                    "pupils_over_10pct_absence": number(count_check()),
                },
                checks=[
                    at_most("in_general_setting", ["pupils"], "pupils"),
                    at_most(
                        "special_in_own_cluster",
                        ["in_special_class", "in_special_school"],
                        "in_special_class + in_special_school",
                    ),
                    at_most(
                        "returned_to_general",
                        ["in_special_class", "in_special_school"],
                        "in_special_class + in_special_school",
                    ),
                    at_most("pupils_over_10pct_absence", ["pupils"], "pupils"),
                    rule(
                        pa.Check(
                            lambda df: (
                                (
                                    df.in_general_setting
                                    + df.in_special_class
                                    + df.in_special_school
                                    <= df.pupils
                                )
                                .fillna(True)
                                .astype(bool)
                            )
                        ),
                        "in_general_setting + in_special_class + in_special_school at most pupils",
                        "Check the counts in this row: the settings cannot hold more pupils "
                        "than the row has.",
                        ["pupils", "in_general_setting", "in_special_class", "in_special_school"],
                    ),
                ],
                **unique_key(["year", "unit_id", "home_cluster"]),
            ),
            {
                "year": "int",
                "pupils": "int",
                "in_general_setting": "int",
                "in_special_class": "int",
                "in_special_school": "int",
                "special_in_own_cluster": "int",
                "returned_to_general": "int",
                "referrals": "int",
                "median_wait_days": "float",
                "absence_pct": "float",
                "absence_sd": "float",
                "pupils_over_10pct_absence": "int",
            },
            ["year", "unit_id", "home_cluster", "pupils"],
            ["year", "unit_id", "home_cluster"],
        ),
        FileKind(
            "daycare_language",
            "daycare_language",
            pa.DataFrameSchema(
                {
                    "year": number(year_check()),
                    "unit_id": text(id_check("unit")),
                    "assessed": number(count_check()),
                    "generel": number(count_check()),
                    "fokuseret": number(count_check()),
                    "saerlig": number(count_check()),
                },
                checks=[equal_sum("assessed", ["generel", "fokuseret", "saerlig"])],
                **unique_key(["year", "unit_id"]),
            ),
            {c: "int" for c in ["year", "assessed", "generel", "fokuseret", "saerlig"]},
            ["year", "unit_id", "assessed", "fokuseret"],
            ["year", "unit_id"],
        ),
        FileKind(
            "aggregates",
            "aggregates",
            pa.DataFrameSchema(
                {
                    "school_id": text(id_check("school")),
                    "school_name": text(nullable=True, required=False),
                    "school_year": school_year_column(),
                    "grade_band": text(),
                    "indicator": text(
                        rule(
                            pa.Check.isin(catalog_indicator_ids()),
                            "an indicator id of evaluation/catalog.yaml",
                            "Use the catalog's ids, e.g. generel_trivsel, social_trivsel.",
                        )
                    ),
                    "value": number(),
                    "n": number(count_check(), nullable=True, required=False),
                    "source": text(nullable=True, required=False),
                },
                **unique_key(["school_id", "school_year", "grade_band", "indicator"]),
            ),
            {"value": "float", "n": "int"},
            ["school_id", "school_year", "indicator", "value"],
            ["school_id", "school_year", "grade_band", "indicator"],
        ),
        # The ministry's school overview (pupils, absence ...) and a cluster map keyed by its
        # school ids. evaluation.data.public_ingest shapes both into warehouse tables.
        FileKind(
            "public_overview",
            "aggregates",
            pa.DataFrameSchema(
                {
                    "school_id": text(id_check("school")),
                    "school_name": text(nullable=True, required=False),
                    "school_year": school_year_column(),
                    "measure": text(),
                    "value": number(nullable=True),
                    "source": text(nullable=True, required=False),
                },
                **unique_key(["school_id", "school_year", "measure"]),
            ),
            {"value": "float"},
            ["school_id", "school_year", "measure", "value"],
            ["school_id", "school_year", "measure"],
        ),
        FileKind(
            "cluster_map",
            "cluster_membership",
            pa.DataFrameSchema(
                {
                    "school_id": text(id_check("school")),
                    "cluster_id": text(id_check("cluster")),
                    "cluster_name": text(nullable=True, required=False),
                    "from_year": number(year_check(), nullable=True, required=False),
                    "to_year": number(year_check(), nullable=True, required=False),
                },
                checks=[years_in_order("from_year", "to_year")],
                **unique_key(["school_id", "from_year"]),
            ),
            {"from_year": "int", "to_year": "int"},
            ["school_id", "cluster_id"],
            ["school_id", "from_year"],
        ),
    ]
    return {kind.name: kind for kind in kinds}


def school_year_column():
    """The ministry's school year as text, "2024/2025" (both public file kinds)."""
    return text(
        rule(
            pa.Check(school_year_ok),
            'a school year like "2024/2025"',
            'Write the school year as "2024/2025" (start year/end year).',
        )
    )


def school_year_ok(s: pd.Series) -> pd.Series:
    """ "2024/2025": two years, the second one after the first."""
    parts = s.str.extract(r"^(\d{4})/(\d{4})$")
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    return (second == first + 1).fillna(False).astype(bool)


_KINDS: dict[str, FileKind] | None = None


def file_kinds() -> dict[str, FileKind]:
    """The file kinds (built once; the catalog gives the answer columns)."""
    global _KINDS
    if _KINDS is None:
        _KINDS = build_kinds()
    return _KINDS


# --- turning a frame of text into typed, checked values ------------------------------------

DECIMAL_COMMA = re.compile(r"^[+-]?[\d.]*,\d+$")


def parse_number_text(values: pd.Series) -> pd.Series:
    """Text cells to numbers: decimal comma or point; "1.234,5" with thousands points."""
    text_values = values.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    comma = text_values.str.match(DECIMAL_COMMA.pattern).fillna(False)
    text_values = text_values.where(
        ~comma, text_values.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    return pd.to_numeric(text_values, errors="coerce").astype("Float64")


def convert_types(df: pd.DataFrame, kind: FileKind, file: str) -> tuple[pd.DataFrame, list]:
    """Numeric columns to numbers; each cell that is not a number becomes a Problem."""
    problems = []
    out = df.copy()
    for column, sort in kind.numbers.items():
        if column not in out.columns:
            continue
        raw = out[column]
        if pd.api.types.is_numeric_dtype(raw.dtype):
            out[column] = raw.astype("Float64")
            continue
        parsed = parse_number_text(raw)
        bad = raw.notna() & raw.astype("string").str.strip().ne("") & parsed.isna()
        is_year = column == "year" or column.endswith("_year")
        for row, value in raw[bad].items():
            problems.append(
                Problem(
                    file,
                    int(row),
                    column,
                    repr(str(value)),
                    "a year as a whole number"
                    if is_year
                    else (
                        "a whole number" if sort == "int" else "a number (decimal comma or point)"
                    ),
                    "Write the year the school year starts in: 2023 for 2023/24."
                    if is_year
                    else f"Write a number in {column}; leave the cell empty if it is unknown.",
                )
            )
        out[column] = parsed
    for column in kind.columns:
        if column in out.columns and column not in kind.numbers:
            cleaned = out[column].astype("string").str.strip()
            out[column] = cleaned.mask(cleaned == "").astype("str")
    return out, problems


def validate_frame(
    df: pd.DataFrame, kind: FileKind, file: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Type and check a frame; return the typed frame and every problem found."""
    typed, problems = convert_types(df, kind, file)
    not_numbers = {(p.row, p.column) for p in problems}
    try:
        kind.schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        found = problems_from_failures(exc.failure_cases, typed, kind, file)
        # a cell that is not a number is empty now; do not report it twice
        problems += [p for p in found if (p.row, p.column) not in not_numbers]
    return typed, sort_problems(problems)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.row or 0, p.column or ""))


def problems_from_failures(
    failures: pd.DataFrame, df: pd.DataFrame, kind: FileKind, file: str
) -> list[Problem]:
    """Turn pandera's failure cases into Problems (one per row and rule)."""
    problems = []
    uniqueness = failures[failures.check.astype(str).str.contains("uniqueness")]
    if len(uniqueness):
        problems += duplicate_problems(uniqueness, df, kind, file)
    for case in failures.drop(uniqueness.index).itertuples():
        check = str(case.check)
        row = None if pd.isna(case.index) else int(case.index)
        if check == "column_in_dataframe":
            problems.append(missing_column_problem(str(case.failure_case), kind, file))
        elif check == "not_nullable":
            problems.append(
                Problem(
                    file,
                    row,
                    case.column,
                    "an empty cell",
                    f"a value in {case.column}",
                    "Fill in the value, or remove the row if it is not real data.",
                )
            )
        elif check in RULES:
            columns, fix = RULES[check]
            column = columns[0] if columns else case.column
            if columns and case.column != columns[0]:
                continue  # a row check reports every column; keep one problem per row
            found = (
                ", ".join(f"{c}={format_cell(df.at[row, c])}" for c in columns)
                if columns and row is not None
                else format_cell(case.failure_case)
            )
            problems.append(Problem(file, row, column, found, check, fix))
        elif check.startswith(("dtype(", "coerce_dtype")):
            continue  # already reported by convert_types
        else:
            problems.append(
                Problem(
                    file, row, case.column, format_cell(case.failure_case), check, "Correct it."
                )
            )
    return problems


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
    return Problem(
        file,
        None,
        column,
        f"no column {column!r}",
        f"a column {column!r} in a {kind.name} file (columns: {', '.join(kind.columns)})",
        f"Add the column {column!r} to the header row, or rename the column that holds it.",
    )


def format_cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
