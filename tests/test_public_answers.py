"""evaluation.values.public_answers: the one-question statements from the ministry's published
answer distributions (TRIVSP) with their respondent counts, and on a two-year public warehouse
the cluster report's change with a sampling interval (issue 16).

Fixture: tests/fixtures/public_api/trivsp_two_years.json (made-up shares for three schools of
Klynge Nord, 2023/24 and 2024/25) beside the public fixture files; expected values are worked
out by hand below, the change interval is statsmodels' Newcombe interval (independent code).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import MAP, fixture_public_files  # noqa: E402

from evaluation.data import ingest, warehouse  # noqa: E402
from evaluation.reports import cluster_report  # noqa: E402
from evaluation.values import load, public_answers  # noqa: E402

TWO_YEARS = Path(__file__).parent / "fixtures" / "public_api" / "trivsp_two_years.json"


@pytest.fixture(scope="module")
def two_year_warehouse(tmp_path_factory) -> Path:
    """The public fixture files, the map as a membership from 2023, and two TRIVSP years."""
    folder = tmp_path_factory.mktemp("public_two_years")
    clusters = pd.read_csv(MAP, sep=";", dtype=str)
    membership = pd.DataFrame(
        {"unit_id": clusters["school_id"], "cluster_id": clusters["cluster_id"]}
    ).assign(from_year=2023, to_year="")
    membership.to_csv(folder / "cluster_membership.csv", sep=";", index=False)
    target = folder / "w.duckdb"
    ingest.ingest_paths(
        [*fixture_public_files(), folder / "cluster_membership.csv", TWO_YEARS], target
    )
    return target


def test_school_and_cluster_values_are_the_published_shares_times_the_counts(
    two_year_warehouse,
):
    values = load.load_indicator_values(two_year_warehouse, 5)
    ven = values[values["indicator_id"] == "udsagn_god_ven"].set_index(
        ["year", "level", "entity_id"]
    )
    # 147002, 2024/25: answers 4-5 are 50 % + 35 % of 320 respondents = 272
    assert ven.loc[(2024, "unit", "147002"), ["n", "numerator"]].tolist() == [320, 272]
    # Klynge Nord, 2024/25: 272 + round(0.84 * 260) + round(0.80 * 290) of 320 + 260 + 290
    nord = ven.loc[(2024, "cluster", "nord")]
    assert (nord["numerator"], nord["n"]) == (272 + 218 + 232, 870)
    assert nord["kind"] == "proportion" and not nord["suppressed"]
    # 2023/24: 70 % of 300, 250 and 280
    assert ven.loc[(2023, "cluster", "nord"), "numerator"] == 210 + 175 + 196


def test_two_year_cluster_report_shows_the_change_with_its_sampling_interval(
    two_year_warehouse,
):
    report = cluster_report.prepare_report("nord", 2024, "da", str(two_year_warehouse))
    html = re.sub(r"<svg.*?</svg>", "", str(cluster_report.build_statements(report)), flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    low, high = confint_proportions_2indep(722, 870, 581, 830, method="newcomb")
    change = 722 / 870 - 581 / 830
    points = {
        name: f"{v * 100:+.1f}".replace(".", ",")
        for name, v in (("change", change), ("low", low), ("high", high))
    }
    assert f"{points['change']} pct.-point ({points['low']} til {points['high']})" in text
    assert "bedre" in text


def test_an_unpublished_share_gives_no_value_and_per_answer_counts_are_added():
    answers = pd.DataFrame(
        {
            "year": 2024,
            "unit_id": ["a", "a", "a", "b", "b", "b"],
            "question": "Q",
            "answer_value": [5, 4, 1, 5, 4, 0],
            "share_pct": [60.0, 30.0, 10.0, 50.0, np.nan, 5.0],
            "respondents": [60.0, 30.0, 10.0, 40.0, 40.0, 40.0],
        }
    )
    shares = public_answers.question_shares(answers, 4)
    assert shares[["unit_id", "n", "numerator"]].values.tolist() == [["a", 100.0, 90.0]]


def test_the_statements_section_says_what_rests_on_the_respondent_counts(two_year_warehouse):
    report = cluster_report.prepare_report("nord", 2024, "da", str(two_year_warehouse))
    html = str(cluster_report.build_statements(report))
    assert "Udsagnene bygger på ministeriets svarfordelinger pr. spørgsmål med antal svar" in html


def test_the_documented_long_csv_of_answers_ingests_with_its_repeated_count(tmp_path):
    """docs/importing.md, "How `Antal svar` (TRIVSP) is read": the long CSV with a repeated
    `Antal svar` per question ingests, and the repeated value is the question's total."""
    shape = tmp_path / "trivsp_long.csv"
    shape.write_text(
        "Skoleår;Afdelingsnummer;Spørgsmål;Svar;Svarværdi;Svarfordeling;Antal svar\n"
        "2024/2025;147002;Er du glad for din skole?;Meget tit;5;41,5 %;318\n"
        "2024/2025;147002;Er du glad for din skole?;Tit;4;58,5 %;318\n",
        encoding="utf-8",
    )
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), shape], target, municipality="Frederiksberg")
    answers = warehouse.read_table(target, "public_answers")
    assert answers["respondents"].tolist() == [318, 318]
    assert sorted(answers["share_pct"].tolist()) == [41.5, 58.5]
    assert public_answers.respondents(answers) == 318
