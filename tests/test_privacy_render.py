"""The protection rule of evaluation.values.privacy, applied to everything a rendered run publishes.

Issue #18's two scenarios are built into a tiny warehouse (fixtures/privacy_scenario.py): 4 and
6 pupils of one cluster who answered at the bad end of every item, and a cluster labelled with
another municipality than its school. A small run (the cluster reports and the leader summary)
is rendered, every number is harvested from its HTML (SVG included), CSV tables, executed
notebooks and manifest, and each published cell is taken at the finest precision any of them
shows it with (never coarser than the page prints it). The attacker also knows every cell's n
exactly, hidden ones included, and the additive relations that exist in the data (built here
from the warehouse, independently of privacy.build_relations, and checked to hold). Per year and
indicator, scipy.optimize.linprog then finds the feasible range of each cell hidden by the
primary rule:
- a mean or rate: at least one scale point wide (or the whole scale);
- a proportion: its small count can still be anything from 0 to min_n - 1.
A positive control shows the same check catches both scenarios when the protection is off.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from privacy_scenario import BOTTOM_SCHOOLS, build_scenario_warehouse  # noqa: E402

from evaluation.catalog import load_catalog  # noqa: E402
from evaluation.data.schemas import SCALE_BY_KIND  # noqa: E402
from evaluation.reports import formatting  # noqa: E402
from evaluation.values import privacy, privacy_bounds  # noqa: E402
from evaluation.values.aggregate import compute_indicator_values  # noqa: E402

CATALOG = load_catalog()
MIN_N = 5
MAX_DECIMALS = 8  # finest precision looked for in the harvest
NUMBER = re.compile(r"(?<![\w.])[-\u2212]?\d+(?:[.,]\d+)?")
pytestmark = pytest.mark.slow  # renders two reports in kernels
RENDERED = ("nord",)  # the 4 + 6 pair's cluster; the leader summary shows every cluster


# --- the run -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """(run folder, exact values, units table) of a small run over the scenario warehouse."""
    from evaluation.render import registry, run

    home = tmp_path_factory.mktemp("privacy-run")
    warehouse = build_scenario_warehouse(home / "scenario.duckdb")

    def chosen_clusters(settings):
        return [p for p in registry.build_cluster_parameters(settings) if p["cluster"] in RENDERED]

    specs = [
        registry.ReportSpec("cluster_report", "cluster_report.ipynb", chosen_clusters),
        *[s for s in registry.REPORTS if s.name == "leader_summary"],
    ]
    options = run.RenderOptions(year=2024, jobs=2, out=home / "reports", warehouse=warehouse)
    record = run.render_run(options, specs)
    assert [r["status"] for r in record["reports"]] == ["ok"] * 2, record["reports"]
    return home / "reports" / record["run_id"], *read_truth(warehouse)


def read_truth(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The values before suppression, and each unit's municipality as the warehouse holds it."""
    import duckdb

    exact = compute_indicator_values(warehouse, CATALOG)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        units = con.execute("SELECT unit_id, municipality FROM units").df()
    finally:
        con.close()
    return exact, units


# --- harvesting ----------------------------------------------------------------------------------


def harvest_numbers(run_dir: Path) -> set[str]:
    """Every number written anywhere in the run, as text with a '.' decimal point ("3.06")."""
    found: set[str] = set()
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".svg", ".csv", ".ipynb", ".json"):
            text = html.unescape(path.read_text(encoding="utf-8-sig", errors="replace"))
            for token in NUMBER.findall(text):
                found.add(token.replace("\u2212", "-").replace(",", "."))
    return found


def known_precision(indicator, value: float, numbers: set[str]) -> int:
    """Decimals (stored units) the run publishes this value with: the finest found, never
    coarser than the page prints it."""
    scale = formatting.display_scale(indicator)
    shift = 2 if scale == 100.0 else 0
    finest = formatting.stored_decimals(indicator)
    for decimals in range(finest + 1, MAX_DECIMALS + 1):
        shown = (f"{value:.{decimals}f}", f"{value * scale:.{decimals - shift}f}")
        if any(s in numbers for s in shown if not s.startswith("-0")):
            finest = decimals
    return finest


