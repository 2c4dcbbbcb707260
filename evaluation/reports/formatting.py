"""Numbers and names as the reports write them: 3,72 / 94 % / +3 pct.-point / »statement«.

A suppressed or missing figure becomes the marker "–" here, never a blank or a zero.
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.reports.inputs import ReportData, missing_years_by_source
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year, is_missing


def indicator_name(t: Texts, indicator, short: bool = False) -> str:
    """The indicator's name in the report's language, from the catalog (its only home);
    `short` gives the short form with its unit for a narrow table header."""
    if short:
        return indicator.short_da if t.language == "da" else indicator.short_en
    return indicator.name_da if t.language == "da" else indicator.name_en


def indicator_phrase(t: Texts, indicator) -> str:
    """The name for use inside a sentence: a statement is quoted (»...« / "...")."""
    name = indicator_name(t, indicator)
    if getattr(indicator, "statement", None):
        return t("format.quote", text=name)
    return name


MAX_EXTRA_DECIMALS = 4  # at most this many decimals beyond the usual, to part a rounded tie


def format_value(t: Texts, indicator, value, extra: int = 0) -> str:
    """A level in the unit of its kind: 3,72 / 94 % / 12 dage / 5,3 % (`extra` more decimals)."""
    if is_missing(value):
        return SUPPRESSED_MARKER
    decimals = shown_decimals(indicator) + extra
    if indicator.kind == "proportion":
        return t.percent(value, decimals=decimals)
    if indicator.kind == "median":
        return days(t, t.number(value, decimals=decimals))
    if indicator.kind == "rate":
        return t("format.percent", number=t.number(value, decimals=decimals))
    return t.number(value, decimals=decimals)


def days(t: Texts, number: str) -> str:
    """ "12 dage", but "1 dag" and "−1 dag" (never "−1 dage")."""
    if number.lstrip("+−-") == "1":
        return t("meeting.one_day", number=number)
    return t("format.days", number=number)


def format_difference(t: Texts, indicator, value, extra: int = 0) -> str:
    """A signed difference: +0,12 / +3 pct.-point / −4 dage (`extra` more decimals)."""
    if is_missing(value):
        return SUPPRESSED_MARKER
    scale, decimals = interval_scale(indicator, signed=True)
    number = t.number(value * scale, decimals=decimals + extra, signed=True)
    if indicator.kind in ("proportion", "rate"):
        return t("format.points", number=number)
    if indicator.kind == "median":
        return days(t, number)
    return number


def interval_scale(indicator, signed: bool = False) -> tuple[float, int]:
    """(factor, decimals) of a printed level (`signed`: difference) and its interval: shares in
    percent (whole percent for a level, one decimal for a difference), absence one decimal,
    days whole, 1-5 indices two decimals. The one home of the printed precision: format_value,
    format_difference, format_interval, chart coordinates and key figures all take it here."""
    if indicator.kind == "proportion":
        return 100.0, 1 if signed else 0
    if indicator.kind == "rate":
        return 1.0, 1
    if indicator.kind == "median":
        return 1.0, 0
    return 1.0, 2


def shown_decimals(indicator, signed: bool = False) -> int:
    """Decimals of a printed level (`signed`: difference) at display scale (percent for shares)."""
    return interval_scale(indicator, signed)[1]


def stored_decimals(indicator, signed: bool = False) -> int:
    """The printed precision in stored units: a share printed in whole percent has 2 decimals."""
    scale, decimals = interval_scale(indicator, signed)
    return decimals + (2 if scale == 100.0 else 0)


def shown_value(indicator, value, signed: bool = False, extra: int = 0):
    """A stored value (number or Series) at display scale, rounded as the page prints it (with
    `extra` more decimals where the table prints them): the coordinate a chart gets, so an SVG
    never holds a decimal the page hides (issue #18)."""
    scale, decimals = interval_scale(indicator, signed)
    decimals += extra
    if isinstance(value, pd.Series):
        return (pd.to_numeric(value).astype(float) * scale).round(decimals)
    return math.nan if is_missing(value) else round(float(value) * scale, decimals)


def format_interval(t: Texts, indicator, lower, upper, signed: bool = False, extra: int = 0) -> str:
    """ "3,61–3,80" (da) or "3.61 to 3.80" (en); percent for shares (`extra` more decimals)."""
    if is_missing(lower) or is_missing(upper):
        return SUPPRESSED_MARKER
    scale, decimals = interval_scale(indicator, signed)
    lo = t.number(lower * scale, decimals=decimals + extra, signed=signed)
    hi = t.number(upper * scale, decimals=decimals + extra, signed=signed)
    return t("format.interval_signed" if signed else "format.interval", lower=lo, upper=hi)


def extra_decimals(indicator, lower, upper, reference, clear: bool, signed: bool = False) -> int:
    """Decimals to add so a clear verdict can be read off the printed numbers: the reference
    (the municipality's value, or 0 for a difference) printed strictly outside the printed
    interval. Rounding can put a reference just outside the interval onto its printed bound
    ("66 %" beside "66–72" and "better"); one more decimal parts them. A verdict of no clear
    difference needs none: rounding keeps a value inside an interval inside its printed bounds."""
    if not clear or any(is_missing(x) for x in (lower, upper, reference)):
        return 0
    scale, decimals = interval_scale(indicator, signed)
    for extra in range(MAX_EXTRA_DECIMALS + 1):
        lo, hi, ref = (round(float(x) * scale, decimals + extra) for x in (lower, upper, reference))
        if ref < lo or ref > hi:
            return extra
    return MAX_EXTRA_DECIMALS


def display_scale(indicator) -> float:
    """Factor from stored value to the number a chart shows (shares as percent)."""
    return 100.0 if indicator.kind == "proportion" else 1.0


def axis_label(t: Texts, indicator) -> str:
    """The indicator's name with its unit, unless the name already says it."""
    name = indicator_name(t, indicator)
    if "(" in name:
        return name
    return f"{name} ({t('kind_unit.' + indicator.kind)})"


def lower_first(text: str) -> str:
    """ "Ventetid fra ..." -> "ventetid fra ..." for use inside a sentence (not "PPR")."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def join_names(t: Texts, names: list[str]) -> str:
    """ "A, B og C" / "A, B and C" (in the order given: sort names with
    `evaluation.texts.danish_order` first)."""
    names = [str(n) for n in names]
    if not names:
        return t("common.none_listed")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {t('common.and')} " + names[-1]


def missing_years_sentences(
    t: Texts, data: ReportData, key: str, up_to: int | None = None
) -> list[str]:
    """One sentence per set of missing years, naming every source that lacks them."""
    grouped: dict[tuple[int, ...], list[str]] = {}
    for source, gaps in missing_years_by_source(data, up_to).items():
        grouped.setdefault(tuple(gaps), []).append(t(f"sources.{source}"))
    return [
        t(
            key,
            source=join_names(t, names),
            years=join_names(t, [format_school_year(y) for y in gaps]),
        )
        for gaps, names in grouped.items()
    ]
