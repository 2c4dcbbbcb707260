"""Indicator catalog, pupil scores and aggregation, on tiny hand-made data with hand-computed
expectations (each expected number is worked out in the comment beside it)."""

from __future__ import annotations

import math
import re
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation import config
from evaluation.catalog import ITEM_COLUMNS, REGISTER_COLUMNS, load_catalog
from evaluation.errors import EvaluationError, PrivacyError
from evaluation.values import aggregate, load, load_indicator_values, privacy, scores
from evaluation.values.aggregate import VALUE_COLUMNS, compute_indicator_values
from evaluation.values.load import CACHE_SOURCES, find_cached_values
from evaluation.values.scores import score_pupils

# A tiny catalog: 4-item index (q02 reversed), a high-wellbeing share on it, a 2-item statement,
# and a 2-item 0-3 index whose q01 is reversed (the 0-3 form has its own items).
TINY_CATALOG = """
forms:
  "4-9":
    grades: [4, 5, 6, 7, 8, 9]
    items:
      q01: {text_da: a, reverse: false}
      q02: {text_da: b, reverse: true}
      q03: {text_da: c, reverse: false}
      q04: {text_da: d, reverse: false}
  "0-3":
    grades: [0, 1, 2, 3]
    items:
      q01: {text_da: e, reverse: true}
      q02: {text_da: f, reverse: false}
indicators:
  - {id: idx, source: survey, kind: mean, direction: higher_better, grade_band: "4-9",
     items: [q01, q02, q03, q04], min_answered: 0.5}
  - {id: high, source: survey, kind: proportion, direction: higher_better, grade_band: "4-9",
     based_on: idx, threshold: 3.0}
  - {id: stmt, source: survey, kind: proportion, direction: higher_better, grade_band: "4-9",
     items: [q01, q02], favourable_at: 4}
  - {id: small, source: survey, kind: mean, direction: higher_better, grade_band: "0-3",
     items: [q01, q02]}
  - {id: inkl, source: register, kind: proportion, direction: higher_better, grade_band: all,
     numerator: in_general_setting, denominator: pupils}
  - {id: naer, source: register, kind: proportion, direction: higher_better, grade_band: all,
     numerator: special_in_own_cluster, denominator: [in_special_class, in_special_school]}
  - {id: vent, source: register, kind: median, direction: lower_better, grade_band: all,
     value_column: median_wait_days, weight: referrals}
  - {id: frav, source: register, kind: rate, direction: lower_better, grade_band: all,
     value_column: absence_pct, sd_column: absence_sd, weight: pupils}
  - {id: sprog, source: daycare_language, kind: proportion, direction: lower_better,
     grade_band: "3-6 år", numerator: [fokuseret, saerlig], denominator: assessed}
"""

NA = None


def write_catalog(tmp_path, text: str):
    path = tmp_path / "catalog.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path):
    return load_catalog(write_catalog(tmp_path, TINY_CATALOG))


def pupils(rows: list[tuple]) -> pd.DataFrame:
    """(year, unit, grade, q01, q02, q03, q04) tuples -> a wide responses frame."""
    frame = pd.DataFrame(rows, columns=["year", "unit_id", "grade", "q01", "q02", "q03", "q04"])
    frame.insert(3, "pupil_key", [f"p{i}" for i in range(len(frame))])
    for q in ITEM_COLUMNS[4:]:
        frame[q] = pd.NA
    for q in ITEM_COLUMNS:
        frame[q] = frame[q].astype("Int8")
    return frame