# --- the relations that exist in the data --------------------------------------------------


def data_relations(group: pd.DataFrame, units: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(parent, children) row labels of one year and indicator: cluster = its units (membership
    indicators), municipality = the units in it (from the units table, never a cluster's label),
    municipality = its home clusters (register indicators); kept only where n adds up exactly."""
    muni_of = dict(zip(units["unit_id"], units["municipality"], strict=True))
    unit = group[group["level"] == "unit"]
    relations = []
    register = CATALOG.get(group["indicator_id"].iloc[0]).source == "register"
    for label, row in group[group["level"] == "cluster"].iterrows():
        if not register:
            relations.append((label, list(unit.index[unit["cluster_id"] == row["entity_id"]])))
    for label, row in group[group["level"] == "municipality"].iterrows():
        mine = unit.index[unit["entity_id"].map(muni_of) == row["entity_id"]]
        relations.append((label, list(mine)))
        if register:
            relations.append((label, list(group.index[group["level"] == "cluster"])))
    n = group["n"].astype(float)
    return [(p, c) for p, c in relations if c and np.isclose(n[p], n[c].sum())]


# --- the rule ------------------------------------------------------------------------------------


def totals(group: pd.DataFrame) -> np.ndarray:
    """Each cell's sum (mean, rate) or numerator (proportion)."""
    if group["kind"].iloc[0] == "proportion":
        return group["numerator"].astype(float).to_numpy()
    return (group["n"].astype(float) * group["value"].astype(float)).to_numpy()


def feasible_ranges(group, hidden, precision, relations, targets):
    """linprog's min and max of each target cell's total, given every published cell as an
    interval at its precision, the scale, and the relations; one variable per cell."""
    kind = group["kind"].iloc[0]
    n = group["n"].astype(float).to_numpy()
    value = group["value"].astype(float).to_numpy()
    low, high = SCALE_BY_KIND[kind] if kind != "proportion" else (0.0, 1.0)
    lower, upper = low * n, high * n
    for i in np.flatnonzero(~hidden):
        half = 0.5 * 10.0 ** -precision[i]
        lower[i] = max(lower[i], n[i] * (value[i] - half))
        upper[i] = min(upper[i], n[i] * (value[i] + half))
    position = {label: i for i, label in enumerate(group.index)}
    equalities = np.zeros((len(relations), len(group)))
    for r, (parent, children) in enumerate(relations):
        equalities[r, position[parent]] = 1.0
        equalities[r, [position[c] for c in children]] = -1.0
    ranges = {}
    for i in targets:
        ends = []
        for sign in (1.0, -1.0):
            cost = np.zeros(len(group))
            cost[i] = sign
            result = linprog(
                cost,
                A_eq=equalities if len(relations) else None,
                b_eq=np.zeros(len(relations)) if len(relations) else None,
                bounds=list(zip(lower, upper, strict=True)),
                method="highs",
            )
            assert result.status == 0, result.message  # the true totals are always feasible
            ends.append(sign * result.fun)
        ranges[i] = tuple(ends)
    return ranges


def breaks_the_rule(kind: str, n: float, numerator, low: float, high: float) -> bool:
    """The protection rule of evaluation.values.privacy for one primary-hidden cell."""
    if kind == "proportion":
        small = min(MIN_N - 1, n)
        if numerator < MIN_N:
            return not (low <= 1e-6 and high >= small - 1e-6)
        return not (high >= n - 1e-6 and low <= n - small + 1e-6)
    scale_low, scale_high = SCALE_BY_KIND[kind]
    return (high - low) / n < min(1.0, scale_high - scale_low) - 1e-6


def find_narrowed_cells(exact, published, units, numbers=None) -> list[str]:
    """Every primary-hidden cell the published numbers narrow beyond the rule, described."""
    hidden_all = published["suppressed"].fillna(False).to_numpy(bool)
    primary_all = (published["suppression_reason"] == "primary").to_numpy()
    found = []
    for (year, indicator_id), group in exact.groupby(["year", "indicator_id"]):
        indicator = CATALOG.get(indicator_id)
        if indicator.kind not in privacy_bounds.POOLED_KINDS:
            continue  # medians are not sums: no relation narrows them
        group = group[group["n"].astype(float) > 0]
        rows = exact.index.get_indexer(group.index)
        hidden, primary = hidden_all[rows], primary_all[rows]
        if not primary.any():
            continue
        group = group.assign(value=totals(group) / group["n"].astype(float))
        precision = [
            formatting.stored_decimals(indicator)
            if numbers is None or h
            else known_precision(indicator, v, numbers)
            for v, h in zip(group["value"], hidden, strict=True)
        ]
        relations = data_relations(group, units)
        targets = list(np.flatnonzero(primary))
        for i, (low, high) in feasible_ranges(group, hidden, precision, relations, targets).items():
            cell = group.iloc[i]
            if breaks_the_rule(indicator.kind, float(cell["n"]), cell["numerator"], low, high):
                found.append(f"{year} {indicator_id} {cell['entity_id']}: {low:.4f}..{high:.4f}")
    return found


# --- the tests -----------------------------------------------------------------------------------


def test_the_scenarios_are_in_the_data(scenario):
    _, exact, _ = scenario
    at_bottom = exact[exact["entity_id"].isin(list(BOTTOM_SCHOOLS)) & (exact["kind"] == "mean")]
    assert len(at_bottom) and np.allclose(at_bottom["value"].astype(float), 1.0)
    vest = exact[(exact["entity_id"] == "vest") & (exact["level"] == "cluster")]
    assert set(vest["municipality"]) == {"Andeby"}, "the cluster keeps its wrong label"


def test_nothing_a_run_publishes_narrows_a_hidden_cell_beyond_the_rule(scenario):
    run_dir, exact, units = scenario
    numbers = harvest_numbers(run_dir)
    assert len(numbers) > 500, "the harvest reads the run"
    published = privacy.suppress_values(exact, min_n=MIN_N, catalog=CATALOG)
    assert find_narrowed_cells(exact, published, units, numbers) == []
    assert privacy.find_privacy_leaks(published, min_n=MIN_N, catalog=CATALOG).empty


def test_key_figures_in_the_manifest_carry_the_decimals_the_page_prints(scenario):
    """Every number among the key figures is recorded with its printed decimals, and carries
    no more than those (six decimals of a cluster mean used to be recorded)."""
    run_dir, _, _ = scenario
    record = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    checked = 0
    for report in record["reports"]:
        decimals = report["key_figure_decimals"]
        for key, value in report["key_figures"].items():
            if isinstance(value, float):
                assert key in decimals, f"{report['id']}.{key} has no recorded precision"
                assert value == round(value, decimals[key]), (key, value)
                checked += 1
    assert checked >= 10


def test_the_rule_catches_both_scenarios_when_protection_is_off(scenario, monkeypatch):
    """Positive control: suppression without the bounds rule and with clusters tied to their
    labelled municipality (as before issue #18) leaves cells the linprog check finds."""
    _, exact, units = scenario
    monkeypatch.setattr(privacy_bounds, "narrowed_relations", lambda *a: np.array([], int))
    monkeypatch.setattr(privacy, "with_units_municipality", lambda cluster, unit: cluster)
    unsafe = privacy.suppress_values(exact, min_n=MIN_N, catalog=CATALOG)
    narrowed = find_narrowed_cells(exact, unsafe, units)
    entities = {line.split()[2].rstrip(":") for line in narrowed}
    assert {"b", "f"} <= entities, narrowed  # the 4 + 6 pair pinned at the bottom
    assert "vest" in entities or "g" in entities, narrowed  # the cluster labelled away
