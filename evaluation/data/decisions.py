"""The decisions file ("handlinger"): what a learning community decided to try, and when to look.

One row per decision: the cluster, the date decided, the action (short text), the catalog
indicators it should move, optionally a grade band or a unit, who is responsible (a role or a
team, never a child), when to look again (a date or a school year) and a status. The file is
the municipality's whole list: importing it replaces the decisions table (the rule is
warehouse.WHOLE_TABLE). Headers are the English column ids or the Danish headers of
DANISH_HEADERS, which `workbench actions template` writes. Here: the vocabulary and how cells
are read (no pandera, so the demo generator stays light); evaluation.data.decision_schema holds
the file kind the importer checks against.

Free text is refused when it holds a CPR-like number (evaluation.cpr); messages never repeat it.
When a decision can first show: the survey runs January-March, so a decision dated after March
counts from the next school year's survey (`first_survey_year`).
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

STATUSES = ("planlagt", "i gang", "fortsat", "justeret", "stoppet")

# column id -> the Danish header the template writes (the importer accepts both)
DANISH_HEADERS = {
    "cluster_id": "klynge",
    "decided": "besluttet",
    "action": "handling",
    "targets": "skal_flytte",
    "grade_band": "klassetrin",
    "unit_id": "enhed",
    "responsible": "ansvarlig",
    "review": "ses_igen",
    "status": "status",
    "note": "note",
}
HEADER_ALIASES = {danish: column for column, danish in DANISH_HEADERS.items() if danish != column}

SURVEY_LAST_MONTH = 3  # the survey runs January-March
SCHOOL_YEAR_END = (7, 31)  # a school year ends on 31 July: a review "2025/2026" is due then
TARGET_SEPARATORS = re.compile(r"[,;\n]")
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")  # Excel: 00:00:00
DANISH_DATE = re.compile(r"^(\d{1,2})[-./](\d{1,2})[-./](\d{4})$")
SCHOOL_YEAR = re.compile(r"^(\d{4})\s*/\s*(\d{4}|\d{2})$")


# --- reading the cells ----------------------------------------------------------------------


def parse_date(value) -> date | None:
    """2025-03-14, 14-03-2025, 14.03.2025 or 14/03/2025 (and Excel's '2025-03-14 00:00:00')."""
    text_value = str(value).strip()
    if match := ISO_DATE.match(text_value):
        year, month, day = (int(g) for g in match.groups())
    elif match := DANISH_DATE.match(text_value):
        day, month, year = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_school_year(value) -> int | None:
    """ "2025/2026" or "2025/26" -> 2025 (the school year by its first calendar year)."""
    match = SCHOOL_YEAR.match(str(value).strip())
    if not match:
        return None
    start, end = int(match.group(1)), match.group(2)
    follows = int(end) == start + 1 if len(end) == 4 else int(end) == (start + 1) % 100
    return start if follows else None


def parse_review(value) -> tuple[str, date] | None:
    """When to look again, as (normalised text, due date); a school year is due when it ends."""
    when = parse_date(value)
    if when is not None:
        return when.isoformat(), when
    start = parse_school_year(value)
    if start is None:
        return None
    return f"{start}/{start + 1}", date(start + 1, *SCHOOL_YEAR_END)


def first_survey_year(decided: date) -> int:
    """The first survey (school year by its first calendar year) that can show a decision.

    The survey runs January-March: a decision dated after March counts from the next school
    year's survey (decided 2025-05-10 -> 2025, the survey of early 2026); one dated January-March
    counts from the survey of that spring (decided 2025-02-01 -> 2024).
    """
    return decided.year if decided.month > SURVEY_LAST_MONTH else decided.year - 1


def normalise_status(value) -> str:
    return " ".join(str(value).lower().split())


def split_targets(value) -> list[str]:
    """ "generel_trivsel, social_trivsel" -> the ids in order, each once."""
    parts = (p.strip() for p in TARGET_SEPARATORS.split(str(value)))
    return list(dict.fromkeys(p for p in parts if p))


def decision_ids(cluster_ids: pd.Series, decided: pd.Series) -> pd.Series:
    """ "nord-2025-05-10-1": cluster, date decided and the decision's number that day (in the
    order of the file), so the same list gives the same ids."""
    day = decided.map(lambda d: d.isoformat())
    number = day.groupby([cluster_ids, day]).cumcount() + 1
    return cluster_ids + "-" + day + "-" + number.astype(str)


def shape_decisions(typed: pd.DataFrame) -> pd.DataFrame:
    """The typed file as rows of the warehouse table `decisions` (index = row in the file)."""
    decided = typed["decided"].map(parse_date)
    review = typed["review"].map(parse_review)
    column = typed.get
    return pd.DataFrame(
        {
            "decision_id": decision_ids(typed["cluster_id"], decided),
            "cluster_id": typed["cluster_id"],
            "decided": decided,
            "first_year": decided.map(first_survey_year).astype("Int64"),
            "action": typed["action"],
            "targets": typed["targets"].map(lambda v: ", ".join(split_targets(v))),
            "grade_band": column("grade_band", pd.Series(None, index=typed.index, dtype=object)),
            "unit_id": column("unit_id", pd.Series(None, index=typed.index, dtype=object)),
            "responsible": typed["responsible"],
            "review": review.map(lambda r: r[0]),
            "review_date": review.map(lambda r: r[1]),
            "status": typed["status"].map(normalise_status),
            "note": column("note", pd.Series(None, index=typed.index, dtype=object)),
        },
        index=typed.index,
    )
