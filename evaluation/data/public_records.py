"""The ministry's records (evaluation.data.public_shapes) as the rows of the import's kinds.

TRIV/TRIVIND becomes the wellbeing file's `aggregates` rows and OVERSKO the school overview's
`public_overview` rows, so everything downstream reads them as before; TRIVSP, ELEVEX and
FRAVAAR become `public_answers`, `public_inclusion` and `public_absence` (docs/architecture.md).

Schools are identified by institution number, or by name matched (case and spacing ignored)
against the school overview, the wellbeing file or the records themselves; an unknown or an
ambiguous name is a Problem listing the candidates. Values are Danish-formatted text ("3,8",
"25.032", "87,5 %"); an empty cell or "-" is not published and its row is left out, never read
as zero. Bands: Mellemtrin -> 4-6, Udskoling -> 7-9, Indskoling -> 0-3; records without a band
hold the grades 4-9 together (the wellbeing file's band).
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from evaluation.data.public_shapes import indicator_id, school_year_label
from evaluation.errors import Problem

BANDS = {"mellemtrin": "4-6", "udskoling": "7-9", "indskoling": "0-3"}
ALL_BANDS = "4-9"  # the wellbeing indices' grades when the records are not split by band
NOT_PUBLISHED = {"", "-", "..", "nan", "<na>", "none"}
SOURCE = "uddannelsesstatistik.dk GS/{cube} ({file})"
THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")
DIRECTORY_COLUMNS = ["school_id", "school_name", "municipality", "municipality_code"]


def danish_number(value) -> float | None:
    """ "3,8" -> 3.8; "25.032" -> 25032; "87,5 %" -> 87.5; "3.8" -> 3.8; not published -> None.

    Raises ValueError for text that is no number."""
    text = str(value).replace("\u00a0", "").replace("%", "").strip()
    if text.lower() in NOT_PUBLISHED or value is None or value is pd.NA:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif THOUSANDS.match(text):
        text = text.replace(".", "")
    return float(text)


def number_column(records: pd.DataFrame, column: str, name: str, problems: list) -> pd.Series:
    """A measure as numbers (NaN where not published); text that is no number is a Problem."""
    if column not in records:
        return pd.Series(float("nan"), index=records.index)
    out = []
    for row, value in records[column].items():
        try:
            number = danish_number(value)
        except ValueError:
            problems.append(not_number_problem(name, row, column, value))
            number = None
        out.append(float("nan") if number is None else number)
    return pd.Series(out, index=records.index, dtype=float)


def as_percent(values: pd.Series, raw: pd.Series | None) -> pd.Series:
    """Shares as percent: written with "%" they are; without, all within 0-1 are fractions."""
    if raw is None or raw.astype(str).str.contains("%").any():
        return values
    return values * 100 if values.dropna().between(0, 1).all() else values


def not_number_problem(name: str, row, column: str, value) -> Problem:
    return Problem(
        name,
        int(row),
        column,
        repr(value),
        "a number as the ministry writes it (3,8 or 25.032), or empty when not published",
        "Correct the value, or leave the cell empty.",
    )


# --- years and bands ---------------------------------------------------------------------


def school_years(records: pd.DataFrame, name: str, problems: list) -> pd.Series:
    """The school year of every record as "2024/2025"; a missing or odd year is a Problem."""
    if "school_year" not in records:
        problems.append(
            Problem(
                name,
                None,
                "År",
                "no school year",
                "a column År or Skoleår (or [Skoleår].[Skoleår] in the API's answer)",
                "Ask the API with [Skoleår].[Skoleår] in detaljering, or add a column År.",
            )
        )
        return pd.Series(pd.NA, index=records.index, dtype="string")
    labels = records["school_year"].map(lambda v: school_year_label(v) if pd.notna(v) else None)
    for row, value in records.loc[labels.isna(), "school_year"].items():
        problems.append(
            Problem(
                name,
                int(row),
                "school_year",
                repr(value),
                'a school year like "2024/2025"',
                'Write the school year as "2024/2025".',
            )
        )
    return labels.astype("string")


def grade_bands(
    records: pd.DataFrame, name: str, problems: list, unsplit: str = ALL_BANDS
) -> pd.Series:
    """Mellemtrin -> 4-6, Udskoling -> 7-9, Indskoling -> 0-3, no band -> `unsplit`."""
    if "band" not in records:
        return pd.Series(unsplit, index=records.index, dtype="string")
    text = records["band"].fillna("").astype(str).str.strip()
    out = text.str.lower().map(BANDS)
    given = text.str.fullmatch(r"\d-\d") | text.eq("")
    out = out.where(out.notna(), text.where(text.ne(""), ALL_BANDS).where(given))
    for row, value in text[out.isna()].items():
        problems.append(
            Problem(
                name,
                int(row),
                "band",
                repr(value),
                "Mellemtrin, Udskoling or Indskoling (or a band like 4-9)",
                "Use the API's Klassetringruppe.",
            )
        )
    return out.astype("string")


# --- schools -----------------------------------------------------------------------------


def school_directory(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """school_id, school_name, municipality, municipality_code of every school the other files
    of the ingest know (school overview, wellbeing file), one row per id."""
    rows = []
    for frame in frames:
        id_column = "school_id" if "school_id" in frame else "unit_id"
        rows.append(
            pd.DataFrame(
                {
                    "school_id": frame[id_column].astype(str),
                    **{c: frame.get(c) for c in DIRECTORY_COLUMNS[1:]},
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=DIRECTORY_COLUMNS)
    return pd.concat(rows).drop_duplicates("school_id").reset_index(drop=True)


def name_key(name) -> str:
    return " ".join(str(name).casefold().split())


def resolve_schools(
    records: pd.DataFrame, directory: pd.DataFrame, municipality: str | None, name: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """school_id, school_name, municipality, municipality_code of every record (a name's
    problem is told once, at its first row)."""
    problems: list[Problem] = []
    rows = records.index
    records = records.reset_index(drop=True)  # a wide CSV repeats its line numbers
    given_id = records.get("school_id", pd.Series(pd.NA, index=records.index, dtype="string"))
    names = records.get("school_name", pd.Series(pd.NA, index=records.index, dtype="string"))
    digits = names.fillna("").astype(str).str.strip().str.fullmatch(r"\d{6}")
    given_id = given_id.where(given_id.notna(), names.where(digits))
    ids = given_id.fillna("").astype(str).str.strip()
    ids = ids.where(~ids.str.fullmatch(r"\d{4,5}"), ids.str.zfill(6))  # Excel drops zeros
    first_rows = pd.Series(rows).groupby(names.fillna("").to_numpy()).first()
    matched = {
        school_name: match_name(
            school_name, directory, municipality, name, first_rows[school_name], problems
        )
        for school_name in names[ids.eq("")].fillna("").unique()
    }
    ids = ids.where(ids.ne(""), names.fillna("").map(matched)).replace("", pd.NA)
    by_id = directory.drop_duplicates("school_id").set_index("school_id")
    out = pd.DataFrame({"school_id": ids.astype("string")})
    for column in DIRECTORY_COLUMNS[1:]:
        own = records[column] if column in records else pd.Series(pd.NA, index=records.index)
        known = ids.map(by_id[column]) if column in by_id else pd.NA
        out[column] = own.where(own.notna(), known).astype("string")
    out = out.where(ids.notna())
    out["municipality"] = out["municipality"].map(short_municipality, na_action="ignore")
    if municipality:
        out["municipality"] = out["municipality"].fillna(municipality)
    return out.set_axis(rows), problems


def short_municipality(name: str) -> str:
    """ "Aarhus Kommune" -> "Aarhus", "Bornholms Regionskommune" -> "Bornholm": the short names
    of the ministry's files (../shared/data/real/README.md)."""
    name = str(name).strip()
    if name == "Bornholms Regionskommune":
        return "Bornholm"
    return name.removesuffix(" Kommune")


