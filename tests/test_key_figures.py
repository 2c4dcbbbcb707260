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
