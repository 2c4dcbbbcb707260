"""evaluation.stats.usual_change: the band of usual year-to-year variation of published values.

Checked against independent computations: the rounding term against scipy's variance of a
uniform distribution and a difference of two independent ones (var is additive); the band's sd
against the definition of a root mean square; H against the effective number of equal weights.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evaluation.errors import ParameterError
from evaluation.stats import usual_change


def test_rounding_term_is_the_variance_of_a_difference_of_two_uniform_errors():
    one = stats.uniform(loc=-0.05, scale=0.1).var()  # uniform on [-0.05, 0.05]
    assert usual_change.ROUNDING_DIFFERENCE_VARIANCE == pytest.approx(2 * one, rel=1e-12)
    assert usual_change.ROUNDING_DIFFERENCE_VARIANCE == pytest.approx(0.0016667, abs=1e-7)


def test_band_is_the_root_mean_square_change_widened_by_rounding():
    changes = [0.1, -0.1, 0.0, 0.2, -0.1, 0.0, np.nan]
    band = usual_change.usual_change_band(changes)
    mean_square = (0.01 + 0.01 + 0 + 0.04 + 0.01 + 0) / 6
    assert band.changes == 6
    assert band.sd == pytest.approx(np.sqrt(mean_square + 2 * 0.05**2 / 3))
    assert band.half_width == pytest.approx(stats.norm.ppf(0.975) * band.sd)


def test_too_few_changes_give_no_band_and_no_verdict():
    assert usual_change.usual_change_band([0.1, 0.2, np.nan, 0.0, 0.1]) is None
    assert usual_change.against_usual(0.5, None) == "missing"


def test_verdicts_only_beyond_the_band():
    band = usual_change.usual_change_band([0.1, -0.1, 0.1, -0.1, 0.1])
    edge = band.half_width
    assert usual_change.against_usual(edge + 0.01, band) == "larger_increase"
    assert usual_change.against_usual(-edge - 0.01, band) == "larger_decrease"
    assert usual_change.against_usual(edge, band) == "usual"
    assert usual_change.against_usual(float("nan"), band) == "missing"


def test_a_mean_of_k_equal_schools_has_a_band_sqrt_k_narrower():
    h = usual_change.concentration([300, 300, 300, 300])
    assert h == pytest.approx(1 / 4)
    band = usual_change.usual_change_band([0.1, -0.2, 0.1, 0.0, 0.3])
    assert band.scaled(h).half_width == pytest.approx(band.half_width / 2)
    with pytest.raises(ParameterError):
        usual_change.concentration([300, 0])
