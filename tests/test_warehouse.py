"""Warehouse helpers: the DDL of docs/architecture.md, writing, reading and the atomic swap."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evaluation.catalog import ITEM_COLUMNS
from evaluation.data import warehouse
from evaluation.errors import EvaluationError, ParameterError

ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def documented_columns() -> dict[str, list[str]]:
    """Table -> column names as the warehouse table in docs/architecture.md lists them."""
    tables = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(\w+)` \| (.+) \|$", line)
        if match and match.group(1) in warehouse.TABLE_COLUMNS:
            names = re.findall(r"(?:^|, )(\w+) [A-Z]", match.group(2))
            tables[match.group(1)] = names
    return tables


def test_create_schema_matches_architecture(tmp_path):
    documented = documented_columns()
    assert set(documented) == set(warehouse.TABLE_COLUMNS)
    with warehouse.connect(tmp_path / "w.duckdb", read_only=False) as con:
        warehouse.create_schema(con)
        assert warehouse.list_tables(con) == sorted(warehouse.TABLE_COLUMNS)
        for table, columns in documented.items():
            actual = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            if table == "responses":  # "q01 ... q40, gender" in the table of the page
                assert actual[:5] == ["year", "unit_id", "grade", "pupil_key", "q01"]
                assert actual[-2:] == ["q40", "gender"] and len(actual) == 45
            else:
                assert actual == columns, table


def test_write_and_read_table_round_trip(tmp_path):
    path = tmp_path / "w.duckdb"
    units = pd.DataFrame(
        {"unit_id": ["751001"], "name": ["Ærøskolen"], "kind": ["school"], "municipality": ["X"]}
    )
    with warehouse.connect(path, read_only=False) as con:
        warehouse.create_schema(con)
        assert warehouse.write_table(con, "units", units) == 1
    back = warehouse.read_table(path, "units")
    assert back.loc[0, "name"] == "Ærøskolen"
    assert pd.isna(back.loc[0, "first_year"])  # columns not given become NULL


def test_connect_read_only_refuses_missing_file(tmp_path):
    with pytest.raises(EvaluationError, match="workbench demo-data"):
        warehouse.connect(tmp_path / "missing.duckdb")


def test_require_warehouse_names_the_path_and_the_mend(tmp_path):
    missing = tmp_path / "missing.duckdb"
    with pytest.raises(ParameterError) as caught:
        warehouse.require_warehouse(missing)
    message = str(caught.value)
    assert str(missing) in message
    assert "`workbench demo-data`" in message and "`workbench ingest data/raw/demo`" in message
    assert "--warehouse PATH" in message
    with pytest.raises(ParameterError):
        warehouse.require_warehouse(tmp_path)  # a folder is not a warehouse file
    found = tmp_path / "w.duckdb"
    duckdb.connect(str(found)).close()
    assert warehouse.require_warehouse(str(found)) == found


def test_answer_columns_are_the_catalog_items():
    answers = list(warehouse.TABLE_COLUMNS["responses"])[4:-1]  # then the optional gender
    assert list(warehouse.TABLE_COLUMNS["responses"])[-1] == "gender"
    assert answers == list(ITEM_COLUMNS) == [f"q{i:02d}" for i in range(1, 41)]


def test_read_table_refuses_unknown_table(tmp_path):
    with pytest.raises(ParameterError, match="Unknown table"):
        warehouse.read_table(tmp_path / "w.duckdb", "pupils")


def test_replace_file_swaps_content(tmp_path):
    final, tmp = tmp_path / "w.duckdb", tmp_path / "w.tmp"
    final.write_bytes(b"old")
    tmp.write_bytes(b"new")
    warehouse.replace_file(tmp, final)
    assert final.read_bytes() == b"new" and not tmp.exists()


@pytest.mark.parametrize("kind", ["empty file", "text file", "folder"])
def test_a_path_that_is_not_a_warehouse_is_refused_before_reading(tmp_path, kind, capsys):
    from evaluation import cli

    path = tmp_path / "w.duckdb"
    if kind == "folder":
        path.mkdir()
    else:
        path.write_text("" if kind == "empty file" else "year;unit_id\n2024;1\n")
    with pytest.raises(ParameterError):
        warehouse.require_warehouse(path)
    assert cli.main(["render", "--warehouse", str(path), "--out", str(tmp_path / "r")]) == 2
    assert str(path) in capsys.readouterr().err