# pupil: grade, q01..q04 -> idx, high, stmt, small (reverse: 4-9 q02, 0-3 q01; 6 - x)
HAND_PUPILS = [
    (2023, "U1", 5, 5, 1, 0, NA),  # A: 5, 5(rev 1), 0 missing, skipped -> 2 of 4 -> idx 5.0
    (2023, "U1", 6, 2, 4, 3, 3),  # B: 2, 2, 3, 3 -> idx 2.5, high 0, stmt mean 2 -> 0
    (2023, "U1", 7, 0, 0, 4, NA),  # C: 1 of 4 answered -> NaN everywhere
    (2023, "U1", 4, 3, NA, NA, 3),  # D: idx 3.0 (not > 3.0 -> high 0); stmt 1 of 2 -> 3 -> 0
    (2023, "U1", 8, 4, 2, 5, 5),  # E: 4, 4, 5, 5 -> 4.5; stmt mean 4 >= 4 -> 1
    (2023, "U1", 2, 2, 5, 5, NA),  # F: 0-3 form: q01 rev 2 -> 4, q02 5 -> small 4.5
    (2023, "U1", 1, 0, NA, NA, NA),  # G: 0-3 form, nothing answered -> small NaN
]


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


@pytest.mark.parametrize(
    ("edit", "replacement", "expected"),
    [
        ("items: [q01, q02, q03, q04]", "items: [q01, q99]", "indicator 'idx' uses item(s) q99"),
        ("kind: mean, direction", "kind: average, direction", "'idx' has unknown kind 'average'"),
        ("based_on: idx", "based_on: nothing", "'high' is based_on 'nothing'"),
        ("numerator: in_general_setting", "numerator: x", "'inkl' uses column(s) x"),
        ("source: daycare_language", "source: daycare", "'sprog' has unknown source 'daycare'"),
    ],
)
def test_catalog_errors_name_the_indicator(tmp_path, edit, replacement, expected):
    broken = TINY_CATALOG.replace(edit, replacement, 1)
    assert broken != TINY_CATALOG
    with pytest.raises(EvaluationError, match=re.escape(expected)):
        load_catalog(write_catalog(tmp_path, broken))


def test_real_catalog_loads_every_indicator():
    catalog = load_catalog()
    assert len(catalog.indicators) == 20
    assert catalog.get("naerhed").denominator == ("in_special_class", "in_special_school")
    with pytest.raises(EvaluationError, match="Known indicators"):
        catalog.get("nope")


# ------------------------------------------------------------------ aggregation on a warehouse


def build_warehouse(path, tables: dict[str, pd.DataFrame]):
    con = duckdb.connect(str(path))
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    return path


def idx_pupil(year, unit, score):
    """A grade-6 pupil whose idx score is `score` (all four items equal, q02 reversed)."""
    s = int(score)
    return (year, unit, 6, s, 6 - s, s, s)


@pytest.fixture
def warehouse(tmp_path):
    units = pd.DataFrame(
        {
            "unit_id": ["U1", "U2", "U3", "D1", "D2"],
            "name": ["Skole 1", "Skole 2", "Skole 3", "Dagtilbud 1", "Dagtilbud 2"],
            "kind": ["school"] * 3 + ["daycare"] * 2,
            "municipality": "Testby",
            "first_year": 2022,
            "last_year": 2023,
        }
    )
    clusters = pd.DataFrame(
        {"cluster_id": ["K1", "K2"], "name": ["Nord", "Syd"], "municipality": "Testby"}
    )
    # U2 moves from K1 to K2 in 2023 (the hand-over year written on both rows: the later wins)
    membership = pd.DataFrame(
        {
            "unit_id": ["U1", "U2", "U2", "U3", "D1", "D2"],
            "cluster_id": ["K1", "K1", "K2", "K2", "K1", "K2"],
            "from_year": [2016, 2016, 2023, 2016, 2016, 2016],
            "to_year": pd.array([None, 2023, None, None, None, None], dtype="Int64"),
        }
    )
    rows = [
        *HAND_PUPILS[:2],  # U1 2022 would be A, B: scores 5.0 and 2.5
        HAND_PUPILS[3],  # D 3.0
        HAND_PUPILS[4],  # E 4.5
    ]
    rows = [(2022, "U1", *r[2:]) for r in rows[:2]] + [(2022, "U2", *r[2:]) for r in rows[2:]]
    rows += [idx_pupil(2022, "U3", 4)]
    rows += [idx_pupil(2023, "U1", 3), idx_pupil(2023, "U2", 5), idx_pupil(2023, "U3", 4)]
    responses = pupils(rows)
    register = pd.DataFrame(
        [
            (2023, "U1", "K1", 100, 95, 3, 2, 4, 1, 10, 30.0, 5.0, 4.0, 8),
            (2023, "U1", "K2", 20, 18, 2, 0, 1, 0, 5, 60.0, 7.0, 5.0, 3),
            (2023, "U3", "K2", 50, 50, 0, 0, 0, 0, 0, None, 4.0, 3.0, 2),
        ],
        columns=["year", "unit_id", "home_cluster", *REGISTER_COLUMNS],
    )
    daycare = pd.DataFrame(
        [(2023, "D1", 40, 30, 6, 4), (2023, "D2", 20, 17, 2, 1)],
        columns=["year", "unit_id", "assessed", "generel", "fokuseret", "saerlig"],
    )
    return build_warehouse(
        tmp_path / "wh.duckdb",
        {
            "units": units,
            "clusters": clusters,
            "cluster_membership": membership,
            "responses": responses,
            "register": register,
            "daycare_language": daycare,
        },
    )


