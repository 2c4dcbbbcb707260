"""A chart's tables as plain rows, the way altair would write them, for a fraction of the cost.

Altair's `to_dict` sanitises every DataFrame of every layer (a copy, then `where` and `astype`
per column: about 60 % of a report's `to_dict` time, issue 17). The charts' tables hold only
numbers, text (numpy objects or pandas strings) and truth values, which `records` turns into
the same rows directly; any other column type (dates, categories, nullable types) goes to
altair's own transformer unchanged.
Charts use it through `fast_data`, a data transformer enabled around `to_dict`.
"""

from __future__ import annotations

import math
from collections import namedtuple
from contextlib import contextmanager

import altair as alt
import numpy as np
import pandas as pd
from altair.vegalite.data import default_data_transformer

TRANSFORMER = "workbench_records"
PLAIN_KINDS = {"f": "float", "i": "int", "b": "bool", "O": "object"}  # numpy dtype kinds


def records(frame: pd.DataFrame) -> list[dict] | None:
    """The frame's rows as altair.utils.core.sanitize_pandas_dataframe + to_dict("records")
    make them (missing and infinite numbers -> None, numpy scalars -> Python, arrays -> lists),
    or None where a column is of another type or the frame is not plain."""
    if isinstance(frame.index, pd.MultiIndex) or isinstance(frame.columns, pd.MultiIndex):
        return None
    names = list(frame.columns)
    if not all(isinstance(name, str) for name in names):
        return None
    columns = []
    for name in names:
        column = frame[name]
        kind = column_kind(column.dtype)
        if kind is None or (kind == "float" and column.dtype != np.float64):
            return None
        columns.append(column_values(column, kind))
    if not names:
        return [{} for _ in range(len(frame))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def plain_rows(frame: pd.DataFrame):
    """The frame's rows as tuples, as `frame.itertuples(index=False, name=None)` gives them, at
    a third of its cost: itertuples takes each column through `iloc` (issue 17)."""
    if not len(frame.columns):
        return iter([()] * len(frame))
    return zip(*[column_list(column) for _, column in frame.items()], strict=True)


def column_list(column: pd.Series) -> list:
    """The values as iterating the column gives them (numpy scalars as Python's, a nullable
    integer as numpy's): tolist where that is the same (numpy and text columns), and faster."""
    plain = isinstance(column.dtype, (np.dtype, pd.StringDtype))
    return column.tolist() if plain else list(column)


def named_rows(frame: pd.DataFrame):
    """The frame's rows as named tuples, as `frame.itertuples(index=False)` gives them (fields
    renamed alike), at a third of its cost (`plain_rows`)."""
    row = namedtuple("Pandas", list(frame.columns), rename=True)
    return map(row._make, plain_rows(frame))


def column_kind(dtype) -> str | None:
    """float, int, bool or object (text: pandas' "str" and "string" too), else None."""
    if isinstance(dtype, pd.StringDtype):  # "str" and "string"; str(dtype) costs more
        return "object"
    return PLAIN_KINDS.get(dtype.kind) if isinstance(dtype, np.dtype) else None


def column_values(column: pd.Series, kind: str) -> list:
    """One column's values as altair writes them."""
    values = column.tolist()
    if kind == "float":
        return [None if math.isnan(v) or math.isinf(v) else v for v in values]
    if kind == "object":
        missing = column.isna().tolist()
        return [
            None if gone else (v.tolist() if isinstance(v, np.ndarray) else v)
            for v, gone in zip(values, missing, strict=True)
        ]
    return values


def records_transformer(data, max_rows: int = 5000):
    """altair's default transformer, with plain DataFrames turned into rows by `records`."""
    if isinstance(data, pd.DataFrame) and len(data) <= max_rows:
        rows = records(data)
        if rows is not None:
            return {"values": rows}
    return default_data_transformer(data, max_rows=max_rows)


@contextmanager
def fast_data():
    """Within: altair turns DataFrames into rows with `records_transformer`."""
    alt.data_transformers.register(TRANSFORMER, records_transformer)  # a dict entry: cheap
    with alt.data_transformers.enable(TRANSFORMER):
        yield
