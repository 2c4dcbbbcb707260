"""CPR-like numbers: valid DDMMYY dates followed by four digits, with or without a dash."""

from __future__ import annotations

import pandas as pd

from evaluation import cpr


def test_a_valid_date_then_four_digits_is_cpr_like_with_or_without_dash():
    assert cpr.looks_like_cpr("010203-1234")
    assert cpr.looks_like_cpr("0102031234")
    assert cpr.looks_like_cpr(" 311299-0000 ")
    # 29 February: 2000 leaps (and 1900 does not), so 290200 is a date; 290201 is not
    assert cpr.looks_like_cpr("290200-1234")
    assert not cpr.looks_like_cpr("290201-1234")


def test_no_date_or_wrong_length_is_not_cpr_like():
    for value in (
        "320101-1234",
        "011301-1234",
        "000101-1234",
        "01020312345",
        "010203-123",
        "p-0102031234",
        "elev 17",
        "",
        "abcdef-ghij",
    ):
        assert not cpr.looks_like_cpr(value), value


def test_find_cpr_in_free_text():
    text = "Samtale med far til 0102031234 og 150510-4321; mødes 12.03.2025, lokale 1234567890"
    assert cpr.find_cpr(text) == ["0102031234", "150510-4321"]
    assert cpr.find_cpr("Trivselsmøde i klynge Nord, 14 deltagere") == []


def test_cpr_like_column():
    values = pd.Series(["010203-1234", "k-0017", None, "3112991234", "999999-9999"])
    assert cpr.cpr_like(values).tolist() == [True, False, False, True, False]
