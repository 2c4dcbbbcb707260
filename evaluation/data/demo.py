"""A synthetic demo municipality, written as the raw files a municipality would import.

`write_demo_data` writes units.csv, clusters.csv, cluster_membership.csv, cluster_programme.csv,
register.csv, daycare_language.csv, indstillinger.csv (the effort's name) and handlinger.csv,
the clusters' decisions (semicolon, decimal comma, UTF-8, like Danish exports), the pupil-level
survey answers as Parquet, and `true_effects.json`, the known truth of a staggered effort and
of the decisions the generator makes work, so the statistics can be tested against it. Same
seed, same bytes.

The parts: evaluation.data.demo_layout (units, clusters, membership, programme starts),
demo_survey (the pupil-level answers from a latent model with a known effect), demo_register
(register and daycare rows) and demo_decisions (the decisions, some of them effective). This
module runs them municipality by municipality and writes the files. Municipality 1 has
Aarhus's 45 schools; more municipalities are smaller (sizes drawn so 98 give about 487,000
pupils a year, the real folkeskoler's; evaluation.data.demo_layout). Each municipality is
generated and written on its own (numpy, small dtypes), so national size stays light on memory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from evaluation import config
from evaluation.data.demo_decisions import DECISION_STREAM, draw_decisions
from evaluation.data.demo_layout import (
    YEARS,
    EffectTally,
    build_municipality,
    draw_grade_sizes,
    draw_size_factors,
)
from evaluation.data.demo_layout import (
    municipality_name as municipality_name,
)  # read here by reports
from evaluation.data.demo_register import (
    INCLUSION_EFFECT,
    simulate_daycare_language,
    simulate_register,
)
from evaluation.data.demo_survey import (
    LATENT_EFFECT,
    PLACEBO,
    SURVEY_YEARS,
    load_survey,
    simulate_responses,
)
from evaluation.errors import ParameterError

MAX_MUNICIPALITIES = 98  # the demo country; Denmark has 98 municipalities


def write_demo_data(out_dir: Path, seed: int = 2023, municipalities: int = 1) -> Path:
    """Write the demo municipality (or `municipalities` of them) to out_dir; return out_dir."""
    if not 1 <= municipalities <= MAX_MUNICIPALITIES:
        raise ParameterError(
            f"--municipalities {municipalities}: give 1 to {MAX_MUNICIPALITIES} "
            "(1 = one municipality with Aarhus's 45 schools, 98 = the whole demo country)."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_old_demo_files(out_dir)
    survey = load_survey(config.catalog_path())
    factors = draw_size_factors(seed, municipalities)
    tables: dict[str, list[pd.DataFrame]] = {}
    effects = EffectTally()
    start_years: dict[str, int | None] = {}
    decisions = []
    many = municipalities > 1
    if many:
        (out_dir / "responses").mkdir()
    for m in range(1, municipalities + 1):
        rng = np.random.default_rng([seed, m])
        muni = build_municipality(rng, m, factors[m - 1])
        for name, df in muni.items():
            tables.setdefault(name, []).append(df)
        start_years.update(
            dict(
                zip(
                    muni["cluster_programme"].cluster_id,
                    muni["cluster_programme"].start_year,
                    strict=True,
                )
            )
        )
        decided = draw_decisions(np.random.default_rng([seed, m, DECISION_STREAM]), muni)
        tables.setdefault("handlinger", []).append(decided.frame)
        decisions.append(decided)
        grade_size = draw_grade_sizes(rng, muni)
        register = simulate_register(rng, muni, grade_size, effects)
        tables.setdefault("register", []).append(register)
        tables.setdefault("daycare_language", []).append(simulate_daycare_language(rng, muni))
        tables.setdefault("indstillinger", []).append(demo_settings(muni))
        responses = simulate_responses(
            rng, seed, m, muni, grade_size, survey, effects, decided.effective
        )
        part = (
            out_dir
            / ("responses" if many else "")
            / (f"part-{m:03d}.parquet" if many else "responses.parquet")
        )
        pq.write_table(responses, part, compression="zstd", row_group_size=256_000)
    for name, parts in tables.items():
        write_csv(pd.concat(parts, ignore_index=True), out_dir / f"{name}.csv")
    write_true_effects(out_dir / "true_effects.json", seed, municipalities, start_years, effects)
    add_decision_truth(out_dir / "true_effects.json", decisions, effects)
    return out_dir


DEMO_EFFORT_NAME = "Bredere børnefællesskaber"


def demo_settings(muni: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The municipality's settings file (evaluation.data.settings): the effort's name."""
    names = muni["clusters"]["municipality"].drop_duplicates()
    return pd.DataFrame({"municipality": names, "effort_name": DEMO_EFFORT_NAME})


