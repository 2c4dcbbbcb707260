"""Parquet files DuckDB loads as they stand (the pupil-level answers): what it could not load.

Split from evaluation.data.reading, which checks every file's cells; these checks are on the
file's shape and column types, which only Parquet declares.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from evaluation.errors import Problem


def parquet_shape_problems(
    source: pq.ParquetFile, path: Path, columns: list[str], numeric: set[str]
) -> list[Problem]:
    """A Parquet file DuckDB could not load as it stands: no records, or numbers stored as text
    (DuckDB reads the file itself, so "5,0" that the checks would read as 5 fails its cast)."""
    if source.metadata.num_rows == 0:
        return [
            Problem(
                path.name,
                None,
                None,
                "a Parquet file with no records",
                "one record per answer row",
                "Export the file again with its rows, or leave it out of the folder.",
            )
        ]
    problems = []
    for index, (column, field) in enumerate(zip(columns, source.schema_arrow, strict=True)):
        if column not in numeric or not (
            pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        ):
            continue
        values = source.read(columns=[field.name]).column(0).to_pylist()
        plain = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
        first = next((i for i, v in enumerate(values, 1) if v and not plain.match(v)), 1)
        problems.append(
            Problem(
                path.name,
                first,
                column,
                f"numbers stored as text in the Parquet file (column {index + 1}: "
                f"{values[first - 1]!r})",
                "a numeric Parquet column (integer or floating point)",
                "Export the file again with this column as numbers, or save it as CSV "
                "(where Danish decimal commas are read).",
            )
        )
    return problems
