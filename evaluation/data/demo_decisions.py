"""The demo municipality's decisions ("handlinger"), some of which the generator makes work.

Each cluster decides 2-4 actions from the school year 2021/22 on, at meetings in spring (after
the report) or autumn. About 30 % of the clusters get one EFFECTIVE decision: from the first
survey that can show it (evaluation.data.decisions.first_survey_year) its target indicator gets
a latent shift on its items in that cluster, up (it worked) or, in one cluster, down (it
backfired). evaluation.data.demo_survey applies the shift and tallies the realised change of
the cluster's value with minus without the shift (same draws), written to the truth sidecar.

The effective decisions target indicators that nothing else moves: statement 4
(udsagn_fysisk_mentalt, items q10, q34-q36 of the 4-9 form, outside every indicator of the
effort) and trivsel_indskoling (the 0-3 form, no effort shift), so the effort's truths and the
placebo stay as they were. The other decisions have no effect and target indicators with no
effect in any cluster (ro_og_orden, absence, waiting time, proximity, daycare language).
A decision's own random stream ([seed, m, DECISION_STREAM]) leaves every other draw unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from evaluation.data.decisions import DANISH_HEADERS, decision_ids, first_survey_year

DECISION_STREAM = 7  # the third element of the decisions' random seed sequence

FIRST_SCHOOL_YEAR = 2021  # decisions from 2021/22 on
LAST_SCHOOL_YEAR = 2025  # up to meetings in spring 2026, after the last survey
SPRING_MONTHS, AUTUMN_MONTHS = (4, 5, 6), (9, 10, 11)  # meetings: after the report, autumn

# latent shifts: about +-10 percentage points on statement 4, +-0.12 on the indskoling mean
# (was +-0.15 and +-0.12: the calibrated demo has fewer pupils per cluster, issue 13)
LATENT_UP = {"udsagn_fysisk_mentalt": 0.20, "trivsel_indskoling": 0.16}
LATENT_DOWN = {"udsagn_fysisk_mentalt": -0.20, "trivsel_indskoling": -0.16}
EFFECT_BANDS = {"udsagn_fysisk_mentalt": "4-9", "trivsel_indskoling": "0-3"}
SHARE_EFFECTIVE = 0.3

# (targets, action, responsible, grade band, unit kind the decision may name)
EFFECTIVE_ACTIONS = {
    ("udsagn_fysisk_mentalt", 1): (
        "Daglig bevægelse og pauser med frisk luft i 4.-9. klasse",
        "Klyngens trivselsteam",
    ),
    ("trivsel_indskoling", 1): (
        "Faste venskabsgrupper og legeaftaler i indskolingen",
        "Indskolingslærerne og SFO-lederne",
    ),
    ("udsagn_fysisk_mentalt", -1): (
        "Kortere frikvarterer for at få mere undervisningstid",
        "Skoleledelserne i klyngen",
    ),
    ("trivsel_indskoling", -1): (
        "Større hold på tværs af klasserne i indskolingen",
        "Skoleledelserne i klyngen",
    ),
}
OTHER_ACTIONS = [
    ("ro_og_orden", "Fælles start på timen i alle klasser", "Skoleledelserne", "4-9", None),
    (
        "fravaer, fravaer_over_10",
        "Kontakt til hjemmet allerede ved tredje fraværsdag",
        "Skoleledelserne og AKT-teamet",
        None,
        None,
    ),
    (
        "ventetid",
        "Fast PPR-konsultation hver anden uge på skolerne",
        "PPR og klyngeledelsen",
        None,
        None,
    ),
    (
        "naerhed, tilbagevenden",
        "Fælles plan for tilbageslusning fra specialklasser",
        "Klyngeledelsen og specialkoordinatoren",
        None,
        None,
    ),
    (
        "sprog_indsats",
        "Sprogstimulering i små grupper i dagtilbuddet",
        "Dagtilbudslederen og sprogvejlederen",
        None,
        "daycare",
    ),
    (
        "ro_og_orden",
        "Gårdvagter med faste aktiviteter i frikvarteret",
        "AKT-teamet",
        None,
        "school",
    ),
]
STATUS_AFTER_REVIEW = (["fortsat", "justeret", "stoppet", "i gang", "planlagt"], [7, 4, 3, 4, 2])


@dataclass(frozen=True)
class EffectiveDecision:
    """A decision the generator makes work: a latent shift on its indicator's items."""

    decision_id: str
    cluster_index: int
    cluster_id: str
    indicator: str
    band: str
    first_year: int
    latent_shift: float


