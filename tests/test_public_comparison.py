"""evaluation.reports.public_comparison: one municipality's schools against the country and the
municipality against the others, on the public fixture (tests/fixtures/public/) and on hand-made
tables."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE  # noqa: E402

from evaluation.data import public_files  # noqa: E402
from evaluation.errors import PrivacyError  # noqa: E402
from evaluation.reports import public_comparison as comparison  # noqa: E402
from evaluation.stats import compare  # noqa: E402


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


def test_share_outside_counts_above_and_below_not_at_the_limit():
    assert comparison.share_outside(pd.Series(["within", "above", "below", "within"])) == 0.5
    assert comparison.share_outside(pd.Series(["at_limit", "above", "within", "within"])) == 0.25
    assert np.isnan(comparison.share_outside(pd.Series([], dtype=str)))


def test_published_values_are_classified_by_their_rounding_interval():
    units = pd.DataFrame(
        {
            "value": [4.0, 4.1, 3.5, 4.0],
            "lower_95": [3.0, 3.0, 3.0, 3.0],
            "upper_95": [4.0, 4.0, 4.0, 4.0],
            "lower_998": [2.5] * 4,
            "upper_998": [4.5] * 4,
            "classification": ["within", "above", "within", "within"],
            "classification_998": ["within"] * 4,
        }
    )
    out = comparison.classify_published(units, [True, True, True, False])
    # 4,0 stands for 3,95-4,05: the upper limit 4,0 lies inside; 4,1 (4,05-4,15) is wholly above
    assert out["classification"].tolist() == ["at_limit", "above", "within", "within"]
    assert out["classification_unrounded"].tolist() == units["classification"].tolist()
    assert out["classification_998"].tolist() == ["within"] * 4


def test_school_flags_need_their_whole_rounding_interval_beyond_the_band(frederiksberg):
    units = pd.concat([r["units"] for r in frederiksberg.schools.values()])
    above = units[units["classification"] == "above"]
    assert (above["value"] - 0.05 > above["upper_95"]).all()
    below = units[units["classification"] == "below"]
    assert (below["value"] + 0.05 < below["lower_95"]).all()
    at = units[units["classification"] == "at_limit"]
    inside = (at["value"] - 0.05 < at["upper_95"]) & (at["value"] + 0.05 > at["upper_95"])
    inside |= (at["value"] - 0.05 < at["lower_95"]) & (at["value"] + 0.05 > at["lower_95"])
    assert inside.all()
    assert len(above) + len(below) >= 1 and len(at) >= 1  # the fixture has both kinds


def school_and_municipality(tau2: float, school_state: str, bands) -> comparison.PublicComparison:
    """A municipality "M" at 11,0 with a school "s" at 11,0: the school's band, then M's."""
    (s_low, s_high), (m_low, m_high) = bands
    school = pd.DataFrame(
        {
            "entity_id": ["s"],
            "name": ["Skolen"],
            "municipality": ["M"],
            "value": [11.0],
            "lower_95": [s_low],
            "upper_95": [s_high],
            "classification": [school_state],
        }
    )
    municipal = pd.DataFrame(
        {
            "entity_id": ["M"],
            "value": [11.0],
            "lower_95": [m_low],
            "upper_95": [m_high],
            "classification": ["within"],
        }
    )
    shown = compare.Comparison("median", 7.5, "none", None, municipal)
    return comparison.PublicComparison(
        municipality="M",
        year=2024,
        schools={"fravaer": {"units": school}},
        municipalities={"fravaer": {"units": municipal, "shown": shown, "tau2": tau2}},
        dispersion=pd.DataFrame(),
        series=pd.DataFrame(),
        notes=[],
        units=pd.DataFrame(),
    )


def test_same_value_other_state_is_explained_by_the_bands():
    # the municipality's band is wider by the shared municipal variation tau2 (1 - H)
    comp = school_and_municipality(0.5, "above", ((4.1, 10.8), (3.8, 11.1)))
    (found,) = comparison.same_value_contrasts(comp, "fravaer", 1)
    assert found["school"] == "Skolen" and found["reason"] == "reason_tau"
    assert (found["school_state"], found["municipality_state"]) == ("above", "within")
    assert found["municipality_limits"] == (3.8, 11.1)
    wider = school_and_municipality(0.0, "above", ((4.1, 10.8), (3.8, 11.1)))
    assert comparison.same_value_contrasts(wider, "fravaer", 1)[0]["reason"] == "reason_wider"
    narrower = school_and_municipality(0.0, "at_limit", ((4.0, 11.0), (4.5, 10.5)))
    assert comparison.same_value_contrasts(narrower, "fravaer", 1)[0]["reason"] == "reason_narrower"
    same = school_and_municipality(0.5, "within", ((4.1, 11.2), (3.8, 11.3)))
    assert comparison.same_value_contrasts(same, "fravaer", 1) == []


def test_a_one_school_municipality_has_its_schools_band():
    # 40 municipalities of 4 schools with a municipality effect (sd 0.15) on top of the school
    # spread, and "Ø" with one school: its band is the school's, target +/- 1.96 se, with no
    # tau2 added again; the others get se^2 + tau2 (1 - H)
    rng = np.random.default_rng(3)
    effects = np.repeat(rng.normal(0, 0.15, 40), 4)
    four = pd.DataFrame(
        {
            "entity_id": [f"s{j}" for j in range(160)],
            "municipality": np.repeat([f"m{k}" for k in range(40)], 4),
            "n": np.tile([100.0, 150.0, 200.0, 250.0], 40),
            "value": 3.6 + effects + rng.normal(0, 0.1, 160),
        }
    )
    one = pd.DataFrame({"entity_id": ["ø"], "municipality": ["Ø"], "n": [225.0], "value": [3.9]})
    schools = pd.concat([four, one], ignore_index=True)
    schools["se"] = np.sqrt(0.03 + 1.0 / schools["n"])
    size = SimpleNamespace(target=3.6)
    result = comparison.compare_municipalities({"units": schools, "size": size})
    assert result["tau2"] > 0
    units = result["units"].set_index("entity_id")
    se = np.sqrt(0.03 + 1.0 / 225)
    assert units.at["Ø", "upper_95"] == pytest.approx(3.6 + 1.959964 * se, abs=1e-5)
    assert units.at["Ø", "lower_95"] == pytest.approx(3.6 - 1.959964 * se, abs=1e-5)
    m0 = units.loc["m0"]
    widened = np.sqrt(m0["se"] ** 2)  # the se shown already holds tau2 (1 - H)
    plain_se = comparison.municipal_means(schools).set_index("entity_id").at["m0", "se"]
    h = (100**2 + 150**2 + 200**2 + 250**2) / 700**2
    assert widened == pytest.approx(np.sqrt(plain_se**2 + result["tau2"] * (1 - h)))
