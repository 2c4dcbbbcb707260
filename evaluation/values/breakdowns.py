"""Survey indicators of grades 4-9 split by grade band (mellemtrin 4-6, udskoling 7-9) and, where
the answers carry the optional `gender` column, by gender, per cluster and for the municipality.

The ministry's trivselsmåling pages split by klassetrin and køn; the same pupil scores as the
main figures are used (`evaluation.values.scores`), summed per group.

Privacy (DESIGN.md, Privacy): the primary rule of `privacy.primary_failures` holds for every part.
A part is also a piece of two sums: the cluster's total is the sum of its parts (for gender plus
the pupils without a gender, never shown), and the municipality's part is the sum of the
clusters' parts plus the unclustered units' (never shown). In each such sum the hidden pieces
together must be empty or pass the primary rule themselves, otherwise the smallest shown piece
is hidden too (for the municipality's sum: the smallest cluster, then the municipality), until
every sum holds. So a band shown beside the shown total while the other band is hidden, which
would reveal it by subtraction, is hidden as well. A cluster whose total is hidden in the
published values shows no parts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.values.aggregate import open_warehouse, read_membership_by_year, table_names
from evaluation.values.distributions import MUNICIPALITY, REST
from evaluation.values.scores import answers_from_frame, score_arrays

BANDS = {"4-6": (4, 5, 6), "7-9": (7, 8, 9)}
GENDERS = {"girl": "girl", "pige": "girl", "boy": "boy", "dreng": "boy"}
UNKNOWN = "unknown"  # pupils without a gender: a part of the total, never shown
DIMENSIONS = {"band": ("4-6", "7-9"), "gender": ("girl", "boy", UNKNOWN)}


def read_pupils(con, year: int, municipality: str) -> pd.DataFrame:
    """The year's answers of the municipality's units, with each pupil's cluster (or REST)."""
    tables = table_names(con)
    columns = [r[1] for r in con.execute("PRAGMA table_info('responses')").fetchall()]
    gender = "" if "gender" in columns else ", NULL AS gender"  # a file without the column
    pupils = con.execute(
        f"SELECT r.*{gender} FROM responses r JOIN units u USING (unit_id) "
        "WHERE r.year = ? AND u.municipality = ?",
        [year, municipality],
    ).df()
    membership = read_membership_by_year(con, tables, [year])
    pupils = pupils.merge(membership, on=["year", "unit_id"], how="left")
    pupils["entity"] = pupils["cluster_id"].fillna(REST)
    return pupils


def part_stats(con_or_path, catalog, indicator_ids, year: int, municipality: str):
    """Per entity, dimension, part and indicator: n, numerator (s1) and sum of squares (s2)."""
    con, opened = open_warehouse(con_or_path)
    try:
        if "responses" not in table_names(con):
            return pd.DataFrame()
        pupils = read_pupils(con, year, municipality)
    finally:
        if opened:
            con.close()
    scores = score_arrays(answers_from_frame(pupils), pupils["grade"].to_numpy(), catalog)
    band = np.select(
        [pupils["grade"].isin(g) for g in BANDS.values()], list(BANDS), default="other"
    )
    gender = pupils["gender"].astype(str).str.strip().str.lower().map(GENDERS).fillna(UNKNOWN)
    frames = []
    for ind_id in indicator_ids:
        x = scores[ind_id]
        frame = pd.DataFrame({"entity": pupils["entity"], "x": x}).assign(
            n=~np.isnan(x), s1=np.nan_to_num(x), s2=np.nan_to_num(x) ** 2
        )
        for dimension, part in (("band", band), ("gender", gender.to_numpy())):
            sums = frame.assign(part=part).groupby(["entity", "part"])[["n", "s1", "s2"]].sum()
            sums = sums.reset_index().assign(dimension=dimension, indicator_id=ind_id)
            frames.append(sums)
    stats = pd.concat(frames, ignore_index=True)
    whole = stats.groupby(["dimension", "part", "indicator_id"], as_index=False)[
        ["n", "s1", "s2"]
    ].sum()
    return pd.concat([stats, whole.assign(entity=MUNICIPALITY)], ignore_index=True)


