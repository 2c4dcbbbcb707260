"""evaluation.render.sources: what a run learns from the warehouse before it starts."""

from __future__ import annotations

import duckdb
import pytest

from evaluation.errors import ParameterError
from evaluation.render import sources


def test_a_missing_warehouse_is_named_with_the_way_to_build_one(tmp_path):
    missing = tmp_path / "none.duckdb"
    with pytest.raises(ParameterError, match="workbench demo-data") as caught:
        sources.read_warehouse_facts(missing)
    assert f"No warehouse at {missing}" in str(caught.value)
    assert not missing.exists(), "checking must not create the file"


def test_warehouse_facts_from_a_hand_made_file(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE register (year INTEGER); INSERT INTO register VALUES (2023)")
        con.execute("CREATE TABLE clusters (cluster_id TEXT); INSERT INTO clusters VALUES ('K2')")
    facts = sources.read_warehouse_facts(path)
    assert (facts.years, facts.all_clusters, facts.pupil_level) == ([2023], ["K2"], True)
    assert facts.clusters_by_year == {} and facts.ingest_log == []


def test_the_ingest_log_is_read_in_one_order(tmp_path):
    # the index page lists the input files in it: two renders of one warehouse list them alike
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE ingest_log (file TEXT, sha256 TEXT, table_name TEXT)")
        rows = [(f"f{i % 7}.csv", f"{i:02d}", "answers") for i in range(30, 0, -1)]
        con.executemany("INSERT INTO ingest_log VALUES (?, ?, ?)", rows)
    log = sources.read_warehouse_facts(path).ingest_log
    assert [(r["file"], r["sha256"]) for r in log] == sorted((f, h) for f, h, _ in rows)


def test_a_public_run_hands_its_warehouse_to_the_public_report(tmp_path, monkeypatch):
    """Issue 16: `render --source public --warehouse W` passes W to the public report (its
    published respondent counts and years) and lists it among the inputs; a pupil-level default
    warehouse is not used."""
    import argparse
    from pathlib import Path

    from evaluation.data import ingest
    from evaluation.render.registry import build_public_parameters

    fixtures = Path(__file__).parent / "fixtures"
    monkeypatch.setenv("WORKBENCH_REAL_DATA", str(fixtures / "public"))
    target = tmp_path / "w.duckdb"
    files = [fixtures / "public" / "school_wellbeing_2024_25.csv"]
    files += [fixtures / "public" / "school_overview.csv"]
    answers = fixtures / "public_api" / "trivsp_two_years.json"
    ingest.ingest_paths([*files, answers], target, municipality="Frederiksberg")
    options = argparse.Namespace(
        municipality="frederiksberg",
        warehouse=str(target),
        min_n=5,
        year=None,
        clusters=None,
        language="da",
    )
    _input, facts, settings = sources.plan_public_render(options)
    assert settings.public_warehouse == str(target.resolve())
    assert build_public_parameters(settings)[0]["warehouse"] == str(target.resolve())
    assert str(target.resolve()) in [entry["file"] for entry in facts.ingest_log]
    monkeypatch.setenv("WORKBENCH_WAREHOUSE", str(tmp_path / "pupils.duckdb"))
    with duckdb.connect(str(tmp_path / "pupils.duckdb")) as con:
        con.execute("CREATE TABLE responses (year INTEGER); INSERT INTO responses VALUES (2024)")
    options.warehouse = None
    assert sources.plan_public_render(options)[2].public_warehouse == ""
    monkeypatch.setenv("WORKBENCH_WAREHOUSE", str(target))
    assert sources.plan_public_render(options)[2].public_warehouse == str(target.resolve())
