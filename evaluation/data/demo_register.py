"""The demo's register (settings, absence, referrals) and daycare language assessments.

One row per year, school attended and home cluster: pupils in the general setting, in special
classes and special schools, absence and waiting times. The effort raises the share in the
general setting by INCLUSION_EFFECT in treated cluster-years; the same draws without it give
the counterfactual (evaluation.data.demo_layout.EffectTally).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom

from evaluation.data.demo_layout import YEARS, EffectTally, cluster_by_year, treated_matrix

INCLUSION_EFFECT = 0.015  # +1.5 percentage points in the general setting


@dataclass
class RegisterPlan:
    """One municipality's units and the register draws that hold for every year."""

    schools: list[str]
    specials: list[str]
    cluster_ids: list[str]
    size: np.ndarray  # pupils per school (all grades)
    hosts: np.ndarray  # whether each school has special classes
    seg_base: np.ndarray  # share in special settings per cluster
    absence_school: np.ndarray  # absence factor per school and special school
    wait_base: np.ndarray  # waiting days per cluster


def simulate_register(rng, muni, grade_size: np.ndarray, effects: EffectTally) -> pd.DataFrame:
    """One row per year, school attended and home cluster; the effort raises inklusionsgrad."""
    units = muni["units"]
    schools = units.unit_id[units.kind == "school"].tolist()
    specials = units.unit_id[units.kind == "special_school"].tolist()
    cluster_ids = muni["clusters"].cluster_id.tolist()
    k = len(cluster_ids)
    school_cluster = cluster_by_year(muni, schools)
    special_cluster = cluster_by_year(muni, specials)
    treated = treated_matrix(muni)
    hosts = rng.random(len(schools)) < 0.4  # schools with special classes
    seg_base = np.clip(rng.normal(0.058, 0.01, k), 0.03, 0.09)
    absence_school = rng.lognormal(0, 0.15, len(schools) + len(specials))
    wait_base = np.clip(rng.normal(38, 8, k), 14, 80)
    plan = RegisterPlan(
        schools, specials, cluster_ids, grade_size * 10, hosts, seg_base, absence_school, wait_base
    )
    frames = []
    for t, y in enumerate(YEARS):
        sc, spc = school_cluster[:, t], special_cluster[:, t]
        settings = draw_settings(rng, t, y, plan, sc, treated[:, t], effects)
        counts = spread_over_units(rng, plan, sc, spc, *settings)
        frames.append(register_rows(rng, y, plan, sc, spc, counts))
    return pd.concat(frames, ignore_index=True)


def draw_settings(rng, t: int, y: int, plan: RegisterPlan, sc, treated, effects: EffectTally):
    """Pupils per home cluster in the general setting, special classes and special schools."""
    size, seg_base, cluster_ids = plan.size, plan.seg_base, plan.cluster_ids
    k = len(cluster_ids)
    living = np.array([size[sc == c].sum() for c in range(k)]) * rng.lognormal(0, 0.02, k)
    pupils_c = np.rint(living / (1 - seg_base)).astype(np.int64)
    p_seg = seg_base * (1 - 0.01 * (t - 4))  # slowly more inclusion everywhere
    u = rng.random(k)
    seg_with = binom.ppf(u, pupils_c, np.clip(p_seg - INCLUSION_EFFECT * treated, 0, 1))
    seg_without = binom.ppf(u, pupils_c, p_seg)
    for c in np.flatnonzero(treated):
        effects.add(
            "inklusionsgrad",
            "all",
            cluster_ids[c],
            y,
            1 - seg_with[c] / pupils_c[c],
            1 - seg_without[c] / pupils_c[c],
        )
    seg = seg_with.astype(np.int64)
    in_class = rng.binomial(seg, 0.6)
    in_school = seg - in_class
    general = pupils_c - seg
    return general, in_class, in_school


def spread_over_units(rng, plan: RegisterPlan, sc, spc, general, in_class, in_school):
    """(home cluster x unit) counts: mostly the own cluster's schools, special classes at hosts."""
    size, hosts, k = plan.size, plan.hosts, len(plan.cluster_ids)
    own = (sc[None, :] == np.arange(k)[:, None]).astype(float)
    weights = size[None, :] * (
        0.88 * own / own.sum(1, keepdims=True).clip(1) / size.mean()
        + 0.12 * (1 - own) / (1 - own).sum(1, keepdims=True).clip(1) / size.mean()
    )
    general_cs = multinomial_rows(rng, general, weights)
    host_own = own * hosts[None, :]
    host_own[host_own.sum(1) == 0] = own[host_own.sum(1) == 0]
    host_other = (1 - own) * hosts[None, :] + 1e-9
    class_weights = 0.75 * host_own / host_own.sum(
        1, keepdims=True
    ) + 0.25 * host_other / host_other.sum(1, keepdims=True)
    class_cs = multinomial_rows(rng, in_class, class_weights)
    sp_own = (spc[None, :] == np.arange(k)[:, None]).astype(float)
    sp_weights = 0.2 + 0.8 * sp_own
    school_cs = multinomial_rows(rng, in_school, sp_weights)
    return general_cs, class_cs, school_cs


