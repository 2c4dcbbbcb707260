"""Run the effect estimator on the demo warehouse and compare with the demo's known truth.

Needs `workbench demo-data` and `workbench ingest` first (data/raw/demo/true_effects.json and
the warehouse). Prints, per indicator with a known effect (and the placebo), the overall
estimate with its CV3 (headline), wild-bootstrap and cluster-robust intervals beside the
realised true effect.

Run: .venv/bin/python validation/effect_on_demo.py
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.stats import effect
from evaluation.values import load


def cluster_panel(values: pd.DataFrame, indicator_id: str, grade_band: str, starts: dict):
    """Cluster-year panel (cluster_id, year, value, n, start_year) for one indicator."""
    rows = values[
        (values["level"] == "cluster")
        & (values["indicator_id"] == indicator_id)
        & (values["grade_band"] == grade_band)
    ]
    panel = rows[["entity_id", "year", "value", "n"]].rename(columns={"entity_id": "cluster_id"})
    panel["start_year"] = panel["cluster_id"].map(lambda c: starts.get(c)).astype(float)
    return panel


def main() -> None:
    truth = json.loads((config.demo_raw_dir() / "true_effects.json").read_text(encoding="utf-8"))
    values = load.load_indicator_values(config.warehouse_path())
    starts = {k: (np.nan if v is None else v) for k, v in truth["start_years"].items()}
    for indicator_id, info in truth["effects"].items():
        panel = cluster_panel(values, indicator_id, info["grade_band"], starts)
        res = effect.estimate_effect(panel, draws=999, event_times=False)
        o = res.overall
        print(
            f"{indicator_id:24s} truth {info['realised']:+.4f}  estimate {o['estimate']:+.4f}  "
            f"CV3 95% [{o['ci_low']:+.4f}, {o['ci_high']:+.4f}] p={o['p_value']:.3f}  "
            f"wild [{o['wild_ci_low']:+.4f}, {o['wild_ci_high']:+.4f}]  "
            f"CR1 [{o['crve_ci_low']:+.4f}, {o['crve_ci_high']:+.4f}]  "
            f"covered={o['ci_low'] <= info['realised'] <= o['ci_high']}"
        )
    print(res.inference)


if __name__ == "__main__":
    main()
