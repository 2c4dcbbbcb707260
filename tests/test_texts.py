"""Report wording: one YAML per language, the same keys in both, Danish and English numbers."""

from __future__ import annotations

import pytest

from evaluation import texts
from evaluation.errors import ParameterError


def flatten(node, prefix=""):
    """{dotted key: text} of a nested YAML mapping (lists count as one entry each item)."""
    out = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out[f"{prefix}{i}"] = value
    else:
        out[prefix.rstrip(".")] = node
    return out


def test_school_year_is_shown_as_start_and_end():
    assert texts.format_school_year(2024) == "2024/25"
    assert texts.format_school_year(1999) == "1999/00"
    assert texts.format_school_year(2009) == "2009/10"


def test_numbers_are_danish_or_english():
    assert texts.format_number(3.66, "da") == "3,7"
    assert texts.format_number(3.66, "en") == "3.7"
    assert texts.format_number(65000, "da", decimals=0) == "65.000"
    assert texts.format_number(65000, "en", decimals=0) == "65,000"
    assert texts.format_number(-0.25, "da", decimals=2) == "−0,25"
    assert texts.format_number(0.2, "da", decimals=1, signed=True) == "+0,2"
    assert texts.format_number(-0.001, "da", decimals=1) == "0,0"  # no "-0,0"


def test_percent_is_danish_with_space_english_without():
    assert texts.format_percent(0.943, "da") == "94\u00a0%"
    assert texts.format_percent(0.943, "en") == "94%"
    assert texts.format_percent(0.9456, "da", decimals=1) == "94,6\u00a0%"


def test_missing_number_shows_the_marker_not_zero():
    assert texts.format_number(None, "da") == texts.SUPPRESSED_MARKER
    assert texts.format_percent(float("nan"), "en") == texts.SUPPRESSED_MARKER


def test_both_languages_have_the_same_keys_and_placeholders():
    da = flatten(texts.load_texts("da"))
    en = flatten(texts.load_texts("en"))
    assert sorted(set(da) ^ set(en)) == []
    for key, value in da.items():
        if isinstance(value, str):
            assert texts.placeholders(value) == texts.placeholders(en[key]), key


def test_unknown_language_lists_the_valid_ones():
    with pytest.raises(ParameterError, match="da, en"):
        texts.texts_for("fr")


def test_texts_fill_in_values_and_report_unknown_keys():
    t = texts.texts_for("da")
    assert t("cluster_report.title", cluster="Nord", school_year="2024/25") == (
        "Klyngerapport for Nord, skoleåret 2024/25"
    )
    with pytest.raises(KeyError, match="no_such_key"):
        t("common.no_such_key")


def test_danish_order_puts_ae_oe_aa_after_z_and_reads_aa_as_aa():
    from evaluation.texts import danish_order

    names = ["Åbyen", "Øst", "Zulu", "Ærø", "Bakkerne", "Vest", "Aabenraa", "Aarhus Nord"]
    assert sorted(names, key=danish_order) == [
        "Bakkerne",
        "Vest",
        "Zulu",
        "Ærø",
        "Øst",
        "Aabenraa",
        "Åbyen",
        "Aarhus Nord",
    ]
