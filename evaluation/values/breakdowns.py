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


def remainder_fails(cells: pd.DataFrame, hidden: pd.Series, kind: str, min_n: int) -> bool:
    """Whether the hidden cells of one sum, taken together, are non-empty and break the rule."""
    n, numerator = cells.loc[hidden, "n"].sum(), cells.loc[hidden, "s1"].sum()
    return n > 0 and fails(n, numerator, kind, min_n)


def hide_smallest(hidden: pd.Series, cells: pd.DataFrame, candidates) -> bool:
    """Hide the shown candidate with the fewest pupils; False when none is left."""
    shown = [c for c in candidates if not hidden[c]]
    if not shown:
        return False
    hidden[min(shown, key=lambda c: (cells.loc[c, "n"], str(c)))] = True
    return True


def protect_dimension(table: pd.DataFrame, kind: str, min_n: int, hidden_totals) -> pd.Series:
    """Which cells of one indicator and dimension are hidden. `table`: index (entity, part),
    columns n and s1; rows of REST and of the part UNKNOWN are never shown."""
    entity = table.index.get_level_values(0)
    part = table.index.get_level_values(1)
    hidden = pd.Series(
        [fails(r.n, r.s1, kind, min_n) for r in table.itertuples()], index=table.index
    )
    hidden |= (entity == REST) | (part == UNKNOWN) | entity.isin(list(hidden_totals))
    changed = True
    while changed:
        changed = False
        for name in entity.unique():  # the entity's total = its parts
            cells = list(table.index[entity == name])
            if remainder_fails(table.loc[cells], hidden.loc[cells], kind, min_n):
                changed |= hide_smallest(hidden, table, cells)
        for name in part.unique():  # the municipality's part = the clusters' parts + rest
            pieces = list(table.index[(part == name) & (entity != MUNICIPALITY)])
            whole = [(MUNICIPALITY, name)] if (MUNICIPALITY, name) in table.index else []
            if remainder_fails(table.loc[pieces], hidden.loc[pieces], kind, min_n):
                changed |= hide_smallest(hidden, table, pieces) or hide_smallest(
                    hidden, table, whole
                )
    return hidden


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
