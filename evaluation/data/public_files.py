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
from evaluation.catalog import WELLBEING_INDICATORS as WELLBEING_INDICATORS  # re-exported
from evaluation.errors import ParameterError

WELLBEING_FILE = "school_wellbeing_2024_25.csv"
OVERVIEW_FILE = "school_overview.csv"
SERIES_FILE = "municipality_series.csv"
PUBLIC_FILES = (WELLBEING_FILE, OVERVIEW_FILE, SERIES_FILE)

NATIONAL_LABEL = "Hele landet"
ABSENCE_ARTEFACT_BELOW = 1.2  # absence_pct in [0, 1.2] is a registration artefact (README)
ABSENCE_INDICATOR = "fravaer"  # the catalog's absence indicator (percent of school days)
SCHOOL_KINDS = {"folkeskole": "school"}  # the third party's label -> our `units.kind`
TEXT_COLUMNS = {"school_id", "municipality_code", "school_year", "n"}
MAX_PROBLEMS = 20  # problems listed at most per public file


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
    wellbeing = validate_public_csv(paths[WELLBEING_FILE], "wellbeing")
    overview = validate_public_csv(paths[OVERVIEW_FILE], "overview")
    series = validate_public_csv(paths[SERIES_FILE], "series")
    overview, notes = filter_absence_artefacts(overview)
    return PublicData(wellbeing, overview, series, folder, notes)


def read_public_csv(path: Path) -> pd.DataFrame:
    """Read one public CSV with ids, codes and years kept as text."""
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    dtypes = {c: "string" for c in header if c in TEXT_COLUMNS}
    frame = pd.read_csv(path, dtype=dtypes, encoding="utf-8-sig", keep_default_na=True)
    frame.attrs["file"] = path.name
    return frame


def validate_public_csv(path: Path, role: str) -> pd.DataFrame:
    """Read one public file and check it as `workbench ingest` does (cells trimmed), then as
    published (evaluation.data.public_schemas).

    Returns the file as read, with `value` as numbers and `year` the school year's first year.
    """
    # why: pandera (~0.25 s) loads only when a public file is checked, not for its constants
    from evaluation.data.public_schemas import IMPORT_KINDS, public_kinds
    from evaluation.data.rules import school_year_start
    from evaluation.data.schemas import file_kinds
    from evaluation.data.validation import missing_column_problem, raise_problems, validate_frame

    frame = read_public_csv(path)
    kind = public_kinds()[role]
    missing = [c for c in kind.columns if c not in frame.columns]
    raise_problems([missing_column_problem(c, kind, path.name) for c in missing], MAX_PROBLEMS)
    numbered = frame.set_axis(frame.index + 2)  # line numbers as a spreadsheet shows them
    if role in IMPORT_KINDS:
        import_kind = file_kinds()[IMPORT_KINDS[role]]
        raise_problems(validate_frame(numbered, import_kind, path.name)[1], MAX_PROBLEMS)
    out = frame.assign(value=pd.to_numeric(frame["value"], errors="coerce"))
    numbered = out.set_axis(numbered.index)
    raise_problems(validate_frame(numbered, kind, path.name, strip_text=False)[1], MAX_PROBLEMS)
    return out.assign(year=school_year_start(out["school_year"]))


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
    """Return the name as the files write it, whatever its case ("aarhus" -> "Aarhus"), or
    raise ParameterError listing the valid names."""
    valid = list_municipalities(data)
    found = [v for v in valid if v.casefold() == str(municipality).strip().casefold()]
    if found:
        return found[0]
    if municipality not in valid:
        raise ParameterError(
            f"municipality={municipality!r} is not in the public school figures. "
            f"Valid names ({len(valid)}): {', '.join(valid)}"
        )
    return municipality
