"""What a report reads before it writes a word (evaluation.reports.inputs): the warehouse's small
tables come from their copy in the cache folder exactly as from the warehouse, and a changed
warehouse is never answered from an old copy."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.reports import inputs  # noqa: E402
from evaluation.values import load  # noqa: E402


@pytest.fixture
def warehouse(tmp_path):
    return build_fixture_warehouse(tmp_path / "warehouse.duckdb")


def assert_same_tables(found: dict, expected: dict) -> None:
    assert set(found) == set(expected) | {"input_hashes"}
    for name, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(found[name], value)
        else:
            assert found[name] == value


def test_the_copy_gives_what_the_warehouse_gives(warehouse, monkeypatch):
    expected = inputs.query_warehouse_tables(warehouse)  # duckdb, the reference
    first = inputs.read_warehouse_tables(warehouse)  # reads the warehouse, writes the copy
    copy = inputs.warehouse_tables_path(warehouse, load.input_hashes(warehouse))
    assert copy.is_file() and copy.parent == warehouse.parent / "cache"
    monkeypatch.setattr(inputs, "query_warehouse_tables", lambda path: pytest.fail("not read"))
    second = inputs.read_warehouse_tables(warehouse)  # from the copy only
    assert_same_tables(first, expected)
    assert_same_tables(second, expected)
    assert second["input_hashes"] == load.input_hashes(warehouse)
    assert len(expected["clusters"]) and expected["years"]


def test_a_changed_warehouse_is_read_again(warehouse):
    before = inputs.read_warehouse_tables(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE clusters SET name = name || ' Syd'")
    after = inputs.read_warehouse_tables(warehouse)
    assert after["input_hashes"] != before["input_hashes"]
    assert [f"{n} Syd" for n in before["clusters"]["name"]] == after["clusters"]["name"].tolist()


def test_without_the_cache_no_copy_is_written(warehouse, monkeypatch):
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")
    tables = inputs.read_warehouse_tables(warehouse)
    assert tables["input_hashes"] is None
    assert not (warehouse.parent / "cache").exists()
    assert_same_tables(tables, inputs.query_warehouse_tables(warehouse))


def test_an_unreadable_copy_is_read_from_the_warehouse(warehouse):
    copy = inputs.warehouse_tables_path(warehouse, load.input_hashes(warehouse))
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"not a pickle")
    assert_same_tables(
        inputs.read_warehouse_tables(warehouse), inputs.query_warehouse_tables(warehouse)
    )


def test_rows_by_indicator_are_the_groups_pandas_makes(warehouse):
    from evaluation.reports import cluster_report

    report = cluster_report.prepare_report("nord", 2024, "da", str(warehouse), 5, "")
    found = inputs.rows_by_indicator(report.data, "cluster", year=2024)
    v = report.data.values
    chosen = v[(v["level"] == "cluster") & (v["year"] == 2024)]
    expected = dict(iter(chosen.groupby("indicator_id", sort=False)))  # pandas, the reference
    assert list(found) == list(expected) and len(found) == len(expected) > 1
    for indicator_id, rows in expected.items():
        pd.testing.assert_frame_equal(found[indicator_id], rows)
        assert found.get(indicator_id) is found[indicator_id]  # cut once
    assert found.get("no such indicator") is None
