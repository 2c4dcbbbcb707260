"""evaluation.values.scores: pupil scores from wide survey answers, on hand-made pupils
(tests/fixtures/hand_values.py) with hand-computed expectations."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from hand_values import HAND_PUPILS, pupils  # noqa: E402

from evaluation.catalog import ITEM_COLUMNS, load_catalog  # noqa: E402
from evaluation.errors import EvaluationError  # noqa: E402
from evaluation.values.scores import score_pupils  # noqa: E402


def test_score_pupils_by_hand(tiny):
    scores = score_pupils(pupils(HAND_PUPILS), tiny)
    nan = np.nan
    expected = {
        "idx": [5.0, 2.5, nan, 3.0, 4.5, nan, nan],
        "high": [1.0, 0.0, nan, 0.0, 1.0, nan, nan],
        "stmt": [1.0, 0.0, nan, 0.0, 1.0, nan, nan],
        "small": [nan, nan, nan, nan, nan, 4.5, nan],
    }
    for ind_id, want in expected.items():
        np.testing.assert_allclose(scores[ind_id].to_numpy(), want, err_msg=ind_id)
    assert list(scores.columns[:4]) == ["year", "unit_id", "grade", "pupil_key"]


def test_score_pupils_accepts_float_nan_and_refuses_answer_seven(tiny):
    frame = pupils(HAND_PUPILS[:2]).astype({q: "float64" for q in ITEM_COLUMNS})
    np.testing.assert_allclose(score_pupils(frame, tiny)["idx"], [5.0, 2.5])
    frame.loc[0, "q03"] = 7
    with pytest.raises(EvaluationError, match="answer 7 in column q03"):
        score_pupils(frame, tiny)


def test_real_catalog_half_rule_and_reverse_items():
    catalog = load_catalog()
    generel = catalog.get("generel_trivsel").items
    social = catalog.get("social_trivsel").items
    assert len(generel) == 29 and len(social) == 10
    row = {q: pd.NA for q in ITEM_COLUMNS}
    # 14 of 29 answered is under half (14.5): not counted; 15 is counted. The first 15 generel
    # items hold two reversed ones (q09, q14): 13 x 4 + 2 x (6 - 4) = 56 -> 56 / 15
    short = dict(row, grade=6, **{q: 4 for q in generel[:14]})
    enough = dict(row, grade=6, **{q: 4 for q in generel[:15]})
    # social trivsel: all ten items 3, but q09 "Føler du dig ensom?" (reversed) answered 1 -> 5:
    # (9 x 3 + 5) / 10 = 3.2; the same pupil answered 10 of 29 generel items -> not counted
    lonely = {**row, "grade": 6, **{q: 3 for q in social}, "q09": 1}
    # a 0-3 pupil gets no 4-9 scores
    small = dict(row, grade=2, q03=2, q01=5)
    scores = score_pupils(pd.DataFrame([short, enough, lonely, small]), catalog)
    np.testing.assert_allclose(scores["generel_trivsel"], [np.nan, 56 / 15, np.nan, np.nan])
    # pupils 1-2 answered all ten social items (the first ten generel items): 8 x 4 + 2 x 2 = 36
    np.testing.assert_allclose(scores["social_trivsel"], [3.6, 3.6, 3.2, np.nan])
    # trivsel_indskoling (16 items of the 0-3 form) needs 8: pupil 4 answered 2 -> not counted
    assert math.isnan(scores.loc[3, "trivsel_indskoling"])
    # the 0-3 form's own reversals: negatively worded q03 (alene), q13 (driller), q16 (kedelige),
    # q18 (svært at høre) answered 1, the rest 5 -> every item scores 5
    negative = ("q03", "q13", "q16", "q18")
    items = catalog.get("trivsel_indskoling").items
    full = {**row, "grade": 2, **{q: 1 if q in negative else 5 for q in items}}
    assert score_pupils(pd.DataFrame([full]), catalog)["trivsel_indskoling"].iloc[0] == 5.0
    # the same answers from a grade-6 pupil use the 4-9 form, where q03 is not reversed
    as_six = score_pupils(pd.DataFrame([{**full, "grade": 6}]), catalog)
    assert math.isnan(as_six["trivsel_indskoling"].iloc[0])


def test_statement_with_reversed_items_real_catalog():
    catalog = load_catalog()
    # udsagn_fysisk_mentalt: q10, q34, q35 reversed, q36 not: 2, 2, 1, 3 -> 4, 4, 5, 3 = 4.0 -> 1
    row = {q: pd.NA for q in ITEM_COLUMNS}
    yes = dict(row, grade=9, q10=2, q34=2, q35=1, q36=3)
    no = dict(row, grade=9, q10=3, q34=2, q35=1, q36=3)  # 3, 4, 5, 3 = 3.75 -> 0
    got = score_pupils(pd.DataFrame([yes, no]), catalog)["udsagn_fysisk_mentalt"]
    np.testing.assert_allclose(got, [1.0, 0.0])
