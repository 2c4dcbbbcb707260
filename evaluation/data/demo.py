"""A synthetic demo municipality, written as the raw files a municipality would import.

`write_demo_data` writes units.csv, clusters.csv, cluster_membership.csv, cluster_programme.csv,
register.csv and daycare_language.csv (semicolon, decimal comma, UTF-8, like Danish exports), the
pupil-level survey answers as Parquet, and `true_effects.json`, the known truth of a staggered
effort so the statistics can be tested against it. Same seed, same bytes.

The survey answers come from a latent model: pupil factors (general and one per indicator),
school, school-year and cluster effects, a year effect, item noise, then rounding to 1-5. Item
levels are solved analytically so each indicator's mean lands on the national level. The treated
cluster-years get a latent shift; the same draws without the shift give the counterfactual, so the
realised effect on each indicator's own scale is exact.

Municipality 1 is Aarhus-sized; more municipalities are smaller (sizes drawn so 98 give about
550,000 pupils a year). Each municipality is generated and written on its own (numpy, small
dtypes), so national size stays light on memory.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from scipy.special import ndtr
from scipy.stats import binom

from evaluation import config

YEARS = list(range(2016, 2026))
MISSING_SURVEY_YEAR = 2020  # covid: no survey that spring, as happened in reality
SURVEY_YEARS = [y for y in YEARS if y != MISSING_SURVEY_YEAR]
FIRST_COHORT = YEARS[0] - 9
NATIONAL_PUPILS = 550_000
BASE_PUPILS = 33_000  # municipality 1 (Aarhus-sized)
NATIONAL_MUNICIPALITIES = 98

# Calibration targets: national levels (DESIGN.md, uvm.dk). Items come from the catalog.
TARGET_MEANS = {
    "social_trivsel": 3.95,
    "faglig_trivsel": 3.635,
    "stoette_og_inspiration": 3.19,
    "ro_og_orden": 3.80,
    "trivsel_indskoling": 4.05,
}
OTHER_ITEM_MEAN = 3.7  # items outside the targeted indicators (health, leisure, buildings)

# Latent standard deviations on the answer scale (tuned so the figures in the tests hold).
SD_PUPIL_GENERAL = 0.50
SD_PUPIL_DIMENSION = 0.30
SD_ITEM_NOISE = 0.85
SD_CLUSTER = 0.06
SD_SCHOOL = 0.095
SD_SCHOOL_YEAR = 0.01
SD_MUNICIPALITY = 0.05  # municipalities 2, 3, ... (DESIGN.md: about 1 % of variance)
YEAR_EFFECT = {2021: -0.02}  # a small post-covid dip

# The staggered effort and its true effect (latent shift per indicator's items).
START_YEARS = (2023, 2024)
LATENT_EFFECT = {"social_trivsel": 0.10, "faglig_trivsel": 0.11, "stoette_og_inspiration": 0.11}
PLACEBO = "ro_og_orden"
INCLUSION_EFFECT = 0.015  # +1.5 percentage points in the general setting

CLUSTERS = [
    ("nord", "Nord"),
    ("syd", "Syd"),
    ("vest", "Vest"),
    ("oest", "Øst"),
    ("midtby", "Midtby"),
    ("skovbrynet", "Skovbrynet"),
    ("havnen", "Havnen"),
    ("aabyen", "Åbyen"),
    ("engdalen", "Engdalen"),
    ("bakkerne", "Bakkerne"),
]
SCHOOL_NAMES = (
    "Skovvangskolen Bakkegårdsskolen Engdalskolen Møllevangskolen Sølystskolen Rosenvangskolen "
    "Ellevangskolen Vorrevangskolen Bavnehøjskolen Egebjergskolen Højvangskolen Lindebjergskolen "
    "Kildevangskolen Søndervangskolen Nordbyskolen Vestergårdsskolen Østervangskolen Fjordskolen "
    "Havbakkeskolen Strandskolen Tranehøjskolen Kragebakkeskolen Bøgeskovskolen Egeskovskolen "
    "Ådalskolen Mosevangskolen Tjørnehøjskolen Hedeskolen Lyngbakkeskolen Enghaveskolen "
    "Birkevangskolen Granhøjskolen Solbakkeskolen Klostervangskolen Kirkebakkeskolen "
    "Møllebakkeskolen Grønnegårdsskolen Præstemarkskolen Toftevangskolen Bymarkskolen "
    "Søagerskolen Åbjergskolen Fuglsangskolen Lærkevangskolen Stensballeskolen Havrevangskolen "
    "Vibeskolen Damhusskolen Æblehaveskolen Kærhøjskolen"
).split()
SPECIAL_SCHOOL_NAMES = ["Langagerskolen", "Stensagerskolen", "Kastanjehusets Specialskole"]
DAYCARE_STEMS = (
    "Bakkegårdens Skovbrynets Engdalens Møllegårdens Solbakkens Kildevangens Lindehusets "
    "Egeskovens Rosenhavens Fjordens Ådalens Strandens Mosens Kirkebakkens Lyngens Hedens "
    "Birkelundens Havrevangens Tjørnehøjens Søagerens Lærkereden Æblegårdens"
).split()
DAYCARE_KINDS = ["Børnehus", "Vuggestue", "Børnehave"]
DAYCARE_NICKNAMES = (
    "Mælkebøtten Regnbuen Troldehøjen Solsikken Spiren Myretuen Mariehønen Humlebien Grævlingen "
    "Pindsvinet Egernet Bikuben Kastanjen Valmuen Guldsmeden Sommerfuglen Rævegraven Uglereden"
).split()
CLUB_STEMS = (
    "Tranehøj Skovvang Engdal Havnen Bakken Fjorden Mosen Lyngen Heden Kilden Birken Vangen "
    "Toften Ådalen Bymarken Søen Stranden Granen Egen Møllen Kæret Enghaven"
).split()
CLUB_KINDS = ["Klub", "Ungdomsklubben", "Fritidsklubben"]


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


def write_demo_data(out_dir: Path, seed: int = 2023, municipalities: int = 1) -> Path:
    """Write the demo municipality (or `municipalities` of them) to out_dir; return out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_old_demo_files(out_dir)
    survey = load_survey(config.catalog_path())
    factors = draw_size_factors(seed, municipalities)
    tables: dict[str, list[pd.DataFrame]] = {}
    effects = EffectTally()
    start_years: dict[str, int | None] = {}
    many = municipalities > 1
    if many:
        (out_dir / "responses").mkdir()
    for m in range(1, municipalities + 1):
        rng = np.random.default_rng([seed, m])
        muni = build_municipality(rng, m, factors[m - 1])
        for name, df in muni.items():
            tables.setdefault(name, []).append(df)
        start_years.update(
            dict(
                zip(
                    muni["cluster_programme"].cluster_id,
                    muni["cluster_programme"].start_year,
                    strict=True,
                )
            )
        )
        grade_size = draw_grade_sizes(rng, muni)
        register = simulate_register(rng, muni, grade_size, effects)
        tables.setdefault("register", []).append(register)
        tables.setdefault("daycare_language", []).append(simulate_daycare_language(rng, muni))
        responses = simulate_responses(rng, seed, m, muni, grade_size, survey, effects)
        part = (
            out_dir
            / ("responses" if many else "")
            / (f"part-{m:03d}.parquet" if many else "responses.parquet")
        )
        pq.write_table(responses, part, compression="zstd", row_group_size=256_000)
    for name, parts in tables.items():
        write_csv(pd.concat(parts, ignore_index=True), out_dir / f"{name}.csv")
    write_true_effects(out_dir / "true_effects.json", seed, municipalities, start_years, effects)
    return out_dir


