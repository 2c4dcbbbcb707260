"""A synthetic demo municipality, written as the raw files a municipality would import.

`write_demo_data` writes units.csv, clusters.csv, cluster_membership.csv, cluster_programme.csv,
register.csv and daycare_language.csv (semicolon, decimal comma, UTF-8, like Danish exports), the
pupil-level survey answers as Parquet, and `true_effects.json`, the known truth of a staggered
effort so the statistics can be tested against it. Same seed, same bytes.

The parts: evaluation.data.demo_layout (units, clusters, membership, programme starts),
demo_survey (the pupil-level answers from a latent model with a known effect) and demo_register
(register and daycare rows). This module runs them municipality by municipality and writes the
files. Municipality 1 is Aarhus-sized; more municipalities are smaller (sizes drawn so 98 give
about 550,000 pupils a year). Each municipality is generated and written on its own (numpy, small
dtypes), so national size stays light on memory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from evaluation import config
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
            "(1 = one Aarhus-sized municipality, 98 = the whole demo country)."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_old_demo_files(out_dir)
    survey = load_survey(config.catalog_path())
    factors = draw_size_factors(seed, municipalities)
    tables: dict[str, list[pd.DataFrame]] = {}
    effects = EffectTally()
    start_years: dict[str, int | None] = {}
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
        grade_size = draw_grade_sizes(rng, muni)
        register = simulate_register(rng, muni, grade_size, effects)
        tables.setdefault("register", []).append(register)
        tables.setdefault("daycare_language", []).append(simulate_daycare_language(rng, muni))
        responses = simulate_responses(rng, seed, m, muni, grade_size, survey, effects)
        part = (
            out_dir
            / ("responses" if many else "")
            / (f"part-{m:03d}.parquet" if many else "responses.parquet")
        )
        pq.write_table(responses, part, compression="zstd", row_group_size=256_000)
    for name, parts in tables.items():
        write_csv(pd.concat(parts, ignore_index=True), out_dir / f"{name}.csv")
    write_true_effects(out_dir / "true_effects.json", seed, municipalities, start_years, effects)
    return out_dir


def remove_old_demo_files(out_dir: Path) -> None:
    """Remove files an earlier run wrote, so a smaller demo does not mix with a larger one."""
    for name in (
        "units.csv clusters.csv cluster_membership.csv cluster_programme.csv register.csv "
        "daycare_language.csv responses.parquet true_effects.json"
    ).split():
        (out_dir / name).unlink(missing_ok=True)
    if (out_dir / "responses").is_dir():
        shutil.rmtree(out_dir / "responses")


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
    }
    path.write_text(json.dumps(sidecar, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
