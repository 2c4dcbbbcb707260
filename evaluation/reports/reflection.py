"""Questions for reflection, generated from a report's findings.

Each question is tied to one of the four movements of Bredere Børnefællesskaber (FRA -> TIL:
fællesskab, nærhed, samarbejde, praksisnær) and, where it fits, to one of the six statements of
Stærkere Læringsfællesskaber. Only statistically clear findings (a change or a difference whose
interval excludes zero) lead to a pointed question; otherwise the learning community gets the
theme's standing question. The wording lives in evaluation/texts/<language>.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evaluation.reports.common import indicator_name, indicator_phrase, lower_first
from evaluation.texts import Texts, format_school_year

THEMES = ("faellesskab", "naerhed", "samarbejde", "praksisnaer")

# Which movement an indicator speaks to (source documents 000 and 001).
INDICATOR_THEME = {
    "generel_trivsel": "faellesskab",
    "social_trivsel": "faellesskab",
    "hoej_trivsel_andel": "faellesskab",
    "trivsel_indskoling": "faellesskab",
    "udsagn_vaere_sig_selv": "faellesskab",
    "udsagn_god_ven": "faellesskab",
    "udsagn_lytter": "faellesskab",
    "inklusionsgrad": "naerhed",
    "naerhed": "naerhed",
    "tilbagevenden": "naerhed",
    "ventetid": "samarbejde",
    "udsagn_voksen": "samarbejde",
    "fravaer_over_10": "samarbejde",
    "faglig_trivsel": "praksisnaer",
    "stoette_og_inspiration": "praksisnaer",
    "ro_og_orden": "praksisnaer",
    "udsagn_nysgerrighed": "praksisnaer",
    "udsagn_fysisk_mentalt": "praksisnaer",
    "fravaer": "praksisnaer",
    "sprog_indsats": "praksisnaer",
}
MAX_PER_THEME = 3


@dataclass
class ThemeQuestions:
    """The questions of one FRA -> TIL movement."""

    theme: str
    heading: str
    questions: list[str] = field(default_factory=list)


def questions_from_status(t: Texts, status: pd.DataFrame) -> list[tuple[str, str]]:
    """(theme, question) for each clear change or clear difference from the municipality."""
    out = []
    for row in status.itertuples(index=False):
        theme = INDICATOR_THEME.get(row.indicator_id)
        if theme is None:
            continue
        name = indicator_phrase(t, row.indicator)
        previous = format_school_year(row.previous_year) if row.previous_year else ""
        if row.change_verdict in ("worse", "better"):
            out.append(
                (theme, t(f"reflection.{row.change_verdict}", indicator=name, previous=previous))
            )
        if row.position == "worse":
            out.append((theme, t("reflection.below", indicator=name)))
        elif row.position == "better":
            out.append((theme, t("reflection.above", indicator=name)))
    return out


def questions_from_units(t: Texts, outliers: list[tuple[str, object]]) -> list[tuple[str, str]]:
    """(theme, question) for units clearly on the worse side of the funnel limits."""
    out = []
    for unit_name, indicator in outliers:
        theme = INDICATOR_THEME.get(indicator.id, "faellesskab")
        out.append(
            (
                theme,
                t(
                    "reflection.unit_below",
                    unit=unit_name,
                    indicator=indicator_phrase(t, indicator),
                ),
            )
        )
    return out


def question_from_statements(t: Texts, statements: pd.DataFrame) -> list[tuple[str, str]]:
    """(theme, question) for the statement with the lowest favourable share, when shown."""
    shown = statements[statements["value"].notna()] if len(statements) else statements
    if len(shown) == 0:
        return []
    low = shown.sort_values("value").iloc[0]
    theme = INDICATOR_THEME.get(low["indicator_id"], "faellesskab")
    value = t.percent(low["value"])
    return [
        (
            theme,
            t(
                "reflection.statement_low",
                statement=indicator_name(t, low["indicator"]),
                value=value,
            ),
        )
    ]


def questions_for_stable(
    t: Texts, status: pd.DataFrame, covered: set[str]
) -> list[tuple[str, str]]:
    """One "no clear change" question per theme without a sharper question."""
    out = []
    for row in status.itertuples(index=False):
        theme = INDICATOR_THEME.get(row.indicator_id)
        if theme and theme not in covered and row.change_verdict == "none":
            name = lower_first(indicator_phrase(t, row.indicator))
            out.append((theme, t("reflection.stable", indicator=name)))
            covered.add(theme)
    return out


def build_questions(
    t: Texts,
    status: pd.DataFrame,
    statements: pd.DataFrame | None = None,
    unit_outliers: list[tuple[str, object]] | None = None,
) -> list[ThemeQuestions]:
    """Questions per FRA -> TIL movement, most pointed first, at most MAX_PER_THEME each.

    `status` and `statements` are rows from report_common.summarise_entity; `unit_outliers`
    lists (unit name, indicator) for units clearly on the worse side of the funnel limits.
    """
    found = questions_from_status(t, status)
    found += questions_from_units(t, unit_outliers or [])
    if statements is not None:
        found += question_from_statements(t, statements)
    found += questions_for_stable(t, status, {theme for theme, _ in found})
    groups = []
    for theme in THEMES:
        movement = t.lookup(f"movement.{theme}")
        heading = t(
            "reflection.heading_movement",
            name=movement["name"],
            **{"from": movement["from"], "to": movement["to"]},
        )
        questions = list(dict.fromkeys(q for th, q in found if th == theme))[: MAX_PER_THEME - 1]
        questions.append(t(f"reflection.default.{theme}"))
        groups.append(ThemeQuestions(theme, heading, questions))
    return groups