def remove_old_demo_files(out_dir: Path) -> None:
    """Remove files an earlier run wrote, so a smaller demo does not mix with a larger one."""
    for name in (
        "units.csv clusters.csv cluster_membership.csv cluster_programme.csv register.csv "
        "daycare_language.csv responses.parquet true_effects.json"
    ).split():
        (out_dir / name).unlink(missing_ok=True)
    if (out_dir / "responses").is_dir():
        shutil.rmtree(out_dir / "responses")


# --- catalog -------------------------------------------------------------------------------


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


# --- units and clusters --------------------------------------------------------------------


def draw_size_factors(seed: int, municipalities: int) -> np.ndarray:
    """Size of each municipality relative to municipality 1; 98 of them make a country."""
    rng = np.random.default_rng([seed, 0])
    others = rng.lognormal(0.0, 0.8, NATIONAL_MUNICIPALITIES - 1)
    total = NATIONAL_PUPILS / BASE_PUPILS - 1
    for _ in range(20):  # scale to the national total, no municipality above Aarhus size
        others = np.minimum(others * total / others.sum(), 1.0)
    return np.concatenate([[1.0], others])[:municipalities]


def municipality_name(m: int) -> str:
    return "Demo Kommune" if m == 1 else f"Demo Kommune {m}"