def cell(values, year, level, entity, indicator):
    hit = values[
        (values["year"] == year)
        & (values["level"] == level)
        & (values["entity_id"] == entity)
        & (values["indicator_id"] == indicator)
    ]
    assert len(hit) == 1, (year, level, entity, indicator, len(hit))
    return hit.iloc[0]


def test_values_table_shape(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    assert list(values.columns) == VALUE_COLUMNS
    assert set(values["level"]) == {"unit", "cluster", "municipality"}
    assert not values["suppressed"].any()
    assert set(values.loc[values["indicator_id"] == "idx", "grade_band"]) == {"4-9"}
    assert set(values.loc[values["indicator_id"] == "inkl", "grade_band"]) == {"all"}
    assert values.loc[values["level"] == "municipality", "cluster_id"].isna().all()


def test_survey_clusters_follow_membership_of_each_year(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    # 2022: K1 = U1 (5.0, 2.5) + U2 (3.0, 4.5): mean 15/4 = 3.75; squared deviations
    # 1.5625 + 1.5625 + 0.5625 + 0.5625 = 4.25, sd = sqrt(4.25 / 3)
    k1 = cell(values, 2022, "cluster", "K1", "idx")
    assert (k1["n"], k1["value"]) == (4, 3.75)
    assert k1["sd"] == pytest.approx(math.sqrt(4.25 / 3))
    assert k1["se"] == pytest.approx(math.sqrt(4.25 / 3) / 2)
    # 2023: U2 has moved to K2: K1 = U1 (3.0); K2 = U2 (5.0) + U3 (4.0) = 4.5
    assert cell(values, 2023, "cluster", "K1", "idx")["value"] == 3.0
    k2 = cell(values, 2023, "cluster", "K2", "idx")
    assert (k2["n"], k2["value"]) == (2, 4.5)
    assert cell(values, 2022, "unit", "U2", "idx")["cluster_id"] == "K1"
    assert cell(values, 2023, "unit", "U2", "idx")["cluster_id"] == "K2"
    # municipality 2022: 5, 2.5, 3, 4.5, 4 -> 19 / 5 = 3.8
    muni = cell(values, 2022, "municipality", "Testby", "idx")
    assert (muni["n"], muni["value"]) == (5, 3.8)
    # proportion: U1 2022 high wellbeing: A 1, B 0 -> 1/2, se sqrt(.25 / 2)
    high = cell(values, 2022, "unit", "U1", "high")
    assert (high["n"], high["numerator"], high["value"]) == (2, 1, 0.5)
    assert high["se"] == pytest.approx(math.sqrt(0.25 / 2))
    assert pd.isna(high["sd"])


def test_register_indicators_by_school_and_home_cluster(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    # unit U1 (school attended): rows 1+2: pupils 120, in general setting 95 + 18 = 113
    u1 = cell(values, 2023, "unit", "U1", "inkl")
    assert (u1["n"], u1["numerator"]) == (120, 113)
    assert u1["value"] == pytest.approx(113 / 120)
    assert u1["cluster_id"] == "K1"
    # cluster K2 (home cluster): rows 2+3: 70 pupils, 68 in general setting
    k2 = cell(values, 2023, "cluster", "K2", "inkl")
    assert (k2["n"], k2["numerator"]) == (70, 68)
    muni = cell(values, 2023, "municipality", "Testby", "inkl")
    assert (muni["n"], muni["numerator"]) == (170, 163)
    # naerhed U1: special pupils 3 + 2 + 2 = 7, inside own cluster 4 + 1 = 5
    naer = cell(values, 2023, "unit", "U1", "naer")
    assert (naer["n"], naer["numerator"]) == (7, 5)
    # U3 has no pupils in special provision: no naerhed cell at all (n = 0)
    assert values[(values["entity_id"] == "U3") & (values["indicator_id"] == "naer")].empty
    # waiting time U1: medians 30 (10 referrals) and 60 (5): weighted median 30, n 15
    vent = cell(values, 2023, "unit", "U1", "vent")
    assert (vent["n"], vent["value"]) == (15, 30.0)
    assert vent["se"] == pytest.approx(30 / (math.log(2) * math.sqrt(15)))
    # K2: 60 (5 referrals) and a row without referrals -> 60, n 5
    assert cell(values, 2023, "cluster", "K2", "vent")["value"] == 60.0


def test_absence_pooled_sd_matches_pupil_level_sd(tmp_path, tiny):
    """The register carries a mean and SD per row; the pooled SD must equal numpy's SD of the
    pupils behind the rows."""
    rng = np.random.default_rng(1)
    groups = [rng.gamma(2.0, 3.0, size=n) for n in (37, 12, 51)]
    rows = [
        (2023, "U1", home, len(g), len(g), 0, 0, 0, 0, 0, None, g.mean(), g.std(ddof=1), 0)
        for home, g in zip(["K1", "K1", "K2"], groups, strict=True)
    ]
    register = pd.DataFrame(rows, columns=["year", "unit_id", "home_cluster", *REGISTER_COLUMNS])
    units = pd.DataFrame({"unit_id": ["U1"], "municipality": ["Testby"]})
    path = build_warehouse(tmp_path / "r.duckdb", {"register": register, "units": units})
    values = compute_indicator_values(path, tiny)
    everyone = np.concatenate(groups)
    unit = cell(values, 2023, "unit", "U1", "frav")
    assert unit["value"] == pytest.approx(everyone.mean())
    assert unit["sd"] == pytest.approx(everyone.std(ddof=1))
    assert unit["se"] == pytest.approx(everyone.std(ddof=1) / math.sqrt(100))
    k1 = cell(values, 2023, "cluster", "K1", "frav")
    assert k1["sd"] == pytest.approx(np.concatenate(groups[:2]).std(ddof=1))


def test_daycare_language_by_membership(warehouse, tiny):
    values = compute_indicator_values(warehouse, tiny)
    d1 = cell(values, 2023, "unit", "D1", "sprog")
    assert (d1["n"], d1["numerator"], d1["value"]) == (40, 10, 0.25)
    assert d1["grade_band"] == "3-6 år"
    # K2 in 2023 = D2 only: 3 / 20; municipality (6 + 4 + 2 + 1) / 60
    assert cell(values, 2023, "cluster", "K2", "sprog")["value"] == pytest.approx(3 / 20)
    assert cell(values, 2023, "municipality", "Testby", "sprog")["value"] == pytest.approx(13 / 60)


def test_load_indicator_values_suppresses_and_refuses_low_min_n(warehouse, monkeypatch):
    monkeypatch.setenv("WORKBENCH_WAREHOUSE", str(warehouse))
    with pytest.raises(PrivacyError):
        load_indicator_values(min_n=2)
    values = load_indicator_values()  # the real catalog on the hand-made warehouse
    assert list(values.columns) == VALUE_COLUMNS
    # every survey cell here has fewer than 5 pupils: all suppressed, numbers blanked
    survey = values[values["grade_band"] == "4-9"]
    assert survey["suppressed"].all() and survey["value"].isna().all()
    # inclusion at the municipality: 170 pupils, 163 included, 7 not: n - numerator >= 5 holds
    muni = cell(values, 2023, "municipality", "Testby", "inklusionsgrad")
    assert not muni["suppressed"]


def test_missing_warehouse_says_how_to_build_one(tmp_path):
    missing = tmp_path / "none.duckdb"
    with pytest.raises(EvaluationError, match="workbench demo-data") as caught:
        compute_indicator_values(missing)
    assert str(missing) in str(caught.value)
    with pytest.raises(EvaluationError, match="workbench demo-data"):
        load_indicator_values(missing, min_n=5)


def test_the_old_module_name_still_opens_the_same_door():
    """Reports and scripts import `load.load_indicator_values`; it is the door itself."""
    assert load.load_indicator_values is load_indicator_values
    assert aggregate.compute_indicator_values is compute_indicator_values
    assert scores.score_pupils is score_pupils
    assert aggregate.VALUE_COLUMNS is VALUE_COLUMNS


def test_the_cache_key_covers_files_that_exist():
    """A module renamed without updating CACHE_SOURCES would break every cached read."""
    missing = [name for name in CACHE_SOURCES if not (config.PACKAGE_DIR / name).is_file()]
    assert missing == []
    assert {"values/scores.py", "values/aggregate.py", "values/privacy.py"} <= set(CACHE_SOURCES)


def test_shared_fixture_warehouse_end_to_end(tmp_path):
    """The report tests' tiny warehouse (tests/fixtures) through the real catalog and privacy:
    no leaks, the moved school follows its cluster, every pupil-level column stays behind."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
    from tiny_warehouse import build_fixture_warehouse

    path = build_fixture_warehouse(tmp_path / "tiny.duckdb")
    values = load_indicator_values(path, min_n=5)
    assert list(values.columns) == VALUE_COLUMNS
    assert privacy.find_privacy_leaks(values).empty
    assert values["suppressed"].any() and not values["suppressed"].all()
    school_e = values[(values["entity_id"] == "e") & (values["indicator_id"] == "generel_trivsel")]
    assert dict(zip(school_e["year"], school_e["cluster_id"], strict=True)) == {
        2021: "syd",
        2023: "syd",
        2024: "nord",
    }


def test_cached_values_equal_fresh_ones_and_follow_the_warehouse(tmp_path, monkeypatch):
    """The disk cache gives exactly the fresh table, and a new warehouse or min_n misses it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
    from tiny_warehouse import build_fixture_warehouse

    path = build_fixture_warehouse(tmp_path / "tiny.duckdb")
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")
    fresh = load_indicator_values(path, min_n=5)
    assert find_cached_values(path, 5) is None
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "1")
    first = load_indicator_values(path, min_n=5)
    cache = find_cached_values(path, 5)
    assert cache.is_file()
    cached = load_indicator_values(path, min_n=5)
    pd.testing.assert_frame_equal(fresh, first)
    pd.testing.assert_frame_equal(fresh, cached)
    assert find_cached_values(path, 6) != cache
    with open(path, "ab") as handle:  # any change to the warehouse file changes the key
        handle.write(b"\0")
    assert find_cached_values(path, 5) != cache
