"""evaluation.values.public_absence: the ministry's share of pupils with more than 10 % absence
(ELEVFRAV/FRAVAAR `Over 10 procent`, table `public_absence`) becomes `fravaer_over_10` with the
school's pupil count and reaches the cluster report's inclusion section.

Fixtures: tests/fixtures/public (the real 2024/25 figures: pupils 782 at 147002 Lindevangskolen,
668 at 147006 Søndermarkskolen), tests/fixtures/public_api/fravaar_lang.csv (made-up: 18,4 %
and 21,0 %), the Frederiksberg cluster map (both schools in Nord).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from evaluation.data import ingest
from evaluation.reports import cluster_report
from evaluation.values import load

FIXTURES = Path(__file__).parent / "fixtures"
FILES = [
    FIXTURES / "public" / "school_wellbeing_2024_25.csv",
    FIXTURES / "public" / "school_overview.csv",
    FIXTURES / "public_cluster" / "frederiksberg_cluster_map.csv",
    FIXTURES / "public_api" / "fravaar_lang.csv",
]


@pytest.fixture(scope="module")
def absence_warehouse(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("public_absence") / "w.duckdb"
    ingest.ingest_paths(FILES, target)
    return target


def over_10(warehouse: Path) -> pd.DataFrame:
    values = load.load_indicator_values(warehouse, 5)
    rows = values[values["indicator_id"] == "fravaer_over_10"]
    return rows.set_index(["level", "entity_id"])


def test_share_over_10_is_the_published_percent_of_the_pupils(absence_warehouse):
    over = over_10(absence_warehouse)
    assert over.loc[("unit", "147002"), ["n", "numerator"]].tolist() == [782, 144]  # 0.184*782
    assert over.loc[("unit", "147006"), ["n", "numerator"]].tolist() == [668, 140]  # 0.21*668
    nord = over.loc[("cluster", "nord")]
    assert (nord["numerator"], nord["n"]) == (144 + 140, 782 + 668)
    assert nord["kind"] == "proportion" and not nord["suppressed"]
    assert set(over["year"]) == {2024}  # the 2023/24 row is "-": not published


def test_the_cluster_report_shows_the_share_over_10(absence_warehouse):
    report = cluster_report.prepare_report("nord", 2024, "da", str(absence_warehouse))
    html = str(cluster_report.build_inclusion(report))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Andel elever med over 10 % fravær" in text
    assert "20 %" in text  # Nord: 284 of 1450 = 19.6 %
