"""Questions for reflection name their finding, its direction by valence, a peer that does
better, and end with the action step."""

from __future__ import annotations

from types import SimpleNamespace

from evaluation.catalog import load_catalog
from evaluation.reports import reflection
from evaluation.texts import texts_for

CATALOG = load_catalog()


def question(t, found, index=0) -> str:
    return reflection.finding_question(t, found, index).replace("\xa0", " ")


def finding(indicator_id, kind="level", verdict="worse", value=0.149, reference=0.07, **extra):
    return SimpleNamespace(
        kind=kind,
        indicator=CATALOG.get(indicator_id),
        subject=extra.pop("subject", "Stensagerskolen"),
        verdict=verdict,
        value=value,
        reference=reference,
        previous_year=extra.pop("previous_year", 2023),
        peer=extra.pop("peer", None),
    )


def test_absence_above_the_municipality_is_called_higher_and_the_bad_side():
    # the Nord report on main said Stensagerskolen stood out "under kommunen" at 14,9 % vs 7,0 %
    t = texts_for("da")
    unit = finding("fravaer", kind="unit", value=14.9, reference=7.0, peer=("Søagerskolen", 5.2))
    text = question(t, unit)
    assert text.startswith("Stensagerskolen har højere elevfravær end kommunen (14,9 % mod 7,0 %)")
    assert "den dårlige side af grænserne" in text and "under" not in text
    assert "Søagerskolen ligger på 5,2 %: hvad kan vi lære af dem?" in text


def test_higher_wellbeing_is_the_good_way_and_names_no_peer():
    t = texts_for("da")
    level = finding("generel_trivsel", verdict="better", value=3.9, reference=3.7, subject="Øst")
    level.peer = ("Vest", 4.0)  # a peer is only named where the finding is not already good
    text = question(t, level)
    assert text.startswith("Øst har højere generel trivsel end kommunen (3,90 mod 3,70)")
    assert "den gode vej" in text and "Vest" not in text


def test_a_change_names_both_years_and_the_asks_rotate_within_a_report():
    t = texts_for("da")
    change = finding(
        "udsagn_god_ven", kind="change", verdict="worse", value=0.66, reference=0.70, subject="Øst"
    )
    first = question(t, change, 0)
    second = question(t, change, 1)
    assert first.startswith(
        "»Alle børn og unge har en god ven« er gået den dårlige vej i Øst, fra 70 % til 66 % "
        "siden 2023/24."
    )
    assert first != second


def test_effort_stage_in_the_clusters_own_time():
    assert reflection.effort_stage(None, 2024) == ("not_started", 0)
    assert reflection.effort_stage(2025, 2024) == ("not_started", 0)
    assert reflection.effort_stage(2024, 2024) == ("this_year", 0)
    assert reflection.effort_stage(2023, 2024) == ("last_year", 1)
    assert reflection.effort_stage(2021, 2024) == ("years", 3)


def test_a_cluster_that_has_not_started_is_not_asked_what_it_expected():
    t = texts_for("da")
    row = SimpleNamespace(
        indicator=CATALOG.get("generel_trivsel"),
        value=3.61,
        previous_value=3.62,
        previous_year=2023,
    )
    waiting = reflection.effort_question(t, "Vest", "indsatsen", None, 2024, row)
    started = reflection.effort_question(t, "Øst", "Trivselsløftet", 2022, 2024, row)
    assert "forventede" not in waiting and "ikke startet på indsatsen" in waiting
    assert "Er det, hvad vi forventede ud fra det, vi har sat i gang?" in started
    assert "Øst startede Trivselsløftet i 2022/23" in started
    missing = SimpleNamespace(**{**vars(row), "previous_value": float("nan")})
    assert reflection.effort_question(t, "Vest", "indsatsen", None, 2024, missing) == ""


def test_the_list_ends_with_the_action_step_in_both_languages():
    for language, word in (("da", "tovholder"), ("en", "keeps it together")):
        steps = reflection.action_questions(texts_for(language))
        assert len(steps) == 3 and word in steps[1]
        assert "uger" in steps[0] or "weeks" in steps[0]


def test_one_day_is_singular():
    from evaluation.reports.formatting import format_difference  # noqa: PLC0415

    t = texts_for("da")
    assert format_difference(t, CATALOG.get("ventetid"), -1.0).replace("\xa0", " ") == "−1 dag"
    assert format_difference(t, CATALOG.get("ventetid"), 3.0).replace("\xa0", " ") == "+3 dage"
