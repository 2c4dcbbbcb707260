"""Bounds attacks on hidden cells: how far a relation's published figures narrow a hidden cell.

Secondary suppression (evaluation.values.privacy) makes sure no relation holds exactly one
hidden cell, so no hidden cell is found by subtraction alone. Subtraction still gives the pool
of the hidden cells of a relation (parent minus its published children: their total n, and their
total sum or numerator), and every answer lies on the scale. When the pool sits at a scale end
the cells in it are pinned: 4 and 6 respondents whose pooled mean is 1.00 all answered 1
(issue #18). This module computes, per relation with a published parent, the feasible range of
each hidden cell that failed the primary rule, with the attacker knowing the exact pool and every
cell's n (a conservative assumption: n of hidden cells is not published):

- a mean or rate with n_i of a pool (n_H, S_H) on the scale [L, U]: its sum lies in
  [max(L n_i, S_H - U (n_H - n_i)), min(U n_i, S_H - L (n_H - n_i))]; the range of its mean must
  stay at least one scale point wide (or span the whole scale, if that is narrower);
- a proportion with n_i of a pool (n_H, numerator x_H): its numerator lies in
  [max(0, x_H - (n_H - n_i)), min(n_i, x_H)]; the small count (numerator, or complement, below
  min_n) must still range over all of 0 .. min(min_n - 1, n_i).

A relation that breaks this is reported, so suppression can hide one more cell of it (the
published child with the smallest n, else the parent), which widens the pool. Medians are not
additive, so no pool exists for them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.catalog import SCALE_BY_KIND

ONE_SCALE_POINT = 1.0  # a hidden mean (1-5 index, absence in %) may be narrowed to no less
POOLED_KINDS = ("mean", "rate", "proportion")
TOLERANCE = 1e-9


def narrowed_relations(
    values: pd.DataFrame,
    relations: pd.DataFrame,
    hidden: np.ndarray,
    primary: np.ndarray,
    min_n: int,
) -> np.ndarray:
    """Relation ids in which a hidden cell that fails the primary rule is narrowed too far."""
    cells = pool_cells(values, relations, hidden)
    if cells.empty:
        return np.array([], dtype=int)
    cells = cells[primary[cells["pos"].to_numpy()]]
    bad = [
        rel
        for rel, row in zip(cells["relation"], cells.itertuples(), strict=True)
        if too_narrow(row, min_n)
    ]
    return np.unique(np.asarray(bad, dtype=int))


def pool_cells(values: pd.DataFrame, relations: pd.DataFrame, hidden: np.ndarray) -> pd.DataFrame:
    """One row per hidden child of a relation with a published parent: relation, pos, kind,
    its n and numerator, the pool's n_H and total (sum of values, or numerator), all from the
    exact figures (the rows' numbers before they are blanked)."""
    n = pd.to_numeric(values["n"]).astype("Float64").fillna(0).to_numpy(float)
    value = pd.to_numeric(values["value"]).astype("Float64").fillna(0).to_numpy(float)
    numerator = pd.to_numeric(values["numerator"]).astype("Float64").fillna(0).to_numpy(float)
    kind = values["kind"].astype(object).to_numpy()
    is_prop = kind == "proportion"
    total = np.where(is_prop, numerator, n * value)
    pos = relations["pos"].to_numpy()
    rel = relations.assign(
        hidden=hidden[pos],
        n=n[pos],
        total=total[pos],
        own=numerator[pos],
        kind=kind[pos],
        parent=relations["role"] == 1,
    )
    parents = rel[rel["parent"] & ~rel["hidden"]].drop_duplicates("relation")
    children = rel[~rel["parent"] & rel["relation"].isin(parents["relation"])]
    children = children[np.isin(children["kind"].to_numpy(), POOLED_KINDS)]
    shown = children[~children["hidden"]].groupby("relation")[["n", "total"]].sum()
    pool = parents.set_index("relation")[["n", "total"]].sub(shown, fill_value=0)
    pool.columns = ["n_pool", "total_pool"]
    cells = children[children["hidden"]].join(pool, on="relation")
    cells = pd.concat([cells, hidden_descendants(rel, cells)], ignore_index=True)
    cells = cells.rename(columns={"n": "n_cell", "own": "numerator"})
    return cells[["relation", "pos", "kind", "n_cell", "numerator", "n_pool", "total_pool"]]


def hidden_descendants(rel: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """The hidden children of hidden pool cells (a hidden cluster's hidden units), as cells of
    the same pool: a pool is a disjoint union of answers, so a cell inside a cell of the pool is
    bounded by the pool's total just the same (a municipality minus its published clusters
    bounds each hidden unit of its hidden clusters)."""
    parent_of = rel[rel["parent"]][["relation", "pos"]].rename(
        columns={"relation": "inner", "pos": "outer_pos"}
    )
    inner = rel[~rel["parent"] & rel["hidden"]].merge(
        parent_of, left_on="relation", right_on="inner"
    )
    inner = inner.drop(columns=["relation", "inner"])
    pools = cells[["relation", "pos", "n_pool", "total_pool"]].rename(columns={"pos": "outer_pos"})
    found = inner.merge(pools, on="outer_pos").drop(columns="outer_pos")
    return found.drop_duplicates(["relation", "pos"])


def feasible_range(kind: str, n_cell: float, n_pool: float, total_pool: float):
    """(low, high) of the cell's sum (mean, rate) or numerator (proportion) given its pool."""
    rest = n_pool - n_cell
    if kind == "proportion":
        return max(0.0, total_pool - rest), min(n_cell, total_pool)
    low, high = SCALE_BY_KIND[kind]
    return max(low * n_cell, total_pool - high * rest), min(high * n_cell, total_pool - low * rest)


def too_narrow(cell, min_n: int) -> bool:
    """True when the pool narrows this hidden cell more than the protection rule allows."""
    if cell.n_cell <= 0:
        return False
    low, high = feasible_range(cell.kind, cell.n_cell, cell.n_pool, cell.total_pool)
    if cell.kind == "proportion":
        small = min(min_n - 1, cell.n_cell)
        if cell.numerator < min_n:  # the numerator is the small count
            return not (low <= TOLERANCE and high >= small - TOLERANCE)
        return not (high >= cell.n_cell - TOLERANCE and low <= cell.n_cell - small + TOLERANCE)
    scale_low, scale_high = SCALE_BY_KIND[cell.kind]
    needed = min(ONE_SCALE_POINT, scale_high - scale_low)
    return (high - low) / cell.n_cell < needed - TOLERANCE


def pinned_relations(values: pd.DataFrame, relations: pd.DataFrame, hidden: np.ndarray):
    """Relation ids whose hidden pool sits at a scale end, from published figures alone: every
    hidden cell in it then has that value (a mean of 1.00, a share of 0 % or 100 %), whatever
    their sizes. The leak finder's check on a published table (no hidden n needed)."""
    cells = pool_cells(values, relations, hidden).drop_duplicates("relation")
    cells = cells[cells["n_pool"] > TOLERANCE]
    pinned = []
    for row in cells.itertuples(index=False):
        if row.kind == "proportion":
            low, high = 0.0, row.n_pool
            at = row.total_pool
        else:
            low, high = SCALE_BY_KIND[row.kind]
            at = row.total_pool / row.n_pool
        if min(abs(at - low), abs(at - high)) <= 1e-6 * max(1.0, abs(high - low)):
            pinned.append(row.relation)
    return np.asarray(pinned, dtype=int)
