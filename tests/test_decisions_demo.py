"""The demo's decisions (evaluation.data.demo_decisions and its use in demo_survey and demo): the
file imports, the effective decisions shift only their own cluster, years and items, and the
sidecar records the truth."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from evaluation import config
from evaluation.data import demo, demo_decisions, demo_layout, demo_survey, ingest, warehouse
from evaluation.data.decisions import STATUSES, parse_date


@pytest.fixture(scope="module")
def small_municipality():
    """A small demo municipality (number 2 of seed 2023: a few clusters, fast to simulate)."""
    factor = demo_layout.draw_size_factors(2023, 2)[1]
    muni = demo_layout.build_municipality(np.random.default_rng([2023, 2]), 2, factor)
    decided = demo_decisions.draw_decisions(np.random.default_rng([2023, 2, 7]), muni)
    return muni, decided


def simulate(muni, effective):
    rng = np.random.default_rng([2023, 2, 1])
    grade_size = demo_layout.draw_grade_sizes(rng, muni)
    effects = demo_layout.EffectTally()
    survey = demo_survey.load_survey(config.catalog_path())
    table = demo_survey.simulate_responses(
        rng, 2023, 2, muni, grade_size, survey, effects, effective
    )
    return table.to_pandas(), effects


def test_two_to_four_decisions_per_cluster_from_2021_22(small_municipality):
    muni, decided = small_municipality
    frame = decided.frame
    per_cluster = frame.groupby("klynge").size()
    assert set(per_cluster.index) == set(muni["clusters"].cluster_id)
    assert per_cluster.between(2, 4).all()
    days = frame.besluttet.map(parse_date)
    assert days.min() >= date(2021, 8, 1) and days.max() <= date(2026, 7, 31)
    assert set(frame.status) <= set(STATUSES)
    assert (days >= date(2026, 4, 1)).any()  # one decision too recent for any survey
    effective = decided.effective
    assert effective and all(d.first_year <= 2024 for d in effective)
    assert {d.indicator for d in effective} <= {"udsagn_fysisk_mentalt", "trivsel_indskoling"}
    assert any(d.latent_shift > 0 for d in effective) and any(d.latent_shift < 0 for d in effective)
    assert len({d.cluster_id for d in effective}) == len(effective)  # one per cluster


def test_effective_decisions_move_only_their_cluster_years_and_items(small_municipality):
    muni, decided = small_municipality
    without, effects_without = simulate(muni, [])
    with_, effects_with = simulate(muni, decided.effective)
    keys = ["year", "unit_id", "grade", "pupil_key"]
    assert without[keys].equals(with_[keys])
    items = [c for c in without.columns if c.startswith("q")]
    changed = without[items].fillna(-1).ne(with_[items].fillna(-1))
    assert changed.to_numpy().any()
    schools = muni["units"].unit_id[muni["units"].kind == "school"].tolist()
    clusters = demo_layout.cluster_by_year(muni, schools)
    cluster_ids = muni["clusters"].cluster_id.tolist()
    school_index = {u: i for i, u in enumerate(schools)}
    rows = with_[changed.any(axis=1)]
    where = {
        (cluster_ids[clusters[school_index[u], y - 2016]], int(y))
        for u, y in zip(rows.unit_id, rows.year, strict=True)
    }
    allowed = {(d.cluster_id, y) for d in decided.effective for y in range(d.first_year, 2026)}
    assert where <= allowed
    survey = demo_survey.load_survey(config.catalog_path())
    touched = {
        q for d in decided.effective for i in survey.indicators if i["id"] == d.indicator
        for q in i["items"]
    }  # fmt: skip
    assert set(changed.columns[changed.any()]) <= touched
    # the effort's truth is the same with and without the decisions
    assert effects_with.rows == effects_without.rows
    # each effective decision's realised shift has the sign of its latent shift, every year
    realised = pd.DataFrame(effects_with.decision_rows)
    for d in decided.effective:
        own = realised[realised.decision_id == d.decision_id]
        assert len(own) == len([y for y in demo_survey.SURVEY_YEARS if y >= d.first_year])
        assert (np.sign(own.effect) == np.sign(d.latent_shift)).all()


@pytest.mark.slow
def test_demo_writes_decisions_that_import_and_their_truth(tmp_path):
    out = demo.write_demo_data(tmp_path / "demo", seed=2023)
    files = [out / f for f in ("units.csv", "clusters.csv", "cluster_membership.csv")]
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([*files, out / "handlinger.csv"], target)
    table = warehouse.read_table(target, "decisions")
    assert table.groupby("cluster_id").size().between(2, 4).all()
    truth = json.loads((out / "true_effects.json").read_text(encoding="utf-8"))
    assert [d["decision_id"] for d in truth["decisions"]] == list(table.decision_id)
    effective = [d for d in truth["decisions"] if d["effective"]]
    assert 2 <= len(effective) <= 5
    for d in effective:
        row = table[table.decision_id == d["decision_id"]].iloc[0]
        assert row.first_year == d["first_year"] and row.targets == d["indicator"]
        assert np.sign(d["true_shift"]) == np.sign(d["latent_shift"])
        assert 0.05 <= abs(d["true_shift"]) <= 0.15  # about 10 points or 0.1 on the mean
        assert d["true_shift"] == pytest.approx(
            np.mean([y["effect"] for y in d["by_year"]]), abs=1e-5
        )
    assert (table.first_year > max(truth["survey_years"])).any()  # "too early" exists
    assert truth["effects"]["ro_og_orden"]["realised"] == 0.0  # the placebo stays zero
