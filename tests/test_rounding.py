"""evaluation.stats.rounding: published one-decimal values against limits, by hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.errors import ParameterError
from evaluation.stats.rounding import classify_rounded, rounding_half_width


def test_half_width_of_one_and_two_decimals():
    assert rounding_half_width(1) == pytest.approx(0.05)
    assert rounding_half_width(2) == pytest.approx(0.005)
    assert rounding_half_width(0) == pytest.approx(0.5)
    with pytest.raises(ParameterError):
        rounding_half_width(-1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3.5, "within"),  # 3.45-3.55 inside 3.0-4.0
        (4.1, "above"),  # 4.05-4.15 wholly above 4.0
        (4.0, "at_limit"),  # 3.95-4.05: the upper limit inside
        (2.9, "below"),  # 2.85-2.95 wholly below 3.0
        (3.0, "at_limit"),  # 2.95-3.05: the lower limit inside
    ],
)
def test_states_against_limits_three_and_four(value, expected):
    assert classify_rounded([value], 3.0, 4.0)[0] == expected


def test_interval_edge_exactly_on_a_limit():
    # 11,0 stands for 10,95-11,05: the true value may be 10,95, on the upper limit: at the limit
    assert classify_rounded([11.0], 4.0, 10.95)[0] == "at_limit"
    # the interval's upper edge exactly on the upper limit: the whole interval is within
    assert classify_rounded([10.9], 4.0, 10.95)[0] == "within"
    # the same at the lower limit
    assert classify_rounded([4.0], 4.05, 11.0)[0] == "at_limit"
    assert classify_rounded([4.1], 4.05, 11.0)[0] == "within"
    # just beyond the edge: flagged
    assert classify_rounded([11.0], 4.0, 10.9499)[0] == "above"
    assert classify_rounded([4.0], 4.0501, 11.0)[0] == "below"


def test_the_reviewers_case_a_flag_within_the_rounding_of_the_limit():
    # Samsø Skole's absence 11,0 against an upper limit of 10,83: still wholly above
    assert classify_rounded([11.0], 4.09, 10.834)[0] == "above"
    # a school at 3,7 against an upper limit of 3,68 was "above"; 3,65-3,75 holds the limit
    assert classify_rounded([3.7], 3.2, 3.68)[0] == "at_limit"


def test_band_narrower_than_the_rounding_interval_is_at_the_limit():
    assert classify_rounded([3.5], 3.48, 3.52)[0] == "at_limit"


def test_two_decimals_and_vectors():
    got = classify_rounded(np.array([3.46, 3.44, 3.45]), np.array([3.45, 3.45, 3.45]), 3.9, 2)
    assert list(got) == ["within", "below", "at_limit"]


def test_missing_values_or_limits_are_within_like_compare():
    got = classify_rounded([np.nan, 3.5, 3.5], [3.0, np.nan, 3.0], [4.0, 4.0, np.nan])
    assert list(got) == ["within", "within", "within"]
