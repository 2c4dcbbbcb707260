"""evaluation.reports.public_official: the public municipality report shows the statement from an
official question with its n, inclusion and the share over 10 % absence (FRAVAAR), from the
warehouse the run names, with the credit line (issue 16).

Fixtures: tests/fixtures/public (the real 2024/25 files, Frederiksberg) and the made-up answers
of tests/fixtures/public_api: trivsp_two_years.json ("god ven": 581 of 830 favourable in 2023/24,
722 of 870 in 2024/25 over three schools), fravaar_lang.csv (147002: 18,4 % of 782 pupils,
147006: 21,0 % of 668) and elevex_nested.json. Intervals are checked against statsmodels.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import CREDIT, FIXTURE, fixture_public_files  # noqa: E402

from evaluation.data import ingest  # noqa: E402
from evaluation.reports import public_official  # noqa: E402
from evaluation.reports import public_report as public  # noqa: E402

API = Path(__file__).parent / "fixtures" / "public_api"
ANSWERS = [API / "trivsp_two_years.json", API / "fravaar_lang.csv", API / "elevex_nested.json"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    target = tmp_path_factory.mktemp("public_official") / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), *ANSWERS], target, municipality="Frederiksberg")
    return public.prepare_report("Frederiksberg", "da", str(FIXTURE), warehouse=str(target))


def plain(html) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(html)))


def pct(value: float, decimals: int = 0) -> str:
    return f"{value * 100:.{decimals}f}".replace(".", ",")


def test_the_statement_stands_with_its_n_interval_and_change(report):
    text = plain(public_official.official_html(report))
    assert "Alle børn og unge har en god ven 83 % (n = 870)" in text
    low, high = proportion_confint(722, 870, method="wilson")
    assert f"{pct(low)}–{pct(high)}" in text  # 80–85
    low, high = confint_proportions_2indep(722, 870, 581, 830, method="newcomb", compare="diff")
    change = 722 / 870 - 581 / 830
    assert f"+{pct(change, 1)} pct.-point (+{pct(low, 1)} til +{pct(high, 1)})" in text
    assert "Ændring siden 2023/24" in text and CREDIT in text


def test_absence_over_ten_percent_and_inclusion_per_school(report):
    text = plain(public_official.official_html(report))
    over_10 = round(0.184 * 782) + round(0.210 * 668)  # pupils, as the fixture publishes
    assert f"Andel elever med over 10 % fravær {pct(over_10 / 1450)} % (n = 1.450)" in text
    assert "Lindevangskolen 85 % (n = 320) 96 % (n = 782) 18 % (n = 782)" in text
    assert "Inklusionsgrad" in text


def test_the_schools_section_holds_it_and_the_csv_route_alone_does_not(report):
    assert "Udsagn fra de officielle spørgsmål" in plain(public.build_schools(report))
    alone = public.prepare_report("Frederiksberg", "da", str(FIXTURE))
    assert public_official.official_html(alone) == ""


def test_what_the_figures_cannot_say_follows_the_warehouse(report):
    """With published counts and ELEVEX in the warehouse the page no longer says "no inclusion
    figures" or that no respondents are published at all; without them it still does."""
    text = plain(public.build_cannot(report))
    assert "3 af kommunens 10 skoler har dog et offentliggjort antal svar" in text
    assert "Inklusionsgrad: fra ministeriets tal (ELEVEX)" in text
    assert "Ingen inklusionstal" not in text
    alone = plain(public.build_cannot(public.prepare_report("Frederiksberg", "da", str(FIXTURE))))
    assert "Ingen inklusionstal" in alone and "Ét år pr. skole" in alone
