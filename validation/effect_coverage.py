"""Coverage and size of the staggered-DiD effect estimator on demo-shaped simulated data.

Each dataset: 10 clusters, years 2016-2025 without 2020 (one missing survey year), starts in
2023 (3 clusters), 2024 (3) and never (4); cluster-year means of a 1-5 scale around 3.9 with
between-cluster sd 0.05, common year effects (sd 0.03), cluster-year shocks sd 0.02 and the
sampling noise of a mean over n ~ 2,000 pupils (pupil sd 0.8, so se ~ 0.018). The effect is a
constant shift from the start year on.

Prints, for the headline cluster jackknife CV3 t(G-1) interval, the wild cluster bootstrap-t
beside it (restricted, CV3-studentised, Webb weights: WCR13), plain cluster-robust CR1, and two
bootstraps not in the reports (the former headline WCR11 and the unrestricted WCU13): the share
of 95 % intervals that cover the true effect (target about 95 %), with a
zero effect the share of tests rejecting at 5 % (target about 5 %), and the mean width.

`--design few-treated` uses one 2023 starter, two 2024 starters and seven never-starters.

Run: .venv/bin/python validation/effect_coverage.py [--datasets 200] [--draws 999] [--design demo]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from evaluation.stats import effect

YEARS = [y for y in range(2016, 2026) if y != 2020]
STARTS = [2023] * 3 + [2024] * 3 + [np.nan] * 4
# a harder design: one cluster starts in 2023, two in 2024, seven never (few treated clusters)
DESIGNS = {"demo": STARTS, "few-treated": [2023] + [2024] * 2 + [np.nan] * 7}


def simulate_panel(
    rng: np.random.Generator,
    effect_size: float = 0.08,
    n_pupils: int = 2000,
    cluster_sd: float = 0.05,
    year_sd: float = 0.03,
    shock_sd: float = 0.02,
    pupil_sd: float = 0.8,
    starts: list | None = None,
) -> pd.DataFrame:
    """One demo-shaped cluster-year panel with a known constant effect."""
    starts = STARTS if starts is None else starts
    n_clusters = len(starts)
    cluster_effect = rng.normal(0, cluster_sd, n_clusters)
    year_effect = dict(zip(YEARS, rng.normal(0, year_sd, len(YEARS)), strict=True))
    rows = []
    for i, start in enumerate(starts):
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


METHODS = {
    "cv3": "cluster jackknife CV3, t(G-1) [headline]",
    "wcr13": "wild cluster bootstrap-t, restricted, CV3 (WCR13) [beside]",
    "crve": "plain cluster-robust CR1, t(G-1) [compare only]",
    "wcu13": "wild cluster bootstrap-t, unrestricted, CV3 (WCU13) [not shown]",
    "wcr11": "wild cluster restricted bootstrap, CR1 (WCR11) [old headline]",
}


def other_bootstraps(panel: pd.DataFrame, draws: int, seed: int) -> dict:
    """Two variants not in the reports, for comparison: the former headline WCR11 (test
    inversion) and the unrestricted WCU13, for the overall effect."""
    wide, start, cells = effect.estimate_cells(panel)
    x, y, clusters = effect.stack_cells(wide, cells)
    r = np.concatenate([np.zeros(len(cells)), effect.aggregation_weights(cells, "overall")])
    out = {}
    for name, variance, restricted in (("wcr11", "CV1", True), ("wcu13", "CV3", False)):
        rng = np.random.default_rng(seed)
        boot = effect.prepare_wild_bootstrap(x, y, clusters, r, draws, rng, variance, restricted)
        out[name] = (*boot.confidence_interval(0.95), boot.p_value(0.0))
    return out


def run(
    datasets: int,
    draws: int,
    effect_size: float,
    seed: int = 1,
    ri_datasets: int = 0,
    design: str = "demo",
) -> dict:
    """Simulate and summarise coverage (effect_size != 0) or rejection (effect_size == 0).

    For each method in METHODS: the share of 95 % intervals covering effect_size, the share of
    5 % tests of zero effect rejecting, and the mean interval width; plus seconds per overall
    estimate with its intervals (CV3, WCR13, CR1). The first `ri_datasets` datasets also get a
    randomisation test (199 permutations).
    """
    rng = np.random.default_rng(seed)
    covered = dict.fromkeys(METHODS, 0)
    rejected = dict.fromkeys([*METHODS, "ri"], 0)
    width = dict.fromkeys(METHODS, 0.0)
    seconds = 0.0
    estimates = []
    for k in range(datasets):
        panel = simulate_panel(rng, effect_size=effect_size, starts=DESIGNS[design])
        t0 = time.perf_counter()
        res = effect.estimate_effect(panel, draws=draws, seed=seed + k, event_times=False)
        seconds += time.perf_counter() - t0
        o = res.overall
        estimates.append(o["estimate"])
        intervals = {
            "cv3": (o["ci_low"], o["ci_high"], o["p_value"]),
            "wcr13": (o["wild_ci_low"], o["wild_ci_high"], o["wild_p_value"]),
            "crve": (o["crve_ci_low"], o["crve_ci_high"], o["crve_p_value"]),
            **other_bootstraps(panel, draws, seed + k),
        }
        for name, (low, high, p) in intervals.items():
            covered[name] += low <= effect_size <= high
            rejected[name] += p < 0.05
            width[name] += high - low
        if k < ri_datasets:
            _, p_ri = effect.randomisation_p_value(panel, permutations=199, seed=seed + k)
            rejected["ri"] += p_ri < 0.05
    summary = {
        "datasets": datasets,
        "mean_estimate": float(np.mean(estimates)),
        "sd_estimate": float(np.std(estimates, ddof=1)),
        "reject_ri": rejected["ri"] / ri_datasets if ri_datasets else float("nan"),
        "ri_datasets": ri_datasets,
        "seconds_per_estimate": seconds / datasets,
    }
    for name in METHODS:
        summary[f"coverage_{name}"] = covered[name] / datasets
        summary[f"reject_{name}"] = rejected[name] / datasets
        summary[f"width_{name}"] = width[name] / datasets
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--draws", type=int, default=999)
    parser.add_argument("--effect", type=float, default=0.08)
    parser.add_argument("--ri-datasets", type=int, default=200)
    parser.add_argument("--design", choices=sorted(DESIGNS), default="demo")
    args = parser.parse_args()
    t0 = time.perf_counter()
    cov = run(args.datasets, args.draws, args.effect, seed=1, design=args.design)
    null = run(args.datasets, args.draws, 0.0, 100_001, args.ri_datasets, args.design)
    secs = time.perf_counter() - t0
    print(f"design {args.design}: start years {DESIGNS[args.design]}")
    print(f"datasets per run: {args.datasets}, bootstrap draws: {args.draws}")
    print(
        f"true effect {args.effect:+.3f}: mean estimate {cov['mean_estimate']:+.4f} "
        f"(sd {cov['sd_estimate']:.4f})"
    )
    print("method: coverage of 95 % interval (target 0.95) | placebo rejected at 5 % (target")
    print("0.05) | mean interval width")
    for name, label in METHODS.items():
        print(
            f"  {label:64s}: {cov[f'coverage_{name}']:.3f} | {null[f'reject_{name}']:.3f} | "
            f"{cov[f'width_{name}']:.4f}"
        )
    print(
        f"  randomisation inference (199 permutations, first {null['ri_datasets']} datasets): "
        f"rejection {null['reject_ri']:.3f}"
    )
    print(
        "seconds per estimate_effect call (overall only; CV3, WCR13 by inversion, CR1): "
        f"{cov['seconds_per_estimate']:.4f}"
    )
    print(f"seconds in all: {secs:.1f}")


if __name__ == "__main__":
    main()
