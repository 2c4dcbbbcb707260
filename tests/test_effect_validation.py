"""The simulation figures per kind of effect row, and when they warrant a caveat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import effect_validation as ev


@pytest.fixture
def simulated(monkeypatch):
    rows = pd.DataFrame(
        [
            # kind, row, treated clusters, datasets, coverage, rejection
            ("demo", 10, "post", "0", 6, 1000, 0.950, 0.050),
            ("demo", 10, "post", "1", 6, 1000, 0.940, 0.060),
            ("demo", 10, "post", "2", 3, 1000, 0.910, 0.090),
            ("few", 10, "post", "2", 3, 3000, 0.930, 0.070),
            ("demo", 10, "cohort", "2023", 3, 500, 0.960, 0.080),
        ],
        columns=[
            "design",
            "n_clusters",
            "kind",
            "row",
            "treated_clusters",
            "datasets",
            "coverage",
            "rejection",
        ],
    )
    monkeypatch.setattr(ev, "simulated_rows", lambda: rows)
    return rows


def test_figures_pool_the_rows_of_one_kind_weighted_by_datasets(simulated):
    six = ev.figures_for("post", 6)
    assert six["sim_coverage"] == pytest.approx(0.945)
    assert six["sim_rejection"] == pytest.approx(0.055)
    assert six["sim_datasets"] == 2000 and not six["caveat"]
    # (0.910 * 1000 + 0.930 * 3000) / 4000 = 0.925: on the band's edge, no caveat for coverage,
    # but rejection (0.090 + 3 * 0.070) / 4 = 0.075 is on its limit too: still no caveat
    three = ev.figures_for("post", 3)
    assert three["sim_coverage"] == pytest.approx(0.925)
    assert three["sim_rejection"] == pytest.approx(0.075)
    assert not three["caveat"]
    # a cohort row rejecting 8 % of true zeros gets one
    assert ev.figures_for("cohort", 3)["caveat"]


def test_a_kind_never_simulated_has_no_figure_and_no_caveat(simulated):
    none = ev.figures_for("pre", 4)
    assert none["sim_datasets"] == 0 and np.isnan(none["sim_coverage"]) and not none["caveat"]


def test_attach_validation_leaves_refused_rows_without_figures(simulated):
    rows = pd.DataFrame(
        {
            "event_time": ["overall", 0, 2, -1],
            "n_treated_clusters": [6, 6, 3, 1],
            "refused": ["", "", "", "fewer than two treated clusters (1)"],
        }
    )
    out = ev.attach_validation(rows)
    assert list(out["sim_datasets"]) == [0, 2000, 4000, 0]
    assert list(out["caveat"]) == [False, False, False, False]
    assert ev.row_kind("overall") == "overall" and ev.row_kind(-3) == "pre"
    assert ev.row_kind(0) == "post"


def test_the_stored_figures_cover_every_kind_of_row_in_both_designs():
    sim = ev.simulated_rows()
    assert set(sim["design"]) == {"demo", "few-treated"}
    for design in ("demo", "few-treated"):
        kinds = set(sim.loc[sim["design"] == design, "kind"])
        assert kinds == {"overall", "pre", "post", "cohort"}
    assert (sim["datasets"] >= 1000).all()
    assert sim["coverage"].between(0, 1).all() and sim["rejection"].between(0, 1).all()