@dataclass
class DemoDecisions:
    """One municipality's decisions file rows (Danish headers) and the effective ones."""

    frame: pd.DataFrame
    effective: list[EffectiveDecision]
    targets: dict[str, str]  # decision id -> targets, for the sidecar


def meeting_slots() -> list[tuple[int, tuple[int, ...]]]:
    """(calendar year, months) of the meetings: autumn 2021, spring 2022, ... spring 2026."""
    slots = []
    for school_year in range(FIRST_SCHOOL_YEAR, LAST_SCHOOL_YEAR + 1):
        slots += [(school_year, AUTUMN_MONTHS), (school_year + 1, SPRING_MONTHS)]
    return slots


def draw_date(rng: np.random.Generator, slot: tuple[int, tuple[int, ...]]) -> date:
    year, months = slot
    return date(year, int(rng.choice(months)), int(rng.integers(1, 29)))


def draw_decisions(rng: np.random.Generator, muni: dict[str, pd.DataFrame]) -> DemoDecisions:
    """2-4 decisions per cluster; the first SHARE_EFFECTIVE of the clusters (in a random order)
    get one effective decision, the next one a decision that backfires; the last cluster in that
    order decides once more in spring 2026, too late for any survey yet."""
    cluster_ids = muni["clusters"].cluster_id.tolist()
    k = len(cluster_ids)
    order = rng.permutation(k)
    n_up = max(1, int(round(SHARE_EFFECTIVE * k)))
    roles = {
        int(c): (1 if i < n_up else -1 if i == n_up and k >= 3 else 0) for i, c in enumerate(order)
    }
    slots = meeting_slots()
    rows, effective_at = [], {}
    for c, cluster_id in enumerate(cluster_ids):
        n = int(rng.integers(2, 5))
        chosen = sorted(rng.choice(len(slots), size=n, replace=False))
        if c == order[-1] and chosen[-1] != len(slots) - 1:
            chosen[-1] = len(slots) - 1  # spring 2026: no survey yet
        if roles[c]:
            chosen[0] = min(chosen[0], 5)  # effective: decided by spring 2024, so it shows
        for j, slot in enumerate(chosen):
            decided = draw_date(rng, slots[slot])
            if j == 0 and roles[c]:
                indicator = list(EFFECT_BANDS)[int(rng.integers(2))]
                effective_at[len(rows)] = (c, indicator, roles[c])
                rows.append(effective_row(cluster_id, decided, indicator, roles[c]))
            else:
                rows.append(other_row(rng, muni, cluster_id, decided))
    frame = pd.DataFrame(rows)
    frame["decision_id"] = decision_ids(frame.cluster_id, frame.decided)
    add_reviews(rng, frame)
    effective = [
        EffectiveDecision(
            frame.decision_id[i],
            c,
            cluster_ids[c],
            indicator,
            EFFECT_BANDS[indicator],
            first_survey_year(frame.decided[i]),
            (LATENT_UP if role > 0 else LATENT_DOWN)[indicator],
        )
        for i, (c, indicator, role) in effective_at.items()
    ]
    return DemoDecisions(
        as_file(frame), effective, dict(zip(frame.decision_id, frame.targets, strict=True))
    )


def effective_row(cluster_id: str, decided: date, indicator: str, role: int) -> dict:
    action, responsible = EFFECTIVE_ACTIONS[(indicator, role)]
    return {
        "cluster_id": cluster_id,
        "decided": decided,
        "action": action,
        "targets": indicator,
        "grade_band": EFFECT_BANDS[indicator],
        "unit_id": None,
        "responsible": responsible,
    }


