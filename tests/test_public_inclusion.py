"""evaluation.values.public_inclusion: the ministry's school inklusionsgrad (ELEVEX) per school,
cluster and municipality, and in the public cluster report (issue 16: "inclusion per school").

Fixture: tests/fixtures/public_api/elevex_nested.json (made-up: 147002 95,9 % of 782 pupils,
147006 97,2 % of 1.012, 2024/25) beside the public fixture files and the Frederiksberg map."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import MAP, fixture_public_files  # noqa: E402

from evaluation.data import ingest  # noqa: E402
from evaluation.reports import cluster_report  # noqa: E402
from evaluation.values import load  # noqa: E402

ELEVEX = Path(__file__).parent / "fixtures" / "public_api" / "elevex_nested.json"


@pytest.fixture(scope="module")
def inclusion_warehouse(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("public_inclusion") / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), MAP, ELEVEX], target)
    return target


def test_inclusion_per_school_and_cluster_from_the_published_counts(inclusion_warehouse):
    values = load.load_indicator_values(inclusion_warehouse, 5)
    rows = values[(values["indicator_id"] == "inklusionsgrad") & (values["year"] == 2024)]
    rows = rows.set_index(["level", "entity_id"])
    # by hand: 95.9 % of 782 = 749.9 -> 750; 97.2 % of 1012 = 983.7 -> 984
    assert rows.loc[("unit", "147002"), ["numerator", "n"]].tolist() == [750, 782]
    assert rows.loc[("unit", "147006"), ["numerator", "n"]].tolist() == [984, 1012]
    nord = rows.loc[("cluster", "nord")]
    assert (nord["numerator"], nord["n"]) == (750 + 984, 782 + 1012)
    assert nord["value"] == pytest.approx(1734 / 1794)


def test_the_public_cluster_report_shows_inclusion(inclusion_warehouse):
    report = cluster_report.prepare_report("nord", 2024, "da", str(inclusion_warehouse))
    html = re.sub(r"<svg.*?</svg>", "", str(cluster_report.build_inclusion(report)), flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Offentlige data indeholder ikke inklusionsgrad" not in text
    assert "Inklusionsgrad" in text and "97 %" in text  # 1734 / 1794 = 96.7 %
