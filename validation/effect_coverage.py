"""Coverage and size of the staggered-DiD effect estimator on demo-shaped simulated data.

Each dataset: 10 clusters, years 2016-2025 without 2020 (one missing survey year), starts in
2023 (3 clusters), 2024 (3) and never (4); cluster-year means of a 1-5 scale around 3.9 with
between-cluster sd 0.05, common year effects (sd 0.03), cluster-year shocks sd 0.02 and the
sampling noise of a mean over n ~ 2,000 pupils (pupil sd 0.8, so se ~ 0.018). The effect is a
constant shift from the start year on.

Prints, for the wild cluster restricted bootstrap (Webb weights) and, beside it, plain
cluster-robust CR1 intervals: the share of 95 % intervals that cover the true effect (target
about 95 %), and with a zero effect the share of tests rejecting at 5 % (target about 5 %).

Run: .venv/bin/python validation/effect_coverage.py [--datasets 200] [--draws 999]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evaluation import effect

YEARS = [y for y in range(2016, 2026) if y != 2020]
STARTS = [2023] * 3 + [2024] * 3 + [np.nan] * 4


def simulate_panel(
    rng: np.random.Generator,
    effect_size: float = 0.08,
    n_pupils: int = 2000,
    cluster_sd: float = 0.05,
    year_sd: float = 0.03,
    shock_sd: float = 0.02,
    pupil_sd: float = 0.8,
) -> pd.DataFrame:
    """One demo-shaped cluster-year panel with a known constant effect."""
    n_clusters = len(STARTS)
    cluster_effect = rng.normal(0, cluster_sd, n_clusters)
    year_effect = dict(zip(YEARS, rng.normal(0, year_sd, len(YEARS)), strict=True))
    rows = []
    for i, start in enumerate(STARTS):
        for year in YEARS:
            n = int(rng.normal(n_pupils, 200))
            treated = not np.isnan(start) and year >= start
            value = (
                3.9
                + cluster_effect[i]
                + year_effect[year]
                + rng.normal(0, shock_sd)
                + rng.normal(0, pupil_sd / np.sqrt(n))
                + (effect_size if treated else 0.0)
            )
            rows.append(
                {
                    "cluster_id": f"k{i:02d}",
                    "year": year,
                    "value": value,
                    "n": n,
                    "start_year": start,
                }
            )
    return pd.DataFrame(rows)


def run(datasets: int, draws: int, effect_size: float, seed: int = 1, ri_datasets: int = 0) -> dict:
    """Simulate and summarise coverage (effect_size != 0) or rejection (effect_size == 0).

    The first `ri_datasets` datasets also get a randomisation test (199 permutations).
    """
    rng = np.random.default_rng(seed)
    covered = {"wild": 0, "crve": 0}
    rejected = {"wild": 0, "crve": 0, "ri": 0}
    estimates = []
    for k in range(datasets):
        panel = simulate_panel(rng, effect_size=effect_size)
        res = effect.estimate_effect(panel, draws=draws, seed=seed + k, event_times=False)
        o = res.overall
        estimates.append(o["estimate"])
        covered["wild"] += o["ci_low"] <= effect_size <= o["ci_high"]
        covered["crve"] += o["crve_ci_low"] <= effect_size <= o["crve_ci_high"]
        rejected["wild"] += o["p_value"] < 0.05
        rejected["crve"] += o["crve_p_value"] < 0.05
        if k < ri_datasets:
            _, p_ri = effect.randomisation_p_value(panel, permutations=199, seed=seed + k)
            rejected["ri"] += p_ri < 0.05
    return {
        "datasets": datasets,
        "mean_estimate": float(np.mean(estimates)),
        "sd_estimate": float(np.std(estimates, ddof=1)),
        "coverage_wild": covered["wild"] / datasets,
        "coverage_crve": covered["crve"] / datasets,
        "reject_wild": rejected["wild"] / datasets,
        "reject_crve": rejected["crve"] / datasets,
        "reject_ri": rejected["ri"] / ri_datasets if ri_datasets else float("nan"),
        "ri_datasets": ri_datasets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--draws", type=int, default=999)
    parser.add_argument("--effect", type=float, default=0.08)
    parser.add_argument("--ri-datasets", type=int, default=200)
    args = parser.parse_args()
    t0 = time.perf_counter()
    cov = run(args.datasets, args.draws, args.effect, seed=1)
    null = run(args.datasets, args.draws, 0.0, seed=100_001, ri_datasets=args.ri_datasets)
    secs = time.perf_counter() - t0
    print(f"datasets per run: {args.datasets}, bootstrap draws: {args.draws}")
    print(
        f"true effect {args.effect:+.3f}: mean estimate {cov['mean_estimate']:+.4f} "
        f"(sd {cov['sd_estimate']:.4f})"
    )
    print("share of 95 % intervals covering the true effect (target about 0.95):")
    print(f"  wild cluster bootstrap (Webb, restricted) : {cov['coverage_wild']:.3f}")
    print(f"  plain cluster-robust CR1, t(G-1) [compare]: {cov['coverage_crve']:.3f}")
    print("placebo, true effect 0: share rejected at 5 % (target about 0.05):")
    print(f"  wild cluster bootstrap (Webb, restricted) : {null['reject_wild']:.3f}")
    print(f"  plain cluster-robust CR1, t(G-1) [compare]: {null['reject_crve']:.3f}")
    print(
        f"  randomisation inference (199 permutations, first {null['ri_datasets']} datasets): "
        f"{null['reject_ri']:.3f}"
    )
    print(f"seconds: {secs:.1f}")


if __name__ == "__main__":
    main()
