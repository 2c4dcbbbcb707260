"""Checks across files (evaluation.data.cross_checks) on a tiny in-memory warehouse."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from evaluation.data import cross_checks, warehouse


def loaded_file(name: str, table: str, keys: dict) -> SimpleNamespace:
    """What the checks read of an ingest's LoadedFile: its path, its kind's table, key rows."""
    return SimpleNamespace(
        path=Path(name), kind=SimpleNamespace(table=table), keys=pd.DataFrame(keys)
    )


@pytest.fixture
def con():
    con = duckdb.connect()
    warehouse.create_schema(con)
    con.execute("INSERT INTO units (unit_id, name, kind) VALUES ('u1', 'A', 'school')")
    con.execute("INSERT INTO clusters VALUES ('nord', 'Nord', 'M')")
    con.execute("INSERT INTO cluster_membership VALUES ('u1', 'nord', 2016, NULL)")
    yield con
    con.close()


def test_unknown_unit_and_cluster_are_placed_in_the_new_file(con):
    con.execute(
        "INSERT INTO register (year, unit_id, home_cluster, pupils) "
        "VALUES (2023, 'u1', 'nord', 10), (2023, 'u9', 'syd', 5)"
    )
    register = loaded_file(
        "register.csv",
        "register",
        {
            "year": [2023, 2023],
            "unit_id": ["u1", "u9"],
            "home_cluster": ["nord", "syd"],
            "row": [2, 3],
        },
    )
    problems = cross_checks.check_cross_tables(con, [register])
    assert [(p.file, p.row, p.column, p.found) for p in problems] == [
        ("register.csv", 3, "home_cluster", "cluster id 'syd'"),
        ("register.csv", 3, "unit_id", "unit id 'u9'"),
    ]


def test_overlapping_periods_name_the_later_start(con):
    con.execute("INSERT INTO clusters VALUES ('syd', 'Syd', 'M')")
    con.execute("INSERT INTO cluster_membership VALUES ('u1', 'syd', 2020, NULL)")
    problems = cross_checks.check_cross_tables(con, [])
    assert [(p.file, p.row, p.column, p.found) for p in problems] == [
        (
            "warehouse table cluster_membership",
            None,
            "from_year",
            "unit 'u1' in two clusters from 2020",
        )
    ]
    assert problems[0].fix == "Set to_year of the earlier period to the year before 2020."


def test_locate_falls_back_to_the_warehouse_table():
    units = loaded_file("units.csv", "units", {"unit_id": ["u1", "u2"], "row": [2, 5]})
    assert cross_checks.locate([units], "units", {"unit_id": "u2"}) == ("units.csv", 5)
    assert cross_checks.locate([units], "units", {"unit_id": "u3"}) == (
        "warehouse table units",
        None,
    )
    assert cross_checks.format_value(2023.0) == "2023" and cross_checks.format_value(7.5) == "7.5"