def match_name(school_name, directory, municipality, name, row, problems: list) -> str | None:
    """The id of the one school of that name (in `municipality`, when given); else a Problem."""
    if school_name is None or pd.isna(school_name) or not str(school_name).strip():
        problems.append(school_problem(name, row, "no school", "an institution number or name"))
        return None
    pool = directory
    if municipality:
        own = directory["municipality"].fillna("").astype(str).str.casefold()
        pool = directory[own == municipality.casefold()]
    keys = pool["school_name"].map(name_key)
    found = pool[keys == name_key(school_name)]
    if len(found) == 1:
        return str(found["school_id"].iloc[0])
    if len(found) > 1:
        listed = "; ".join(
            f"{r.school_id} {r.school_name} ({r.municipality})" for r in found.itertuples()
        )
        problems.append(
            school_problem(
                name,
                row,
                f"the name {school_name!r} of {len(found)} schools: {listed}",
                "one school: give its institution number (Afdelingsnummer)",
            )
        )
        return None
    close = difflib.get_close_matches(str(school_name), pool["school_name"].astype(str), n=5)
    hint = "; ".join(close) if close else "none close"
    problems.append(
        school_problem(
            name,
            row,
            f"an unknown school name {school_name!r} (closest: {hint})",
            "a name of the school overview, or the institution number",
        )
    )
    return None


def school_problem(name: str, row, found: str, expected: str) -> Problem:
    return Problem(
        name,
        int(row),
        "school_name",
        found,
        expected,
        "Add the Afdelingsnummer column (ask the API with [Institution].[Afdelingsnummer]), or "
        "give school_overview.csv in the same ingest so names can be matched.",
    )


# --- records to the rows of each kind ---------------------------------------------------------


