"""Answer distributions of single survey questions for clusters and municipalities, protected.

The ministry's trivselsmåling pages and Panorama's item reports show, per question, how many
pupils gave each answer. Here the answers 1-5 are counted per question (reversed items turned so
5 is always the favourable end, as in evaluation/catalog.yaml), and "ønsker ikke at svare" (0) is
counted apart; skipped questions (NULL) do not count.

Privacy (DESIGN.md, Privacy; the same rule as `privacy.primary_failures` for a proportion): a
category's share is shown only where its count and its complement both reach min_n. Where one
does not, the category is merged with its smaller neighbour until every shown group passes; one
group left means no distribution is shown. Because a municipality is the sum of its clusters and
its unclustered units, every published distribution of one question and year uses one common
partition, and the unpublished rest (unclustered units plus any cluster too small to show) must
pass the rule too; while that rest is non-empty but smaller than 2 x min_n, the smallest shown
cluster is hidden as well (secondary suppression), so no hidden category is found by subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.values.aggregate import open_warehouse, read_membership_by_year, table_names

CATEGORIES = (1, 2, 3, 4, 5)
REFUSED = 0  # "ønsker ikke at svare"
REST = "_rest"  # the unpublished remainder of a municipality
MUNICIPALITY = "_municipality"  # the municipality's row inside one relation


@dataclass(frozen=True)
class Distribution:
    """What may be shown of one question for one cluster or municipality in one year."""

    n: int  # pupils answering 1-5
    groups: tuple[tuple[int, int], ...]  # (first, last) answer of each shown group; () = none
    shares: tuple[float, ...]  # share of the n per group
    refused_share: float | None  # share of all who saw the question; None = not shown
    merged: bool  # some categories were merged to keep groups of at least min_n


def group_counts(counts: np.ndarray, groups) -> np.ndarray:
    """Counts per group of adjacent answers; `counts` holds answers 1-5 in columns 0-4."""
    return np.array([counts[..., lo - 1 : hi].sum(axis=-1) for lo, hi in groups]).T


def failing_group(counts: np.ndarray, groups, min_n: int) -> int | None:
    """The first group whose count or complement is below min_n in any row, or None."""
    per_group = np.atleast_2d(group_counts(counts, groups))
    total = per_group.sum(axis=1, keepdims=True)
    bad = (per_group < min_n) | (total - per_group < min_n)
    columns = np.flatnonzero(bad.any(axis=0))
    return int(columns[0]) if len(columns) else None


def common_partition(counts: np.ndarray, min_n: int) -> tuple[tuple[int, int], ...]:
    """The finest partition of the answers 1-5 into adjacent groups in which every row of
    `counts` (rows: groups of pupils, columns: answers 1-5) passes the rule; () when only the
    whole remains. A failing group merges with its neighbour of fewer pupils (summed over rows)."""
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    groups = [(c, c) for c in CATEGORIES]
    while len(groups) > 1:
        bad = failing_group(counts, groups, min_n)
        if bad is None:
            return tuple(groups)
        sizes = group_counts(counts, groups).sum(axis=0)
        if bad == 0:
            other = 1
        elif bad == len(groups) - 1:
            other = bad - 1
        else:
            other = bad - 1 if sizes[bad - 1] <= sizes[bad + 1] else bad + 1
        first, second = sorted((bad, other))
        groups[first : second + 1] = [(groups[first][0], groups[second][1])]
    return ()


def protect_relation(counts: pd.DataFrame, min_n: int) -> dict[str, Distribution]:
    """Distributions of one municipality's clusters and the municipality itself for one question
    and year. `counts`: index = entity (cluster ids, the municipality, REST), columns 0-5."""
    counts = counts.reindex(columns=[REFUSED, *CATEGORIES], fill_value=0).astype(float)
    answering = counts[list(CATEGORIES)].sum(axis=1)
    clusters = [e for e in counts.index if e not in (REST, MUNICIPALITY)]
    hidden = {e for e in clusters if answering[e] < 2 * min_n}
    rest = counts.loc[[REST]].sum() if REST in counts.index else counts.iloc[0] * 0

    def remainder() -> pd.Series:
        return rest + counts.loc[sorted(hidden)].sum() if hidden else rest

    shown = [e for e in clusters if e not in hidden]
    while 0 < remainder()[list(CATEGORIES)].sum() < 2 * min_n and shown:
        smallest = min(shown, key=lambda e: (answering[e], e))
        hidden.add(smallest)
        shown.remove(smallest)
    checked = counts.loc[[*shown, MUNICIPALITY]].copy()
    left = remainder()
    if left[list(CATEGORIES)].sum() > 0:
        if left[list(CATEGORIES)].sum() < 2 * min_n:
            return {}  # nothing left to hide: the municipality would reveal the rest
        checked.loc[REST] = left
    groups = common_partition(checked[list(CATEGORIES)].to_numpy(), min_n)
    refused = checked[REFUSED]
    everyone = refused + checked[list(CATEGORIES)].sum(axis=1)
    refused_ok = bool(((refused >= min_n) & (everyone - refused >= min_n)).all())
    out = {}
    for entity in [*shown, MUNICIPALITY]:
        row = checked.loc[entity]
        n = int(row[list(CATEGORIES)].sum())
        per_group = group_counts(row[list(CATEGORIES)].to_numpy(), groups) if groups else []
        out[entity] = Distribution(
            n=n,
            groups=groups,
            shares=tuple(float(c) / n for c in per_group),
            refused_share=float(row[REFUSED] / everyone[entity]) if refused_ok else None,
            merged=len(groups) < len(CATEGORIES),
        )
    return out


def count_answers(con_or_path, items, grades, years) -> pd.DataFrame:
    """Pupils per year, unit, item and answer (0-5; skipped answers are not counted)."""
    con, opened = open_warehouse(con_or_path)
    try:
        if "responses" not in table_names(con) or not items:
            return pd.DataFrame(columns=["year", "unit_id", "item", "answer", "pupils"])
        columns = ", ".join(items)
        grade_list = ", ".join(str(int(g)) for g in grades)
        year_list = ", ".join(str(int(y)) for y in years)
        return con.execute(
            f"""
            SELECT year, unit_id, item, answer::INTEGER AS answer, count(*) AS pupils
            FROM (UNPIVOT (SELECT year, unit_id, {columns} FROM responses
                           WHERE grade IN ({grade_list}) AND year IN ({year_list}))
                  ON {columns} INTO NAME item VALUE answer)
            GROUP BY ALL
            """
        ).df()
    finally:
        if opened:
            con.close()


def answer_distributions(
    con_or_path, catalog, band: str, items, years, municipality: str, min_n: int
) -> dict:
    """{(year, item): {cluster_id or MUNICIPALITY: Distribution}} for one municipality.

    Reversed items are turned (x -> 6 - x) so 5 is always the favourable answer."""
    form = catalog.forms[band]
    raw = count_answers(con_or_path, list(items), form.grades, years)
    con, opened = open_warehouse(con_or_path)
    try:
        tables = table_names(con)
        units = con.execute("SELECT unit_id, municipality FROM units").df()
        membership = read_membership_by_year(con, tables, list(years))
    finally:
        if opened:
            con.close()
    mine = set(units.loc[units["municipality"] == municipality, "unit_id"])
    raw = raw[raw["unit_id"].isin(mine)].merge(membership, on=["year", "unit_id"], how="left")
    reverse = raw["item"].map(lambda q: form.items[q].reverse)
    raw["answer"] = np.where(reverse & (raw["answer"] > 0), 6 - raw["answer"], raw["answer"])
    raw["entity"] = raw["cluster_id"].fillna(REST)
    out = {}
    # entity x answer per question and year: one groupby for all, not a pivot_table each
    summed = raw.groupby(["year", "item", "entity", "answer"])["pupils"].sum()
    for (year, item), part in summed.groupby(level=["year", "item"]):
        table = part.droplevel(["year", "item"]).unstack("answer")
        table.loc[MUNICIPALITY] = table.sum()
        out[(int(year), str(item))] = protect_relation(table.fillna(0), min_n)
    return out