def build_municipality(rng: np.random.Generator, m: int, factor: float) -> dict[str, pd.DataFrame]:
    """Units, clusters, membership (one school and one daycare move) and programme starts."""
    name = municipality_name(m)
    code = 750 + m
    n_clusters = int(max(2, min(len(CLUSTERS), round(10 * factor**0.6))))
    n_schools = int(max(n_clusters, round(45 * factor)))
    n_special = int(max(1, min(len(SPECIAL_SCHOOL_NAMES), round(2 * factor))))
    n_daycare = int(max(2, round(65 * factor)))
    n_clubs = int(max(1, round(20 * factor)))
    suffix = "" if m == 1 else f"-{m:02d}"
    clusters = pd.DataFrame(
        {
            "cluster_id": [c[0] + suffix for c in CLUSTERS[:n_clusters]],
            "name": [c[1] for c in CLUSTERS[:n_clusters]],
            "municipality": name,
        }
    )
    school_names = rng.permutation(SCHOOL_NAMES)[:n_schools]
    daycare_names = draw_daycare_names(rng, n_daycare)
    club_names = [
        f"{CLUB_KINDS[i % 3]} {s}" for i, s in enumerate(rng.permutation(CLUB_STEMS)[:n_clubs])
    ]
    units = pd.concat(
        [
            unit_frame(
                [f"{code:03d}{i + 1:03d}" for i in range(n_schools)], school_names, "school"
            ),
            unit_frame(
                [f"{code:03d}9{j + 1:02d}" for j in range(n_special)],
                SPECIAL_SCHOOL_NAMES[:n_special],
                "special_school",
            ),
            unit_frame(
                [f"D{code:03d}{i + 1:03d}" for i in range(n_daycare)], daycare_names, "daycare"
            ),
            unit_frame([f"K{code:03d}{i + 1:03d}" for i in range(n_clubs)], club_names, "club"),
        ],
        ignore_index=True,
    )
    units["municipality"] = name
    units["first_year"] = YEARS[0]
    units["last_year"] = pd.array([pd.NA] * len(units), dtype="Int64")
    units["first_year"] = units["first_year"].astype("Int64")
    daycares = units.index[units.kind == "daycare"]
    clubs = units.index[units.kind == "club"]
    units.loc[daycares[-1], "first_year"] = 2019  # a new daycare opens
    if len(clubs) > 1:
        units.loc[clubs[-1], "last_year"] = 2022  # a club closes
    membership = assign_clusters(rng, units, clusters.cluster_id.tolist())
    order = rng.permutation(n_clusters)
    n_first = int(round(0.3 * n_clusters))
    n_second = int(round(0.3 * n_clusters))
    start = pd.array([pd.NA] * n_clusters, dtype="Int64")
    start[order[:n_first]] = START_YEARS[0]
    start[order[n_first : n_first + n_second]] = START_YEARS[1]
    programme = pd.DataFrame({"cluster_id": clusters.cluster_id, "start_year": start})
    return {
        "units": units,
        "clusters": clusters,
        "cluster_membership": membership,
        "cluster_programme": programme,
    }


