"""evaluation.reports.public_comparison: one municipality's schools against the country and the
municipality against the others, on the public fixture (tests/fixtures/public/) and on hand-made
tables."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE  # noqa: E402

from evaluation.data import public_files  # noqa: E402
from evaluation.errors import PrivacyError  # noqa: E402
from evaluation.reports import public_comparison as comparison  # noqa: E402


@pytest.fixture(scope="module")
def frederiksberg():
    return comparison.build_public_comparison("Frederiksberg", FIXTURE)


def test_min_n_below_the_floor_is_refused():
    with pytest.raises(PrivacyError):
        comparison.build_public_comparison("Herlev", FIXTURE, min_n=2)


def test_municipal_mean_and_se_by_hand():
    schools = pd.DataFrame(
        {
            "entity_id": ["a", "b", "c"],
            "municipality": ["M", "M", "N"],
            "n": [100.0, 300.0, 200.0],
            "value": [3.0, 4.0, 3.5],
            "se": [0.2, 0.1, 0.1],
        }
    )
    means = comparison.municipal_means(schools).set_index("entity_id")
    # M: (100*3 + 300*4)/400 = 3.75; se^2 = (100^2*0.04 + 300^2*0.01)/400^2 = 1300/160000
    assert means.at["M", "value"] == pytest.approx(3.75)
    assert means.at["M", "se"] == pytest.approx(np.sqrt(1300 / 160_000))
    # V = pupil-weighted mean variance = (100*0.04 + 300*0.01 + 200*0.01)/600 = 0.015
    assert means.attrs["unit_var"] == pytest.approx(0.015)
    assert means.at["N", "n"] == pytest.approx(0.015 / 0.01)


def test_comparison_limits_hold_the_fitted_spread(frederiksberg):
    result = frederiksberg.schools["generel_trivsel"]
    units, size = result["units"], result["size"]
    half = 1.959964 * np.sqrt(size.intercept + size.b / units["n"])
    assert np.allclose(units["upper_95"] - size.target, half, atol=1e-5)


def test_series_present_for_frederiksberg_missing_for_struer(frederiksberg):
    assert set(frederiksberg.series["municipality"]) == {
        "Frederiksberg",
        public_files.NATIONAL_LABEL,
    }
    struer = comparison.build_public_comparison("Struer", FIXTURE)
    assert struer.series.empty
    assert any(n["key"] == "no_series" for n in struer.notes)


def test_own_schools_and_notes(frederiksberg):
    assert len(frederiksberg.own_schools("generel_trivsel")) == 10
    notes = {n["key"]: n["count"] for n in frederiksberg.notes}
    assert notes["schools"] == 10 and notes["no_pupils"] == 0


def test_small_schools_are_left_out_with_a_note():
    table = pd.DataFrame(
        {
            "unit_id": ["a", "a", "b", "c"],
            "indicator_id": ["x", "y", "x", "x"],
            "pupils": [4, 4, 5, 90],
        }
    )
    kept, note = comparison.drop_small_schools(table, 5)
    assert kept["unit_id"].tolist() == ["b", "c"] and kept.index.tolist() == [0, 1]
    assert note == {"key": "small_schools", "count": 1, "min_n": 5}  # one school, two rows


def test_share_outside_counts_everything_not_within():
    assert comparison.share_outside(pd.Series(["within", "above", "below", "within"])) == 0.5
    assert np.isnan(comparison.share_outside(pd.Series([], dtype=str)))
