"""The demo's pupil-level survey answers, drawn from a latent model with a known effect.

Pupil factors (general and one per indicator), school, school-year and cluster effects, a year
effect, item noise, then rounding to 1-5. Item levels are solved analytically so each
indicator's mean lands on the national level. The treated cluster-years get a latent shift; the
same draws without the shift give the counterfactual, so the realised effect on each indicator's
own scale is exact (evaluation.data.demo_layout.EffectTally).

Calibrated against the real 2024/25 school figures (validation/demo_calibration.py): levels,
between-school spread and school sizes. For a meeting worth having, two clusters outside the
effort clearly move in the last survey year (one up, one down) and two schools lie far from the
others in every year (evaluation.data.demo_planted); both are written to the truth sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from scipy.special import ndtr

from evaluation.data.demo_layout import YEARS, EffectTally, cluster_by_year, treated_matrix
from evaluation.data.demo_planted import CHANGE_STREAM, change_level, change_shifts, plant_findings

MISSING_SURVEY_YEAR = 2020  # covid: no survey that spring, as happened in reality

SURVEY_YEARS = [y for y in YEARS if y != MISSING_SURVEY_YEAR]

FIRST_COHORT = YEARS[0] - 9


# Calibration targets: pupil-level means before the effort, set so the last survey year's
# unweighted school means land on the real 2024/25 ones (social 3.93, faglig 3.58, støtte og
# inspiration 3.13, ro og orden 3.69; validation/demo_calibration.py). Items: the catalog.
TARGET_MEANS = {
    "social_trivsel": 3.88,
    "faglig_trivsel": 3.51,
    "stoette_og_inspiration": 3.06,
    "ro_og_orden": 3.69,
    "trivsel_indskoling": 4.05,
}

OTHER_ITEM_MEAN = 3.7  # items outside the targeted indicators (health, leisure, buildings)


# Latent standard deviations on the answer scale (tuned to the real 2024/25 figures, see
# validation/demo_calibration.py and validation/README.md).
SD_PUPIL_GENERAL = 0.42  # real share with high wellbeing 86-92 % (2018/19-2025/26)

SD_PUPIL_DIMENSION = 0.30

SD_ITEM_NOISE = 0.85

SD_CLUSTER = 0.06

SD_SCHOOL = 0.10  # with the noise of small schools: real between-school sd 0.15-0.20

SD_SCHOOL_YEAR = 0.01

SD_MUNICIPALITY = 0.05  # municipalities 2, 3, ... (DESIGN.md: about 1 % of variance)

YEAR_EFFECT = {2021: -0.02}  # a small post-covid dip


# The true effect of the effort: a latent shift on the items of these indicators.
LATENT_EFFECT = {"social_trivsel": 0.10, "faglig_trivsel": 0.11, "stoette_og_inspiration": 0.11}

PLACEBO = "ro_og_orden"


@dataclass
class ItemModel:
    """Per form: item columns, each item's dimension, level, reverse flag and latent shift."""

    items: list[str]
    dimension: np.ndarray  # int index into the form's dimensions, per item
    level: np.ndarray  # latent intercept per item (positive-coded scale)
    reverse: np.ndarray  # bool per item
    shift: np.ndarray  # latent effect per item in treated cluster-years
    has_dimension: np.ndarray  # bool per item: False for items outside the targeted indicators


@dataclass
class Survey:
    """What the generator needs from the catalog."""

    forms: dict[str, dict]  # band -> {"grades": [...], "items": {q: {...}}}
    indicators: list[dict]  # survey indicators (mean, or proportion with based_on)
    models: dict[str, ItemModel]


def load_survey(catalog_path: Path) -> Survey:
    """Read the forms and survey indicators from the catalog and solve each item's level."""
    catalog = yaml.safe_load(Path(catalog_path).read_text(encoding="utf-8"))
    indicators = [i for i in catalog["indicators"] if i["source"] == "survey"]
    models = {
        band: build_item_model(band, form, indicators) for band, form in catalog["forms"].items()
    }
    return Survey(forms=catalog["forms"], indicators=indicators, models=models)


