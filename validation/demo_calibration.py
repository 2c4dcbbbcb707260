"""The demo generator against the real 2024/25 school figures, side by side (issue 13).

Real: the ministry's published school indices (1-5, one decimal) and pupil counts of the
folkeskoler in ../shared/data/real (see its README; "Kilde: Uddannelsesstatistik.dk (Børne- og
Undervisningsministeriet)"). Demo: one run of `workbench demo-data` (municipality 1), its last
survey year (2025, like the real spring-2025 survey). A demo school's index is the mean of its
grade 4-9 pupils' scores by the catalog's rule, rounded to one decimal as the ministry publishes
it, and shown only with at least 5 answering pupils (the ministry's suppression). Pupils per
school: real = Elevtal (all grades), demo = the register's pupils (all grades) and the pupils
answering the survey.

Run: PYTHONPATH=. .venv/bin/python validation/demo_calibration.py [--raw DIR] [--real DIR]
     (without --raw it writes the demo to a temporary folder first, seed 2023; a few seconds)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

INDICATORS = ["social_trivsel", "faglig_trivsel", "stoette_og_inspiration", "ro_og_orden"]
QUANTILES = {"min": 0.0, "p10": 0.1, "median": 0.5, "p90": 0.9, "max": 1.0}
MIN_PUBLISHED = 5  # the ministry publishes no survey cell under 5 pupils
YEAR = 2025
REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def real_figures(real_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Per indicator the schools' mean, sd and count; the pupils per school with an index."""
    wellbeing = pd.read_csv(real_dir / "school_wellbeing_2024_25.csv", dtype={"school_id": str})
    overview = pd.read_csv(real_dir / "school_overview.csv", dtype={"school_id": str})
    values = wellbeing[wellbeing.indicator.isin(INDICATORS)]
    table = values.groupby("indicator").value.agg(["mean", "std", "count"])
    pupils = overview[
        (overview.measure == "pupils")
        & (overview.school_type == "folkeskole")
        & overview.school_id.isin(wellbeing.school_id)
    ].value
    return table, pupils


def pupil_scores(frame: pd.DataFrame, catalog: dict, indicator_id: str) -> np.ndarray:
    """The catalog's rule: mean of answered items (1-5, reversed recoded), half answered."""
    ind = next(i for i in catalog["indicators"] if i["id"] == indicator_id)
    items = ind["items"]
    form = catalog["forms"][ind["grade_band"]]["items"]
    answers = frame[items].to_numpy(dtype=float, copy=True)
    answers[answers == 0] = np.nan
    reverse = np.array([bool(form[q].get("reverse")) for q in items])
    answers[:, reverse] = 6 - answers[:, reverse]
    count = np.sum(~np.isnan(answers), axis=1)
    score = np.nansum(answers, axis=1) / np.maximum(count, 1)
    return np.where(count >= ind["min_answered"] * len(items), score, np.nan)


def school_indices(responses: pd.DataFrame, catalog: dict) -> pd.DataFrame:
    """One row per school and year: the four indices (published rounding) and respondents."""
    upper = responses[responses.grade >= 4]
    scores = pd.DataFrame({"unit_id": upper.unit_id, "year": upper.year})
    for ind in INDICATORS:
        scores[ind] = pupil_scores(upper, catalog, ind)
    grouped = scores.groupby(["unit_id", "year"])
    table = grouped[INDICATORS].mean()
    answered = grouped[INDICATORS].count()
    return table.where(answered >= MIN_PUBLISHED).round(1).reset_index()


