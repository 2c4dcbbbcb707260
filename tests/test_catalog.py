"""evaluation.catalog: the indicator catalog, its validation and lookups, on the real catalog and
a tiny hand-made one (tests/fixtures/hand_values.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from hand_values import TINY_CATALOG, write_catalog  # noqa: E402

from evaluation.catalog import as_tuple, load_catalog  # noqa: E402
from evaluation.errors import EvaluationError  # noqa: E402


@pytest.mark.parametrize(
    ("edit", "replacement", "expected"),
    [
        ("items: [q01, q02, q03, q04]", "items: [q01, q99]", "indicator 'idx' uses item(s) q99"),
        ("kind: mean, direction", "kind: average, direction", "'idx' has unknown kind 'average'"),
        ("based_on: idx", "based_on: nothing", "'high' is based_on 'nothing'"),
        ("numerator: in_general_setting", "numerator: x", "'inkl' uses column(s) x"),
        ("source: daycare_language", "source: daycare", "'sprog' has unknown source 'daycare'"),
    ],
)
def test_catalog_errors_name_the_indicator(tmp_path, edit, replacement, expected):
    broken = TINY_CATALOG.replace(edit, replacement, 1)
    assert broken != TINY_CATALOG
    with pytest.raises(EvaluationError, match=re.escape(expected)):
        load_catalog(write_catalog(tmp_path, broken))


def test_real_catalog_loads_every_indicator():
    catalog = load_catalog()
    assert len(catalog.indicators) == 20
    assert catalog.get("naerhed").denominator == ("in_special_class", "in_special_school")
    with pytest.raises(EvaluationError, match="Known indicators"):
        catalog.get("nope")


def test_forms_items_and_indicators_of_the_tiny_catalog(tmp_path):
    catalog = load_catalog(write_catalog(tmp_path, TINY_CATALOG))
    assert catalog.forms["4-9"].grades == (4, 5, 6, 7, 8, 9)
    assert [q for q, item in catalog.forms["4-9"].items.items() if item.reverse] == ["q02"]
    assert [q for q, item in catalog.forms["0-3"].items.items() if item.reverse] == ["q01"]
    assert [i.id for i in catalog.from_source("register")] == ["inkl", "naer", "vent", "frav"]
    assert [i.id for i in catalog.from_source("daycare_language")] == ["sprog"]
    # register rows are summed by the pupils' home cluster, everything else by membership
    assert catalog.get("inkl").cluster_rollup == "home_cluster"
    assert catalog.get("idx").cluster_rollup == "membership"
    assert catalog.get("sprog").cluster_rollup == "membership"
    # a single column and a list of columns both become tuples
    assert catalog.get("inkl").numerator == ("in_general_setting",)
    assert catalog.get("sprog").numerator == ("fokuseret", "saerlig")
    assert catalog.get("idx").min_answered == 0.5 and catalog.get("high").threshold == 3.0


def test_as_tuple_reads_a_scalar_or_a_list():
    assert as_tuple(None) == ()
    assert as_tuple("pupils") == ("pupils",)
    assert as_tuple(["a", 2]) == ("a", "2")


def test_an_unreadable_or_shapeless_catalog_says_what_it_needs(tmp_path):
    with pytest.raises(EvaluationError, match="Cannot read the indicator catalog"):
        load_catalog(tmp_path / "none.yaml")
    with pytest.raises(EvaluationError, match="needs two top-level keys, `forms` and `indicators`"):
        load_catalog(write_catalog(tmp_path, "forms: {}\n"))
