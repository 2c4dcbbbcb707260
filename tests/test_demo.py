"""The demo generator: deterministic, Aarhus-shaped, calibrated to the real 2024/25 school figures.

Covers evaluation.data.demo and its parts demo_layout, demo_survey, demo_register and the
planted findings of demo_planted (its parts on hand-made inputs: tests/test_demo_planted.py).

The calibration figures are computed here from the raw files with a small local scorer (the
catalog rule), not with evaluation.values.scores, so the generator is checked independently.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import config
from evaluation.data import demo, demo_layout, demo_register, demo_survey


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return demo.write_demo_data(tmp_path_factory.mktemp("demo"), seed=2023)


@pytest.fixture(scope="module")
def catalog():
    return yaml.safe_load(config.catalog_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def responses(demo_dir):
    return pd.read_parquet(demo_dir / "responses.parquet")


def read_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", decimal=",", dtype={"unit_id": str})


def pupil_scores(frame: pd.DataFrame, catalog: dict, indicator_id: str) -> np.ndarray:
    """Catalog rule: mean of answered items (0 and empty are not answers), reversed items
    recoded, NaN when fewer than min_answered of the items are answered."""
    ind = next(i for i in catalog["indicators"] if i["id"] == indicator_id)
    form = catalog["forms"][ind["grade_band"]]
    rows = frame[frame.grade.isin(form["grades"])]
    answers = rows[ind["items"]].to_numpy(dtype="float64", na_value=np.nan).copy()
    answers[answers == 0] = np.nan
    reverse = np.array([form["items"][q]["reverse"] for q in ind["items"]])
    answers = np.where(reverse, 6 - answers, answers)
    answered = (~np.isnan(answers)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        score = np.nanmean(np.where(answered[:, None] > 0, answers, 0), axis=1)
    return np.where(answered >= ind["min_answered"] * len(ind["items"]), score, np.nan)


def test_same_seed_same_bytes_other_seed_other_data(demo_dir, tmp_path):
    again = demo.write_demo_data(tmp_path / "again", seed=2023)
    other = demo.write_demo_data(tmp_path / "other", seed=7)
    names = sorted(p.name for p in demo_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (demo_dir / name).read_bytes() == (again / name).read_bytes(), name
    assert (demo_dir / "responses.parquet").read_bytes() != (
        other / "responses.parquet"
    ).read_bytes()
    assert (demo_dir / "register.csv").read_bytes() != (other / "register.csv").read_bytes()


def test_files_are_danish_exports(demo_dir):
    register_text = (demo_dir / "register.csv").read_text(encoding="utf-8")
    header, first = register_text.splitlines()[:2]
    assert header.startswith("year;unit_id;home_cluster;pupils")
    assert "," in first.split(";")[11]  # absence_pct with decimal comma
    units = read_csv(demo_dir / "units.csv")
    assert units.name.str.contains("[æøåÆØÅ]").any()


def test_municipality_shape(demo_dir):
    units = read_csv(demo_dir / "units.csv")
    counts = units.kind.value_counts()
    assert 40 <= counts["school"] <= 50 and counts["special_school"] == 2
    assert 55 <= counts["daycare"] <= 75 and 15 <= counts["club"] <= 25
    schools = units[units.kind == "school"].unit_id
    assert schools.str.fullmatch(r"\d{6}").all()
    assert set(units.municipality) == {"Demo Kommune"}
    clusters = read_csv(demo_dir / "clusters.csv")
    assert 8 <= len(clusters) <= 12 and clusters.cluster_id.str.fullmatch(r"[a-z]+").all()
    membership = read_csv(demo_dir / "cluster_membership.csv")
    movers = membership.unit_id.value_counts()
    assert (movers > 1).any()  # at least one unit changes cluster
    programme = read_csv(demo_dir / "cluster_programme.csv")
    starts = programme.start_year.value_counts(dropna=False)
    assert starts[2023] >= 1 and starts[2024] >= 1 and programme.start_year.isna().sum() >= 1


def test_survey_years_and_sizes(responses, demo_dir):
    years = sorted(responses.year.unique())
    assert years == [y for y in range(2016, 2026) if y != 2020]
    per_year = responses.groupby("year").size()
    register = read_csv(demo_dir / "register.csv")
    pupils = register.groupby("year").pupils.sum()
    assert pupils.between(17_000, 23_000).all()  # 45 schools of the real national sizes
    per_school = register[register.year == 2025].groupby("unit_id").pupils.sum()
    # real 2024/25 folkeskoler (Elevtal): 14 to 1,402 pupils, median 418, 18 % under 150
    assert per_school.min() < 100 and per_school.max() > 900, per_school.describe()
    assert 330 <= per_school.median() <= 520 and 3 <= (per_school < 150).sum() <= 15
    rate = per_year / pupils.loc[per_year.index]
    assert rate.between(0.84, 0.92).all(), rate
    per_grade = responses.groupby(["year", "unit_id", "grade"]).size()
    assert 20 <= per_grade.median() <= 80
    assert set(responses.grade.unique()) == set(range(10))
    items = [f"q{i:02d}" for i in range(1, 41)]
    young = responses[responses.grade <= 3]
    assert young[items[20:]].isna().all().all()  # the 20-item form
    answers = responses[responses.grade >= 4][items]
    assert 0.01 <= (answers == 0).to_numpy().mean() <= 0.02
    assert 0.02 <= answers.isna().to_numpy().mean() <= 0.03
    assert set(np.unique(answers.fillna(0).to_numpy())) <= {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    "indicator_id, real",
    # unweighted means of the real 2024/25 school indices (../shared/data/real, its README)
    [
        ("generel_trivsel", 3.61),
        ("social_trivsel", 3.93),
        ("faglig_trivsel", 3.58),
        ("ro_og_orden", 3.69),
        ("stoette_og_inspiration", 3.13),
    ],
)
def test_indicator_levels_match_real_school_means(responses, catalog, indicator_id, real):
    """The last survey year's school means land on the real 2024/25 ones; the years before
    the effort lie a little lower (the effort lifts three of the indices by about 0.05)."""
    for year, frame in responses[responses.grade >= 4].groupby("year"):
        scores = pd.Series(pupil_scores(frame, catalog, indicator_id), index=frame.index)
        mean = scores.groupby(frame.unit_id).mean().mean()
        if year == 2025:
            assert abs(mean - real) <= 0.04, (year, mean)
        assert real - 0.10 <= mean <= real + 0.04, (year, mean)


def test_high_wellbeing_share_and_school_variance(responses, catalog):
    shares, iccs = [], []
    for _, frame in responses.groupby("year"):
        upper = frame[frame.grade >= 4]
        scores = pd.DataFrame(
            {"unit": upper.unit_id, "g": pupil_scores(upper, catalog, "generel_trivsel")}
        ).dropna()
        shares.append((scores.g > 3.0).mean())
        iccs.append(one_way_icc(scores, "unit", "g"))
    # real national share with high wellbeing 86.1-91.9 % in 2018/19-2025/26
    # (../shared/data/real/municipality_series.csv, wellbeing_top_share_pct)
    assert 0.86 <= min(shares) and max(shares) <= 0.92, shares
    # schools' share of pupil variance, from the real between-school sd of the indices
    # (0.15-0.20, small schools' noise included; validation/demo_calibration.py)
    assert 0.08 <= np.mean(iccs) <= 0.16, iccs


def one_way_icc(frame: pd.DataFrame, group: str, value: str) -> float:
    """ANOVA estimator of the intra-class correlation (share of variance between groups)."""
    grouped = frame.groupby(group)[value]
    n, k, total = grouped.size(), grouped.ngroups, len(frame)
    between = (n * (grouped.mean() - frame[value].mean()) ** 2).sum() / (k - 1)
    within = ((frame[value] - grouped.transform("mean")) ** 2).sum() / (total - k)
    n0 = (total - (n**2).sum() / total) / (k - 1)
    return (between - within) / (between - within + n0 * within)


def test_school_changes_mostly_within_noise(responses, catalog):
    upper = responses[responses.grade >= 4]
    scores = pd.DataFrame(
        {
            "unit": upper.unit_id,
            "year": upper.year,
            "g": pupil_scores(upper, catalog, "generel_trivsel"),
        }
    ).dropna()
    by = scores.groupby(["unit", "year"]).g.agg(["mean", "var", "size"]).reset_index()
    by["se2"] = by["var"] / by["size"]
    change = by.groupby("unit")["mean"].diff()
    se = np.sqrt(by.se2 + by.groupby("unit").se2.shift())
    significant = ((change / se).abs() > 1.96).dropna()
    assert significant.mean() < 0.12, significant.mean()


def test_register_and_daycare_levels(demo_dir):
    register = read_csv(demo_dir / "register.csv")
    totals = register.groupby("year").sum(numeric_only=True)
    inclusion = totals.in_general_setting / totals.pupils
    assert inclusion.between(0.935, 0.96).all(), inclusion
    normal = register[~register.year.isin([2020, 2021, 2022])]  # covid years run higher
    absence = (normal.absence_pct * normal.pupils).sum() / normal.pupils.sum()
    assert 6 <= absence <= 8
    over = normal.pupils_over_10pct_absence.sum() / normal.pupils.sum()
    assert 0.15 <= over <= 0.25
    assert (register.in_general_setting <= register.pupils).all()
    language = read_csv(demo_dir / "daycare_language.csv")
    share = (language.fokuseret + language.saerlig).sum() / language.assessed.sum()
    assert 0.10 <= share <= 0.15


def test_true_effects_sidecar(demo_dir, responses, catalog):
    truth = json.loads((demo_dir / "true_effects.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 2023 and truth["placebo"] == ["ro_og_orden"]
    effects = truth["effects"]
    assert effects["ro_og_orden"]["realised"] == 0.0
    assert all(r["effect"] == 0.0 for r in effects["ro_og_orden"]["by_cluster_year"])
    for name in ("generel_trivsel", "social_trivsel"):
        assert 0.06 <= effects[name]["realised"] <= 0.10
    assert 0.012 <= effects["inklusionsgrad"]["realised"] <= 0.018
    treated = {c for c, start in truth["start_years"].items() if start is not None}
    cluster_years = {
        (r["cluster_id"], r["year"]) for r in effects["social_trivsel"]["by_cluster_year"]
    }
    assert {c for c, _ in cluster_years} == treated
    assert all(y >= truth["start_years"][c] for c, y in cluster_years)


def test_planted_findings_show_in_the_answers(demo_dir, responses, catalog):
    """The sidecar's planted cluster changes move their clusters clearly from 2024 to 2025
    (the others hardly); its outlier schools lie far above and below the other schools."""
    truth = json.loads((demo_dir / "true_effects.json").read_text(encoding="utf-8"))
    changes = {c["cluster_id"]: c for c in truth["cluster_changes"]}
    assert sorted(c["latent_shift"] for c in changes.values()) == [-0.12, 0.12]
    assert all(truth["start_years"][c] is None for c in changes)  # outside the effort
    assert all(c["year"] == 2025 and "ro_og_orden" not in c["indicators"] for c in changes.values())
    membership = read_csv(demo_dir / "cluster_membership.csv")
    current = membership[membership.to_year.isna()].set_index("unit_id").cluster_id
    frame = responses[responses.year.isin([2024, 2025]) & (responses.grade >= 4)]
    scores = pd.Series(pupil_scores(frame, catalog, "social_trivsel"), index=frame.index)
    means = scores.groupby([frame.unit_id.map(current), frame.year]).mean().unstack("year")
    change = means[2025] - means[2024]
    for cluster_id, planted in changes.items():
        assert change[cluster_id] * np.sign(planted["latent_shift"]) >= 0.07, change
    assert change.drop(list(changes)).abs().max() <= 0.05, change
    generel = pd.Series(pupil_scores(frame, catalog, "generel_trivsel"), index=frame.index)
    school = generel[frame.year == 2025].groupby(frame.unit_id).mean()
    for outlier in truth["outlier_schools"]:
        gap = school[outlier["unit_id"]] - school.drop(outlier["unit_id"]).mean()
        # far from the others, yet inside the real range (generel trivsel 3.0-4.4)
        assert gap * np.sign(outlier["school_effect"]) >= 0.25, (outlier, gap)
        assert 3.0 <= school[outlier["unit_id"]] <= 4.4
        assert current[outlier["unit_id"]] not in changes


def test_several_municipalities_write_part_files(tmp_path):
    out = demo.write_demo_data(tmp_path / "two", seed=1, municipalities=2)
    parts = sorted(p.name for p in (out / "responses").iterdir())
    assert parts == ["part-001.parquet", "part-002.parquet"]
    assert not (out / "responses.parquet").exists()
    units = read_csv(out / "units.csv")
    assert set(units.municipality) == {"Demo Kommune", "Demo Kommune 2"}
    assert units.unit_id.is_unique
    assert read_csv(out / "clusters.csv").cluster_id.is_unique
    second = pd.read_parquet(out / "responses" / "part-002.parquet", columns=["year"])
    first = pd.read_parquet(out / "responses" / "part-001.parquet", columns=["year"])
    assert len(second) < len(first)  # the others are smaller than the Aarhus-sized one


# --- the parts of the generator, on hand-made inputs ----------------------------------------


def test_municipality_names_and_sizes():
    assert demo_layout.municipality_name(1) == "Demo Kommune" == demo.municipality_name(1)
    assert demo_layout.municipality_name(12) == "Demo Kommune 12"
    factors = demo_layout.draw_size_factors(2023, 98)
    assert factors[0] == 1.0 and factors.max() <= 1.0  # nobody above the Aarhus-sized one
    # a country of pupils: the real folkeskoler with survey values (487,000 in 2024/25)
    assert factors.sum() == pytest.approx(487_000 / 19_000, rel=0.01)
    assert np.array_equal(demo_layout.draw_size_factors(2023, 3), factors[:3])


def hand_made_municipality() -> dict[str, pd.DataFrame]:
    """Two clusters; u1 moves from a to b in 2021; only cluster a joins the effort (2023)."""
    membership = pd.DataFrame(
        {
            "unit_id": ["u1", "u1", "u2"],
            "cluster_id": ["a", "b", "b"],
            "from_year": [2016, 2021, 2016],
            "to_year": pd.array([2020, None, None], dtype="Int64"),
        }
    )
    programme = pd.DataFrame(
        {"cluster_id": ["a", "b"], "start_year": pd.array([2023, None], dtype="Int64")}
    )
    clusters = pd.DataFrame({"cluster_id": ["a", "b"]})
    return {"clusters": clusters, "cluster_membership": membership, "cluster_programme": programme}


def test_cluster_by_year_and_treated_years():
    muni = hand_made_municipality()
    assert demo_layout.cluster_by_year(muni, ["u1", "u2"]).tolist() == [
        [0] * 5 + [1] * 5,  # 2016-2020 in a, 2021-2025 in b
        [1] * 10,
    ]
    treated = demo_layout.treated_matrix(muni)
    assert treated.tolist() == [[False] * 7 + [True] * 3, [False] * 10]


def test_effect_tally_keeps_with_minus_without():
    tally = demo_layout.EffectTally()
    tally.add("social_trivsel", "4-9", "a", 2023, 3.75, 3.5)
    assert tally.rows == [
        {
            "indicator": "social_trivsel",
            "grade_band": "4-9",
            "cluster_id": "a",
            "year": 2023,
            "effect": 0.25,
        }
    ]


def test_item_level_of_a_symmetric_answer():
    # level 3, sd 1: the chances above and below 3 mirror each other, so the mean answer is 3
    assert demo_survey.expected_answer(3.0, 1.0) == pytest.approx(3.0)
    assert demo_survey.solve_item_level(3.0, 1.0) == pytest.approx(3.0, abs=1e-9)


def test_pupil_score_recodes_reversed_items_and_needs_half_answered():
    model = demo_survey.ItemModel(
        items=["q01", "q02"],
        dimension=np.zeros(2, np.int64),
        level=np.zeros(2),
        reverse=np.array([False, True]),
        shift=np.zeros(2),
        has_dimension=np.ones(2, bool),
    )
    answers = np.array([[5, 1], [0, 2], [0, 0], [4, 4]], np.uint8)
    skipped = np.array([[False, False], [True, False], [True, True], [False, True]])
    score = demo_survey.score_pupils(answers, skipped, model, ["q01", "q02"])
    # (5 + (6 - 1)) / 2; only q02 answered: 6 - 2; nothing answered; only q01 answered: 4
    assert score[[0, 1, 3]].tolist() == [5.0, 4.0, 4.0] and np.isnan(score[2])


def test_pupil_keys_are_stable_and_distinct():
    school, cohort, number = np.array([1, 1, 2]), np.array([2010, 2010, 2010]), np.array([0, 1, 0])
    keys = demo_survey.pupil_keys(2023, 1, school, cohort, number)
    assert keys.tolist() == demo_survey.pupil_keys(2023, 1, school, cohort, number).tolist()
    assert len(set(keys)) == 3 and all(int(k[1:], 16) < 2**40 for k in keys)
    assert all(k.startswith("e") and len(k) == 11 for k in keys)  # never CPR-like


def test_multinomial_rows_keep_each_rows_count():
    rng = np.random.default_rng(1)
    split = demo_register.multinomial_rows(
        rng, np.array([5, 7]), np.array([[1.0, 0.0], [0.0, 2.0]])
    )
    assert split.tolist() == [[5, 0], [0, 7]]


@pytest.mark.parametrize("municipalities", [0, -1, 99])
def test_a_number_of_municipalities_outside_1_to_98_is_refused(tmp_path, municipalities, capsys):
    from evaluation import cli

    code = cli.main(
        ["demo-data", "--out", str(tmp_path / "d"), "--municipalities", str(municipalities)]
    )
    assert code == 2
    assert f"--municipalities {municipalities}: give 1 to 98" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
