"""The run's shared precomputation (evaluation.reports.shared): every report reads what was
computed once and shows exactly what it shows when it computes everything itself."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation import config  # noqa: E402
from evaluation.reports import (  # noqa: E402
    cluster_report,
    evaluation_effect,
    evaluation_report,
    inputs,
    leader_summary,
    shared,
)
from evaluation.reports import common as rc  # noqa: E402
from evaluation.values import load  # noqa: E402

YEAR = 2024


@pytest.fixture
def warehouse(tmp_path):
    return build_fixture_warehouse(tmp_path / "warehouse.duckdb")


def builders(module) -> list[str]:
    """The report's build_* functions in the order its notebook calls them."""
    notebook = config.notebooks_dir() / f"{module.__name__.rsplit('.', 1)[1]}.ipynb"
    return re.findall(r"\.(build_\w+)\(report\)", notebook.read_text(encoding="utf-8"))


def render_in_process(module, report) -> tuple[list[str], dict]:
    """Every section's HTML, as the notebook displays it, and the key figures."""
    pages = [str(getattr(module, name)(report)) for name in builders(module)]
    return pages, module.collect_key_figures(report)


def render_all(warehouse: Path) -> dict:
    path = str(warehouse)
    reports = {
        f"cluster-{c}": (cluster_report, cluster_report.prepare_report(c, YEAR, "da", path, 5, ""))
        for c in ("nord", "syd")
    }
    reports["leader"] = (leader_summary, leader_summary.prepare_report("", YEAR, "da", path, 5, ""))
    reports["evaluation"] = (
        evaluation_report,
        evaluation_report.prepare_report("", year=YEAR, warehouse=path, min_n=5),
    )
    return {name: render_in_process(module, report) for name, (module, report) in reports.items()}


def test_reports_read_the_precomputed_results_and_show_the_same_figures(warehouse, monkeypatch):
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")  # cold: each report computes for itself
    assert inputs.shared_results_path(warehouse, 5) is None
    cold = render_all(warehouse)
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "1")
    [path] = shared.precompute_shared(warehouse, 5, YEAR)
    stored = inputs.read_shared_results(path)
    kinds = {key[0] for key in stored}
    assert load.find_cached_values(warehouse, 10).is_file()  # the evaluation's stricter min_n
    assert {
        "status_row",
        "funnel",
        "effect",
        "follow_ups",
        "answer_distributions",
        "breakdowns",
        "shrunk_units",
    } <= kinds

    # with the file, no report estimates the effect again (the leader shows the evaluation's)
    def estimated_again(*args, **kwargs):
        raise AssertionError("the effect was estimated again")

    monkeypatch.setattr(evaluation_effect, "run_effect", estimated_again)
    warm = render_all(warehouse)
    assert warm.keys() == cold.keys()
    for name in cold:
        # key figures as the manifest holds them (JSON: NaN equals NaN)
        assert json.dumps(warm[name][1]) == json.dumps(cold[name][1]), name
        assert warm[name][0] == cold[name][0], name  # every section's HTML, byte for byte


def test_the_leader_shows_the_evaluation_reports_estimate(warehouse):
    shared.precompute_shared(warehouse, 5, YEAR)
    leader = leader_summary.prepare_report("", YEAR, "da", str(warehouse), 5, "")
    evaluation = evaluation_report.prepare_report("", year=YEAR, warehouse=str(warehouse))
    effects = [v for k, v in leader.data.shared.items() if k[0] == "effect"]
    assert len(effects) == 1
    result = evaluation_effect.shared_effect(evaluation, evaluation.indicator_id)
    assert result is evaluation.data.shared[next(k for k in leader.data.shared if k[0] == "effect")]
    # the leader's sentence prints the overall estimate the evaluation report prints
    estimate = evaluation_effect.format_effect(
        leader.t, evaluation.indicator, result.overall_row()["estimate"]
    )
    assert estimate in str(leader_summary.build_overview(leader))


def test_a_file_for_other_inputs_is_never_read(warehouse, tmp_path):
    [path] = shared.precompute_shared(warehouse, 5, YEAR)
    assert path is not None and path.is_file()
    assert inputs.shared_results_path(warehouse, 6) != path  # another min_n
    other = build_fixture_warehouse(tmp_path / "other" / "warehouse.duckdb")
    with other.open("ab") as handle:  # another warehouse file (any byte changed)
        handle.write(b"\0")
    assert inputs.shared_results_path(other, 5) != path
    path.write_bytes(b"not a pickle")
    assert inputs.read_shared_results(path) == {}  # unreadable: each report computes itself


