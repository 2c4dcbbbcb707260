"""The decisions file as a file kind of the importer: its columns, checks and problems.

The vocabulary and the reading of the cells are in evaluation.data.decisions; the kind is
registered in evaluation.data.schemas like every other.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from evaluation.data.decisions import (
    HEADER_ALIASES,
    STATUSES,
    normalise_status,
    parse_date,
    parse_review,
    shape_decisions,
    split_targets,
)
from evaluation.data.rules import (
    YEAR_RANGE,
    FileKind,
    id_check,
    make_kind,
    no_cpr_in_text_check,
    one_of,
    row_rule,
    rule,
    text,
)
from evaluation.data.validation import format_cell
from evaluation.errors import Problem


def in_range(when) -> bool:
    """A date of the years the warehouse takes (a typed 1925 or 2205 is a typing error)."""
    return when is not None and YEAR_RANGE[0] <= when.year <= YEAR_RANGE[1]


def date_check() -> pa.Check:
    return rule(
        pa.Check(lambda s: s.map(lambda v: in_range(parse_date(v)))),
        "a date like 2025-03-14 or 14-03-2025",
        "Write the date the community decided as 2025-03-14 (or 14-03-2025, 14.03.2025).",
    )


def review_check() -> pa.Check:
    return rule(
        pa.Check(lambda s: s.map(lambda v: in_range((parse_review(v) or (None, None))[1]))),
        'a date (2026-03-01 or 01-03-2026) or a school year ("2025/2026")',
        "Write when the community looks again: a date, or the school year whose survey it "
        'waits for, as "2025/2026".',
    )


def status_check() -> pa.Check:
    return rule(
        pa.Check(lambda s: s.map(normalise_status).isin(STATUSES)),
        f"a status: {', '.join(STATUSES)}",
        "Write one of the statuses as listed (planlagt before it starts, i gang while it runs, "
        "then fortsat, justeret or stoppet after a review).",
    )


def review_after_decision() -> pa.Check:
    def in_order(df: pd.DataFrame) -> pd.Series:
        decided = df["decided"].map(parse_date)
        due = df["review"].map(lambda v: (parse_review(v) or (None, None))[1])
        known = decided.notna() & due.notna()
        return ~known | pd.Series(
            [d is None or r is None or r >= d for d, r in zip(decided, due, strict=True)],
            index=df.index,
        )

    return row_rule(
        in_order,
        "a review (ses_igen) not before the date decided",
        "Correct the date decided or the review date; the review comes after the decision.",
        ["review", "decided"],
    )


def decisions_kind(indicators: list[dict]) -> FileKind:
    """The decisions file; `indicators` are the catalog's entries (targets must be their ids)."""
    bands = sorted({str(i["grade_band"]) for i in indicators})
    band = one_of(
        bands,
        f"a grade band of the catalog: {', '.join(bands)}",
        "Write the grade band as in the catalog, or leave it empty for the whole cluster.",
    )
    free_text = no_cpr_in_text_check()
    return make_kind(
        "decisions",
        {
            "cluster_id": text(id_check("cluster")),
            "decided": text(date_check()),
            "action": text(free_text),
            "targets": text(),
            "grade_band": text(band, nullable=True, required=False),
            "unit_id": text(id_check("unit"), nullable=True, required=False),
            "responsible": text(free_text),
            "review": text(review_check()),
            "status": text(status_check()),
            "note": text(free_text, nullable=True, required=False),
        },
        signature=["cluster_id", "decided", "action", "targets"],
        key=["cluster_id", "decided", "action"],
        checks=[review_after_decision()],
        optional=["grade_band", "unit_id", "note"],
        aliases=HEADER_ALIASES,
        more_checks=target_checker(indicators),
        shape=shape_decisions,
    )


def target_checker(indicators: list[dict]):
    """Problems with `targets`: ids not in the catalog (listed with the valid ones), and a grade
    band the target indicator is not measured in."""
    band_of = {str(i["id"]): str(i["grade_band"]) for i in indicators}
    statements = [f"{i['id']} ({i['statement']})" for i in indicators if i.get("statement")]
    others = [str(i["id"]) for i in indicators if not i.get("statement")]
    valid = f"{', '.join(others)}; the six statements: {', '.join(statements)}"

    def check(typed: pd.DataFrame, file: str) -> list[Problem]:
        problems = []
        if "targets" not in typed:  # a missing column is reported as such
            return problems
        for row, cell in typed["targets"].dropna().items():
            ids = split_targets(cell)
            unknown = [i for i in ids if i not in band_of]
            if unknown or not ids:
                problems.append(unknown_targets(file, int(row), unknown, valid))
                continue
            grade_band = typed.at[row, "grade_band"] if "grade_band" in typed else None
            if isinstance(grade_band, str) and grade_band:
                wrong = [i for i in ids if band_of[i] not in (grade_band, "all")]
                if wrong:
                    problems.append(band_mismatch(file, int(row), grade_band, wrong, band_of))
        return problems

    return check


def unknown_targets(file: str, row: int, unknown: list[str], valid: str) -> Problem:
    found = ", ".join(format_cell(i) for i in unknown) or "no id"
    return Problem(
        file,
        row,
        "targets",
        f"unknown indicator id(s) {found}",
        f"indicator or statement ids of evaluation/catalog.yaml, separated by commas: {valid}",
        "Write the ids exactly as listed, e.g. 'generel_trivsel, social_trivsel'.",
    )


def band_mismatch(file, row, grade_band, wrong: list[str], band_of: dict) -> Problem:
    measured = ", ".join(f"{i} in {band_of[i]}" for i in wrong)
    return Problem(
        file,
        row,
        "grade_band",
        f"grade band {grade_band} for {measured}",
        "a grade band each target indicator is measured in",
        "Leave the grade band empty, or choose targets measured in that grade band.",
    )
