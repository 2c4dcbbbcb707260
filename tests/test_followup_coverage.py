"""The follow-up validation's truth (validation/followup_coverage.py): the cluster's realised
shift less the shift the other clusters' effective decisions gave the rest of the municipality,
worked by hand on a small municipality."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))

import followup_coverage  # noqa: E402


def counts_frame() -> pd.DataFrame:
    """n per cluster and municipality of indicator X in 2021 and 2025."""
    rows = []
    for year, sizes in {2021: (100, 60, 140), 2025: (100, 50, 150)}.items():
        for cluster, n in zip(("a", "b", "c"), sizes, strict=True):
            rows.append((year, "cluster", cluster, "X", n))
        rows.append((year, "municipality", "By", "X", sum(sizes)))
    return pd.DataFrame(rows, columns=["year", "level", "entity_id", "indicator_id", "n"])


def effective(cluster: str, indicator: str, effect_2025: float) -> dict:
    by_year = [{"year": 2025, "effect": effect_2025}]
    return {"effective": True, "indicator": indicator, "cluster_id": cluster, "by_year": by_year}


def test_the_rest_moves_by_the_other_clusters_shifts_weighted_by_their_n():
    # b's decision moved X by 0.10 in 2025 (none in 2021); c's moved another indicator
    decisions = [effective("b", "X", 0.1), effective("c", "Y", 0.3), effective("a", "X", 0.2)]
    decisions.append({"effective": False, "decision_id": "z"})
    row = SimpleNamespace(
        level="cluster", cluster_id="a", indicator_id="X", before_year=2021.0, now_year=2025
    )
    # the rest of a in 2025: b (50) and c (150); b's 0.1 moves the rest by 50 / 200 * 0.1
    assert followup_coverage.rest_shift(decisions, counts_frame(), row) == pytest.approx(0.025)
    # a follow-up without a before year has no interval and no rest shift
    no_before = SimpleNamespace(**{**vars(row), "before_year": float("nan")})
    assert followup_coverage.rest_shift(decisions, counts_frame(), no_before) == 0.0
    of_b = SimpleNamespace(**{**vars(row), "cluster_id": "b"})
    # b's own shift is not the rest's; the rest of b in 2025: a (100, shifted 0.2) and c (150)
    assert followup_coverage.rest_shift(decisions, counts_frame(), of_b) == pytest.approx(0.08)