def build_item_model(band: str, form: dict, indicators: list[dict]) -> ItemModel:
    """Give each item of a form a dimension (its targeted indicator), a level and a shift."""
    items = sorted(form["items"])
    targeted = [
        i
        for i in indicators
        if i["kind"] == "mean" and i["grade_band"] == band and i["id"] in TARGET_MEANS
    ]
    dimension = np.full(len(items), len(targeted), dtype=np.int64)  # last = "other"
    target = np.full(len(items), OTHER_ITEM_MEAN)
    shift = np.zeros(len(items))
    spread = np.random.default_rng(len(items)).uniform(-0.25, 0.25, len(items))
    for d, ind in enumerate(targeted):
        idx = [items.index(q) for q in ind["items"] if dimension[items.index(q)] == len(targeted)]
        dimension[idx] = d
        # spread items around the target, keeping the indicator's mean on target
        target[idx] = TARGET_MEANS[ind["id"]] + spread[idx] - spread[idx].mean()
        shift[idx] = LATENT_EFFECT.get(ind["id"], 0.0)
    reverse = np.array([bool(form["items"][q].get("reverse")) for q in items])
    total_sd = np.sqrt(
        SD_PUPIL_GENERAL**2
        + SD_PUPIL_DIMENSION**2
        + SD_ITEM_NOISE**2
        + SD_CLUSTER**2
        + SD_SCHOOL**2
        + SD_SCHOOL_YEAR**2
    )
    level = np.array([solve_item_level(t, total_sd) for t in target])
    return ItemModel(items, dimension, level, reverse, shift, dimension < len(targeted))


def expected_answer(level: float, sd: float) -> float:
    """E[clip(round(level + N(0, sd)), 1, 5)]."""
    return 1.0 + sum(ndtr((level - k - 0.5) / sd) for k in range(1, 5))


def solve_item_level(target: float, sd: float) -> float:
    """The latent level whose rounded, clipped answer has the target mean (bisection)."""
    low, high = -2.0, 8.0
    for _ in range(60):
        mid = (low + high) / 2
        if expected_answer(mid, sd) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


@dataclass
class Pupils:
    """Every pupil of one municipality's schools, cohort by cohort, with their own draws."""

    school: np.ndarray  # index of the pupil's school
    cohort: np.ndarray  # the year the pupil starts grade 0
    number: np.ndarray  # number within school and cohort
    keys: np.ndarray  # pseudonymous pupil keys
    general: np.ndarray  # latent general factor
    dims: np.ndarray  # latent factor per dimension
    skip_p: np.ndarray  # chance to skip an item
    zero_p: np.ndarray  # chance to answer 0 (does not want to answer)


@dataclass
class Levels:
    """Latent effects of schools, clusters, the municipality and school-years; response rates."""

    school: np.ndarray
    cluster: np.ndarray
    municipality: float
    school_year: np.ndarray  # (schools, years)
    response_rate: np.ndarray  # (schools, years)


@dataclass
class SurveyPlan:
    """What every survey year of one municipality draws on."""

    schools: list[str]
    cluster_ids: list[str]
    clusters: np.ndarray  # cluster index of each school in each year
    treated: np.ndarray  # whether each cluster is in the effort each year
    pupils: Pupils
    levels: Levels
    decisions: list = field(default_factory=list)  # demo_decisions.EffectiveDecision
    decision_shift: dict[str, np.ndarray] = field(default_factory=dict)  # band -> shift array
    change_shift: dict[str, np.ndarray] = field(default_factory=dict)  # planted cluster changes
    girl: np.ndarray | None = None  # per pupil: True = girl (its own random stream)


@dataclass
class YearSample:
    """The pupils answering in one survey year: their index, grade, level, cluster, effort."""

    idx: np.ndarray
    grade: np.ndarray
    level: np.ndarray
    cluster: np.ndarray
    treated: np.ndarray


