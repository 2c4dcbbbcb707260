"""All report wording, one YAML file per language (evaluation/texts/da.yaml, en.yaml).

Code asks for a sentence by its dotted key, `texts_for("da")("change.none")`, and never writes
report wording itself. Numbers are formatted here too, so Danish reports say 3,7 and 94 % and
English ones 3.7 and 94%, from the same values.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import yaml

from evaluation.errors import ParameterError

TEXTS_DIR = Path(__file__).resolve().parent / "texts"
LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
SUPPRESSED_MARKER = "–"  # en dash: a suppressed cell, explained in a footnote
MINUS = "−"  # U+2212, reads as "minus" and lines up with "+"
NBSP = "\u00a0"  # keeps "94 %" and "12 dage" on one line


# Danish collation: Æ, Ø, Å (and Aa, the old spelling of Å) after Z; Ä, Ö as Æ, Ø
DANISH_LETTERS = str.maketrans({"Æ": "[", "Ä": "[", "Ø": "\\", "Ö": "\\", "Å": "]"})


def danish_order(name) -> str:
    """A sort key for names in Danish order (... Vest, Øst, Åbyen, Aabyen as Åbyen): every list
    and table of every report sorts names with it."""
    text = str(name).upper()
    if text.startswith("AA"):
        text = "Å" + text[2:]
    return text.translate(DANISH_LETTERS)


def format_school_year(year: int) -> str:
    """Show a school year by its first calendar year: 2024 -> "2024/25"."""
    year = int(year)
    return f"{year}/{(year + 1) % 100:02d}"


def check_language(language: str) -> str:
    """Return the language code, or raise ParameterError listing the languages we have."""
    if language not in LANGUAGES:
        raise ParameterError(
            f"language={language!r} is not available; choose one of: {', '.join(LANGUAGES)}"
        )
    return language


@cache
def load_texts(language: str) -> dict:
    """Read the wording of one language from evaluation/texts/<language>.yaml."""
    check_language(language)
    path = TEXTS_DIR / f"{language}.yaml"
    # libyaml's safe loader when present: the same result, a tenth of the time, in every report
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


class Texts:
    """The wording of one language: call with a dotted key and the values to fill in."""

    def __init__(self, language: str):
        self.language = check_language(language)
        self.data = load_texts(language)

    def __call__(self, key: str, **values) -> str:
        template = self.lookup(key)
        if not isinstance(template, str):
            raise KeyError(f"text {key!r} in {self.language}.yaml is not a sentence")
        return template.format(**values) if values else template

    def lookup(self, key: str):
        """Return the raw entry (text, list or mapping) under a dotted key."""
        node = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"no text {key!r} in evaluation/texts/{self.language}.yaml")
            node = node[part]
        return node

    def has(self, key: str) -> bool:
        try:
            self.lookup(key)
        except KeyError:
            return False
        return True

    # number formatting -------------------------------------------------------------------
    def number(self, value: float | None, decimals: int = 1, signed: bool = False) -> str:
        return format_number(value, self.language, decimals=decimals, signed=signed)

    def percent(self, fraction: float | None, decimals: int = 0, signed: bool = False) -> str:
        return format_percent(fraction, self.language, decimals=decimals, signed=signed)


def texts_for(language: str) -> Texts:
    """The Texts of a language (raises ParameterError for a language we do not have)."""
    return Texts(language)


def is_missing(value) -> bool:
    """None, NaN (any float type), pandas' NA or NaT: a cell to show as the suppression marker,
    never as a blank that reads as zero."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)  # NaN is the one value not equal to itself
    except (TypeError, ValueError):  # arrays, objects without a plain comparison
        return False


def format_number(
    value: float | None, language: str, decimals: int = 1, signed: bool = False
) -> str:
    """3.66 -> "3,7" (da) or "3.7" (en); 65000 -> "65.000" / "65,000"; None -> the marker."""
    if is_missing(value):
        return SUPPRESSED_MARKER
    fmt = load_texts(language)["format"]
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # no "-0,0"
    text = f"{abs(rounded):,.{decimals}f}"
    text = text.replace(",", "\0").replace(".", fmt["decimal"]).replace("\0", fmt["thousands"])
    if rounded < 0:
        return MINUS + text
    if signed:
        return ("±" if rounded == 0 else "+") + text
    return text


def format_percent(
    fraction: float | None, language: str, decimals: int = 0, signed: bool = False
) -> str:
    """0.943 -> "94 %" (da, no-break space) or "94%" (en)."""
    if is_missing(fraction):
        return SUPPRESSED_MARKER
    number = format_number(float(fraction) * 100, language, decimals=decimals, signed=signed)
    return load_texts(language)["format"]["percent"].format(number=number)


def placeholders(template: str) -> set[str]:
    """The {names} a text expects (used by the tests to keep languages in step)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
