"""Size and power of the joint pre-trend test (evaluation.stats.pretrends) on demo-shaped data.

The panels are those of validation/effect_coverage.py (10 clusters, cohorts 2023 and 2024 of 3,
4 never started, 2016-2025 without 2020; `--design few-treated`: 1, 2 and 7), with a linear
pre-start trend of `--trend` a year added to the started clusters before their start (0: no
pre-trend, so every rejection is a false alarm). `--first-year 2019` drops the early years, so
fewer pre-start rows are tested (k = 4 instead of 7).

Prints the share of data sets in which each test rejects at 5 %: the wild cluster restricted
bootstrap of the CV3 Wald statistic (the report's p-value), the same statistic against
F(k, G-1) (not shown in the report), and Bonferroni over the single rows' CV3 t(G-1) p-values.

Run: .venv/bin/python validation/pretrend_size.py [--datasets 300] [--trend 0] [--design demo]
     [--first-year 2016]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from effect_coverage import DESIGNS, simulate_panel

from evaluation.stats import effect, pretrends


def one_dataset(rng: np.random.Generator, args) -> dict:
    panel = simulate_panel(rng, starts=DESIGNS[args.design])
    panel = panel[panel["year"] >= args.first_year].copy()
    trend, draws = args.trend, args.draws
    before = panel["start_year"].notna() & (panel["year"] < panel["start_year"])
    panel.loc[before, "value"] += trend * (panel["year"] - panel["start_year"])[before]
    event_study = effect.estimate_effect(panel, draws=99).event_study  # refusals, row p-values
    covariance = pretrends.event_study_covariance(panel)
    test = pretrends.joint_pretrend_test(
        covariance, event_study, draws=draws, seed=int(rng.integers(2**31))
    )
    return {
        "bootstrap Wald (report)": test.p_value < 0.05,
        "Wald against F(k, G-1)": test.f_p_value < 0.05,
        "Bonferroni over single rows": test.bonferroni_p_value < 0.05,
        "k": test.k,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=300)
    parser.add_argument("--trend", type=float, default=0.0)
    parser.add_argument("--design", choices=sorted(DESIGNS), default="demo")
    parser.add_argument("--draws", type=int, default=999)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--first-year", type=int, default=2016)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    rows = [one_dataset(rng, args) for _ in range(args.datasets)]
    print(
        f"design {args.design}, pre-trend {args.trend} a year, {args.datasets} data sets, "
        f"k = {rows[-1]['k']} pre-start rows tested, {time.perf_counter() - start:.0f} s"
    )
    for name in rows[0]:
        if name != "k":
            print(f"  rejects at 5 %: {np.mean([r[name] for r in rows]):6.3f}  {name}")


if __name__ == "__main__":
    main()
