"""evaluation.reports.key_figures: what a report's last cell records for `workbench verify`."""

from __future__ import annotations

import pytest

from evaluation.reports import key_figures


def test_key_figures_refuse_objects():
    with pytest.raises(TypeError):
        key_figures.to_plain_json({"x": object()})


def test_plain_json_turns_keys_tuples_and_non_finite_numbers_into_json():
    figures = {1: (2, 3.5), "inf": float("inf"), "none": None, "ok": True, "name": "Øst"}
    assert key_figures.to_plain_json(figures) == {
        "1": [2, 3.5],
        "inf": None,
        "none": None,
        "ok": True,
        "name": "Øst",
    }


def test_record_key_figures_displays_them_under_their_own_type(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.append((objs, kw)))
    key_figures.record_key_figures({"n": 12, "mean": float("nan"), "cluster": "Øst"})
    [((bundle,), options)] = shown
    assert options == {"raw": True}
    assert key_figures.KEY_FIGURES_MIME == "application/vnd.workbench.key-figures+json"
    assert bundle[key_figures.KEY_FIGURES_MIME] == {"n": 12, "mean": None, "cluster": "Øst"}
    assert bundle["text/plain"] == (
        'Key figures recorded for workbench verify: {"n": 12, "mean": null, "cluster": "Øst"}'
    )


def test_a_shown_figure_is_rounded_as_printed_and_records_its_decimals(monkeypatch):
    """3.0603751 on the page is 3,06: the recorded figure is 3.06, with 2 decimals beside it."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.append(objs[0]))
    figure = key_figures.Shown(3.0603751, 2)
    assert figure == 3.06 and figure.decimals == 2 and isinstance(figure, float)
    key_figures.record_key_figures({"value": figure, "share": key_figures.Shown(0.6849, 2), "k": 4})
    [bundle] = shown
    assert bundle[key_figures.KEY_FIGURES_MIME] == {"value": 3.06, "share": 0.68, "k": 4}
    assert bundle[key_figures.KEY_FIGURE_DECIMALS_MIME] == {"value": 2, "share": 2}
    assert "3.0603" not in bundle["text/plain"]


def test_key_figures_of_a_report_carry_no_more_decimals_than_the_page():
    """The rule's one home is formatting.interval_scale: 2 decimals for a 1-5 index, whole
    percent for a share (2 decimals as a fraction), 1 for absence; a change one more for shares."""
    from evaluation.catalog import load_catalog
    from evaluation.reports import formatting

    catalog = load_catalog()
    kinds = {i.kind: i for i in catalog.indicators}
    assert formatting.stored_decimals(kinds["mean"]) == 2
    assert formatting.stored_decimals(kinds["proportion"]) == 2
    assert formatting.stored_decimals(kinds["proportion"], signed=True) == 3
    assert formatting.stored_decimals(kinds["rate"]) == 1
    assert formatting.shown_value(kinds["proportion"], 0.68494) == 68.0
    assert formatting.shown_value(kinds["mean"], 3.0603751) == 3.06
