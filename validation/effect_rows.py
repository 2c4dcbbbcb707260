"""Coverage and size of EVERY row the evaluation report shows, not only the overall effect.

The report prints the overall effect, one row per event time (years since the start, negative
before it) and one row per start-year group (cohort), each with the headline interval (cluster
jackknife CV3 standard error, t(G-1)). A method that holds 95 % for the overall row can miss for
a row resting on two or three treated clusters. This script simulates the panels of
`effect_coverage.py` (demo design: starts 2023 x3, 2024 x3, never x4; few-treated design:
2023 x1, 2024 x2, never x7) with a known effect of +0.08 from the start on and, separately,
with no effect, and prints for each row: the treated clusters behind it, the share of 95 %
intervals covering the truth (+0.08 after the start, 0 before) and the share of 5 % tests of
zero rejecting under no effect. Rows resting on fewer than two treated clusters are refused by
the estimator and have no interval to check.

`--write` stores the figures in evaluation/stats/effect_validation.yaml, which the report reads
to print a caveat beside a kind of row whose coverage lies outside 92.5-97.5 % or whose
rejection exceeds 7.5 % (evaluation.stats.effect_validation).

Run (about 15 minutes on one core of the 2-core machine for 1000 datasets per design):
    .venv/bin/python validation/effect_rows.py [--datasets 1000] [--write]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from effect_coverage import DESIGNS, simulate_panel  # noqa: E402

from evaluation.stats import effect  # noqa: E402
from evaluation.stats.effect_validation import VALIDATION_FILE  # noqa: E402

EFFECT = 0.08
DRAWS = 99  # the rows are checked with the CV3 interval, which does not use the bootstrap


def row_keys(result) -> list[tuple[tuple, dict]]:
    """(key, row) for every row with an interval: key = (kind, which, treated clusters)."""
    out = []
    for row in result.event_study.to_dict("records"):
        which = row["event_time"]
        kind = "overall" if which == "overall" else ("pre" if which < 0 else "post")
        out.append(((kind, str(which), row["n_treated_clusters"]), row))
    for row in result.cohorts.to_dict("records"):
        out.append((("cohort", str(row["group"]), row["n_treated_clusters"]), row))
    return [(k, r) for k, r in out if not r["refused"]]


def run(design: str, datasets: int, effect_size: float, seed: int) -> dict:
    """For each row key: [number of datasets, intervals covering the truth, tests rejecting 0]."""
    rng = np.random.default_rng(seed)
    counts: dict = defaultdict(lambda: [0, 0, 0])
    for k in range(datasets):
        panel = simulate_panel(rng, effect_size=effect_size, starts=DESIGNS[design])
        result = effect.estimate_effect(panel, draws=DRAWS, seed=seed + k)
        for key, row in row_keys(result):
            truth = 0.0 if key[0] == "pre" else effect_size
            c = counts[key]
            c[0] += 1
            c[1] += row["ci_low"] <= truth <= row["ci_high"]
            c[2] += row["p_value"] < 0.05
    return counts


def summarise(design: str, datasets: int) -> list[dict]:
    """Coverage from the run with an effect, rejection from the run without one."""
    with_effect = run(design, datasets, EFFECT, seed=1)
    without = run(design, datasets, 0.0, seed=100_001)
    rows = []
    for key in sorted(with_effect, key=lambda k: (k[0], k[1])):
        n, covered, _ = with_effect[key]
        n0, _, rejected = without.get(key, [0, 0, 0])
        rows.append(
            {
                "design": design,
                "n_clusters": len(DESIGNS[design]),
                "kind": key[0],
                "row": key[1],
                "treated_clusters": int(key[2]),
                "datasets": int(n),
                "coverage": round(covered / n, 3),
                "rejection": round(rejected / n0, 3) if n0 else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="store the figures for reports")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = [r for design in DESIGNS for r in summarise(design, args.datasets)]
    print("design | kind | row | treated clusters | datasets | coverage | rejection at 5 %")
    for r in rows:
        print(
            f"{r['design']:11s} | {r['kind']:7s} | {r['row']:>7s} | {r['treated_clusters']:2d} | "
            f"{r['datasets']:5d} | {r['coverage']:.3f} | {r['rejection']}"
        )
    print(f"seconds in all: {time.perf_counter() - t0:.0f}")
    if args.write:
        doc = {
            "source": "validation/effect_rows.py",
            "datasets_per_design": args.datasets,
            "effect": EFFECT,
            "rows": rows,
        }
        VALIDATION_FILE.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        print(f"written: {VALIDATION_FILE}")


if __name__ == "__main__":
    main()