def simulate_responses(
    rng: np.random.Generator,
    seed: int,
    m: int,
    muni: dict[str, pd.DataFrame],
    base: np.ndarray,
    survey: Survey,
    effects: EffectTally,
    decisions: list | None = None,
) -> pa.Table:
    """Pupil-level answers for every survey year of one municipality, as one Arrow table.

    `decisions`: the effective decisions (evaluation.data.demo_decisions), each a latent shift
    on its indicator's items in its cluster from its first survey year on."""
    schools = muni["units"][muni["units"].kind == "school"].unit_id.tolist()
    cluster_ids = muni["clusters"].cluster_id.tolist()
    clusters = cluster_by_year(muni, schools)
    treated = treated_matrix(muni)
    n_dims = 1 + max(int(model.dimension.max()) for model in survey.models.values())
    pupils = draw_pupils(rng, seed, m, base, n_dims)
    levels = draw_levels(rng, m, len(schools), len(cluster_ids))
    plan = SurveyPlan(schools, cluster_ids, clusters, treated, pupils, levels)
    planted = plant_findings(
        np.random.default_rng([seed, m, CHANGE_STREAM]),
        muni,
        base,
        sorted(LATENT_EFFECT),
        SURVEY_YEARS[-1],
        effects,
    )
    levels.school[planted.outlier_index] = planted.outlier_effect
    plan.change_shift = change_shifts(
        planted.changes, survey.indicators, survey.models, cluster_ids
    )
    plan.decisions = list(decisions or [])
    plan.decision_shift = decision_shifts(plan.decisions, survey, len(cluster_ids))
    plan.girl = draw_gender(seed, m, len(pupils.school))
    return pa.concat_tables([survey_year(rng, y, plan, survey, effects) for y in SURVEY_YEARS])


GENDER_STREAM = 0x6E  # gender comes from its own stream, so every other drawn value stays as it was


def draw_gender(seed: int, m: int, n_pupils: int) -> np.ndarray:
    """Each pupil's gender (True = girl), half and half, fixed over the years."""
    return np.random.default_rng([seed, m, GENDER_STREAM]).random(n_pupils) < 0.5


def draw_pupils(rng, seed: int, m: int, base: np.ndarray, n_dims: int) -> Pupils:
    """Cohorts: pupils who start grade 0 in a given year at a given school, up to grade 9."""
    n_schools = len(base)
    cohorts = np.arange(FIRST_COHORT, YEARS[-1] + 1)
    sizes = np.clip(
        np.rint(base[:, None] * rng.lognormal(0, 0.12, (n_schools, len(cohorts)))), 1, 160
    ).astype(np.int64)
    pupil_school = np.repeat(np.repeat(np.arange(n_schools), len(cohorts)), sizes.ravel())
    pupil_cohort = np.repeat(np.tile(cohorts, n_schools), sizes.ravel()).astype(np.int16)
    n_pupils = len(pupil_school)
    pupil_number = np.arange(n_pupils) - np.repeat(
        np.cumsum(sizes.ravel()) - sizes.ravel(), sizes.ravel()
    )
    keys = pupil_keys(seed, m, pupil_school, pupil_cohort, pupil_number)
    general = rng.normal(0, SD_PUPIL_GENERAL, n_pupils).astype(np.float32)
    dims = rng.normal(0, SD_PUPIL_DIMENSION, (n_pupils, n_dims)).astype(np.float32)
    skip_p = np.where(rng.random(n_pupils) < 0.1, 0.15, 0.012).astype(np.float32)
    zero_p = np.where(rng.random(n_pupils) < 0.1, 0.08, 0.008).astype(np.float32)
    return Pupils(pupil_school, pupil_cohort, pupil_number, keys, general, dims, skip_p, zero_p)


def draw_levels(rng, m: int, n_schools: int, n_clusters: int) -> Levels:
    """Centred, so each municipality's level is set by its own effect only (none for number 1)."""
    school_effect = centred(rng.normal(0, SD_SCHOOL, n_schools))
    cluster_effect = centred(rng.normal(0, SD_CLUSTER, n_clusters))
    municipality_effect = 0.0 if m == 1 else rng.normal(0, SD_MUNICIPALITY)
    school_year = rng.normal(0, SD_SCHOOL_YEAR, (n_schools, len(YEARS)))
    response_rate = rng.uniform(0.86, 0.97, (n_schools, len(YEARS)))
    return Levels(school_effect, cluster_effect, municipality_effect, school_year, response_rate)


