"""evaluation.reports.public_counts: the public report uses a school's published respondent
count (TRIVSP `Antal svar`) as n for sampling limits when a warehouse with the ministry's answer
distributions is given, says which schools rest on it, and reads the CSV files alone otherwise.

Fixtures: tests/fixtures/public (the real 2024/25 figures, Frederiksberg) and
tests/fixtures/public_api/trivsp_two_years.json (made-up distributions of three Frederiksberg
schools with `Antal svar` 320, 260, 290 in 2024/25).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE, fixture_public_files  # noqa: E402

from evaluation.data import ingest  # noqa: E402
from evaluation.reports import (
    public_counts,  # noqa: E402
    public_parts,  # noqa: E402
)
from evaluation.reports import public_report as public  # noqa: E402
from evaluation.stats.spread import ROUNDING_VARIANCE  # noqa: E402

TRIVSP = Path(__file__).parent / "fixtures" / "public_api" / "trivsp_two_years.json"


@pytest.fixture(scope="module")
def answers_warehouse(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("public_counts") / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), TRIVSP], target, municipality="Frederiksberg")
    return target


def plain(html) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(html)))


def test_published_counts_are_read_for_the_reports_year(answers_warehouse):
    counts = public_counts.published_respondents(str(answers_warehouse), 2024)
    assert counts.to_dict() == {"147002": 320.0, "147006": 260.0, "147007": 290.0}
    assert public_counts.published_respondents("", 2024).empty


def test_schools_with_counts_get_sampling_limits_with_that_n(answers_warehouse):
    report = public.prepare_report(
        "Frederiksberg", "da", str(FIXTURE), warehouse=str(answers_warehouse)
    )
    rows = public_counts.counted_rows(report, "generel_trivsel").set_index("name")
    assert len(rows) == 3
    size = report.comparison.schools["generel_trivsel"]["size"]
    tau2 = size.intercept - ROUNDING_VARIANCE
    lindevang = rows.loc["Lindevangskolen"]
    assert lindevang["respondents"] == 320
    half = 1.959964 * np.sqrt(tau2 + 0.6**2 / 320 + ROUNDING_VARIANCE)
    assert lindevang["upper_95"] - size.target == pytest.approx(half, rel=1e-6)
    assert public_counts.counted_rows(report, "fravaer").empty  # absence: no respondents


def test_the_report_says_which_figures_rest_on_published_counts(answers_warehouse):
    report = public.prepare_report(
        "Frederiksberg", "da", str(FIXTURE), warehouse=str(answers_warehouse)
    )
    text = plain(public.build_schools(report))
    assert "3 af kommunens 10 skoler har et offentliggjort antal svar" in text
    assert "Antal svar (offentliggjort)" in text and "antaget spredning" in text
    csv_only = plain(
        public.build_schools(public.prepare_report("Frederiksberg", "da", str(FIXTURE)))
    )
    assert "offentliggjort antal svar" not in csv_only


def test_counted_schools_get_a_sampling_funnel_and_each_funnel_says_its_limits(answers_warehouse):
    report = public.prepare_report(
        "Frederiksberg", "da", str(FIXTURE), warehouse=str(answers_warehouse)
    )
    funnel = public_counts.counted_html(report, "generel_trivsel")
    assert "<svg" in funnel
    text = plain(funnel)
    assert "bygger på hver skoles offentliggjorte antal svar (stikprøvegrænser)" in text
    assert "Af de 3 skoler med et offentliggjort antal svar" in text
    # Søndermarkskolen (260 svar) and Skolen på Duevej (290) both publish 3,5: one name is drawn
    assert "stå oven i hinanden i figuren, står her i stedet" in text and "(3,50)" in text
    assert "95 %-grænse" in text and "bånd for almindelig variation" not in text.split("Her")[0]
    fit = plain(public_parts.school_funnel_html(report, "generel_trivsel"))
    assert "Tragten her bygger på elevtal" in fit and "3 af skolerne" in fit
    assert public_counts.counted_html(report, "fravaer") == ""
