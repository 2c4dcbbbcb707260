"""The municipality settings file: ingested like the other files (validated, all-or-nothing),
stored in the warehouse table `settings`, and the effort's name read back for the reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import MUNICIPALITY, build_fixture_warehouse  # noqa: E402

from evaluation.data import ingest, warehouse  # noqa: E402
from evaluation.data.settings import effort_names  # noqa: E402
from evaluation.errors import ValidationError  # noqa: E402
from evaluation.reports import cluster_parts, cluster_report  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "indstillinger.csv"


def test_the_sample_file_loads_into_the_settings_table(tmp_path):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([SAMPLE], target)
    table = warehouse.read_table(target, "settings")
    assert table.to_dict("records") == [
        {"municipality": "Demo Kommune", "effort_name": "Bredere børnefællesskaber"}
    ]
    assert effort_names(target) == {"Demo Kommune": "Bredere børnefællesskaber"}


def test_danish_headers_and_a_yaml_list_are_read(tmp_path):
    csv = tmp_path / "indstillinger.csv"
    csv.write_text("kommune;indsats\nAarhus; Bredere børnefællesskaber \n", encoding="utf-8")
    yaml = tmp_path / "indstillinger.yaml"
    yaml.write_text(
        "indstillinger:\n  - {municipality: Odense, effort_name: Fællesskaber for alle}\n",
        encoding="utf-8",
    )
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([csv, yaml], target)
    assert effort_names(target) == {
        "Aarhus": "Bredere børnefællesskaber",
        "Odense": "Fællesskaber for alle",
    }


def test_a_bad_file_loads_nothing(tmp_path):
    target = tmp_path / "w.duckdb"
    ingest.ingest_paths([SAMPLE], target)
    bad = tmp_path / "indstillinger.csv"
    long_name = "x" * 81
    bad.write_text(f"municipality;effort_name\nAarhus;Ny indsats\nOdense;{long_name}\n")
    with pytest.raises(ValidationError) as caught:
        ingest.ingest_paths([bad], target)
    assert "indstillinger.csv:3:effort_name" in str(caught.value)
    assert effort_names(target) == {"Demo Kommune": "Bredere børnefællesskaber"}  # unchanged


def test_the_cluster_report_names_the_effort_from_the_settings(tmp_path):
    path = build_fixture_warehouse(tmp_path / "warehouse.duckdb")
    report = cluster_report.prepare_report("nord", 2024, "da", str(path), 5)
    assert "indsatsen" in cluster_parts.effort_status_line(report)  # no settings: the default
    settings = tmp_path / "indstillinger.csv"
    settings.write_text(f"municipality;effort_name\n{MUNICIPALITY};Bredere børnefællesskaber\n")
    ingest.ingest_paths([settings], path)
    report = cluster_report.prepare_report("nord", 2024, "da", str(path), 5)
    line = cluster_parts.effort_status_line(report)
    assert "Bredere børnefællesskaber" in line and "indsatsen" not in line