def unit_frame(ids: list[str], names, kind: str) -> pd.DataFrame:
    return pd.DataFrame({"unit_id": ids, "name": list(names), "kind": kind})


def draw_daycare_names(rng: np.random.Generator, n: int) -> list[str]:
    """Danish daycare names: "Bakkegårdens Børnehus" or "Børnehuset Mælkebøtten"."""
    combos = [f"{s} {k}" for s in DAYCARE_STEMS for k in DAYCARE_KINDS]
    combos += [f"{k} {nick}" for nick in DAYCARE_NICKNAMES for k in ("Børnehuset", "Børnehaven")]
    chosen = rng.choice(len(combos), size=min(n, len(combos)), replace=False)
    names = [combos[i] for i in chosen]
    return names + [f"Dagtilbud {i + 1}" for i in range(n - len(names))]


def assign_clusters(rng: np.random.Generator, units: pd.DataFrame, cluster_ids: list[str]):
    """Spread each kind of unit evenly over clusters; one school and one daycare move in 2021."""
    rows = []
    k = len(cluster_ids)
    for kind in ("school", "special_school", "daycare", "club"):
        ids = units.unit_id[units.kind == kind].tolist()
        slots = rng.permutation(len(ids)) % k
        for uid, slot in zip(ids, slots, strict=True):
            rows.append([uid, cluster_ids[slot], YEARS[0], None])
    membership = pd.DataFrame(rows, columns=["unit_id", "cluster_id", "from_year", "to_year"])
    for kind in ("school", "daycare"):
        of_kind = membership[membership.unit_id.isin(units.unit_id[units.kind == kind])]
        crowded = of_kind.cluster_id.map(of_kind.cluster_id.value_counts()) >= 2
        if not crowded.any():
            continue
        first = of_kind.index[crowded.to_numpy()][0]
        old = membership.loc[first, "cluster_id"]
        new = cluster_ids[(cluster_ids.index(old) + 1) % k]
        membership.loc[first, "to_year"] = 2020
        moved = {"unit_id": membership.loc[first, "unit_id"], "cluster_id": new}
        membership.loc[len(membership)] = [moved["unit_id"], new, 2021, None]
    membership["from_year"] = membership["from_year"].astype("Int64")
    membership["to_year"] = pd.array(membership["to_year"].tolist(), dtype="Int64")
    return membership.sort_values(["unit_id", "from_year"], ignore_index=True)


def cluster_by_year(muni: dict[str, pd.DataFrame], unit_ids: list[str]) -> np.ndarray:
    """Cluster index (into clusters table) of each unit in each year: shape (units, years)."""
    cluster_ids = muni["clusters"].cluster_id.tolist()
    position = {u: i for i, u in enumerate(unit_ids)}
    out = np.full((len(unit_ids), len(YEARS)), -1, dtype=np.int64)
    for row in muni["cluster_membership"].itertuples():
        if row.unit_id not in position:
            continue
        last = YEARS[-1] if pd.isna(row.to_year) else int(row.to_year)
        for y in range(int(row.from_year), last + 1):
            out[position[row.unit_id], y - YEARS[0]] = cluster_ids.index(row.cluster_id)
    return out


def treated_matrix(muni: dict[str, pd.DataFrame]) -> np.ndarray:
    """Whether each cluster is in the effort each year: shape (clusters, years)."""
    start = muni["cluster_programme"].start_year.to_numpy(dtype="float64", na_value=np.inf)
    return np.array(YEARS)[None, :] >= start[:, None]


# --- survey answers ------------------------------------------------------------------------


