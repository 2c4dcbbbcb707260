"""What the simulations say about each kind of row the effect estimator returns.

validation/effect_rows.py simulates cluster-year panels with a known effect (10 clusters; the
demo's and a few-treated roll-out) and measures, for every row the evaluation report shows, how
often the 95 % interval covers the truth and how often a 5 % test rejects when there is no
effect. It writes the figures to effect_validation.yaml beside this module.

A kind of row is its place (overall, before the start, after the start, one start-year group)
and the number of treated clusters behind it: those two facts of the design decide how well
the jackknife interval does. Where the simulations put a kind of row outside 92.5-97.5 %
coverage or above 7.5 % rejection, the row has `caveat` True and the report prints the figures
beside its interval; where nothing was simulated for its kind, sim_datasets is 0.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

VALIDATION_FILE = Path(__file__).with_name("effect_validation.yaml")
COVERAGE_BAND = (0.925, 0.975)
MAX_REJECTION = 0.075
VALIDATION_COLUMNS = ("sim_coverage", "sim_rejection", "sim_datasets", "caveat")
SIMULATED_COLUMNS = (
    "design n_clusters kind row treated_clusters datasets coverage rejection".split()
)
NOT_SIMULATED = {
    "sim_coverage": np.nan,
    "sim_rejection": np.nan,
    "sim_datasets": 0,
    "caveat": False,
}


@cache
def simulated_rows() -> pd.DataFrame:
    """The stored simulation figures, one row per (design, kind, row)."""
    doc = yaml.safe_load(VALIDATION_FILE.read_text(encoding="utf-8"))
    return pd.DataFrame(doc["rows"], columns=list(SIMULATED_COLUMNS))


def row_kind(which) -> str:
    """overall, pre (event time < 0), post (event time >= 0); cohorts are passed as "cohort"."""
    if which == "overall" or which == "cohort":
        return which
    return "pre" if int(which) < 0 else "post"


def figures_for(kind: str, treated_clusters: int) -> dict:
    """Pooled coverage and rejection of the simulated rows of this kind and treated-cluster
    count (weighted by datasets), and whether they warrant a caveat."""
    sim = simulated_rows()
    match = sim[(sim["kind"] == kind) & (sim["treated_clusters"] == treated_clusters)]
    if match.empty:
        return dict(NOT_SIMULATED)
    weights = match["datasets"].to_numpy(dtype=float)
    coverage = float(np.average(match["coverage"], weights=weights))
    rejection = float(np.average(match["rejection"].astype(float), weights=weights))
    outside = not COVERAGE_BAND[0] <= coverage <= COVERAGE_BAND[1] or rejection > MAX_REJECTION
    return {
        "sim_coverage": coverage,
        "sim_rejection": rejection,
        "sim_datasets": int(weights.sum()),
        "caveat": outside,
    }


def attach_validation(rows: pd.DataFrame, kind_of=row_kind, column: str = "event_time"):
    """Add sim_coverage, sim_rejection, sim_datasets and caveat to the rows of an event study
    (or of cohorts, with kind_of returning "cohort"); refused rows get none."""
    figures = [
        figures_for(kind_of(r[column]), int(r["n_treated_clusters"]))
        if not r["refused"]
        else dict(NOT_SIMULATED)
        for r in rows.to_dict("records")
    ]
    extra = pd.DataFrame(figures, index=rows.index, columns=list(VALIDATION_COLUMNS))
    return pd.concat([rows, extra], axis=1)
