"""Questions for reflection, one per ranked finding of the meeting view, then the action step.

Each question names its finding (the cluster or unit, the indicator and its figures), says its
direction by the indicator's valence (for fravær, above the municipality is the bad way) and,
where one exists, names a peer that does better; each is tied to one of the four movements of
Bredere Børnefællesskaber (FRA -> TIL: fællesskab, nærhed, samarbejde, praksisnær). The list ends
with the action step (Data Wise's "action plan": what we try, who, how we will see it works).
Because the questions carry the finding's own figures, no two cluster reports share one, except
the closing action step. The wording lives in evaluation/texts/<language>.yaml.
"""

from __future__ import annotations

from evaluation.reports.formatting import format_value, indicator_phrase, lower_first
from evaluation.texts import Texts, format_school_year, is_missing

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


def movement_name(t: Texts, indicator) -> str:
    """The FRA -> TIL movement a finding speaks to ("Nærhed"); its FRA and TIL are in the
    report's introduction to the movements."""
    theme = INDICATOR_THEME.get(indicator.id, "faellesskab")
    return t.lookup(f"movement.{theme}")["name"]


def spoken(t: Texts, indicator, capital: bool = False) -> str:
    """The indicator's name inside a sentence, without its bracketed unit ("elevfravær")."""
    name = indicator_phrase(t, indicator)
    if getattr(indicator, "statement", None):
        return name
    name = name.split(" (")[0]
    return name if capital else lower_first(name)


def finding_question(t: Texts, finding, index: int = 0, namesake: int = 0) -> str:
    """One question that names the finding, its direction by the indicator's valence (lower
    fravær is better: above the municipality is the bad way) and a peer that does better. The
    closing ask turns with the finding's place (`index`), so a report does not ask the same
    thing five times, and with `namesake`, the subject's place among the run's subjects that
    print the same figure (`cluster_findings.namesake_rank`), so two reports whose findings read
    alike but for the name ask different things."""
    ind = finding.indicator
    value = format_value(t, ind, finding.value)
    reference = format_value(t, ind, finding.reference)
    higher = finding.value > finding.reference
    words = {"subject": finding.subject, "value": value, "reference": reference}
    if finding.kind == "change":
        key = f"change_{finding.verdict}"
        words |= {"indicator": spoken(t, ind, capital=True), "before": reference, "after": value}
        words["previous"] = format_school_year(finding.previous_year)
    elif getattr(ind, "statement", None):
        key, words["indicator"] = f"statement_{finding.verdict}", indicator_phrase(t, ind)
    else:
        key, words["indicator"] = f"{finding.kind}_{finding.verdict}", spoken(t, ind)
        words["comparative"] = t("meeting.comparative." + ("higher" if higher else "lower"))
    asks = t.lookup(f"meeting.ask.{finding.verdict}")
    text = t(f"meeting.question.{key}", **words) + " " + asks[(index + namesake) % len(asks)]
    if finding.peer is not None and finding.verdict != "better":
        peer, peer_value = finding.peer
        text += t("meeting.question.peer", peer=peer, peer_value=format_value(t, ind, peer_value))
    return text


def effort_stage(start_year: int | None, year: int) -> tuple[str, int]:
    """(not_started / this_year / last_year / years, years since the start)."""
    if start_year is None or start_year > year:
        return "not_started", 0
    years = year - start_year
    return ("this_year", 0) if years == 0 else ("last_year" if years == 1 else "years", years)


def effort_question(
    t: Texts, subject: str, effort: str, start_year: int | None, year: int, row
) -> str:
    """The question on the effort in the cluster's own time, from its general wellbeing.
    Only a cluster that has started is asked whether it is what it expected."""
    if row is None or is_missing(row.value) or is_missing(row.previous_value):
        return ""
    stage, _ = effort_stage(start_year, year)
    key = {"not_started": "not_started", "this_year": "this_year"}.get(stage, "started")
    return t(
        f"meeting.effort_question.{key}",
        subject=subject,
        effort=effort,
        start=format_school_year(start_year) if start_year else "",
        value=format_value(t, row.indicator, row.value),
        before=format_value(t, row.indicator, row.previous_value),
        previous=format_school_year(row.previous_year),
    )


def action_questions(t: Texts) -> list[str]:
    """The closing action step (what do we try, who, how will we see it works): the same in
    every report, the step the community's decisions build on."""
    return list(t.lookup("meeting.action"))