class EffectTally:
    """Collects per treated cluster-year the indicator value with and without the effect."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, indicator, band, cluster_id, year, with_: float, without: float) -> None:
        self.rows.append(
            {
                "indicator": indicator,
                "grade_band": band,
                "cluster_id": cluster_id,
                "year": year,
                "effect": float(with_ - without),
            }
        )


def draw_grade_sizes(rng: np.random.Generator, muni: dict[str, pd.DataFrame]) -> np.ndarray:
    """Typical pupils per grade of each school (the register and the survey share them)."""
    n_schools = int((muni["units"].kind == "school").sum())
    return np.clip(rng.lognormal(np.log(70), 0.25, n_schools), 20, 110)


def simulate_responses(
    rng: np.random.Generator,
    seed: int,
    m: int,
    muni: dict[str, pd.DataFrame],
    base: np.ndarray,
    survey: Survey,
    effects: EffectTally,
) -> pa.Table:
    """Pupil-level answers for every survey year of one municipality, as one Arrow table."""
    schools = muni["units"][muni["units"].kind == "school"].unit_id.tolist()
    n_schools = len(schools)
    cluster_ids = muni["clusters"].cluster_id.tolist()
    clusters = cluster_by_year(muni, schools)
    treated = treated_matrix(muni)
    n_dims = 1 + max(int(model.dimension.max()) for model in survey.models.values())

    # cohorts: pupils who start grade 0 in a given year at a given school, followed up to grade 9
    cohorts = np.arange(FIRST_COHORT, YEARS[-1] + 1)
    sizes = np.clip(
        np.rint(base[:, None] * rng.lognormal(0, 0.12, (n_schools, len(cohorts)))), 12, 150
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

    # centred, so each municipality's level is set by its own effect only (none for number 1)
    school_effect = centred(rng.normal(0, SD_SCHOOL, n_schools))
    cluster_effect = centred(rng.normal(0, SD_CLUSTER, len(cluster_ids)))
    municipality_effect = 0.0 if m == 1 else rng.normal(0, SD_MUNICIPALITY)
    school_year = rng.normal(0, SD_SCHOOL_YEAR, (n_schools, len(YEARS)))
    response_rate = rng.uniform(0.86, 0.97, (n_schools, len(YEARS)))

    parts = []
    for y in SURVEY_YEARS:
        t = y - YEARS[0]
        grade = y - pupil_cohort.astype(np.int64)
        present = (grade >= 0) & (grade <= 9)
        answers_survey = rng.random(n_pupils) < response_rate[pupil_school, t]
        idx = np.flatnonzero(present & answers_survey)
        school = pupil_school[idx]
        cluster = clusters[school, t]
        level = (
            general[idx]
            + school_effect[school]
            + cluster_effect[cluster]
            + school_year[school, t]
            + YEAR_EFFECT.get(y, 0.0)
            + municipality_effect
        )
        is_treated = treated[cluster, t]
        columns = {q: np.zeros(len(idx), np.uint8) for q in survey.models["4-9"].items}
        missing = {q: np.ones(len(idx), bool) for q in columns}
        for band, model in survey.models.items():
            grades = survey.forms[band]["grades"]
            sel = np.flatnonzero(np.isin(grade[idx], grades))
            with_, without, skipped = draw_answers(
                rng,
                model,
                level[sel],
                dims[idx[sel]],
                is_treated[sel],
                skip_p[idx[sel]],
                zero_p[idx[sel]],
            )
            for j, q in enumerate(model.items):
                columns[q][sel] = with_[:, j]
                missing[q][sel] = skipped[:, j]
            tally_effects(
                effects,
                survey,
                band,
                model,
                with_,
                without,
                skipped,
                cluster[sel],
                is_treated[sel],
                cluster_ids,
                y,
            )
        order = np.lexsort((pupil_number[idx], grade[idx], school))
        arrays = {
            "year": pa.array(np.full(len(idx), y, np.int16)),
            "unit_id": pa.array(np.array(schools, dtype=object)[school[order]], pa.string()),
            "grade": pa.array(grade[idx][order].astype(np.uint8)),
            "pupil_key": pa.array(keys[idx][order], pa.string()),
        }
        for q in columns:
            arrays[q] = pa.array(columns[q][order], type=pa.uint8(), mask=missing[q][order])
        parts.append(pa.table(arrays))
    return pa.concat_tables(parts)


def centred(values: np.ndarray) -> np.ndarray:
    return values - values.mean()


def pupil_keys(seed, m, school, cohort, number) -> np.ndarray:
    """Pseudonymous, stable pupil keys: a 40-bit scramble of (municipality, school, cohort, no.)."""
    raw = ((m * 1000 + school) * 100 + (cohort.astype(np.int64) - 2000)) * 1000 + number
    mixed = (raw.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) & np.uint64((1 << 40) - 1)
    mixed ^= np.uint64((seed * 2654435761) & ((1 << 40) - 1))
    return mixed.astype(str).astype(object)


def draw_answers(rng, model: ItemModel, level, dims, treated, skip_p, zero_p):
    """Answers with and without the effect (same draws), and the skipped mask."""
    n, k = len(level), len(model.items)
    noise = rng.normal(0, SD_ITEM_NOISE, (n, k)).astype(np.float32)
    pupil_dims = dims[:, model.dimension] * model.has_dimension[None, :]
    latent = model.level[None, :] + level[:, None] + pupil_dims + noise
    shifted = latent + np.where(treated[:, None], model.shift[None, :], 0.0)
    u = rng.random((n, k), dtype=np.float32)
    skipped = u < skip_p[:, None]
    refused = (~skipped) & (u < (skip_p + zero_p)[:, None])
    out = []
    for values in (shifted, latent):
        answer = np.clip(np.rint(values), 1, 5).astype(np.uint8)
        answer = np.where(model.reverse[None, :], 6 - answer, answer).astype(np.uint8)
        answer[refused | skipped] = 0
        out.append(answer)
    return out[0], out[1], skipped


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


# --- register and daycare ------------------------------------------------------------------


def simulate_register(rng, muni, grade_size: np.ndarray, effects: EffectTally) -> pd.DataFrame:
    """One row per year, school attended and home cluster; the effort raises inklusionsgrad."""
    units = muni["units"]
    schools = units.unit_id[units.kind == "school"].tolist()
    specials = units.unit_id[units.kind == "special_school"].tolist()
    cluster_ids = muni["clusters"].cluster_id.tolist()
    k = len(cluster_ids)
    school_cluster = cluster_by_year(muni, schools)
    special_cluster = cluster_by_year(muni, specials)
    treated = treated_matrix(muni)
    size = grade_size * 10
    hosts = rng.random(len(schools)) < 0.4  # schools with special classes
    seg_base = np.clip(rng.normal(0.058, 0.01, k), 0.03, 0.09)
    absence_school = rng.lognormal(0, 0.15, len(schools) + len(specials))
    wait_base = np.clip(rng.normal(38, 8, k), 14, 80)
    frames = []
    for t, y in enumerate(YEARS):
        sc = school_cluster[:, t]
        living = np.array([size[sc == c].sum() for c in range(k)]) * rng.lognormal(0, 0.02, k)
        pupils_c = np.rint(living / (1 - seg_base)).astype(np.int64)
        p_seg = seg_base * (1 - 0.01 * (t - 4))  # slowly more inclusion everywhere
        u = rng.random(k)
        seg_with = binom.ppf(u, pupils_c, np.clip(p_seg - INCLUSION_EFFECT * treated[:, t], 0, 1))
        seg_without = binom.ppf(u, pupils_c, p_seg)
        for c in np.flatnonzero(treated[:, t]):
            effects.add(
                "inklusionsgrad",
                "all",
                cluster_ids[c],
                y,
                1 - seg_with[c] / pupils_c[c],
                1 - seg_without[c] / pupils_c[c],
            )
        seg = seg_with.astype(np.int64)
        in_class = rng.binomial(seg, 0.6)
        in_school = seg - in_class
        general = pupils_c - seg
        own = (sc[None, :] == np.arange(k)[:, None]).astype(float)
        weights = size[None, :] * (
            0.88 * own / own.sum(1, keepdims=True).clip(1) / size.mean()
            + 0.12 * (1 - own) / (1 - own).sum(1, keepdims=True).clip(1) / size.mean()
        )
        general_cs = multinomial_rows(rng, general, weights)
        host_own = own * hosts[None, :]
        host_own[host_own.sum(1) == 0] = own[host_own.sum(1) == 0]
        host_other = (1 - own) * hosts[None, :] + 1e-9
        class_weights = 0.75 * host_own / host_own.sum(
            1, keepdims=True
        ) + 0.25 * host_other / host_other.sum(1, keepdims=True)
        class_cs = multinomial_rows(rng, in_class, class_weights)
        spc = special_cluster[:, t]
        sp_own = (spc[None, :] == np.arange(k)[:, None]).astype(float)
        sp_weights = 0.2 + 0.8 * sp_own
        school_cs = multinomial_rows(rng, in_school, sp_weights)
        frames.append(
            register_rows(
                rng,
                y,
                schools,
                specials,
                sc,
                spc,
                cluster_ids,
                general_cs,
                class_cs,
                school_cs,
                absence_school,
                wait_base,
            )
        )
    return pd.concat(frames, ignore_index=True)


def multinomial_rows(rng, counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each row's count over columns in proportion to the row's weights."""
    p = weights / weights.sum(axis=1, keepdims=True)
    return rng.multinomial(counts, p)


