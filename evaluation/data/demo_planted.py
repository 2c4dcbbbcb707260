"""Planted findings of the demo: clear cluster changes and schools far from the others (#13).

A meeting needs something to talk about. In each municipality with two or more clusters outside
the effort, one of them moves clearly up and one clearly down in the last survey year: a latent
shift on the items of the effort's indicators (4-9 form), so neither the effort's truth (its
clusters are not touched), the placebo (ro og orden) nor the decisions' targets move. In each
municipality with six or more schools, two of the larger half, in clusters without a planted
change, lie far above and below the others in every year (their school effect is set to
+-OUTLIER_EFFECT, acting on every item). Both are drawn from their own
random stream and written to the truth sidecar (`cluster_changes`, `outlier_schools`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.data.demo_layout import YEARS, EffectTally

CHANGE_STREAM = 0x43  # the third element of the planted findings' random seed sequence

CLUSTER_CHANGE = 0.12  # latent shift of a planted cluster change (about 0.12 on the index)

OUTLIER_EFFECT = 0.45  # a planted school's latent effect (sd 0.10 for the others): about 0.4
# from the mean on the index, inside the real range (social trivsel 3.3-4.6, 1 %-99 %: 3.6-4.3)

MIN_SCHOOLS_FOR_OUTLIERS = 6


@dataclass(frozen=True)
class Planted:
    """The planted changes (sidecar rows), the far schools' index and their latent effect."""

    changes: list[dict]
    outlier_index: np.ndarray
    outlier_effect: np.ndarray


def plant_findings(
    rng: np.random.Generator,
    muni: dict[str, pd.DataFrame],
    grade_size: np.ndarray,
    indicators: list[str],
    year: int,
    effects: EffectTally,
) -> Planted:
    """Choose the changing clusters and the far schools; record them in `effects`. A school
    that ever belonged to a changing cluster is not chosen, so findings do not pile up."""
    programme = muni["cluster_programme"]
    cluster_ids = muni["clusters"].cluster_id.tolist()
    outside = np.flatnonzero(programme.start_year.isna().to_numpy())
    changes = []
    if len(outside) >= 2:
        for c, sign in zip(rng.permutation(outside)[:2], (1, -1), strict=True):
            changes.append(
                {
                    "cluster_id": cluster_ids[c],
                    "year": year,
                    "indicators": list(indicators),
                    "latent_shift": sign * CLUSTER_CHANGE,
                }
            )
    effects.cluster_changes += changes
    units = muni["units"]
    schools = units.unit_id[units.kind == "school"].tolist()
    if len(schools) < MIN_SCHOOLS_FOR_OUTLIERS:
        return Planted(changes, np.array([], np.int64), np.array([]))
    changed = {c["cluster_id"] for c in changes}
    members = muni["cluster_membership"]
    touched = set(members.unit_id[members.cluster_id.isin(changed)])
    calm = np.array([u not in touched for u in schools])
    larger = np.flatnonzero((grade_size >= np.median(grade_size)) & calm)
    if len(larger) < 2:  # a small municipality: its larger schools are in the changing clusters
        return Planted(changes, np.array([], np.int64), np.array([]))
    index = rng.choice(larger, 2, replace=False)
    effect = np.array([OUTLIER_EFFECT, -OUTLIER_EFFECT])
    effects.outlier_schools += [
        {"unit_id": schools[s], "school_effect": float(v)}
        for s, v in zip(index, effect, strict=True)
    ]
    return Planted(changes, index, effect)


def change_shifts(
    changes: list[dict], indicators: list[dict], models: dict, cluster_ids: list[str]
) -> dict[str, np.ndarray]:
    """Per form: the latent shift of each cluster, year and item from the planted changes
    (only the 4-9 form holds the effort's indicators)."""
    if not changes:
        return {}
    model = models["4-9"]
    shift = np.zeros((len(cluster_ids), len(YEARS), len(model.items)), np.float32)
    for change in changes:
        items = {q for i in indicators if i["id"] in change["indicators"] for q in i["items"]}
        columns = [model.items.index(q) for q in sorted(items)]
        c, t = cluster_ids.index(change["cluster_id"]), change["year"] - YEARS[0]
        shift[c, t, columns] += np.float32(change["latent_shift"])
    return {"4-9": shift}


def change_level(level: np.ndarray, cluster: np.ndarray, shift: np.ndarray, year: int):
    """Each pupil's level per item: the own level plus the cluster's planted change that year."""
    return level[:, None] + shift[cluster, year - YEARS[0]]