def fails(n: float, numerator: float, kind: str, min_n: int) -> bool:
    """The primary rule for a group that is not empty (privacy.primary_failures)."""
    if kind == "proportion":
        return numerator < min_n or n - numerator < min_n
    return n < min_n


def sums_of(entity: np.ndarray, part: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each sum as (positions of its pieces, positions that may stand in for them when no piece
    is left): an entity's total over its parts (nothing stands in: the total is published
    elsewhere), and the municipality's part over the clusters and the rest (the municipality's
    cell stands in)."""
    sums = [(np.flatnonzero(entity == e), np.array([], int)) for e in pd.unique(entity)]
    for name in pd.unique(part):
        pieces = np.flatnonzero((part == name) & (entity != MUNICIPALITY))
        sums.append((pieces, np.flatnonzero((part == name) & (entity == MUNICIPALITY))))
    return sums


def protect_dimension(table: pd.DataFrame, kind: str, min_n: int, hidden_totals) -> pd.Series:
    """Which cells of one indicator and dimension are hidden. `table`: index (entity, part),
    columns n and s1; rows of REST and of the part UNKNOWN are never shown."""
    entity = table.index.get_level_values(0).to_numpy(object)
    part = table.index.get_level_values(1).to_numpy(object)
    n, s1 = table["n"].to_numpy(float), table["s1"].to_numpy(float)
    hidden = np.array([fails(a, b, kind, min_n) for a, b in zip(n, s1, strict=True)], bool)
    hidden |= (entity == REST) | (part == UNKNOWN) | np.isin(entity, list(hidden_totals))
    sums = sums_of(entity, part)
    changed = True
    while changed:
        changed = False
        for pieces, stand_in in sums:
            gone = pieces[hidden[pieces]]
            if n[gone].sum() == 0 or not fails(n[gone].sum(), s1[gone].sum(), kind, min_n):
                continue
            for candidates in (pieces, stand_in):
                shown = candidates[~hidden[candidates]]
                if len(shown):
                    hidden[shown[np.argmin(n[shown])]] = True
                    changed = True
                    break
    return pd.Series(hidden, index=table.index)


def protected_breakdowns(stats: pd.DataFrame, catalog, min_n: int, hidden_totals=()):
    """The shown parts: entity, dimension, part, indicator_id, n, value, se (hidden ones: NaN).

    `hidden_totals`: (indicator_id, entity) pairs whose total is hidden in the published values.
    """
    out = []
    hidden_totals = set(hidden_totals)
    for (ind_id, dimension), group in stats.groupby(["indicator_id", "dimension"]):
        kind = catalog.get(ind_id).kind
        table = group.set_index(["entity", "part"])[["n", "s1", "s2"]].astype(float)
        table = table[table.index.get_level_values(1).isin(DIMENSIONS[dimension])]
        totals = {e for i, e in hidden_totals if i == ind_id}
        hidden = protect_dimension(table, kind, min_n, totals)
        n, s1, s2 = table["n"], table["s1"], table["s2"]
        value = s1 / n
        if kind == "proportion":
            se = np.sqrt(value * (1 - value) / n)
        else:
            se = np.sqrt(((s2 - s1 * s1 / n) / (n - 1)).clip(lower=0) / n)
        shown = table.assign(value=value.mask(hidden), se=se.mask(hidden), n=n.mask(hidden))
        shown = shown[~shown.index.get_level_values(0).isin([REST])]
        shown = shown[shown.index.get_level_values(1) != UNKNOWN].reset_index()
        out.append(shown.assign(indicator_id=ind_id, dimension=dimension))
    if not out:
        return pd.DataFrame(
            columns=["entity", "part", "indicator_id", "dimension", "n", "value", "se"]
        )
    columns = ["entity", "part", "indicator_id", "dimension", "n", "value", "se"]
    return pd.concat(out, ignore_index=True)[columns]
