"""CPR-like numbers: a child's identity must never enter the warehouse or a decisions file.

A Danish CPR number is six digits that form a valid date DDMMYY, then four digits, written with
or without a dash. No modulus-11 check: CPR numbers issued since 2007 need not pass it, so the
check would let real numbers through. One home for the pattern; the pupil-key check of the
importer and the free-text check of the decisions file both use it.
"""

from __future__ import annotations

import calendar
import re

import pandas as pd

# six digits, an optional dash, four digits, not inside a longer run of digits
CPR_PATTERN = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})-?\d{4}(?!\d)")


def valid_ddmmyy(day: int, month: int, year: int) -> bool:
    """True when DD MM YY is a real date in some century (29 February when 19YY or 20YY leaps)."""
    if not 1 <= month <= 12 or day < 1:
        return False
    longest = max(calendar.monthrange(century + year, month)[1] for century in (1900, 2000))
    return day <= longest


def find_cpr(text: str) -> list[str]:
    """The CPR-like numbers in a free text (as written), in order."""
    return [
        m.group(0)
        for m in CPR_PATTERN.finditer(str(text))
        if valid_ddmmyy(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    ]


def looks_like_cpr(value: str) -> bool:
    """True when the whole value (spaces around it ignored) is a CPR-like number."""
    value = str(value).strip()
    match = CPR_PATTERN.fullmatch(value)
    return bool(match) and valid_ddmmyy(*(int(match.group(k)) for k in (1, 2, 3)))


def cpr_like(values: pd.Series) -> pd.Series:
    """Element-wise `looks_like_cpr` for a column of text (missing values are not CPR-like)."""
    text = values.astype("string").str.strip()
    parts = text.str.extract(r"^(\d{2})(\d{2})(\d{2})-?\d{4}$")
    candidate = parts[0].notna()
    out = pd.Series(False, index=values.index)
    if candidate.any():
        found = parts[candidate].astype(int)
        out[candidate] = [
            valid_ddmmyy(d, m, y) for d, m, y in found.itertuples(index=False, name=None)
        ]
    return out