def multinomial_rows(rng, counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each row's count over columns in proportion to the row's weights."""
    p = weights / weights.sum(axis=1, keepdims=True)
    return rng.multinomial(counts, p)


def register_rows(rng, y: int, plan: RegisterPlan, sc, spc, counts) -> pd.DataFrame:
    """Turn the (home cluster x unit) counts into register rows with absence and referrals."""
    schools, specials, cluster_ids = plan.schools, plan.specials, plan.cluster_ids
    absence_school, wait_base = plan.absence_school, plan.wait_base
    general_cs, class_cs, school_cs = counts
    k = len(cluster_ids)
    home = np.repeat(np.arange(k), len(schools) + len(specials))
    unit = np.tile(np.arange(len(schools) + len(specials)), k)
    gen = np.concatenate([general_cs, np.zeros((k, len(specials)), np.int64)], axis=1).ravel()
    cls = np.concatenate([class_cs, np.zeros((k, len(specials)), np.int64)], axis=1).ravel()
    sps = np.concatenate([np.zeros((k, len(schools)), np.int64), school_cs], axis=1).ravel()
    unit_cluster = np.concatenate([sc, spc])[unit]
    pupils = gen + cls + sps
    keep = pupils > 0
    home, unit, gen, cls, sps, pupils, unit_cluster = (
        a[keep] for a in (home, unit, gen, cls, sps, pupils, unit_cluster)
    )
    own = unit_cluster == home
    special = cls + sps
    is_special_school = unit >= len(schools)
    # absence: pupil-level gamma draws, summarised per row
    mean_abs = 6.6 * absence_school[unit] * np.where(is_special_school, 1.6, 1.0)
    mean_abs *= {2020: 1.15, 2021: 1.3, 2022: 1.2}.get(y, 1.0)
    pupil_row = np.repeat(np.arange(len(pupils)), pupils)
    absence = np.minimum(rng.gamma(1.8, (mean_abs / 1.8)[pupil_row]), 100.0)
    total = np.bincount(pupil_row, absence, len(pupils))
    sq = np.bincount(pupil_row, absence**2, len(pupils))
    mean = total / pupils
    sd = np.sqrt(np.maximum(sq / pupils - mean**2, 0) * pupils / np.maximum(pupils - 1, 1))
    over = np.bincount(pupil_row, absence > 10, len(pupils)).astype(np.int64)
    referrals = rng.poisson(pupils * 0.035)
    wait = wait_base[home] + rng.normal(0, 10, len(pupils)) / np.sqrt(np.maximum(referrals, 1))
    wait = np.where(referrals > 0, np.round(np.clip(wait, 3, 200) * 2) / 2, np.nan)
    units = np.array(schools + specials, dtype=object)
    return pd.DataFrame(
        {
            "year": y,
            "unit_id": units[unit],
            "home_cluster": np.array(cluster_ids, dtype=object)[home],
            "pupils": pupils,
            "in_general_setting": gen,
            "in_special_class": cls,
            "in_special_school": sps,
            "special_in_own_cluster": np.where(own, special, 0),
            "returned_to_general": rng.binomial(special, 0.1),
            "referrals": referrals,
            "median_wait_days": wait,
            "absence_pct": np.round(mean, 2),
            "absence_sd": np.round(sd, 2),
            "pupils_over_10pct_absence": over,
        }
    )


def simulate_daycare_language(rng, muni) -> pd.DataFrame:
    """Language assessments per daycare and year: generel, fokuseret and særlig indsats."""
    units = muni["units"][muni["units"].kind == "daycare"]
    n = len(units)
    p_focus = np.clip(rng.normal(0.085, 0.03, n), 0.01, 0.3)
    p_special = np.clip(rng.normal(0.04, 0.015, n), 0.0, 0.15)
    size = rng.uniform(12, 45, n)
    frames = []
    for y in YEARS:
        active = (units.first_year.to_numpy(dtype="float64") <= y) & (
            units.last_year.to_numpy(dtype="float64", na_value=np.inf) >= y
        )
        assessed = rng.poisson(size)[active]
        focus = rng.binomial(assessed, p_focus[active])
        special = rng.binomial(assessed - focus, p_special[active] / (1 - p_focus[active]))
        frames.append(
            pd.DataFrame(
                {
                    "year": y,
                    "unit_id": units.unit_id.to_numpy()[active],
                    "assessed": assessed,
                    "generel": assessed - focus - special,
                    "fokuseret": focus,
                    "saerlig": special,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