def remove_old_demo_files(out_dir: Path) -> None:
    """Remove files an earlier run wrote, so a smaller demo does not mix with a larger one."""
    for name in (
        "units.csv clusters.csv cluster_membership.csv cluster_programme.csv register.csv "
        "daycare_language.csv handlinger.csv indstillinger.csv responses.parquet true_effects.json"
    ).split():
        (out_dir / name).unlink(missing_ok=True)
    if (out_dir / "responses").is_dir():
        shutil.rmtree(out_dir / "responses")


def add_decision_truth(path: Path, decisions: list, effects: EffectTally) -> None:
    """The sidecar's `decisions`: every demo decision, and for the effective ones the latent
    shift, the first survey year that shows it and the realised shift of the cluster's value
    (with minus without the shift, same draws) per survey year and on average."""
    realised = pd.DataFrame(effects.decision_rows, columns=["decision_id", "year", "effect"])
    works = {d.decision_id: d for muni in decisions for d in muni.effective}
    rows = []
    for muni in decisions:
        for decision_id, targets in muni.targets.items():
            d = works.get(decision_id)
            entry = {"decision_id": decision_id, "targets": targets, "effective": d is not None}
            if d is not None:
                own = realised[realised.decision_id == decision_id].sort_values("year")
                entry |= {
                    "cluster_id": d.cluster_id,
                    "indicator": d.indicator,
                    "grade_band": d.band,
                    "first_year": d.first_year,
                    "latent_shift": d.latent_shift,
                    "true_shift": round(float(own.effect.mean()), 6) if len(own) else None,
                    "by_year": [
                        {"year": int(r.year), "effect": round(float(r.effect), 6)}
                        for r in own.itertuples()
                    ],
                }
            rows.append(entry)
    sidecar = json.loads(path.read_text(encoding="utf-8"))
    sidecar["decisions_description"] = (
        "Decisions of handlinger.csv. An effective decision shifts the latent answers to its "
        "indicator's items in its cluster from first_year (the first survey after the decision) "
        "on; true_shift is the mean over those survey years of the cluster's indicator value "
        "with the shift minus without it (same draws), on the indicator's own scale. The other "
        "decisions have no effect, and their targets move in no cluster."
    )
    sidecar["decisions"] = rows
    path.write_text(json.dumps(sidecar, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """A Danish export: semicolon separator, decimal comma, UTF-8, empty for missing."""
    df.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8", lineterminator="\n")


def write_true_effects(path, seed, municipalities, start_years, effects: EffectTally) -> None:
    """The sidecar with the realised true effects (shape documented in docs/architecture.md)."""
    table = pd.DataFrame(
        effects.rows, columns=["indicator", "grade_band", "cluster_id", "year", "effect"]
    )
    out = {}
    for indicator, rows in table.groupby("indicator", sort=True):
        out[indicator] = {
            "grade_band": rows.grade_band.iloc[0],
            "realised": round(float(rows.effect.mean()), 6),
            "treated_cluster_years": int(len(rows)),
            "by_cluster_year": [
                {
                    "cluster_id": r.cluster_id,
                    "year": int(r.year),
                    "effect": round(float(r.effect), 6),
                }
                for r in rows.sort_values(["cluster_id", "year"]).itertuples()
            ],
        }
    sidecar = {
        "description": (
            "Known truth of the synthetic demo: clusters in the effort from start_year get a "
            "latent shift on the items of the named indicators (pupils in grades 4-9) and "
            f"+{INCLUSION_EFFECT} on the share in the general setting. 'realised' is the mean "
            "over treated cluster-years of the indicator value with the effect minus the same "
            "pupils' value without it (same random draws), on the indicator's own scale. "
            f"{PLACEBO} is a placebo with exactly zero effect."
        ),
        "seed": seed,
        "municipalities": municipalities,
        "years": YEARS,
        "survey_years": SURVEY_YEARS,
        "start_years": {
            c: (None if pd.isna(v) else int(v)) for c, v in sorted(start_years.items())
        },
        "latent_shift": LATENT_EFFECT,
        "nominal": {"inklusionsgrad": INCLUSION_EFFECT, PLACEBO: 0.0},
        "placebo": [PLACEBO],
        "effects": out,
        "planted_description": (
            "Planted findings (evaluation.data.demo_planted), no part of the effort: in "
            "cluster_changes a cluster outside the effort gets latent_shift on the items of the "
            "named indicators (grades 4-9) in that survey year only; an outlier school has the "
            "latent school effect school_effect (on every item, every year; the other schools "
            "have sd 0.10)."
        ),
        "cluster_changes": effects.cluster_changes,
        "outlier_schools": effects.outlier_schools,
    }
    path.write_text(json.dumps(sidecar, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
