"""The ministry's public school-level figures (uddannelsesstatistik.dk): read and validate.

Three files (see ../shared/data/real/README.md for provenance and caveats):

- `school_wellbeing_2024_25.csv`: the five wellbeing indices (1-5, one decimal) per folkeskole,
  2024/25, grades 4-9 (inferred), no respondent counts;
- `school_overview.csv`: pupils, absence, class size ... per school (long format);
- `municipality_series.csv`: municipal and national series 2018/19-2025/26 for 20 Greater
  Copenhagen municipalities and the country.

Suppressed small schools (fewer than 5 pupils answering) are missing, never zero. The units with
absence between 0 and 1.2 % are registration artefacts and are filtered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.data import schemas
from evaluation.errors import ParameterError, Problem, ValidationError

WELLBEING_FILE = "school_wellbeing_2024_25.csv"
OVERVIEW_FILE = "school_overview.csv"
SERIES_FILE = "municipality_series.csv"
PUBLIC_FILES = (WELLBEING_FILE, OVERVIEW_FILE, SERIES_FILE)

WELLBEING_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "stoette_og_inspiration",
    "ro_og_orden",
)
NATIONAL_LABEL = "Hele landet"
ABSENCE_ARTEFACT_BELOW = 1.2  # absence_pct in [0, 1.2] is a registration artefact (README)
ABSENCE_INDICATOR = "fravaer"  # the catalog's absence indicator (percent of school days)
SCHOOL_KINDS = {"folkeskole": "school"}  # the third party's label -> our `units.kind`
OVERVIEW_RANGES = {  # plausible range per measure; outside it a value is an input error
    "pupils": (0, 5000),
    "absence_pct": (0, 100),
    "class_size": (0, 60),
    "grade_avg": (-3, 12),
    "qualified_teaching_pct": (0, 100),
    "socref_diff": (-12, 12),
    "to_youth_education_pct": (0, 100),
}
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
    "school_id",
    "school_name",
    "municipality",
    "municipality_code",
    "school_type",
    "school_year",
    "measure",
    "value",
    "unit",
    "source",
]
SERIES_COLUMNS = [
    "level",
    "municipality",
    "municipality_code",
    "school_year",
    "measure",
    "value",
    "unit",
    "source",
]
TEXT_COLUMNS = {"school_id", "municipality_code", "school_year", "n"}


@dataclass
class PublicData:
    """The three files, read and validated, plus the notes on what was filtered."""

    wellbeing: pd.DataFrame
    overview: pd.DataFrame
    series: pd.DataFrame
    data_dir: Path
    notes: list[dict] = field(default_factory=list)


# reading and validation ---------------------------------------------------------------------


def read_public_data(data_dir: str | Path | None = None) -> PublicData:
    """Read and validate the three public files from `data_dir` (default config.real_data_dir())."""
    folder = Path(data_dir) if data_dir else config.real_data_dir()
    paths = {name: folder / name for name in (WELLBEING_FILE, OVERVIEW_FILE, SERIES_FILE)}
    missing = [p for p in paths.values() if not p.is_file()]
    if missing:
        raise ParameterError(
            f"public data not found: {', '.join(str(p) for p in missing)}. Put the ministry's "
            f"files ({WELLBEING_FILE}, {OVERVIEW_FILE}, {SERIES_FILE}) in one folder and pass it "
            "as data_dir, or set WORKBENCH_REAL_DATA."
        )
    wellbeing = validate_wellbeing(read_public_csv(paths[WELLBEING_FILE]), paths[WELLBEING_FILE])
    overview = validate_overview(read_public_csv(paths[OVERVIEW_FILE]), paths[OVERVIEW_FILE])
    series = validate_series(read_public_csv(paths[SERIES_FILE]), paths[SERIES_FILE])
    overview, notes = filter_absence_artefacts(overview)
    return PublicData(wellbeing, overview, series, folder, notes)


def read_public_csv(path: Path) -> pd.DataFrame:
    """Read one public CSV with ids, codes and years kept as text."""
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    dtypes = {c: "string" for c in header if c in TEXT_COLUMNS}
    frame = pd.read_csv(path, dtype=dtypes, encoding="utf-8-sig", keep_default_na=True)
    frame.attrs["file"] = path.name
    return frame


def check_columns(frame: pd.DataFrame, expected: list[str], path: Path) -> None:
    """Raise ValidationError when a required column is missing."""
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ValidationError(
            [
                Problem(
                    file=path.name,
                    row=1,
                    column=col,
                    found="no such column",
                    expected=f"the columns {', '.join(expected)}",
                    fix="use the file as published with ../shared/data/real/README.md",
                )
                for col in missing
            ]
        )


def problems_from_mask(
    frame: pd.DataFrame, bad: pd.Series, path: Path, column: str, expected: str, fix: str
) -> list[Problem]:
    """One Problem per bad row (row = line number in the file, header is line 1)."""
    return [
        Problem(path.name, int(i) + 2, column, repr(frame.at[i, column]), expected, fix)
        for i in frame.index[bad.fillna(True).to_numpy(bool)]
    ]


def raise_if_problems(problems: list[Problem], cap: int = 20) -> None:
    if problems:
        raise ValidationError(problems[:cap], more=max(0, len(problems) - cap))


def school_year_start(label: pd.Series) -> pd.Series:
    """ "2024/2025" -> 2024 (the project's year convention); anything else -> <NA>."""
    parts = label.astype("string").str.extract(r"^(\d{4})/(\d{4})$")
    start = pd.to_numeric(parts[0], errors="coerce")
    end = pd.to_numeric(parts[1], errors="coerce")
    return start.where(end == start + 1).astype("Int64")


def validate_with_shared_schema(frame: pd.DataFrame, path: Path) -> None:
    """Run the import path's `aggregates` schema (evaluation.data.schemas) on the wellbeing file.

    The overview and series files have no schema there (they are not warehouse tables), so
    their checks live in this module.
    """
    kind = schemas.file_kinds()["aggregates"]
    numbered = frame.set_axis(frame.index + 2)  # line numbers as a spreadsheet shows them
    _, problems = schemas.validate_frame(numbered, kind, path.name)
    raise_if_problems(problems)


def validate_wellbeing(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the wellbeing file: the shared aggregates schema, then 1-5 values and known ids."""
    check_columns(frame, WELLBEING_COLUMNS, path)
    validate_with_shared_schema(frame, path)
    problems = []
    problems += problems_from_mask(
        frame,
        ~frame["school_id"].str.fullmatch(r"\d{6}"),
        path,
        "school_id",
        "a 6-digit institution number",
        "keep leading zeros; read the id as text",
    )
    problems += problems_from_mask(
        frame,
        ~frame["indicator"].isin(WELLBEING_INDICATORS),
        path,
        "indicator",
        f"one of {', '.join(WELLBEING_INDICATORS)}",
        "use the indicator keys of the README",
    )
    value = pd.to_numeric(frame["value"], errors="coerce")
    problems += problems_from_mask(
        frame,
        ~value.between(1, 5),
        path,
        "value",
        "a mean between 1 and 5",
        "check the decimal separator (a point) and the unit",
    )
    problems += year_and_duplicate_problems(frame, path, "school_id", "indicator", "school")
    raise_if_problems(problems)
    out = frame.copy()
    out["value"] = value
    out["year"] = school_year_start(out["school_year"])
    return out


def year_and_duplicate_problems(
    frame: pd.DataFrame, path: Path, unit_column: str, what_column: str, unit_word: str
) -> list:
    """Every public file: a readable school year, and one row per unit, measure and year."""
    problems = problems_from_mask(
        frame,
        school_year_start(frame["school_year"]).isna(),
        path,
        "school_year",
        "a school year such as 2024/2025",
        "write the year as YYYY/YYYY",
    )
    dup = frame.duplicated([unit_column, what_column, "school_year"], keep="first")
    return problems + problems_from_mask(
        frame,
        dup,
        path,
        unit_column,
        f"one row per {unit_word}, {what_column} and year",
        "drop duplicates",
    )


def validate_overview(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the overview file: ids, numeric values, no duplicate school-measure-year rows."""
    check_columns(frame, OVERVIEW_COLUMNS, path)
    value = pd.to_numeric(frame["value"], errors="coerce")
    problems = problems_from_mask(
        frame,
        ~frame["school_id"].str.fullmatch(r"\d{6}"),
        path,
        "school_id",
        "a 6-digit institution number",
        "keep leading zeros; read the id as text",
    )
    for measure, (low, high) in OVERVIEW_RANGES.items():
        rows = frame["measure"] == measure
        bad = rows & ~value.between(low, high)
        problems += problems_from_mask(
            frame, bad, path, "value", f"{measure} between {low} and {high}", "check the value"
        )
    problems += problems_from_mask(
        frame,
        ~frame["measure"].isin(list(OVERVIEW_RANGES)),
        path,
        "measure",
        f"one of {', '.join(OVERVIEW_RANGES)}",
        "use the measure keys of the README",
    )
    problems += year_and_duplicate_problems(frame, path, "school_id", "measure", "school")
    raise_if_problems(problems)
    out = frame.copy()
    out["value"] = value
    out["year"] = school_year_start(out["school_year"])
    return out


def validate_series(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the municipal series: levels, measures, years, one row per unit-measure-year."""
    check_columns(frame, SERIES_COLUMNS, path)
    value = pd.to_numeric(frame["value"], errors="coerce")
    problems = problems_from_mask(
        frame,
        ~frame["level"].isin(["municipality", "national"]),
        path,
        "level",
        "municipality or national",
        "use the levels of the README",
    )
    problems += problems_from_mask(
        frame,
        ~frame["measure"].isin(SERIES_MEASURES),
        path,
        "measure",
        f"one of {', '.join(SERIES_MEASURES)}",
        "use the measure keys of the README",
    )
    problems += problems_from_mask(
        frame, value.isna(), path, "value", "a number", "check the decimal separator (a point)"
    )
    problems += year_and_duplicate_problems(frame, path, "municipality", "measure", "unit")
    raise_if_problems(problems)
    out = frame.copy()
    out["value"] = value
    out["year"] = school_year_start(out["school_year"])
    return out


def filter_absence_artefacts(overview: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Drop absence values in [0, 1.2] %: registration artefacts, not near-zero absence."""
    is_artefact = (overview["measure"] == "absence_pct") & (
        overview["value"] <= ABSENCE_ARTEFACT_BELOW
    )
    dropped = overview[is_artefact]
    note = {
        "key": "absence_artefacts",
        "count": int(len(dropped)),
        "threshold": ABSENCE_ARTEFACT_BELOW,
        "school_ids": sorted(dropped["school_id"].tolist()),
    }
    return overview[~is_artefact].reset_index(drop=True), [note]


# the project's table shapes ----------------------------------------------------------------


def build_aggregates(data: PublicData) -> pd.DataFrame:
    """The `aggregates` table (docs/architecture.md): wellbeing indices and filtered absence.

    n and sd are NULL: the ministry publishes neither. Values stay as published (one decimal).
    """
    wb = data.wellbeing
    wellbeing = pd.DataFrame(
        {
            "year": wb["year"].astype("int64"),
            "unit_id": wb["school_id"].astype(str),
            "grade_band": wb["grade_band"].astype(str),
            "indicator_id": wb["indicator"].astype(str),
            "n": pd.array([pd.NA] * len(wb), dtype="Int64"),
            "value": wb["value"].astype(float),
            "sd": np.nan,
            "source": wb["source"].astype(str),
        }
    )
    ab = data.overview[
        (data.overview["measure"] == "absence_pct")
        & data.overview["school_id"].isin(wb["school_id"])
    ]
    absence = pd.DataFrame(
        {
            "year": ab["year"].astype("int64"),
            "unit_id": ab["school_id"].astype(str),
            "grade_band": "all",
            "indicator_id": ABSENCE_INDICATOR,
            "n": pd.array([pd.NA] * len(ab), dtype="Int64"),
            "value": ab["value"].astype(float),
            "sd": np.nan,
            "source": ab["source"].astype(str),
        }
    )
    out = pd.concat([wellbeing, absence], ignore_index=True)
    return out.sort_values(["unit_id", "indicator_id"]).reset_index(drop=True)


def build_units(data: PublicData) -> pd.DataFrame:
    """The `units` table for every school with wellbeing values."""
    wb = data.wellbeing.drop_duplicates("school_id")
    return pd.DataFrame(
        {
            "unit_id": wb["school_id"].astype(str),
            "name": wb["school_name"].astype(str),
            "kind": wb["school_type"].map(SCHOOL_KINDS).fillna("school").astype(str),
            "municipality": wb["municipality"].astype(str),
            "first_year": wb["year"].astype("int64"),
            "last_year": wb["year"].astype("int64"),
        }
    ).reset_index(drop=True)


def school_pupils(data: PublicData) -> pd.Series:
    """Pupils per school (all grades, 2024/25): the only size proxy; not respondents."""
    rows = data.overview[data.overview["measure"] == "pupils"]
    return rows.set_index("school_id")["value"].astype(float)


def list_municipalities(data: PublicData) -> list[str]:
    """Municipalities with at least one school value (Christiansø has no code and is left out)."""
    wb = data.wellbeing
    return sorted(wb.loc[wb["municipality_code"].notna(), "municipality"].unique().tolist())


def check_municipality(municipality: str, data: PublicData) -> str:
    """Return the name, or raise ParameterError listing the valid names."""
    valid = list_municipalities(data)
    if municipality not in valid:
        raise ParameterError(
            f"municipality={municipality!r} is not in the public school figures. "
            f"Valid names ({len(valid)}): {', '.join(valid)}"
        )
    return municipality
