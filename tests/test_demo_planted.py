"""The demo's planted findings (evaluation.data.demo_planted) on hand-made inputs; on the demo
itself in tests/test_demo.py (test_planted_findings_show_in_the_answers)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from evaluation.data import demo_planted
from evaluation.data.demo_layout import YEARS, EffectTally


def municipality(starts: list, n_schools: int) -> dict[str, pd.DataFrame]:
    cluster_ids = [f"c{i}" for i in range(len(starts))]
    units = pd.DataFrame({"unit_id": [f"s{i}" for i in range(n_schools)], "kind": "school"})
    membership = pd.DataFrame(
        {
            "unit_id": units.unit_id,
            "cluster_id": [cluster_ids[i % len(cluster_ids)] for i in range(n_schools)],
        }
    )
    return {
        "cluster_membership": membership,
        "clusters": pd.DataFrame({"cluster_id": cluster_ids}),
        "cluster_programme": pd.DataFrame(
            {"cluster_id": cluster_ids, "start_year": pd.array(starts, dtype="Int64")}
        ),
        "units": units,
    }


def test_changes_only_outside_the_effort_and_outliers_among_the_larger_calm_schools():
    muni = municipality([2023, None, 2024, None, None], 10)
    sizes = np.array([10, 80, 20, 90, 30, 70, 15, 60, 85, 95], dtype=float)
    for seed in range(20):
        effects = EffectTally()
        planted = demo_planted.plant_findings(
            np.random.default_rng(seed), muni, sizes, ["social_trivsel"], 2025, effects
        )
        assert [c["latent_shift"] for c in planted.changes] == [0.12, -0.12]
        changed = {c["cluster_id"] for c in planted.changes}
        assert changed <= {"c1", "c3", "c4"}
        assert effects.cluster_changes == planted.changes
        # the larger half (s1, s3, s5, s8, s9), never in a changing cluster (s_i is in c_{i % 5})
        calm = {i for i in (1, 3, 5, 8, 9) if f"c{i % 5}" not in changed}
        assert set(planted.outlier_index) <= calm
    assert planted.outlier_effect.tolist() == [0.45, -0.45]
    assert [o["unit_id"] for o in effects.outlier_schools] == [
        f"s{i}" for i in planted.outlier_index
    ]


def test_no_outlier_schools_when_the_larger_ones_all_sit_in_changing_clusters():
    muni = municipality([None, None], 6)  # both clusters change; every school is in one
    effects = EffectTally()
    planted = demo_planted.plant_findings(
        np.random.default_rng(1), muni, np.arange(6.0), ["x"], 2025, effects
    )
    assert len(planted.changes) == 2 and len(planted.outlier_index) == 0
    assert effects.outlier_schools == []


def test_small_municipalities_get_no_planted_findings():
    effects = EffectTally()
    planted = demo_planted.plant_findings(
        np.random.default_rng(1), municipality([2023, None], 4), np.ones(4), ["x"], 2025, effects
    )
    assert planted.changes == [] and len(planted.outlier_index) == 0
    assert effects.cluster_changes == [] and effects.outlier_schools == []


def test_change_shifts_hit_only_the_named_items_in_the_named_cluster_and_year():
    model = SimpleNamespace(items=["q01", "q02", "q03"])
    indicators = [{"id": "a", "items": ["q01", "q03"]}, {"id": "b", "items": ["q02"]}]
    change = {"cluster_id": "y", "year": 2025, "indicators": ["a"], "latent_shift": -0.12}
    shift = demo_planted.change_shifts([change], indicators, {"4-9": model}, ["x", "y"])["4-9"]
    assert shift.shape == (2, len(YEARS), 3)
    expected = np.zeros_like(shift)
    expected[1, YEARS.index(2025), [0, 2]] = np.float32(-0.12)
    assert np.array_equal(shift, expected)
    assert demo_planted.change_shifts([], indicators, {"4-9": model}, ["x"]) == {}
    level = demo_planted.change_level(np.array([0.5, 1.0]), np.array([0, 1]), shift, 2025)
    assert np.allclose(level, [[0.5, 0.5, 0.5], [0.88, 1.0, 0.88]])
