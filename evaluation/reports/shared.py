"""The run's shared precomputation: what several reports of a run show, computed once.

Every cluster report compares its cluster with the same municipality, among the same clusters,
places its units in the same funnel of every unit (the leader summary names the units outside
them) and follows up its share of the same decisions; the leader summary shows the evaluation
report's effect estimate. `precompute_shared` computes those once, before the reports start,
through the very functions the reports call (`inputs.shared_result` keys them), and writes them
beside the values cache (`inputs.shared_results_path`); each report then reads them instead of
computing them again. A report that finds no file computes everything itself, with the same
figures: the file only saves time (tests/test_shared.py renders both ways and compares).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from evaluation.errors import EvaluationError
from evaluation.reports import common as rc
from evaluation.reports.inputs import (
    load_report_data,
    scoped,
    shared_results_path,
    write_shared_results,
)


def status_indicators() -> tuple[str, ...]:
    """Every indicator whose cluster status rows a cluster report or the leader summary shows."""
    from evaluation.reports.cluster_parts import STATEMENT_INDICATORS
    from evaluation.reports.leader_status import LEADER_INDICATORS

    ids = [*rc.HEADLINE_INDICATORS, *rc.INCLUSION_INDICATORS, *STATEMENT_INDICATORS]
    return tuple(dict.fromkeys([*ids, *LEADER_INDICATORS]))


def run_clusters(data: rc.ReportData, clusters) -> list[str]:
    """The ids of the clusters the run shows (ids or names in `clusters`); every cluster of the
    warehouse when `clusters` is None."""
    if not len(data.clusters):
        return []
    ids = data.clusters["cluster_id"].astype(str)
    if clusters is None:
        return list(ids)
    wanted = {str(c) for c in clusters}
    return list(ids[ids.isin(wanted) | data.clusters["name"].astype(str).isin(wanted)])


def precompute_status(data: rc.ReportData, year: int, clusters: list[str]) -> None:
    """Status rows of the clusters for every indicator shown (positions once per indicator)."""
    ids = status_indicators()
    for cluster_id in clusters:
        rc.summarise_entity(data, "cluster", cluster_id, year, ids)


def precompute_funnels(data: rc.ReportData, year: int, clusters: list[str]) -> None:
    """The clusters' funnels (the comparison of every unit once per indicator): each cluster
    report shows its own, the leader summary names the units outside them."""
    from evaluation.reports.cluster_funnels import funnel_for, funnel_indicators, shrunk_units

    for cluster_id in clusters:
        frame = SimpleNamespace(data=data, year=year, cluster_id=cluster_id)
        for indicator_id in funnel_indicators(frame):
            try:
                funnel_for(frame, indicator_id)
                shrunk_units(frame, indicator_id)  # the units' table beside the funnel
            except EvaluationError:
                pass  # the report meets it and says so


def precompute_follow_ups(data: rc.ReportData, year: int, clusters: list[str] | None) -> None:
    """Every cluster's decisions followed up (the leader summary shows them all), or with
    `clusters` only theirs (each cluster report shows its own)."""
    from evaluation.reports.cluster_followup import cluster_follow_ups, report_follow_ups

    if clusters is None:
        report_follow_ups(SimpleNamespace(data=data, year=year, cache={}))
    for cluster_id in clusters or []:
        cluster_follow_ups(SimpleNamespace(data=data, year=year, cluster_id=cluster_id))


def precompute_answers(data: rc.ReportData, year: int) -> None:
    """The answer distributions every cluster report of the municipality shows (the same table
    of all its clusters; cluster_answers.load_distributions)."""
    from evaluation.reports.cluster_answers import load_distributions

    if data.public:
        return
    frame = SimpleNamespace(data=data, year=year, previous=rc.previous_year(year, data.years))
    try:
        load_distributions(frame)
    except Exception:  # noqa: BLE001 - each report meets the same error and shows it
        pass


def precompute_breakdowns(data: rc.ReportData, year: int) -> None:
    """The appendix's breakdowns by grade band and gender: one table of every cluster and the
    municipality, the same in each cluster report (cluster_breakdowns.load_breakdowns)."""
    from evaluation.reports.cluster_breakdowns import load_breakdowns

    try:
        load_breakdowns(SimpleNamespace(data=data, year=year))
    except Exception:  # noqa: BLE001 - each report meets the same error and shows it
        pass


def precompute_effect(data: rc.ReportData, year: int) -> None:
    """The evaluation report's effect estimate with its default indicator, draws and seed: the
    one the leader summary shows too."""
    from evaluation.reports.evaluation_effect import shared_effect
    from evaluation.reports.leader_view import evaluation_defaults

    if data.public:
        return
    defaults = evaluation_defaults()
    frame = SimpleNamespace(
        year=year, data=data, draws=defaults["bootstrap_draws"], seed=defaults["seed"]
    )
    try:
        shared_effect(frame, defaults["indicator"])
    except EvaluationError:
        pass  # each report says why, as without the precomputation


def precompute_strict_values(data: rc.ReportData) -> None:
    """The values at the evaluation's stricter min_n (its sensitivity check) into the values
    cache: the evaluation report, the longest of a run, then reads them instead of computing."""
    from evaluation.reports.evaluation_sensitivity import SENSITIVITY_MIN_N
    from evaluation.values import load  # why: duckdb loads only when a report runs

    if not data.public:
        load.load_indicator_values(data.warehouse, max(SENSITIVITY_MIN_N, data.min_n + 5))


def precompute_shared(warehouse: Path, min_n: int, year: int, clusters=None) -> list[Path]:
    """Compute the run's shared results once and write them beside the values cache, one file
    per municipality (each report compares within its own); return the files written or kept
    (none when the values cache is switched off: then every report computes for itself).
    `clusters`: a run of only cluster reports names theirs, and only they (and their
    municipalities) are computed (at national scale the rest would cost minutes); None (a run
    with a report of the whole municipality) computes every cluster and the evaluation's effect.
    Results already in a file for the same inputs and code are kept; new ones are added."""
    if shared_results_path(Path(warehouse), min_n) is None:
        return []
    everything = load_report_data(Path(warehouse), min_n)
    paths = []
    for municipality in run_municipalities(everything, clusters):
        precompute_municipality(scoped(everything, municipality), year, clusters)
        paths.append(shared_results_path(Path(warehouse), min_n, municipality))
    if clusters is None:
        precompute_strict_values(everything)
    return paths


def run_municipalities(data: rc.ReportData, clusters) -> list[str]:
    """The municipalities whose reports the run shows: those of `clusters`, or all."""
    if not len(data.clusters) or "municipality" not in data.clusters:
        names = data.values.loc[data.values["level"] == "municipality", "entity_id"]
        return sorted(set(names.astype(str)))
    chosen = data.clusters[
        data.clusters["cluster_id"].astype(str).isin(run_clusters(data, clusters))
    ]
    return sorted(set(chosen["municipality"].astype(str)))


def precompute_municipality(data: rc.ReportData, year: int, clusters) -> None:
    """One municipality's shared results (`data` scoped to it), written to its file."""
    path = shared_results_path(data.warehouse, data.min_n, data.municipality)
    before = len(data.shared)
    chosen = run_clusters(data, clusters)
    precompute_status(data, year, chosen)
    precompute_funnels(data, year, chosen)
    precompute_follow_ups(data, year, None if clusters is None else chosen)
    if chosen:
        precompute_answers(data, year)
        precompute_breakdowns(data, year)
    if clusters is None:
        precompute_effect(data, year)
    if len(data.shared) > before and path is not None:
        write_shared_results(data.shared, path)