def other_row(rng, muni: dict[str, pd.DataFrame], cluster_id: str, decided: date) -> dict:
    """A decision without effect; one aimed at a unit names a unit of the cluster."""
    targets, action, responsible, band, unit_kind = OTHER_ACTIONS[
        int(rng.integers(len(OTHER_ACTIONS)))
    ]
    return {
        "cluster_id": cluster_id,
        "decided": decided,
        "action": action,
        "targets": targets,
        "grade_band": band,
        "unit_id": member_unit(rng, muni, cluster_id, unit_kind) if unit_kind else None,
        "responsible": responsible,
    }


def member_unit(rng, muni: dict[str, pd.DataFrame], cluster_id: str, kind: str) -> str | None:
    members = muni["cluster_membership"]
    units = muni["units"]
    of_kind = set(units.unit_id[units.kind == kind])
    ids = sorted(u for u in members.unit_id[members.cluster_id == cluster_id] if u in of_kind)
    return ids[int(rng.integers(len(ids)))] if ids else None


def add_reviews(rng: np.random.Generator, frame: pd.DataFrame) -> None:
    """Review when the first survey that can show the decision is out (half as a school year,
    half as a date a year on); a status after the review, sometimes never updated."""
    first = frame.decided.map(first_survey_year)
    as_year = rng.random(len(frame)) < 0.5
    frame["review"] = [
        f"{y}/{y + 1}" if school_year else f"{d.replace(year=d.year + 1):%d-%m-%Y}"
        for y, d, school_year in zip(first, frame.decided, as_year, strict=True)
    ]
    statuses, weights = STATUS_AFTER_REVIEW
    drawn = rng.choice(statuses, size=len(frame), p=np.array(weights) / sum(weights))
    waiting = frame.decided >= date(LAST_SCHOOL_YEAR, AUTUMN_MONTHS[0], 1)
    frame["status"] = np.where(
        waiting, np.where(first > LAST_SCHOOL_YEAR, "planlagt", "i gang"), drawn
    )
    frame["note"] = np.where(frame.status == "justeret", "Justeret efter opfølgningen", None)


def as_file(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as a municipality writes them: Danish headers, dates as 14-03-2025."""
    out = frame.assign(decided=frame.decided.map(lambda d: f"{d:%d-%m-%Y}"))
    return out[list(DANISH_HEADERS)].rename(columns=DANISH_HEADERS)


# --- the truth of a follow-up's comparison (tests, validation/followup_coverage.py) ---


def rest_shift(decisions: list[dict], counts: pd.DataFrame, row) -> float:
    """How much the other clusters' effective decisions moved the rest of the municipality's
    value between the follow-up's before and now years: the follow-up compares the cluster with
    the rest, so its truth is the cluster's shift less this. A cluster's realised shift moves
    the rest's value (an n-weighted mean of its clusters' values) by n_cluster / n_rest times
    itself. 0 for follow-ups without an interval."""
    if pd.isna(row.before_year) or pd.isna(row.now_year) or row.level != "cluster":
        return 0.0
    of_ind = counts[(counts["indicator_id"] == row.indicator_id)]
    moved = 0.0
    for year, sign in ((int(row.now_year), 1.0), (int(row.before_year), -1.0)):
        in_year = of_ind[of_ind["year"] == year].set_index(["level", "entity_id"])["n"]
        n_rest = float(in_year.xs("municipality").iloc[0]) - float(
            in_year[("cluster", row.cluster_id)]
        )
        for other in decisions:
            if not other["effective"] or other["indicator"] != row.indicator_id:
                continue
            if other["cluster_id"] == row.cluster_id:
                continue
            n_other = float(in_year.get(("cluster", other["cluster_id"]), 0.0))
            moved += sign * n_other / n_rest * np.nan_to_num(realised_in(other, year))
    return moved


def realised_in(entry: dict, year) -> float:
    """The realised shift of an effective decision in `year` (nan when not measured)."""
    found = [y["effect"] for y in entry["by_year"] if not pd.isna(year) and y["year"] == year]
    return found[0] if found else np.nan
