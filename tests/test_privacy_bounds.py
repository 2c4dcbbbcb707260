"""Bounds attacks (evaluation.values.privacy_bounds) and relations taken from the data.

Issue #18's scenarios: 4 and 6 respondents in one cluster who all answered at the bottom of
the scale (the pooled mean 1.00 pins both hidden cells), the same for a share of 0 %, and a
cluster labelled with another municipality than its schools.
"""

from __future__ import annotations

import numpy as np
from test_privacy import CATALOG, MEAN, PROP, row, status, suppress, table

from evaluation.values import privacy, privacy_bounds


def with_value(record: dict, value: float) -> dict:
    return {**record, "value": value}


def bottom_of_the_scale_rows() -> list[dict]:
    """A (4) and B (6) answered 1 on every item; C (20) has 3.5; K1 = A + B + C = By."""
    rows = [
        with_value(row(2024, "unit", "A", MEAN, 4, cluster="K1"), 1.0),
        with_value(row(2024, "unit", "B", MEAN, 6, cluster="K1"), 1.0),
        with_value(row(2024, "unit", "C", MEAN, 20, cluster="K1"), 3.5),
    ]
    pooled = (4 * 1.0 + 6 * 1.0 + 20 * 3.5) / 30
    rows.append(with_value(row(2024, "cluster", "K1", MEAN, 30), pooled))
    rows.append(with_value(row(2024, "municipality", "By", MEAN, 30), pooled))
    return rows


def test_the_feasible_range_of_a_hidden_cell_follows_its_pool():
    # pool of 10 answers with sum 10 on a 1-5 scale: the cell of 4 has sum exactly 4
    assert privacy_bounds.feasible_range("mean", 4, 10, 10.0) == (4.0, 4.0)
    # pool mean 3: the cell of 4 can be anything from 1 to 5 (sum 4 to 20)
    assert privacy_bounds.feasible_range("mean", 4, 10, 30.0) == (4.0, 20.0)
    # a share: 3 of a pool of 10 are "yes": the cell of 4 holds 0 to 3 of them
    assert privacy_bounds.feasible_range("proportion", 4, 10, 3.0) == (0.0, 3.0)


def test_a_hidden_pair_at_the_bottom_of_the_scale_takes_a_third_cell_along(monkeypatch):
    frame = table(bottom_of_the_scale_rows())
    out = status(suppress(frame))
    # A fails the primary rule; B (smallest sibling) is hidden so A is not found by subtraction;
    # K1 - C then gives A + B: 10 answers with mean 1.00, which pins both. C goes too.
    assert out == {
        "A/2024": "primary",
        "B/2024": "secondary",
        "C/2024": "secondary",
        "K1/2024": None,
        "By/2024": None,
    }
    assert privacy.find_privacy_leaks(suppress(frame)).empty
    # positive control: without the bounds rule the pair is left pinned, and the finder says so
    monkeypatch.setattr(privacy_bounds, "narrowed_relations", lambda *a: np.array([], int))
    unsafe = suppress(frame)
    assert status(unsafe)["C/2024"] is None
    leaks = privacy.find_privacy_leaks(unsafe)
    assert set(leaks["entity_id"]) == {"A", "B"}
    assert set(leaks["leak"]) == {
        "suppressed cells pinned at a scale end by their relation's published figures"
    }


def test_a_hidden_pair_with_no_yes_at_all_takes_a_third_cell_along():
    rows = [
        row(2024, "unit", "A", PROP, 4, 0, cluster="K1"),
        row(2024, "unit", "B", PROP, 6, 0, cluster="K1"),
        row(2024, "unit", "C", PROP, 30, 15, cluster="K1"),
        row(2024, "cluster", "K1", PROP, 40, 15),
    ]
    out = status(suppress(table(rows)))
    # A and B both fail the primary rule (0 "yes"); together they are 0 of 10: pinned
    assert out["A/2024"] == out["B/2024"] == "primary"
    assert out["C/2024"] == "secondary" and out["K1/2024"] is None


def test_a_pool_wide_enough_hides_nothing_more():
    rows = [
        with_value(row(2024, "unit", "A", MEAN, 4, cluster="K1"), 2.0),
        with_value(row(2024, "unit", "B", MEAN, 6, cluster="K1"), 3.5),
        with_value(row(2024, "unit", "C", MEAN, 20, cluster="K1"), 3.5),
        with_value(row(2024, "cluster", "K1", MEAN, 30), (8 + 21 + 70) / 30),
    ]
    out = status(suppress(table(rows)))
    assert out["B/2024"] == "secondary" and out["C/2024"] is None


def mislabelled_rows() -> list[dict]:
    """K2 (school A, 4 answers) is labelled with municipality "Andet", its school with "By"."""
    rows = [
        row(2024, "unit", "A", MEAN, 4, cluster="K2"),
        {**row(2024, "cluster", "K2", MEAN, 4), "municipality": "Andet"},
        row(2024, "unit", "B", MEAN, 20, cluster="K1"),
        row(2024, "unit", "C", MEAN, 30, cluster="K1"),
        row(2024, "cluster", "K1", MEAN, 50),
        row(2024, "municipality", "By", MEAN, 54),
    ]
    return rows


def test_a_cluster_is_tied_to_the_municipality_of_its_schools_not_its_label():
    frame = table(mislabelled_rows())
    out = status(suppress(frame))
    # By = K1 + K2 as the data say: K2 (primary) is alone there, so K1 goes, then B in K1
    assert out["K2/2024"] == "primary" and out["K1/2024"] == "secondary"
    assert out["B/2024"] == "secondary" and out["By/2024"] is None
    assert privacy.find_privacy_leaks(suppress(frame)).empty


def test_the_leak_finder_catches_a_cluster_hidden_only_by_its_label():
    """What the old relation (by label) published: K1 and By shown, K2 hidden; By - K1 = K2."""
    frame = table(mislabelled_rows())
    hidden = frame["entity_id"].isin(["A", "K2"]).to_numpy()
    reason = np.where(hidden, "primary", None).astype(object)
    published = privacy.mark_suppressed(frame.copy(), hidden, reason)
    leaks = privacy.find_privacy_leaks(published)
    assert ("K2", "suppressed cell recoverable by subtraction in its relation") in set(
        zip(leaks["entity_id"], leaks["leak"], strict=True)
    )


def test_relations_use_the_units_municipality_for_each_cluster():
    frame = table(mislabelled_rows())
    relations = privacy.build_relations(frame, CATALOG)
    by = int(np.flatnonzero(frame["entity_id"] == "By")[0])
    k2 = int(np.flatnonzero(frame["entity_id"] == "K2")[0])
    parents = relations[relations["pos"] == k2]
    by_relations = relations.loc[(relations["pos"] == by) & (relations["role"] == 1), "relation"]
    assert set(parents["relation"]) & set(by_relations), "K2 is a child of By"
