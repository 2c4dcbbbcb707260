"""How long the statistics take for one municipality and one year, and what the bootstrap costs.

Prints seconds for all funnel comparisons of ~60 units x 20 indicators (target: under 2 s),
against a naive per-unit loop, and the cost of the wild cluster bootstrap (B = 999, 10 clusters).

Run: .venv/bin/python benchmarks/compare_speed.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.stats import compare, effect

N_UNITS, N_INDICATORS = 60, 20
KINDS = ["mean"] * 8 + ["proportion"] * 10 + ["rate", "median"]


def make_values(rng: np.random.Generator) -> list[tuple[str, pd.DataFrame]]:
    """Indicator-value rows for one municipality and year (the shape of docs/architecture.md)."""
    out = []
    for kind in KINDS[:N_INDICATORS]:
        n = rng.integers(8, 600, N_UNITS)
        if kind == "proportion":
            numerator = rng.binomial(n, 0.8)
            values = pd.DataFrame({"value": numerator / n, "numerator": numerator})
        else:
            values = pd.DataFrame(
                {"value": 3.9 + rng.normal(0, 0.1, N_UNITS) + rng.normal(0, 0.8 / np.sqrt(n))}
            )
            values["sd"] = 0.8
            values["se"] = 0.8 / np.sqrt(n)
        values.insert(0, "entity_id", [f"u{j:02d}" for j in range(N_UNITS)])
        values.insert(1, "n", n)
        out.append((kind, values))
    return out


def naive_compare(kind: str, values: pd.DataFrame) -> list[str]:
    """The naive way: one unit at a time, limits computed per row."""
    target = float(np.average(values["value"], weights=values["n"]))
    labels = []
    for _, row in values.iterrows():
        if kind == "proportion":
            lo, hi = compare.proportion_limits([row["n"]], target, 0.95)
        else:
            sd = row["sd"] if kind != "median" else row["se"] * np.sqrt(row["n"])
            lo, hi = compare.mean_limits([row["n"]], target, sd, 0.95)
        labels.append("below" if row["value"] < lo[0] else "above" if row["value"] > hi[0] else "")
    return labels


def time_it(func, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    rng = np.random.default_rng(1)
    tables = make_values(rng)

    def all_comparisons():
        for kind, values in tables:
            compare.compare_units(values, kind=kind)

    def all_naive():
        for kind, values in tables:
            naive_compare(kind, values)

    ours = time_it(all_comparisons)
    naive = time_it(all_naive)
    print(
        f"funnel + over-dispersion + classification, {N_UNITS} units x {N_INDICATORS} "
        f"indicators: {ours:.3f} s (target < 2 s)"
    )
    print(
        f"naive per-unit loop (limits only, no over-dispersion): {naive:.3f} s "
        f"(ratio naive/ours {naive / ours:.1f})"
    )

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
    import effect_coverage

    panel = effect_coverage.simulate_panel(np.random.default_rng(2))
    wide, start, cells = effect.estimate_cells(panel)
    x, y, clusters = effect.stack_cells(wide, cells)
    r = np.concatenate([np.zeros(len(cells)), effect.aggregation_weights(cells, "overall")])

    def one_bootstrap():
        boot = effect.prepare_wild_bootstrap(x, y, clusters, r, draws=999)
        boot.p_value(0.0)
        boot.confidence_interval(0.95)

    def full_effect():
        effect.estimate_effect(panel, draws=999)

    print(
        f"wild cluster bootstrap, B=999, 10 clusters, overall effect p-value + interval: "
        f"{time_it(one_bootstrap):.3f} s"
    )
    print(f"estimate_effect with all event times (B=999 each): {time_it(full_effect, 1):.3f} s")
    t_ri = time_it(lambda: effect.randomisation_p_value(panel, permutations=999), 1)
    print(f"randomisation inference, 999 start-year permutations: {t_ri:.3f} s")


if __name__ == "__main__":
    main()
