"""evaluation.values.load: load_indicator_values, the single door to suppressed indicator values,
and its cache beside the warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from hand_values import cell  # noqa: E402

from evaluation import config  # noqa: E402
from evaluation.errors import PrivacyError  # noqa: E402
from evaluation.values import aggregate, load, load_indicator_values, privacy, scores  # noqa: E402
from evaluation.values.aggregate import VALUE_COLUMNS, compute_indicator_values  # noqa: E402
from evaluation.values.load import CACHE_SOURCES, find_cached_values  # noqa: E402
from evaluation.values.scores import score_pupils  # noqa: E402


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
    # one municipality's rows: the same whether computed or read from the cache
    town = fresh["municipality"].iloc[0]
    own = fresh[fresh["municipality"] == town].reset_index(drop=True)
    pd.testing.assert_frame_equal(load_indicator_values(path, 5, municipality=town), own)
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")
    pd.testing.assert_frame_equal(load_indicator_values(path, 5, municipality=town), own)
    assert load_indicator_values(path, 5, municipality="Andetsted").empty
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "1")
    assert find_cached_values(path, 6) != cache
    with open(path, "ab") as handle:  # any change to the warehouse file changes the key
        handle.write(b"\0")
    assert find_cached_values(path, 5) != cache


def test_a_second_min_n_suppresses_the_values_already_computed(tmp_path, monkeypatch):
    """The run's stricter min_n (the evaluation's sensitivity check) reuses the unsuppressed
    values computed for the first in this process: the same table as computed afresh, one
    computation; with the cache switched off every call computes afresh (workbench verify)."""
    sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
    from tiny_warehouse import build_fixture_warehouse

    path = build_fixture_warehouse(tmp_path / "tiny.duckdb")
    monkeypatch.setattr(load, "UNSUPPRESSED", {})
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")
    fresh = {min_n: load_indicator_values(path, min_n) for min_n in (5, 10)}
    assert not load.UNSUPPRESSED  # nothing kept without the cache
    calls = []
    monkeypatch.setattr(load, "compute_indicator_values", lambda *a: calls.append(a) or fresh_raw)
    fresh_raw = compute_indicator_values(path)
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "1")
    for min_n in (5, 10):
        pd.testing.assert_frame_equal(load_indicator_values(path, min_n), fresh[min_n])
    assert len(calls) == 1
    assert fresh[10]["suppressed"].sum() > fresh[5]["suppressed"].sum()  # min_n did matter
    with open(path, "ab") as handle:  # another warehouse: computed again, the old one let go
        handle.write(b"\0")
    load_indicator_values(path, 6)
    assert len(calls) == 2 and len(load.UNSUPPRESSED) == 1
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")
    load_indicator_values(path, 7)
    assert len(calls) == 3


def test_a_municipalitys_cached_values_are_its_rows_of_the_whole_table(tmp_path):
    """A report reads only its own municipality's rows of the cache (a national cache holds 98);
    they must be exactly the rows, order and dtypes the whole table scoped to it gives."""
    rows = 12
    values = pd.DataFrame(
        {
            "year": [2023, 2024] * (rows // 2),
            "municipality": pd.array(["Aby", "Bby", "Aby", "Cby"] * (rows // 4), dtype="string"),
            "entity_id": pd.Series(
                ["u1", None, "u2", "k1", "u3", "u4"] * (rows // 6), dtype=object
            ),
            "n": pd.array([5, None, 7, 8] * (rows // 4), dtype="Int64"),
            "value": [1.5, float("nan"), 2.25, -0.5] * (rows // 4),
            "suppressed": [False, True, False, False] * (rows // 4),
        }
    )
    cache = tmp_path / "values-x.parquet"
    load.write_cached_values(values, cache)
    whole = load.read_cached_values(cache)
    for municipality in ["Aby", "Bby", "Cby", "Dby"]:
        own = load.read_cached_values(cache, municipality)
        expected = whole[whole["municipality"] == municipality].reset_index(drop=True)
        pd.testing.assert_frame_equal(own, expected, check_exact=True)
        assert own["entity_id"].dtype == object and own.attrs == whole.attrs
    assert len(load.read_cached_values(cache, "Aby")) == 6


def test_a_failed_cache_write_leaves_no_file_behind(tmp_path, monkeypatch):
    """The values cache is written atomically: when writing fails, neither the cache nor a
    temporary file is left in the folder (before, the half-written temporary file stayed)."""

    def broken(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    cache = tmp_path / "cache" / "values-x.parquet"
    load.write_cached_values(pd.DataFrame({"value": [1.0]}), cache)
    assert list(cache.parent.iterdir()) == []