def ministry_frame(
    records: pd.DataFrame, cube: str, directory: pd.DataFrame, municipality: str | None, name: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """The records of one cube as the frame its kind validates (index = the user's row)."""
    problems: list[Problem] = []
    years = school_years(records, name, problems)
    schools, found = resolve_schools(records, directory, municipality, name)
    problems += found
    source = SOURCE.format(cube=cube, file=name)
    build = {
        "TRIVIND": wellbeing_rows,
        "OVERSKO": overview_rows,
        "TRIVSP": answer_rows,
        "ELEVEX": inclusion_rows,
        "FRAVAAR": absence_rows,
    }[cube]
    frame = build(records, years, schools, source, name, problems)
    return frame, problems


def school_columns(schools: pd.DataFrame, years: pd.Series, source: str) -> dict:
    """The columns every public school file has (school_wellbeing_2024_25.csv's first six)."""
    return {
        **{c: schools[c] for c in DIRECTORY_COLUMNS},
        "school_type": "folkeskole",
        "school_year": years,
        "source": source,
    }


def wellbeing_rows(records, years, schools, source, name, problems) -> pd.DataFrame:
    """TRIV/TRIVIND: one `aggregates` row per school, year, band and indicator."""
    names = records.get("indicator", pd.Series(pd.NA, index=records.index))
    ids = names.map(lambda v: indicator_id(v) if pd.notna(v) else None)
    for row, value in names[ids.isna()].items():
        problems.append(
            Problem(
                name,
                int(row),
                "indicator",
                repr(value),
                "Social trivsel, Faglig trivsel, Støtte og inspiration, Ro og orden or "
                "Generel trivsel",
                "Use the API's Trivselsindikator names.",
            )
        )
    frame = pd.DataFrame(
        {
            **school_columns(schools, years, source),
            "grade_band": grade_bands(records, name, problems),
            "indicator": ids,
            "value": number_column(records, "indicator_value", name, problems),
            "n": pd.NA,
        }
    )
    return frame[frame["value"].notna()]


def overview_rows(records, years, schools, source, name, problems) -> pd.DataFrame:
    """OVER/OVERSKO: Elevtal -> pupils, Samlet elevfravær -> absence_pct (public_overview)."""
    measures = {"pupils": ("pupils", "count"), "overview_absence": ("absence_pct", "percent")}
    parts = []
    for column, (measure, unit) in measures.items():
        if column in records:
            values = number_column(records, column, name, problems)
            part = pd.DataFrame(
                {
                    **school_columns(schools, years, source),
                    "measure": measure,
                    "value": values,
                    "unit": unit,
                }
            )
            parts.append(part[values.notna()])
    return pd.concat(parts).sort_index(kind="stable")


def answer_rows(records, years, schools, source, name, problems) -> pd.DataFrame:
    """TRIV/TRIVSP: each answer's share of each question, with the respondents (Antal svar)."""
    shares = {
        f"{c}_pct": as_percent(number_column(records, c, name, problems), records.get(c))
        for c in ("share", "share_municipality", "share_country")
    }
    frame = pd.DataFrame(
        {
            "year": years.str[:4].astype("Int64"),
            "unit_id": schools["school_id"],
            # not split by band: "all" (the question's text tells its form, 0-3 or 4-9)
            "grade_band": grade_bands(records, name, problems, unsplit="all"),
            "question": records.get("question"),
            "answer": records.get("answer"),
            "answer_value": number_column(records, "answer_value", name, problems),
            **shares,
            "respondents": number_column(records, "respondents", name, problems),
            "source": source,
        }
    )
    return frame[frame["share_pct"].notna() | frame["respondents"].notna()]


def inclusion_rows(records, years, schools, source, name, problems) -> pd.DataFrame:
    """ELEV/ELEVEX: the school's inklusionsgrad (and special education share), in percent."""
    frame = pd.DataFrame(
        {
            "year": years.str[:4].astype("Int64"),
            "unit_id": schools["school_id"],
            "grade": records["grade"].fillna("all") if "grade" in records else "all",
            "pupils": number_column(records, "pupils", name, problems),
            **{
                f"{c}_pct": as_percent(number_column(records, c, name, problems), records.get(c))
                for c in ("inclusion", "special_education")
            },
            "source": source,
        }
    )
    return frame[frame["inclusion_pct"].notna()]


def absence_rows(records, years, schools, source, name, problems) -> pd.DataFrame:
    """ELEVFRAV/FRAVAAR: absence in percent of school days and the share of pupils over 10 %."""
    columns = {
        "absence_pct": "absence",
        "unauthorised_absence_pct": "unauthorised_absence",
        "sick_absence_pct": "sick_absence",
    }
    frame = pd.DataFrame(
        {
            "year": years.str[:4].astype("Int64"),
            "unit_id": schools["school_id"],
            **{k: number_column(records, c, name, problems) for k, c in columns.items()},
            "over_10_pct": as_percent(
                number_column(records, "over_10_pct", name, problems), records.get("over_10_pct")
            ),
            "source": source,
        }
    )
    return frame[frame[["absence_pct", "over_10_pct"]].notna().any(axis=1)]