def survey_year(rng, y: int, plan: SurveyPlan, survey: Survey, effects: EffectTally) -> pa.Table:
    """The answers of one survey year, sorted by school, grade and pupil."""
    pupils, levels = plan.pupils, plan.levels
    t = y - YEARS[0]
    grade = y - pupils.cohort.astype(np.int64)
    present = (grade >= 0) & (grade <= 9)
    answers_survey = rng.random(len(pupils.school)) < levels.response_rate[pupils.school, t]
    idx = np.flatnonzero(present & answers_survey)
    school = pupils.school[idx]
    cluster = plan.clusters[school, t]
    level = (
        pupils.general[idx]
        + levels.school[school]
        + levels.cluster[cluster]
        + levels.school_year[school, t]
        + YEAR_EFFECT.get(y, 0.0)
        + levels.municipality
    )
    sample = YearSample(idx, grade[idx], level, cluster, plan.treated[cluster, t])
    columns, missing = answer_forms(rng, y, plan, sample, survey, effects)
    order = np.lexsort((pupils.number[idx], grade[idx], school))
    arrays = {
        "year": pa.array(np.full(len(idx), y, np.int16)),
        "unit_id": pa.array(np.array(plan.schools, dtype=object)[school[order]], pa.string()),
        "grade": pa.array(grade[idx][order].astype(np.uint8)),
        "pupil_key": pa.array(pupils.keys[idx][order], pa.string()),
    }
    for q in columns:
        arrays[q] = pa.array(columns[q][order], type=pa.uint8(), mask=missing[q][order])
    arrays["gender"] = pa.array(np.where(plan.girl[idx][order], "girl", "boy"), pa.string())
    return pa.table(arrays)


def answer_forms(rng, y, plan: SurveyPlan, sample: YearSample, survey: Survey, effects):
    """Each pupil answers the form of their grade: item columns and their skipped masks."""
    pupils, idx = plan.pupils, sample.idx
    columns = {q: np.zeros(len(idx), np.uint8) for q in survey.models["4-9"].items}
    missing = {q: np.ones(len(idx), bool) for q in columns}
    for band, model in survey.models.items():
        sel = np.flatnonzero(np.isin(sample.grade, survey.forms[band]["grades"]))
        extra = decision_extra(plan, band, sample.cluster[sel], y)
        change = plan.change_shift.get(band)
        with_, without, skipped, no_decision = draw_answers(
            rng,
            model,
            (
                sample.level[sel]
                if change is None
                else change_level(sample.level[sel], sample.cluster[sel], change, y)
            ),
            pupils.dims[idx[sel]],
            sample.treated[sel],
            pupils.skip_p[idx[sel]],
            pupils.zero_p[idx[sel]],
            extra,
        )
        if extra is not None:
            answers = (with_, no_decision, skipped)
            tally_decisions(effects, plan, survey, band, model, answers, sample.cluster[sel], y)
        for j, q in enumerate(model.items):
            columns[q][sel] = with_[:, j]
            missing[q][sel] = skipped[:, j]
        cluster, treated = sample.cluster[sel], sample.treated[sel]
        tally_effects(
            effects,
            survey,
            band,
            model,
            with_,
            without,
            skipped,
            cluster,
            treated,
            plan.cluster_ids,
            y,
        )
    return columns, missing


def centred(values: np.ndarray) -> np.ndarray:
    return values - values.mean()


def pupil_keys(seed, m, school, cohort, number) -> np.ndarray:
    """Pseudonymous, stable pupil keys: a 40-bit scramble of (municipality, school, cohort, no.),
    written as "e" and ten hex digits, so a key never looks like a CPR number."""
    raw = ((m * 1000 + school) * 100 + (cohort.astype(np.int64) - 2000)) * 1000 + number
    mixed = (raw.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) & np.uint64((1 << 40) - 1)
    mixed ^= np.uint64((seed * 2654435761) & ((1 << 40) - 1))
    return np.array([f"e{v:010x}" for v in mixed.tolist()], dtype=object)


def draw_answers(rng, model: ItemModel, level, dims, treated, skip_p, zero_p, extra=None):
    """Answers with and without the effort (same draws), the skipped mask, and the answers
    without the decisions' shifts (`extra`, per pupil and item; None: no decision works here).
    Both the effort's answers include the decisions' shifts, so the effort's truth holds."""
    n, k = len(level), len(model.items)
    noise = rng.normal(0, SD_ITEM_NOISE, (n, k)).astype(np.float32)
    pupil_dims = dims[:, model.dimension] * model.has_dimension[None, :]
    level = level[:, None] if level.ndim == 1 else level  # per pupil, or per pupil and item
    latent = model.level[None, :] + level + pupil_dims + noise
    shifted = latent + np.where(treated[:, None], model.shift[None, :], 0.0)
    u = rng.random((n, k), dtype=np.float32)
    skipped = u < skip_p[:, None]
    refused = (~skipped) & (u < (skip_p + zero_p)[:, None])
    variants = (shifted, latent) if extra is None else (shifted + extra, latent + extra, shifted)
    out = []
    for values in variants:
        answer = np.clip(np.rint(values), 1, 5).astype(np.uint8)
        answer = np.where(model.reverse[None, :], 6 - answer, answer).astype(np.uint8)
        answer[refused | skipped] = 0
        out.append(answer)
    return out[0], out[1], skipped, (out[2] if extra is not None else None)


