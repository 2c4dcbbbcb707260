"""How strongly a group's survey means of two years are tied by the pupils who answered in both.

Grades 4-9 overlap across years, so a cluster's "before" and "now" means share pupils and are
positively correlated. Per survey indicator, group (unit or cluster) and pair of years this
module gives Cov(mean_before, mean_now) = n_common c / (n_before n_now) of the group and of the
rest of its municipality (evaluation.stats.followup.overlap_covariance: Kish 1965, ch. 12). Pupils
are matched on the warehouse's pupil_key; a pupil counts as common to a group when they are in
it both years (the rest: in the municipality both years and in the group neither). Only these
covariances of means leave the module, never a pupil's value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.catalog import ITEM_COLUMNS, Catalog, load_catalog
from evaluation.files import hash_file
from evaluation.stats import followup
from evaluation.values import aggregate, load
from evaluation.values.scores import score_arrays

COVARIANCE_COLUMNS = [
    "indicator_id", "level", "entity_id", "year_from", "year_to", "covariance", "rest_covariance",
]  # fmt: skip
LEVEL_KEYS = {"unit": "unit_id", "cluster": "cluster_id"}


@dataclass(frozen=True)
class Year:
    """One year's answers as arrays: pupil code (-1 = no usable key), scores (answer x
    indicator, NaN = not counted), group codes per level and the municipality code (-1 = none)."""

    year: int
    pupil: np.ndarray
    scores: np.ndarray
    groups: dict
    municipality: np.ndarray
    counted: dict  # per level and "municipality": answers counted per group and indicator


def load_overlap_covariances(warehouse_path) -> pd.DataFrame:
    """overlap_covariances of a warehouse, cached beside its indicator values (the key of
    evaluation.values.load plus this module's and the formula's code): every report of a run
    reads the same table. The cache holds covariances of means only, no pupil row."""
    path = Path(warehouse_path)
    cache = load.find_cached_values(path, min_n=0)
    if cache is not None:
        code = "".join(hash_file(Path(f)) for f in (__file__, followup.__file__))
        digest = hashlib.sha256((code + cache.name).encode()).hexdigest()[:24]
        cache = cache.with_name(f"overlap-{digest}.parquet")
        if cache.is_file():
            return load.read_cached_values(cache)
    covariances = overlap_covariances(path)
    if cache is not None:
        load.write_cached_values(covariances, cache)
    return covariances


def overlap_covariances(con_or_path=None, catalog: Catalog | None = None) -> pd.DataFrame:
    """COVARIANCE_COLUMNS for every survey indicator, unit and cluster and pair of years with
    pupils in common; empty when the answers carry no pupil_key."""
    catalog = catalog or load_catalog()
    con, opened = aggregate.open_warehouse(con_or_path)
    try:
        tables = aggregate.table_names(con)
        if "responses" not in tables:
            return pd.DataFrame(columns=COVARIANCE_COLUMNS)
        pupils = pupil_scores(con, catalog)
        years = sorted(int(y) for y in pupils["year"].unique())
        pupils = pupils.merge(aggregate.read_units(con, tables), on="unit_id", how="left")
        membership = aggregate.read_membership_by_year(con, tables, years)
    finally:
        if opened:
            con.close()
    pupils = pupils.merge(membership, on=["year", "unit_id"], how="left")
    return covariances_from_pupils(pupils, [ind.id for ind in catalog.from_source("survey")])


def covariances_from_pupils(pupils: pd.DataFrame, indicators: list[str]) -> pd.DataFrame:
    """COVARIANCE_COLUMNS from pupil rows (year, unit_id, cluster_id, municipality, pupil_key
    and one score column per indicator, NaN = not counted)."""
    years = sorted(int(y) for y in pupils["year"].unique())
    labels, by_year = year_arrays(pupils, indicators, years)
    frames = [
        pair_covariances(by_year[b], by_year[a], labels, indicators)
        for b, a in combinations(years, 2)
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=COVARIANCE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[COVARIANCE_COLUMNS]


def pupil_scores(con, catalog: Catalog) -> pd.DataFrame:
    """Per answer: year, unit_id, pupil_key and the scores (every answer counts in n)."""
    items = ", ".join(f"coalesce({q}, 0)::UTINYINT AS {q}" for q in ITEM_COLUMNS)
    frame = con.execute(
        f"SELECT year, unit_id, pupil_key, grade::TINYINT AS grade, {items} FROM responses"
    ).df()
    answers = {q: frame[q].to_numpy(dtype=np.uint8) for q in ITEM_COLUMNS}
    scores = score_arrays(answers, frame["grade"].to_numpy(), catalog)
    return pd.concat([frame[["year", "unit_id", "pupil_key"]], pd.DataFrame(scores)], axis=1)


def year_arrays(pupils: pd.DataFrame, indicators: list[str], years: list[int]):
    """(labels per level and of the municipalities, {year: Year}); a pupil_key that is empty or
    twice in one year cannot be matched and gets code -1."""
    key = pupils["pupil_key"].where(pupils["pupil_key"] != "")
    pupil = pd.factorize(key)[0]
    pupil[pupils.duplicated(["year", "pupil_key"], keep=False).to_numpy()] = -1
    codes, labels = {}, {}
    for level, column in [*LEVEL_KEYS.items(), ("municipality", "municipality")]:
        codes[level], labels[level] = pd.factorize(pupils[column])
    scores = pupils[indicators].to_numpy(float)
    by_year = {}
    for year in years:
        rows = (pupils["year"] == year).to_numpy()
        groups = {level: codes[level][rows] for level in [*LEVEL_KEYS, "municipality"]}
        valid = ~np.isnan(scores[rows]) * 1.0
        counted = {g: group_sum(valid, groups[g], len(labels[g])) for g in groups}
        municipality = groups.pop("municipality")
        by_year[year] = Year(year, pupil[rows], scores[rows], groups, municipality, counted)
    return labels, by_year


def group_sum(values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    """Row sums of `values` per code 0..size-1 (code -1 left out).

    A sparse 0/1 matrix (group x row) times `values`: scipy adds each group's rows in their
    order, one after another from 0, as np.bincount per column does, so the sums are the same
    to the last bit, in one pass over the rows instead of one per column (issue 17)."""
    from scipy import sparse  # why: scipy loads only when covariances are computed

    keep = np.flatnonzero(codes >= 0)
    if values.shape[1] == 0:
        return np.zeros((size, 0))
    ones = np.ones(keep.size)
    groups = sparse.csr_matrix((ones, (codes[keep], keep)), shape=(size, len(codes)))
    return np.asarray(groups @ values, dtype=float)


def pair_covariances(before: Year, now: Year, labels: dict, indicators: list[str]):
    """The rows of one pair of years (before, now) for both levels."""
    matched_b = np.flatnonzero(before.pupil >= 0)
    matched_a = np.flatnonzero(now.pupil >= 0)
    _, i_b, i_a = np.intersect1d(before.pupil[matched_b], now.pupil[matched_a], return_indices=True)
    i_b, i_a = matched_b[i_b], matched_a[i_a]
    muni = before.municipality[i_b]
    stays = (muni >= 0) & (muni == now.municipality[i_a])
    i_b, i_a, muni = i_b[stays], i_a[stays], muni[stays]
    if i_b.size == 0:
        return pd.DataFrame(columns=COVARIANCE_COLUMNS)
    sums = product_sums(before.scores[i_b], now.scores[i_a])
    whole = group_sum(sums, muni, len(labels["municipality"]))
    frames = []
    for level in LEVEL_KEYS:
        common = (before.groups[level][i_b], now.groups[level][i_a])
        frames.append(level_rows(before, now, level, common, sums, whole, labels, indicators))
    return pd.concat(frames, ignore_index=True).assign(year_from=before.year, year_to=now.year)


def product_sums(x_b: np.ndarray, x_a: np.ndarray) -> np.ndarray:
    """Per common pupil, per indicator blocks: counted (valid both years), x_b, x_a, x_b x_a
    (0 when not counted)."""
    ok = ~np.isnan(x_b) & ~np.isnan(x_a)
    x_b, x_a = np.where(ok, x_b, 0.0), np.where(ok, x_a, 0.0)
    return np.hstack([ok * 1.0, x_b, x_a, x_b * x_a])


def level_rows(before, now, level, common, sums, whole, labels, indicators) -> pd.DataFrame:
    """The group's and its rest's covariance for the groups of `level` with pupils common to
    both years (rest = the municipality's common pupils in the group neither year)."""
    size, k = len(labels[level]), len(indicators)
    g_b, g_a = common
    stay = g_b == g_a
    same = group_sum(sums[stay], g_b[stay], size)
    rest = group_sum(sums, g_b, size) + group_sum(sums, g_a, size) - same
    muni_of = municipality_of(before, level, size)
    rest = whole[muni_of] - rest
    counted = [y.counted[level] for y in (before, now)]
    whole_counted = [y.counted["municipality"][muni_of] for y in (before, now)]
    own = covariance_of(same, k, *counted)
    others = covariance_of(rest, k, *(w - c for w, c in zip(whole_counted, counted, strict=True)))
    present = np.flatnonzero((same[:, :k] > 0).any(axis=1) & (muni_of >= 0))
    return pd.DataFrame(
        {
            "indicator_id": np.tile(indicators, present.size),
            "entity_id": np.repeat(np.asarray(labels[level], dtype=object)[present], k),
            "covariance": own[present].ravel(),
            "rest_covariance": others[present].ravel(),
            "level": level,
        }
    )


def municipality_of(year: Year, level: str, size: int) -> np.ndarray:
    """Each group's municipality code in `year` (-1 when it has no answers that year)."""
    out = np.full(size, -1)
    codes = year.groups[level]
    keep = codes >= 0
    out[codes[keep]] = year.municipality[keep]
    return out


def covariance_of(sums: np.ndarray, k: int, n_before, n_now) -> np.ndarray:
    """followup.overlap_covariance per group and indicator from the four blocks of sums; 0
    where unknown."""
    blocks = [sums[:, i * k : (i + 1) * k] for i in range(4)]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = followup.overlap_covariance(*blocks, n_before, n_now)
    return np.where(np.isfinite(out), out, 0.0)
