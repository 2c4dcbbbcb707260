"""The cluster report's funnel helpers (evaluation.reports.cluster_funnels) on hand-made rows."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evaluation.catalog import load_catalog
from evaluation.reports import cluster_funnels
from evaluation.texts import texts_for

CATALOG = load_catalog()


def six_units(**extra) -> pd.DataFrame:
    """Six units' general wellbeing in 2024, two of them noisy (a, f)."""
    return pd.DataFrame(
        {
            "year": 2024,
            "level": "unit",
            "entity_id": list("abcdef"),
            "indicator_id": "generel_trivsel",
            "value": [3.2, 3.5, 3.7, 3.8, 4.0, 4.3],
            "se": [0.30, 0.05, 0.05, 0.05, 0.05, 0.30],
            **extra,
        }
    )


def test_shrinkage_pulls_each_unit_toward_the_mean_by_its_reliability():
    values = six_units()
    report = SimpleNamespace(data=SimpleNamespace(values=values, shared={}), year=2024)
    shrunk = cluster_funnels.shrunk_units(report, "generel_trivsel").set_index("entity_id")
    mean = 3.75  # roughly the precision-weighted mean of the units
    for unit, raw in zip("abcdef", values["value"], strict=True):
        assert min(raw, mean) - 0.01 <= shrunk.loc[unit, "shrunk"] <= max(raw, mean) + 0.01
    # the noisy small units (a, f) are less reliable and pulled further
    assert shrunk.loc["a", "reliability"] < shrunk.loc["b", "reliability"]
    assert abs(shrunk.loc["a", "shrunk"] - 3.2) > abs(shrunk.loc["b", "shrunk"] - 3.5)


def test_a_hidden_share_is_explained_by_the_group_or_the_rest_of_it():
    assert cluster_funnels.hidden_key(CATALOG.get("inklusionsgrad")).endswith("_share")
    assert cluster_funnels.hidden_key(CATALOG.get("generel_trivsel")).endswith("funnel_hidden")
    texts = texts_for("da")
    assert "i resten af den" in texts("cluster_report.funnel_hidden_share", min_n=5, names="X")


def test_spread_along_n_follows_a_plus_b_over_n():
    # se^2 = 0.01 + 2 / n exactly: at n = 100 that is 0.03, at n = 400 it is 0.015
    shown = pd.DataFrame({"n": [50.0, 200.0, 800.0]})
    shown["se"] = np.sqrt(0.01 + 2 / shown["n"])
    se = cluster_funnels.spread_along_n(shown, np.array([100.0, 400.0]))
    assert se == pytest.approx([np.sqrt(0.03), np.sqrt(0.015)])


def test_spread_along_n_is_flat_with_one_size():
    shown = pd.DataFrame({"n": [100.0, 100.0], "se": [0.1, 0.2]})
    se = cluster_funnels.spread_along_n(shown, np.array([10.0, 1000.0]))
    assert se == pytest.approx([np.sqrt(0.025)] * 2)  # mean of 0.01 and 0.04


def test_worse_outliers_keep_the_worse_side_only():
    units = pd.DataFrame(
        {"name": ["A", "B", "C"], "classification_998": ["above", "below", "within"]}
    )
    higher = {"indicator": CATALOG.get("generel_trivsel"), "units": units}
    lower = {"indicator": CATALOG.get("fravaer"), "units": units}  # lower is better
    assert [n for n, _ in cluster_funnels.worse_outliers(higher)] == ["B"]
    assert [n for n, _ in cluster_funnels.worse_outliers(lower)] == ["A"]
    assert cluster_funnels.worse_outliers({**higher, "units": None}) == []


def test_funnel_parts_without_units_say_why():
    report = SimpleNamespace(
        t=texts_for("da"), school_year="2024/25", data=SimpleNamespace(min_n=5)
    )
    found = {"indicator": CATALOG.get("generel_trivsel"), "units": None, "hidden": ["A & B", "C"]}
    html = "".join(cluster_funnels.funnel_parts(report, found))
    assert html.startswith("<h3>Generel trivsel</h3>")
    assert "Ingen af klyngens enheder har tal for Generel trivsel i 2024/25." in html
    assert "færre end 5 svar" in html and "A &amp; B og C." in html


def test_public_warehouses_show_the_five_published_indices():
    public = SimpleNamespace(data=SimpleNamespace(public=True))
    survey = SimpleNamespace(data=SimpleNamespace(public=False))
    assert len(cluster_funnels.funnel_indicators(public)) == 5
    assert "inklusionsgrad" in cluster_funnels.funnel_indicators(survey)


def test_published_units_are_classified_by_their_rounding_interval():
    units = pd.DataFrame(
        {
            "value": [4.0, 4.1, 2.9],
            "lower_95": [3.0, 3.0, 3.0],
            "upper_95": [4.0, 4.0, 4.0],
            "lower_998": [2.9, 2.9, 2.9],
            "upper_998": [4.2, 4.2, 4.2],
        }
    )
    out = cluster_funnels.classify_published(units)
    assert out["classification"].tolist() == ["at_limit", "above", "below"]
    assert out["classification_998"].tolist() == ["within", "within", "at_limit"]


def test_at_the_limit_is_not_an_outlier():
    units = pd.DataFrame({"name": ["A", "B"], "classification_998": ["at_limit", "below"]})
    found = {"indicator": CATALOG.get("generel_trivsel"), "units": units}
    assert [n for n, _ in cluster_funnels.worse_outliers(found)] == ["B"]


def test_published_figures_get_no_shrinkage_and_a_band_note():
    values = six_units(sd=np.nan)  # published: no pupil-level sd, the se is the fitted spread
    report = SimpleNamespace(
        t=texts_for("da"), data=SimpleNamespace(values=values, min_n=5, shared={}), year=2024
    )
    assert cluster_funnels.shrunk_units(report, "generel_trivsel") is None
    units = pd.DataFrame(
        {
            "entity_id": ["a"],
            "name": ["A"],
            "n": [300.0],
            "value": [3.2],
            "classification": ["at_limit"],
            "classification_998": ["within"],
        }
    )
    found = {"indicator": CATALOG.get("generel_trivsel"), "units": units, "hidden": []}
    table, notes = cluster_funnels.funnel_table(report, {**found, "published": True})
    assert "Trukket mod kommunen" not in table.columns and "Pålidelighed" not in table.columns
    assert "på grænsen" in table.to_string()
    assert notes[0].startswith("Der er intet stikprøveinterval")
    assert "»på grænsen«" in notes[1]


def test_unit_counts_read_like_people_talk():
    t = texts_for("da")
    one = cluster_funnels.count_words(t, 1, {"over": 0, "under": 0})
    assert one == "Klyngens ene enhed med tal ligger inden for 95 %-grænserne."
    assert "Alle klyngens 4 enheder" in cluster_funnels.count_words(t, 4, {"over": 0, "under": 0})
    some = cluster_funnels.count_words(t, 5, {"over": 0, "under": 2})
    assert some == "Af klyngens 5 enheder med tal ligger 2 under 95 %-grænserne."