def register_rows(
    rng,
    y,
    schools,
    specials,
    sc,
    spc,
    cluster_ids,
    general_cs,
    class_cs,
    school_cs,
    absence_school,
    wait_base,
) -> pd.DataFrame:
    """Turn the (home cluster x unit) counts into register rows with absence and referrals."""
    k = len(cluster_ids)
    home = np.repeat(np.arange(k), len(schools) + len(specials))
    unit = np.tile(np.arange(len(schools) + len(specials)), k)
    gen = np.concatenate([general_cs, np.zeros((k, len(specials)), np.int64)], axis=1).ravel()
    cls = np.concatenate([class_cs, np.zeros((k, len(specials)), np.int64)], axis=1).ravel()
    sps = np.concatenate([np.zeros((k, len(schools)), np.int64), school_cs], axis=1).ravel()
    unit_cluster = np.concatenate([sc, spc])[unit]
    pupils = gen + cls + sps
    keep = pupils > 0
    home, unit, gen, cls, sps, pupils, unit_cluster = (
        a[keep] for a in (home, unit, gen, cls, sps, pupils, unit_cluster)
    )
    own = unit_cluster == home
    special = cls + sps
    is_special_school = unit >= len(schools)
    # absence: pupil-level gamma draws, summarised per row
    mean_abs = 6.6 * absence_school[unit] * np.where(is_special_school, 1.6, 1.0)
    mean_abs *= {2020: 1.15, 2021: 1.3, 2022: 1.2}.get(y, 1.0)
    pupil_row = np.repeat(np.arange(len(pupils)), pupils)
    absence = np.minimum(rng.gamma(1.8, (mean_abs / 1.8)[pupil_row]), 100.0)
    total = np.bincount(pupil_row, absence, len(pupils))
    sq = np.bincount(pupil_row, absence**2, len(pupils))
    mean = total / pupils
    sd = np.sqrt(np.maximum(sq / pupils - mean**2, 0) * pupils / np.maximum(pupils - 1, 1))
    over = np.bincount(pupil_row, absence > 10, len(pupils)).astype(np.int64)
    referrals = rng.poisson(pupils * 0.035)
    wait = wait_base[home] + rng.normal(0, 10, len(pupils)) / np.sqrt(np.maximum(referrals, 1))
    wait = np.where(referrals > 0, np.round(np.clip(wait, 3, 200) * 2) / 2, np.nan)
    units = np.array(schools + specials, dtype=object)
    return pd.DataFrame(
        {
            "year": y,
            "unit_id": units[unit],
            "home_cluster": np.array(cluster_ids, dtype=object)[home],
            "pupils": pupils,
            "in_general_setting": gen,
            "in_special_class": cls,
            "in_special_school": sps,
            "special_in_own_cluster": np.where(own, special, 0),
            "returned_to_general": rng.binomial(special, 0.1),
            "referrals": referrals,
            "median_wait_days": wait,
            "absence_pct": np.round(mean, 2),
            "absence_sd": np.round(sd, 2),
            "pupils_over_10pct_absence": over,
        }
    )


