"""Coverage and size of the decisions' follow-up interval on the demo generator.

For each seed: `workbench demo-data` (evaluation.data.demo.write_demo_data, one municipality),
ingest into a temporary warehouse, the suppressed indicator values (min_n 5) and the follow-up of
every decision as the cluster report shows it (evaluation.values.decisions.follow_up_decisions,
latest survey 2025, with the covariances of the pupils answering in both years,
evaluation.values.year_overlap). The follow-up compares the cluster's change with the rest of
the municipality's, so its truth is the realised shift of the cluster's value in the "now" year
(true_effects.json, `decisions[].by_year`; before the decision there is none) less the shift
the other clusters' effective decisions on the same indicator gave the rest between the before
and now years (`rest_shift`, weighted by the clusters' n from the unsuppressed values). For the
decisions the generator made effective the share of intervals covering that truth should be
about 95 %. The others target indicators no decision moves, so their truth is zero: the share of
intervals excluding zero (a "clear" verdict) should be about 5 %. Follow-ups that show "–" or
"too early" have no interval and are counted apart.

Rows are appended to a CSV per seed, so a stopped run resumes where it was; `--workers` seeds
run at once (separate processes, default 2).

Run: nice -n 10 .venv/bin/python validation/followup_coverage.py --seeds 200 [--first 1]
     [--workers 2] [--out /tmp/followup_rows.csv]   (about 10 s per seed on one core)
     .venv/bin/python validation/followup_coverage.py --summary-only
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.catalog import load_catalog
from evaluation.data import demo, ingest
from evaluation.data.demo_decisions import realised_in, rest_shift
from evaluation.data.demo_layout import build_municipality, draw_size_factors
from evaluation.values import privacy
from evaluation.values.aggregate import compute_indicator_values
from evaluation.values.decisions import follow_up_decisions, load_decisions
from evaluation.values.year_overlap import overlap_covariances

LATEST = 2025
TODAY = date(2026, 11, 28)  # review dates do not enter the figures
WITH_INTERVAL = ("clear_progress", "no_clear_change", "clear_decline")


def skip_response_checks() -> None:
    """Load the generator's survey answers without re-checking every cell (two thirds of a
    seed's time): they are the demo's own output, which tests/test_demo.py validates, and the
    checks change no value. Every other file is validated as `workbench ingest` does."""
    checked = ingest.validate_frame

    def validate(frame, kind, name):
        return (frame, []) if kind.table == "responses" else checked(frame, kind, name)

    ingest.validate_frame = validate


def one_seed(seed: int, catalog) -> pd.DataFrame:
    """The follow-up rows of one demo seed with their truth."""
    with tempfile.TemporaryDirectory(prefix="followup-") as tmp:
        raw = demo.write_demo_data(Path(tmp) / "raw", seed=seed)
        target = Path(tmp) / "w.duckdb"
        ingest.ingest_paths([raw], target, replace=True)
        counts = compute_indicator_values(target, catalog)  # unsuppressed: every cluster's n
        values = privacy.suppress_values(counts, min_n=5, catalog=catalog)
        covariances = overlap_covariances(target, catalog)
        follow = follow_up_decisions(
            load_decisions(target), values, catalog, LATEST, TODAY, covariances
        )
        sidecar = json.loads((raw / "true_effects.json").read_text(encoding="utf-8"))
    truth = {d["decision_id"]: d for d in sidecar["decisions"]}
    follow["seed"] = seed
    follow["effective"] = [truth[i]["effective"] for i in follow["decision_id"]]
    follow["own_truth"] = [
        realised_in(truth[i], now) if truth[i]["effective"] else 0.0
        for i, now in zip(follow["decision_id"], follow["now_year"], strict=True)
    ]
    rest = [rest_shift(sidecar["decisions"], counts, row) for row in follow.itertuples()]
    follow["truth"] = follow["own_truth"] - np.array(rest, dtype=float)
    return follow


def summarise(rows: pd.DataFrame) -> str:
    """Coverage (effective) and rejection (ineffective) with their Monte Carlo SE."""
    shown = rows[rows["verdict"].isin(WITH_INTERVAL)]
    eff = shown[shown["effective"]]
    null = shown[~shown["effective"]]
    covered = (eff["low"] <= eff["truth"]) & (eff["truth"] <= eff["high"])
    rejected = (null["low"] > 0) | (null["high"] < 0)
    lines = [f"seeds: {rows['seed'].nunique()}, follow-ups: {len(rows)}"]
    lines.append(
        "verdicts: " + ", ".join(f"{k} {v}" for k, v in rows.verdict.value_counts().items())
    )
    lines.append(line("coverage, effective decisions", covered))
    lines.append(
        line("clear verdict, effective decisions (power)", eff["verdict"] != "no_clear_change")
    )
    lines.append(line("rejection of zero, decisions without effect", rejected))
    null = null.assign(effort=effort_started(null))
    for (kind, effort), part in null.groupby(["indicator_id", "effort"]):
        hit = (part["low"] > 0) | (part["high"] < 0)
        when = "effort started by now" if effort else "no effort yet"
        lines.append(line(f"  rejection, {kind}, {when}", hit))
    for kind, part in eff.groupby(eff["indicator_id"]):
        hit = (part["low"] <= part["truth"]) & (part["truth"] <= part["high"])
        lines.append(line(f"  coverage, {kind}", hit))
    for gap, part in eff.groupby(eff["now_year"] - eff["before_year"]):
        hit = (part["low"] <= part["truth"]) & (part["truth"] <= part["high"])
        z = (part["estimate"] - part["truth"]) / part["se"]
        lines.append(
            line(f"  coverage, {int(gap)} years between before and now", hit)
            + f"; z = (estimate - truth) / se: mean {z.mean():.2f}, sd {z.std():.2f}"
        )
    return "\n".join(lines)


def effort_started(rows: pd.DataFrame) -> list[bool]:
    """Whether the row's cluster had started the demo's effort by the "now" year: the effort
    moves pupils out of special settings (evaluation.data.demo_register), which changes
    absence and the like in those clusters, decision or not."""
    starts = {}
    for seed in rows["seed"].unique():
        factor = draw_size_factors(int(seed), 1)[0]
        muni = build_municipality(np.random.default_rng([int(seed), 1]), 1, factor)
        programme = muni["cluster_programme"]
        for cluster_id, start in zip(programme.cluster_id, programme.start_year, strict=True):
            starts[(seed, cluster_id)] = start
    pairs = zip(rows["seed"], rows["cluster_id"], rows["now_year"], strict=True)
    return [not pd.isna(s := starts.get((seed, c))) and s <= now for seed, c, now in pairs]


def line(label: str, hits: pd.Series) -> str:
    n = len(hits)
    share = float(hits.mean()) if n else float("nan")
    mcse = (share * (1 - share) / n) ** 0.5 if n else float("nan")
    return f"{label}: {share:.3f} (n = {n}, Monte Carlo se {mcse:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="/tmp/followup_rows.csv")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    done = set(pd.read_csv(out)["seed"]) if out.is_file() else set()
    todo = [s for s in range(args.first, args.first + args.seeds) if s not in done]
    start = time.time()
    with ProcessPoolExecutor(args.workers, initializer=prepare_worker) as pool:
        running = {pool.submit(worker_seed, s): s for s in ([] if args.summary_only else todo)}
        for finished in as_completed(running):
            rows = finished.result()
            rows.to_csv(out, mode="a", header=not out.is_file(), index=False)
            print(f"seed {running[finished]}: {time.time() - start:.0f} s", flush=True)
    print(summarise(pd.read_csv(out)))


def prepare_worker() -> None:
    """Each worker process: no values cache, the responses loaded without re-checking."""
    os.environ["WORKBENCH_VALUES_CACHE"] = "0"
    skip_response_checks()


def worker_seed(seed: int) -> pd.DataFrame:
    return one_seed(seed, load_catalog())


if __name__ == "__main__":
    main()
