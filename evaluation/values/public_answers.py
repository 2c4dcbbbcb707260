"""The six statements from the ministry's published answer distributions (TRIV/TRIVSP, table
`public_answers`): where a statement rests on ONE official question, its share of favourable
answers and its respondent count are published, so it gets real counts and a sampling interval.

Per school, year and question (answers 1-5 oriented as published, 5 = best; 0 = "does not want
to answer" is left out of both shares and counts):
- favourable share p = sum of the shares of answers >= favourable_at, over the shares of
  answers 1-5 (the catalog's "share of pupils answering favourably");
- n = the respondents (`Antal svar`): the repeated value when every answer row carries the
  same count (a count per question), else the sum over answers 1-5 (a count per answer; both
  are seen in public code, ../shared/data/real/API.md);
- numerator = round(p n).
A question with any unpublished share gives no value (the ministry hid it). Clusters and the
municipality add numerators and counts of their schools. Statements on several questions
(q18 + q13, ...) need each pupil's answers together, which no marginal distribution holds:
they get no value from public figures. Suppression is the project's (evaluation.values.privacy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MISSING_ANSWER = 0


def statement_questions(catalog) -> dict[str, str]:
    """indicator id -> the question text of each one-question statement (4-9 form)."""
    out = {}
    for ind in catalog.indicators:
        if ind.statement is None or len(ind.items) != 1:
            continue
        form = catalog.forms.get(ind.grade_band)
        if form is not None and ind.items[0] in form.items:
            out[ind.id] = form.items[ind.items[0]].text_da
    return out


def read_answers(con, tables: set[str]) -> pd.DataFrame:
    if "public_answers" not in tables:
        return pd.DataFrame()
    return con.execute(
        "SELECT year, unit_id, question, answer_value, share_pct, respondents FROM public_answers"
    ).df()


def respondents(group: pd.DataFrame) -> float:
    """A question's respondents: one repeated count, or the per-answer counts added."""
    counts = group["respondents"].dropna()
    if counts.empty:
        return np.nan
    return float(counts.iloc[0]) if counts.nunique() == 1 else float(counts.sum())


def question_shares(answers: pd.DataFrame, favourable_at: float) -> pd.DataFrame:
    """year, unit_id, question, n, numerator for every fully published question."""
    answered = answers[answers["answer_value"].fillna(MISSING_ANSWER) != MISSING_ANSWER]
    rows = []
    for (year, unit, question), group in answered.groupby(["year", "unit_id", "question"]):
        n = respondents(group)
        total = group["share_pct"].sum()
        if group["share_pct"].isna().any() or np.isnan(n) or total <= 0:
            continue
        share = group.loc[group["answer_value"] >= favourable_at, "share_pct"].sum() / total
        rows.append(
            {
                "year": int(year),
                "unit_id": str(unit),
                "question": question,
                "n": n,
                "numerator": float(round(share * n)),
            }
        )
    return pd.DataFrame(rows, columns=["year", "unit_id", "question", "n", "numerator"])


def proportion_rows(frame: pd.DataFrame, level: str, key: str) -> pd.DataFrame:
    """Numerators and counts added per (year, indicator, key); value and binomial se."""
    grouped = frame.groupby(["year", "indicator_id", key], dropna=True)
    out = grouped.agg(n=("n", "sum"), numerator=("numerator", "sum")).reset_index()
    out["value"] = out["numerator"] / out["n"]
    out["se"] = np.sqrt(out["value"] * (1 - out["value"]) / out["n"])
    return out.assign(level=level, entity_id=out[key].astype(str))


def statement_values(con, tables: set[str], catalog, units, membership, cluster_muni):
    """Unit, cluster and municipality rows of the one-question statements (module docstring)."""
    answers = read_answers(con, tables)
    questions = statement_questions(catalog)
    if answers.empty or not questions:
        return pd.DataFrame()
    by_text = {text.casefold().strip(): ind for ind, text in questions.items()}
    answers = answers.assign(
        indicator_id=answers["question"].str.casefold().str.strip().map(by_text)
    ).dropna(subset=["indicator_id"])
    frames = []
    for indicator_id, group in answers.groupby("indicator_id"):
        favourable = catalog.get(indicator_id).favourable_at or 4
        frames.append(question_shares(group, favourable).assign(indicator_id=indicator_id))
    shares = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if shares.empty:
        return pd.DataFrame()
    return proportion_levels(shares, catalog, units, membership, cluster_muni)


def percent_counts(rows: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """School counts from a published percent and its count (year, unit_id, n, pct):
    numerator = round(pct / 100 * n), as ELEVEX's inklusionsgrad and FRAVAAR's share over 10 %."""
    return pd.DataFrame(
        {
            "year": rows["year"].astype(int),
            "unit_id": rows["unit_id"].astype(str),
            "indicator_id": indicator_id,
            "n": rows["n"].astype(float),
            "numerator": (rows["pct"] / 100 * rows["n"]).round().astype(float),
        }
    )


def percent_values(con, query: str, indicator_id: str, catalog, units, membership, cluster_muni):
    """Unit, cluster and municipality rows of a published percent with its count: `query`
    returns year, unit_id, n, pct per school (empty frame when it returns nothing)."""
    rows = con.execute(query).df()
    if rows.empty:
        return pd.DataFrame()
    counts = percent_counts(rows, indicator_id)
    return proportion_levels(counts, catalog, units, membership, cluster_muni)


def proportion_levels(shares: pd.DataFrame, catalog, units, membership, cluster_muni):
    """Unit, cluster and municipality rows from school counts (year, unit_id, indicator_id, n,
    numerator): clusters and the municipality add their schools' numerators and counts."""
    shares = shares.merge(units, on="unit_id", how="left")
    shares = shares.merge(membership, on=["year", "unit_id"], how="left")
    unit = shares.rename(columns={"unit_id": "entity_id"}).assign(level="unit")
    unit["value"] = unit["numerator"] / unit["n"]
    unit["se"] = np.sqrt(unit["value"] * (1 - unit["value"]) / unit["n"])
    cluster = proportion_rows(shares, "cluster", "cluster_id")
    cluster = cluster.merge(cluster_muni, on="cluster_id", how="left")
    muni = proportion_rows(shares, "municipality", "municipality").assign(cluster_id=None)
    out = pd.concat([unit, cluster, muni], ignore_index=True)
    grade_bands = {ind.id: ind.grade_band for ind in catalog.indicators}
    out = out.assign(
        grade_band=out["indicator_id"].map(grade_bands),
        kind="proportion",
        sd=np.nan,
        suppressed=False,
        suppression_reason=None,
    )
    return out.drop(columns=["question"], errors="ignore")


def school_respondents(answers: pd.DataFrame) -> pd.DataFrame:
    """year, unit_id, respondents: per school and year the largest question count (`respondents`
    of each question, answer 0 left out): the pupils who answered the survey, at least."""
    if answers.empty:
        return pd.DataFrame(columns=["year", "unit_id", "respondents"])
    answered = answers[answers["answer_value"].fillna(MISSING_ANSWER) != MISSING_ANSWER]
    per_question = (
        answered.groupby(["year", "unit_id", "question"])
        .apply(respondents, include_groups=False)
        .rename("respondents")
        .reset_index()
        .dropna(subset=["respondents"])
    )
    out = per_question.groupby(["year", "unit_id"], as_index=False)["respondents"].max()
    return out.assign(year=out["year"].astype(int), unit_id=out["unit_id"].astype(str))