# --- effective decisions of the demo (evaluation.data.demo_decisions) -----------------------


def decision_shifts(decisions: list, survey: Survey, n_clusters: int) -> dict[str, np.ndarray]:
    """Per form: the latent shift of each cluster, year and item from the effective decisions."""
    shifts: dict[str, np.ndarray] = {}
    for d in decisions:
        model = survey.models[d.band]
        items = next(i["items"] for i in survey.indicators if i["id"] == d.indicator)
        if d.band not in shifts:
            shifts[d.band] = np.zeros((n_clusters, len(YEARS), len(model.items)), np.float32)
        columns = [model.items.index(q) for q in items]
        from_year = max(d.first_year - YEARS[0], 0)
        shifts[d.band][d.cluster_index, from_year:, columns] += np.float32(d.latent_shift)
    return shifts


def decision_extra(plan: SurveyPlan, band: str, cluster: np.ndarray, year: int):
    """The decisions' shift of each pupil's items this year; None when no decision works."""
    shift = plan.decision_shift.get(band)
    t = year - YEARS[0]
    if shift is None or not shift[np.unique(cluster), t].any():
        return None
    return shift[cluster, t]


def tally_decisions(effects, plan: SurveyPlan, survey, band, model, answers, cluster, year):
    """Per effective decision at work: its indicator's cluster value with minus without it."""
    with_, without, skipped = answers
    for d in plan.decisions:
        sel = cluster == d.cluster_index
        if d.band != band or year < d.first_year or not sel.any():
            continue
        ind = next(i for i in survey.indicators if i["id"] == d.indicator)
        s1 = indicator_scores(with_[sel], skipped[sel], model, ind)
        s0 = indicator_scores(without[sel], skipped[sel], model, ind)
        effects.add_decision(d.decision_id, year, np.nanmean(s1), np.nanmean(s0))


def indicator_scores(answers, skipped, model: ItemModel, ind: dict) -> np.ndarray:
    """Pupil scores of a mean indicator, or 1/0 (favourable) of a statement (catalog rule)."""
    score = score_pupils(answers, skipped, model, ind["items"])
    if "favourable_at" not in ind:
        return score
    return np.where(np.isnan(score), np.nan, (score >= ind["favourable_at"] - 1e-9) * 1.0)


def score_pupils(answers: np.ndarray, skipped: np.ndarray, model: ItemModel, items: list[str]):
    """Catalog rule: mean of answered items (1-5, reversed recoded), NaN if under half answered."""
    cols = [model.items.index(q) for q in items]
    a = answers[:, cols].astype(np.float32)
    a = np.where(model.reverse[cols][None, :], 6 - a, a)
    answered = (answers[:, cols] > 0) & ~skipped[:, cols]
    count = answered.sum(axis=1)
    total = np.where(answered, a, 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = total / count
    return np.where(count >= 0.5 * len(cols), score, np.nan)


def tally_effects(
    effects, survey, band, model, with_, without, skipped, cluster, treated, cluster_ids, year
) -> None:
    """Per treated cluster: the indicator value with minus without the effect."""
    if not treated.any():
        return
    for ind in survey.indicators:
        if ind["grade_band"] != band or not (ind["kind"] == "mean" or "based_on" in ind):
            continue
        base = (
            ind
            if "items" in ind
            else next(i for i in survey.indicators if i["id"] == ind["based_on"])
        )
        s1 = score_pupils(with_[treated], skipped[treated], model, base["items"])
        s0 = score_pupils(without[treated], skipped[treated], model, base["items"])
        if "threshold" in ind:
            valid = ~np.isnan(s1)
            s1 = np.where(valid, s1 > ind["threshold"], np.nan)
            s0 = np.where(valid, s0 > ind["threshold"], np.nan)
        for c in np.unique(cluster[treated]):
            sel = cluster[treated] == c
            effects.add(
                ind["id"], band, cluster_ids[c], year, np.nanmean(s1[sel]), np.nanmean(s0[sel])
            )
