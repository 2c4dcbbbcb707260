"""The files beside the values cache (evaluation.reports.cache_files): written whole or not at
all, and a file that cannot be read is as no file, so a report then computes for itself."""

from __future__ import annotations

import pandas as pd

from evaluation.reports import cache_files


def test_a_dict_comes_back_as_it_was_written(tmp_path):
    path = tmp_path / "cache" / "tables-x.pickle"
    tables = {"units": pd.DataFrame({"unit_id": ["u1"], "name": ["Åskolen"]}), "years": [2024]}
    cache_files.write_pickle(tables, path)
    back = cache_files.read_pickle(path)
    pd.testing.assert_frame_equal(back["units"], tables["units"])
    assert back["years"] == [2024]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_dict_that_cannot_be_pickled_leaves_no_file_behind(tmp_path):
    path = tmp_path / "cache" / "shared-x.pickle"
    try:
        cache_files.write_pickle({"a": lambda: None}, path)  # a lambda cannot be pickled
    except Exception:  # noqa: BLE001 - the error is the caller's; the folder must stay clean
        pass
    assert list(path.parent.iterdir()) == []


def test_no_file_and_an_unreadable_file_read_as_nothing(tmp_path):
    assert cache_files.read_pickle(None) == {}
    assert cache_files.read_pickle(tmp_path / "missing.pickle") == {}
    broken = tmp_path / "broken.pickle"
    broken.write_bytes(b"\x80\x05 cut short")
    assert cache_files.read_pickle(broken) == {}


def test_a_folder_that_cannot_be_made_only_costs_speed(tmp_path):
    (tmp_path / "cache").write_text("a file where the folder should be")
    cache_files.write_pickle({"a": 1}, tmp_path / "cache" / "tables-x.pickle")  # no error
    assert cache_files.read_pickle(tmp_path / "cache" / "tables-x.pickle") == {}


def test_the_tables_copy_is_keyed_by_every_input_hash(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first = cache_files.warehouse_tables_path(warehouse, ("a", "b"))
    assert first.parent == tmp_path / "cache" and first.name.startswith("tables-")
    assert cache_files.warehouse_tables_path(warehouse, ("a", "c")) != first
    assert cache_files.warehouse_tables_path(warehouse, None) is None  # no cache: no copy
