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
