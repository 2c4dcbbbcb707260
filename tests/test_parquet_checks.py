"""Parquet files DuckDB could not load as they stand (evaluation.data.parquet_checks)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.data.parquet_checks import parquet_shape_problems


def write(tmp_path, table: pa.Table):
    path = tmp_path / "responses.parquet"
    pq.write_table(table, path)
    return pq.ParquetFile(path), path


def test_numbers_stored_as_text_name_the_first_value_duckdb_cannot_cast(tmp_path):
    table = pa.table({"unit_id": ["a", "b", "c"], "q01": ["4", "5.0", "5,0"]})
    source, path = write(tmp_path, table)
    [problem] = parquet_shape_problems(source, path, ["unit_id", "q01"], {"q01"})
    assert (problem.file, problem.row, problem.column) == ("responses.parquet", 3, "q01")
    assert "'5,0'" in problem.found and "as CSV" in problem.fix


def test_text_columns_that_are_text_and_numeric_columns_pass(tmp_path):
    table = pa.table({"unit_id": ["a"], "q01": pa.array([4], pa.int8())})
    source, path = write(tmp_path, table)
    assert parquet_shape_problems(source, path, ["unit_id", "q01"], {"q01"}) == []


def test_a_file_without_records_is_refused(tmp_path):
    table = pa.table({"unit_id": pa.array([], pa.string()), "q01": pa.array([], pa.int8())})
    source, path = write(tmp_path, table)
    [problem] = parquet_shape_problems(source, path, ["unit_id", "q01"], {"q01"})
    assert problem.found == "a Parquet file with no records" and problem.row is None
