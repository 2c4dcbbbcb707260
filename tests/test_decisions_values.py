"""evaluation.values.decisions: reading the decisions table, one row per target, and the
suggestion rule on hand-made indicator values whose verdicts are plain by construction."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from evaluation.catalog import load_catalog
from evaluation.data import warehouse
from evaluation.texts import Texts
from evaluation.values import decisions

CATALOG = load_catalog()
DA = Texts("da")


def value_rows(indicator_id: str, rows: list[tuple]) -> pd.DataFrame:
    """(year, level, entity_id, n, value) rows of a proportion, with numerator = value * n."""
    frame = pd.DataFrame(rows, columns=["year", "level", "entity_id", "n", "value"])
    frame["numerator"] = (frame["value"] * frame["n"]).round()
    frame["municipality"] = "By"
    frame["indicator_id"] = indicator_id
    frame["sd"] = float("nan")
    frame["se"] = (frame["value"] * (1 - frame["value"]) / frame["n"]) ** 0.5
    return frame


def muni_and_clusters(indicator_id: str, year: int, mine: float, n: int = 2000) -> list[tuple]:
    """Four clusters at 80 %, ours at `mine`, the municipality their pooled value."""
    values = {"a": 0.8, "b": 0.8, "c": 0.8, "d": 0.8, "mine": mine}
    pooled = sum(values.values()) / len(values)
    rows = [(year, "cluster", c, n, v) for c, v in values.items()]
    return [*rows, (year, "municipality", "By", n * len(values), pooled)]


def test_clearly_below_the_municipality_is_suggested_as_worse_first():
    values = value_rows("udsagn_god_ven", muni_and_clusters("udsagn_god_ven", 2024, 0.60))
    values = pd.concat(
        [values, value_rows("udsagn_voksen", muni_and_clusters("udsagn_voksen", 2024, 0.95))]
    )
    rows = decisions.suggest_decisions(values, CATALOG, "mine", 2024, DA)
    assert [r["targets"] for r in rows] == ["udsagn_god_ven", "udsagn_voksen"]  # worse first
    assert "tydeligt dårligere end kommunen (60" in rows[0]["note"]
    assert "tydeligt bedre end kommunen (95" in rows[1]["note"]
    assert all(r["status"] == "planlagt" and r["cluster_id"] == "mine" for r in rows)


def test_within_the_funnel_and_no_clear_change_suggests_nothing():
    values = value_rows("udsagn_god_ven", muni_and_clusters("udsagn_god_ven", 2024, 0.8))
    assert decisions.suggest_decisions(values, CATALOG, "mine", 2024, DA) == []


def test_a_clear_change_since_the_survey_before_is_suggested():
    # 80 % -> 70 % of 2000 pupils: Newcombe's interval for the change is far from zero
    now = muni_and_clusters("udsagn_god_ven", 2024, 0.8)
    before = [(2022, "cluster", "mine", 2000, 0.9)]  # 2023 missing: the one before is 2022
    values = value_rows("udsagn_god_ven", now + before)
    values.loc[values["entity_id"] == "mine", "value"] = [0.7, 0.9]
    values["numerator"] = (values["value"] * values["n"]).round()
    rows = decisions.suggest_decisions(values, CATALOG, "mine", 2024, DA)
    assert len(rows) == 1
    assert "tydeligt dårligere end i 2022/23 (90\xa0% → 70\xa0%)" in rows[0]["note"]


def test_lower_is_better_turns_the_verdict():
    values = value_rows("fravaer_over_10", muni_and_clusters("fravaer_over_10", 2024, 0.60))
    (row,) = decisions.suggest_decisions(values, CATALOG, "mine", 2024, DA)
    assert "tydeligt bedre end kommunen" in row["note"]  # fewer pupils absent, below: better


def test_suppressed_values_are_never_used():
    values = value_rows("udsagn_god_ven", muni_and_clusters("udsagn_god_ven", 2024, 0.60))
    values.loc[values["entity_id"] == "mine", "value"] = float("nan")
    assert decisions.suggest_decisions(values, CATALOG, "mine", 2024, DA) == []


@pytest.fixture
def with_decisions(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        warehouse.create_schema(con)
        con.execute(
            "INSERT INTO decisions (decision_id, cluster_id, decided, targets) VALUES "
            "('syd-2025-01-02-1', 'syd', DATE '2025-01-02', 'fravaer'), "
            "('nord-2025-05-10-1', 'nord', DATE '2025-05-10', 'social_trivsel, udsagn_god_ven')"
        )
    return path


def test_load_decisions_and_one_row_per_target(with_decisions):
    table = decisions.load_decisions(with_decisions)
    assert list(table.decision_id) == ["nord-2025-05-10-1", "syd-2025-01-02-1"]
    targets = decisions.decision_targets(table)
    assert list(zip(targets.decision_id, targets.indicator_id, strict=True)) == [
        ("nord-2025-05-10-1", "social_trivsel"),
        ("nord-2025-05-10-1", "udsagn_god_ven"),
        ("syd-2025-01-02-1", "fravaer"),
    ]


def test_a_warehouse_from_before_decisions_reads_as_none(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE clusters (cluster_id TEXT, name TEXT, municipality TEXT)")
    table = decisions.load_decisions(path)
    assert table.empty and "decision_id" in table.columns