def demo_figures(raw: Path, catalog: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The demo's school indices (all years), pupils per school in YEAR, and its clusters."""
    columns = ["year", "unit_id", "grade"] + [f"q{i:02d}" for i in range(1, 41)]
    responses = pd.read_parquet(raw / "responses.parquet", columns=columns)
    indices = school_indices(responses, catalog)
    register = pd.read_csv(raw / "register.csv", sep=";", decimal=",")
    register["unit_id"] = register.unit_id.astype(str)
    enrolled = register[register.year == YEAR].groupby("unit_id").pupils.sum()
    answering = responses[responses.year == YEAR].groupby("unit_id").size()
    pupils = pd.DataFrame({"enrolled": enrolled, "answering": answering}).dropna()
    membership = pd.read_csv(raw / "cluster_membership.csv", sep=";", dtype=str)
    current = membership[membership.to_year.isna()][["unit_id", "cluster_id"]]
    return indices, pupils, current


def quantile_row(values: pd.Series) -> dict:
    return {k: float(np.quantile(values, q)) for k, q in QUANTILES.items()}


def cluster_changes(raw: Path, catalog: dict, membership: pd.DataFrame) -> pd.DataFrame:
    """Each cluster's pupil mean of the four indices in YEAR - 1 and YEAR, and the change."""
    columns = ["year", "unit_id", "grade"] + [f"q{i:02d}" for i in range(1, 41)]
    responses = pd.read_parquet(
        raw / "responses.parquet", columns=columns, filters=[("year", ">=", YEAR - 1)]
    )
    upper = responses[responses.grade >= 4].merge(membership, on="unit_id")
    scores = pd.DataFrame({"cluster_id": upper.cluster_id, "year": upper.year})
    for ind in INDICATORS:
        scores[ind] = pupil_scores(upper, catalog, ind)
    means = scores.groupby(["cluster_id", "year"])[INDICATORS].mean().unstack("year")
    return pd.DataFrame({ind: means[ind][YEAR] - means[ind][YEAR - 1] for ind in INDICATORS})


def report(raw: Path, real_dir: Path) -> str:
    """The side-by-side figures as plain text."""
    catalog = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "evaluation" / "catalog.yaml").read_text("utf-8")
    )
    real, real_pupils = real_figures(real_dir)
    indices, pupils, membership = demo_figures(raw, catalog)
    now = indices[indices.year == YEAR]
    lines = [f"School indices, {YEAR} (demo) vs 2024/25 (real): mean, between-school sd, schools"]
    for ind in INDICATORS:
        shown = now[ind].dropna()
        lines.append(
            f"  {ind:24s} real {real.loc[ind, 'mean']:.3f} sd {real.loc[ind, 'std']:.3f} "
            f"n {int(real.loc[ind, 'count']):4d} | demo {shown.mean():.3f} sd {shown.std():.3f} "
            f"n {len(shown)}"
        )
    lines.append("Pupils per school: min, p10, median, p90, max")
    for label, values in (
        ("real Elevtal", real_pupils),
        ("demo register", pupils.enrolled),
        ("demo answering", pupils.answering),
    ):
        q = quantile_row(values)
        lines.append(
            f"  {label:15s} "
            + "  ".join(f"{k} {v:,.0f}" for k, v in q.items())
            + f"  (schools {len(values)}, under 150: {(values < 150).sum()})"
        )
    changes = cluster_changes(raw, catalog, membership)
    lines.append(f"Cluster change {YEAR - 1} -> {YEAR} (pupil means, grades 4-9)")
    for cluster_id, row in changes.iterrows():
        lines.append(f"  {cluster_id:12s} " + "  ".join(f"{v:+.3f}" for v in row))
    truth = json.loads((raw / "true_effects.json").read_text(encoding="utf-8"))
    for key in ("cluster_changes", "outlier_schools"):
        if key in truth:
            lines.append(f"Truth sidecar {key}: {json.dumps(truth[key], ensure_ascii=False)}")
    for outlier in truth.get("outlier_schools", []):
        row = now.set_index("unit_id").loc[outlier["unit_id"], INDICATORS]
        lines.append(
            f"  {outlier['unit_id']} in {YEAR}: "
            + "  ".join(f"{v:.1f} (all schools {now[k].mean():.2f})" for k, v in row.items())
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, help="a demo-data folder (default: write one)")
    parser.add_argument("--real", type=Path, default=REAL_DIR)
    args = parser.parse_args()
    if args.raw is not None:
        print(report(args.raw, args.real))
        return
    from evaluation.data.demo import write_demo_data  # why: only when no folder is given

    with tempfile.TemporaryDirectory() as tmp:
        print(report(write_demo_data(Path(tmp) / "raw"), args.real))


if __name__ == "__main__":
    main()
