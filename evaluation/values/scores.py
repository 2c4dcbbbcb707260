"""Pupil scores: wide survey answers turned into one score per pupil and survey indicator.

Answers arrive as small integer arrays (0 = missing) and are scored with numpy column
arithmetic, so a national year of pupils is scored in one pass (`evaluation.values.aggregate`
reads them from the warehouse a year at a time). The scores are pupil-level: they never leave
the warehouse side of the workbench.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.catalog import ITEM_COLUMNS, Catalog, Form, load_catalog
from evaluation.errors import EvaluationError


def answers_from_frame(responses_wide: pd.DataFrame) -> dict[str, np.ndarray]:
    """Item columns as uint8 arrays with 0 for both "does not want to answer" and skipped."""
    answers = {}
    for item in ITEM_COLUMNS:
        if item not in responses_wide:
            answers[item] = np.zeros(len(responses_wide), dtype=np.uint8)
            continue
        col = pd.to_numeric(responses_wide[item]).fillna(0).to_numpy(dtype=np.float64)
        bad = (col < 0) | (col > 5) | (col != np.round(col))
        if bad.any():
            found = col[bad][0]
            raise EvaluationError(
                f"Survey answer {found:g} in column {item}; answers are whole numbers 0-5 "
                "(0 = does not want to answer). Re-run `workbench ingest`, which validates them."
            )
        answers[item] = col.astype(np.uint8)
    return answers


def recode_form(answers: dict[str, np.ndarray], form: Form) -> dict[str, np.ndarray]:
    """Reverse-code the form's reversed items (x -> 6 - x); 0 (missing) stays 0."""
    recoded = {}
    for item_id, item in form.items.items():
        x = answers[item_id]
        recoded[item_id] = np.where(x > 0, 6 - x, 0).astype(np.uint8) if item.reverse else x
    return recoded


def mean_of_items(
    recoded: dict[str, np.ndarray], items: tuple[str, ...], min_answered: float
) -> np.ndarray:
    """Mean of the answered items per pupil; NaN where fewer than min_answered of them answered."""
    total = np.zeros(len(next(iter(recoded.values()))), dtype=np.int16)
    count = np.zeros_like(total)
    for item in items:
        x = recoded[item]
        total += x
        count += x > 0
    enough = count >= min_answered * len(items) - 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enough & (count > 0), total / count, np.nan)


def score_arrays(
    answers: dict[str, np.ndarray], grades: np.ndarray, catalog: Catalog
) -> dict[str, np.ndarray]:
    """Pupil score per survey indicator (float, NaN = not counted) from uint8 answer arrays.

    Means give the pupil's score on 1-5; proportions give 1.0 / 0.0 (favourable or high
    wellbeing) or NaN. A pupil only counts for indicators of the form matching their grade.
    """
    scores: dict[str, np.ndarray] = {}
    for band, form in catalog.forms.items():
        in_band = np.isin(grades, form.grades)
        recoded = recode_form(answers, form)
        for ind in catalog.from_source("survey"):
            if ind.grade_band != band or ind.based_on:
                continue
            mean = mean_of_items(recoded, ind.items, ind.min_answered)
            if ind.kind == "proportion":
                mean = np.where(np.isnan(mean), np.nan, (mean >= ind.favourable_at - 1e-9) * 1.0)
            scores[ind.id] = np.where(in_band, mean, np.nan)
    for ind in catalog.from_source("survey"):
        if ind.based_on:
            base = scores[ind.based_on]
            scores[ind.id] = np.where(np.isnan(base), np.nan, (base > ind.threshold) * 1.0)
    return {ind.id: scores[ind.id] for ind in catalog.from_source("survey")}


def score_pupils(responses_wide: pd.DataFrame, catalog: Catalog | None = None) -> pd.DataFrame:
    """Per pupil (row) the score of every survey indicator; NaN where the pupil does not count.

    `responses_wide` has the warehouse's `responses` columns (year, unit_id, grade, pupil_key,
    q01 ... q40; 0 or NULL = missing). Identifying columns present are kept in front.
    The result is pupil-level: it must never leave the warehouse side of the workbench.
    """
    catalog = catalog or load_catalog()
    if "grade" not in responses_wide:
        raise EvaluationError("score_pupils needs a `grade` column to choose the form (0-3/4-9).")
    grades = pd.to_numeric(responses_wide["grade"]).to_numpy()
    scores = score_arrays(answers_from_frame(responses_wide), grades, catalog)
    keys = [c for c in ("year", "unit_id", "grade", "pupil_key") if c in responses_wide]
    out = responses_wide[keys].copy()
    for ind_id, values in scores.items():
        out[ind_id] = values
    return out