def simulate_daycare_language(rng, muni) -> pd.DataFrame:
    """Language assessments per daycare and year: generel, fokuseret and særlig indsats."""
    units = muni["units"][muni["units"].kind == "daycare"]
    n = len(units)
    p_focus = np.clip(rng.normal(0.085, 0.03, n), 0.01, 0.3)
    p_special = np.clip(rng.normal(0.04, 0.015, n), 0.0, 0.15)
    size = rng.uniform(12, 45, n)
    frames = []
    for y in YEARS:
        active = (units.first_year.to_numpy(dtype="float64") <= y) & (
            units.last_year.to_numpy(dtype="float64", na_value=np.inf) >= y
        )
        assessed = rng.poisson(size)[active]
        focus = rng.binomial(assessed, p_focus[active])
        special = rng.binomial(assessed - focus, p_special[active] / (1 - p_focus[active]))
        frames.append(
            pd.DataFrame(
                {
                    "year": y,
                    "unit_id": units.unit_id.to_numpy()[active],
                    "assessed": assessed,
                    "generel": assessed - focus - special,
                    "fokuseret": focus,
                    "saerlig": special,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# --- writing -------------------------------------------------------------------------------


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """A Danish export: semicolon separator, decimal comma, UTF-8, empty for missing."""
    df.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8", lineterminator="\n")


def write_true_effects(path, seed, municipalities, start_years, effects: EffectTally) -> None:
    """The sidecar with the realised true effects (shape documented in docs/architecture.md)."""
    table = pd.DataFrame(
        effects.rows, columns=["indicator", "grade_band", "cluster_id", "year", "effect"]
    )
    out = {}
    for indicator, rows in table.groupby("indicator", sort=True):
        out[indicator] = {
            "grade_band": rows.grade_band.iloc[0],
            "realised": round(float(rows.effect.mean()), 6),
            "treated_cluster_years": int(len(rows)),
            "by_cluster_year": [
                {
                    "cluster_id": r.cluster_id,
                    "year": int(r.year),
                    "effect": round(float(r.effect), 6),
                }
                for r in rows.sort_values(["cluster_id", "year"]).itertuples()
            ],
        }
    sidecar = {
        "description": (
            "Known truth of the synthetic demo: clusters in the effort from start_year get a "
            "latent shift on the items of the named indicators (pupils in grades 4-9) and "
            f"+{INCLUSION_EFFECT} on the share in the general setting. 'realised' is the mean "
            "over treated cluster-years of the indicator value with the effect minus the same "
            "pupils' value without it (same random draws), on the indicator's own scale. "
            f"{PLACEBO} is a placebo with exactly zero effect."
        ),
        "seed": seed,
        "municipalities": municipalities,
        "years": YEARS,
        "survey_years": SURVEY_YEARS,
        "start_years": {
            c: (None if pd.isna(v) else int(v)) for c, v in sorted(start_years.items())
        },
        "latent_shift": LATENT_EFFECT,
        "nominal": {"inklusionsgrad": INCLUSION_EFFECT, PLACEBO: 0.0},
        "placebo": [PLACEBO],
        "effects": out,
    }
    path.write_text(json.dumps(sidecar, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