def test_a_run_of_some_clusters_computes_only_theirs_and_shows_the_same(warehouse, monkeypatch):
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "0")
    path = str(warehouse)
    cold = cluster_report.prepare_report("nord", YEAR, "da", path, 5, "")
    cold_pages = render_in_process(cluster_report, cold)
    monkeypatch.setenv("WORKBENCH_VALUES_CACHE", "1")
    stored = inputs.read_shared_results(*shared.precompute_shared(warehouse, 5, YEAR, ["nord"]))
    assert {"status_row", "funnel", "follow_ups"} <= {key[0] for key in stored}
    assert "effect" not in {key[0] for key in stored}  # only the whole municipality's reports
    assert not [key for key in stored if "syd" in key]  # nor the clusters the run leaves out

    from evaluation.reports import cluster_followup

    def computed_again(*args, **kwargs):
        raise AssertionError("the follow-ups were computed again")

    monkeypatch.setattr(cluster_followup, "compute_follow_ups", computed_again)
    warm = cluster_report.prepare_report("nord", YEAR, "da", path, 5, "")
    assert render_in_process(cluster_report, warm)[0] == cold_pages[0]
    assert json.dumps(render_in_process(cluster_report, warm)[1]) == json.dumps(cold_pages[1])


@pytest.fixture(scope="module")
def two_municipalities(tmp_path_factory):
    """The demo's Aarhus-sized municipality and a smaller second one in one warehouse."""
    from evaluation.data import demo, ingest

    folder = tmp_path_factory.mktemp("two")
    raw = demo.write_demo_data(folder / "raw", seed=1, municipalities=2)
    target = folder / "warehouse.duckdb"
    ingest.ingest_paths([raw], target)
    return target


def test_a_cluster_report_compares_with_its_own_municipality(two_municipalities):
    """A warehouse of two municipalities: the second's cluster report names, compares with and
    ranks among its own municipality only, from its own shared file (before, every report took
    the first municipality in the values as "kommunen")."""
    warehouse = two_municipalities
    paths = shared.precompute_shared(warehouse, 5, YEAR, ["nord-02"])
    assert len(paths) == 1 and paths[0] == inputs.shared_results_path(
        warehouse, 5, "Demo Kommune 2"
    )
    report = cluster_report.prepare_report("nord-02", YEAR, "da", str(warehouse), 5, "")
    assert report.data.municipality == "Demo Kommune 2"
    assert set(report.data.clusters["municipality"]) == {"Demo Kommune 2"}
    assert set(report.data.units["municipality"]) == {"Demo Kommune 2"}
    values = load.load_indicator_values(warehouse, 5)
    own = values[
        (values["level"] == "municipality")
        & (values["entity_id"] == "Demo Kommune 2")
        & (values["indicator_id"] == "social_trivsel")
        & (values["year"] == YEAR)
    ]["value"].iloc[0]
    rows = rc.summarise_entity(report.data, "cluster", "nord-02", YEAR, ["social_trivsel"])
    assert rows["reference"].iloc[0] == pytest.approx(own)
    assert ("status_row", "cluster", "nord-02") in {key[:3] for key in report.data.shared}


def test_the_leader_of_one_municipality_sees_only_its_clusters(two_municipalities):
    report = leader_summary.prepare_report("Demo Kommune", YEAR, "da", str(two_municipalities))
    assert set(report.data.clusters["municipality"]) == {"Demo Kommune"}
    assert not report.data.values["cluster_id"].astype(str).str.endswith("-02").any()


PRECOMPUTE_IN_A_FRESH_PROCESS = """
import sys
from pathlib import Path
from evaluation.render import run
from evaluation.reports import shared
warehouse = Path(sys.argv[1])
run.warm_values_cache(warehouse, 5)
written = shared.precompute_shared(warehouse, 5, 2024)
slow = ("scipy.stats", "statsmodels", "pandera")
print(len(written), *sorted(name for name in slow if name in sys.modules))
"""


def test_the_parents_precomputation_imports_no_scipy_stats_statsmodels_or_pandera(warehouse):
    """The parent's values and shared results need neither scipy.stats (~0.7 s of CPU to import;
    stats.distribution_functions has what they use), nor statsmodels, nor pandera (~0.25 s; the
    public files' checks): issue 17 counts every second of the parent."""
    import subprocess

    script = warehouse.parent / "precompute.py"
    script.write_text(PRECOMPUTE_IN_A_FRESH_PROCESS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(warehouse)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["1"]  # one municipality's file written, nothing slow loaded
