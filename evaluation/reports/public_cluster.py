"""Wording of the cluster report and the leader summary when their figures are the ministry's
published school aggregates (a warehouse ingested from the public files, issue 16).

Those pages used to say things the figures cannot carry: "Mindst 5 svar i hver gruppe" (no
answers are used), "Nogle spørgsmål ... modelleret af os" (no questions are used), "Klyngen er
ikke startet på indsatsen endnu" (the public files say nothing about the effort), a method text
about pupil-level answers, and "ændringen siden : ↑" without a year. The report modules ask
here for the honest sentence; each function takes the report's texts and data only.
"""

from __future__ import annotations

import pandas as pd

from evaluation.reports.formatting import format_value
from evaluation.reports.html import esc
from evaluation.texts import Texts, danish_order, format_school_year


def programme_unknown(data) -> bool:
    """True when the figures are public and no cluster_programme was loaded: whether a cluster
    has started the effort is then unknown, not "not started"."""
    programme = getattr(data, "programme", None)
    return bool(getattr(data, "public", False)) and (programme is None or programme.empty)


def change_without_counts(data, indicator, row) -> bool:
    """True for a published index or absence (no sd, no respondent count): its change between
    years gets no interval, as issue 16 rules (no sampling interval without n). Shares with
    published counts (statements, inclusion) keep theirs."""
    if not getattr(data, "public", False) or indicator.kind == "proportion":
        return False
    sd = row.get("sd") if row is not None else None
    return sd is None or pd.isna(sd)


def report_for(t: Texts, municipality: str, school_year: str) -> str:
    """Whose figures, for which year, without a respondent rule the data do not have."""
    return t("public2.report_for", municipality=municipality, school_year=school_year)


def start_unknown_line(t: Texts) -> str:
    return t("public2.start_unknown")


def start_unknown_label(t: Texts) -> str:
    return t("public2.start_unknown_short")


def effort_unknown_question(t: Texts, subject: str, row) -> str:
    """The next step's question when the public figures cannot tell whether the cluster has
    started the effort: the change is named with its year, the start is not guessed."""
    return t(
        "public4.effort_unknown",
        subject=subject,
        value=format_value(t, row.indicator, row.value),
        before=format_value(t, row.indicator, row.previous_value),
        previous=format_school_year(row.previous_year),
    )


def quality_line(t: Texts) -> str:
    """Replaces the note on modelled questions: the indices are the ministry's own."""
    return t("public2.quality_official")


def methods_items(t: Texts, min_n: int) -> list[str]:
    """The method bullets of a page built from published school figures."""
    return [item.format(min_n=min_n) for item in t.lookup("public_cluster.methods_items")]


def key_intro(t: Texts, previous: str) -> str:
    """What decides a verdict; without a previous year, no change is named."""
    if previous:
        return t("leader_view.key_intro", previous=previous)
    return t("public2.key_intro_one_year")


def statements_note(t: Texts) -> str:
    """What the statements of published figures rest on (values.public_answers)."""
    return t("public2.statements_from_answers")


def one_year_note(t: Texts, school_year: str) -> str:
    """Instead of a one-point chart over time."""
    return t("public2.one_year", school_year=school_year)


def unmapped_html(t: Texts, data) -> str:
    """The schools the cluster map leaves out (warehouse table `unmapped_schools`), named: they
    count in the municipality's value but in no cluster's, so a reader must see them."""
    unmapped = getattr(data, "unmapped", None)
    if unmapped is None or unmapped.empty:
        return ""
    names = sorted(unmapped["name"].astype(str).unique(), key=danish_order)
    text = t("public2.unmapped", count=len(names), names=", ".join(names))
    return f'<p class="wb-note">{esc(text)}</p>'
