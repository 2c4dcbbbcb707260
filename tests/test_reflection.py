"""Questions for reflection follow the findings and the FRA -> TIL movement."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from evaluation.reports import reflection
from evaluation.texts import texts_for


def indicator(id_, name):
    return SimpleNamespace(id=id_, name_da=name, name_en=name, direction="higher_better")


def status(rows):
    return pd.DataFrame(
        [
            {
                "indicator_id": i,
                "indicator": indicator(i, name),
                "change_verdict": change,
                "position": position,
                "previous_year": 2023,
                "value": 0.5,
            }
            for i, name, change, position in rows
        ]
    )


def test_every_movement_gets_a_heading_and_at_least_one_question():
    groups = reflection.build_questions(texts_for("da"), status([]))
    assert [g.theme for g in groups] == list(reflection.THEMES)
    assert groups[0].heading.startswith("Fællesskab: FRA ")
    assert " TIL " in groups[1].heading
    assert all(len(g.questions) >= 1 for g in groups)


def test_a_clear_worsening_leads_to_a_question_in_its_movement():
    t = texts_for("da")
    groups = reflection.build_questions(t, status([("ventetid", "Ventetid", "worse", "within")]))
    samarbejde = next(g for g in groups if g.theme == "samarbejde")
    assert samarbejde.questions[0].startswith(
        "Ventetid er gået tydeligt den forkerte vej siden 2023/24"
    )
    others = [q for g in groups if g.theme != "samarbejde" for q in g.questions]
    assert not any("Ventetid" in q for q in others)


def test_no_clear_change_gives_the_stable_question_not_a_pointed_one():
    groups = reflection.build_questions(
        texts_for("da"), status([("inklusionsgrad", "Inklusionsgrad", "none", "within")])
    )
    naerhed = next(g for g in groups if g.theme == "naerhed")
    assert naerhed.questions[0].startswith("Der ses ingen tydelig ændring i inklusionsgrad")
    assert not any("forkerte vej" in q for g in groups for q in g.questions)


def test_lowest_statement_gets_a_question_and_units_below_too():
    t = texts_for("en")
    statements = status(
        [
            ("udsagn_god_ven", "All children have a good friend", "none", "within"),
            ("udsagn_lytter", "Children listen to each other", "none", "within"),
        ]
    )
    statements["value"] = [0.8, 0.4]
    groups = reflection.build_questions(
        t, status([]), statements, [("Åskolen", indicator("social_trivsel", "Social wellbeing"))]
    )
    text = " ".join(q for g in groups for q in g.questions)
    assert '"Children listen to each other"' in text and "40%" in text
    assert "Åskolen stands out below the municipality on Social wellbeing" in text
