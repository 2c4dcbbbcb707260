"""evaluation.reports.chart_records: a chart's tables as the rows altair's own sanitiser writes."""

from __future__ import annotations

import json
import math

import altair as alt
import numpy as np
import pandas as pd
from altair.utils.data import to_values

from evaluation.reports import charts
from evaluation.reports.chart_records import TRANSFORMER, fast_data, named_rows, plain_rows, records


def every_plain_kind() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "value": [1.5, math.nan, math.inf, -math.inf],
            "n": np.array([1, 2, 3, 4], dtype="int64"),
            "shown": [True, False, True, False],
            "name": pd.Series(["Åbyen", None, "Øst", "=1+1"], dtype="str"),
            "text": pd.Series(["a", None, math.nan, np.array([1, 2])], dtype=object),
        }
    )


def test_rows_are_the_ones_altair_writes():
    frame = every_plain_kind()
    expected = to_values(frame)["values"]  # altair's sanitiser, the reference
    assert json.dumps(records(frame)) == json.dumps(expected)
    assert records(frame)[1] == {"value": None, "n": 2, "shown": False, "name": None, "text": None}
    assert type(records(frame)[0]["n"]) is int and records(frame)[3]["text"] == [1, 2]


def test_other_column_types_are_left_to_altair():
    dates = pd.DataFrame({"day": pd.to_datetime(["2025-08-01"]), "v": [1.0]})
    kinds = pd.DataFrame({"k": pd.Categorical(["a"]), "v": [1.0]})
    small = pd.DataFrame({"v": np.array([1.5], dtype="float32")})
    assert records(dates) is None and records(kinds) is None and records(small) is None
    with fast_data():
        spec = alt.Chart(dates).mark_point().encode(x="day:T").to_dict(validate=False)
    assert list(spec["datasets"].values()) == [[{"day": "2025-08-01T00:00:00", "v": 1.0}]]


def test_a_chart_spec_is_the_same_and_altair_is_left_as_it_was():
    frame = every_plain_kind().drop(columns="text")
    chart = charts.build_finding_chart(
        {"value": 3.2, "lower": 3.0, "upper": 3.4, "rule": 3.5, "verdict": "worse"},
        {"interval": "Usikkerhed", "rule": "Kommunen"},
        ".1f",
    ) | alt.Chart(frame).mark_point().encode(x="value:Q", y="name:N")
    active = alt.data_transformers.active
    with fast_data():
        fast = chart.to_dict(validate=False)
    assert alt.data_transformers.active == active != TRANSFORMER
    assert json.dumps(fast) == json.dumps(chart.to_dict(validate=False))


def test_rows_are_the_ones_itertuples_gives():
    frame = every_plain_kind().assign(
        day=pd.to_datetime(["2025-08-01", None, "2025-08-03", "2025-08-04"]),
        kind=pd.Categorical(["a", "b", None, "a"]),
        count=pd.array([1, None, 3, 4], dtype="Int64"),
        **{"not a name": [1, 2, 3, 4], "class": ["x", "y", "z", "w"]},
    )
    expected = list(frame.itertuples(index=False))  # pandas, the reference
    found = list(named_rows(frame))
    assert found[0]._fields == expected[0]._fields  # renamed alike: _6 and _7
    for got, want in zip(found, expected, strict=True):
        for a, b in zip(got, want, strict=True):
            assert type(a) is type(b) or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray))
            assert a is b or repr(a) == repr(b)
    assert list(plain_rows(frame.iloc[:0])) == []
    assert list(plain_rows(pd.DataFrame(index=[0, 1]))) == [(), ()]
