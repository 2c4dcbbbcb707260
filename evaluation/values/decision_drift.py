"""How much a municipality's groups drift apart from year to year beyond sampling, from the
years before a decision (evaluation.stats.followup.drift_variance explains the estimate).

For every group of the decision's level (clusters, or units) in its municipality and every
published year up to the decision's "before" year: the group minus the rest of the municipality
and that difference's sampling variance (the group and the rest are disjoint pupils); for a
median, which is not additive, the group minus the whole municipality
(followup.nested_variance). Every pair of years of one group then gives a change, its gap in
years and its sampling variance (less twice the covariance of pupils answering in both years,
evaluation.values.year_overlap). Suppressed values are never used.
"""

from __future__ import annotations

import pandas as pd

from evaluation.stats import followup

# what a values row needs to become a followup.Summary, with the year, level and entity
SUMMARY_COLUMNS = [
    "year", "level", "entity_id", "kind", "n", "value", "numerator", "sd", "se", "suppressed",
]  # fmt: skip


def difference_series(of_ind: pd.DataFrame, level: str, municipality, last_year: int, summary_of):
    """Rows (entity_id, year, difference, variance) of group minus rest, years <= last_year;
    `summary_of` turns a values row (a dict) into a followup.Summary (None when suppressed)."""
    mine = of_ind[
        (of_ind["municipality"] == municipality)
        & (of_ind["year"] <= last_year)
        & of_ind["level"].isin([level, "municipality"])
    ]
    rows = []
    for year, (whole_row, own_rows) in sorted(first_rows(mine, level).items()):
        whole = summary_of(whole_row)
        if whole is None:
            continue
        for entity_id in sorted(own_rows):
            group = summary_of(own_rows[entity_id])
            rest = None if group is None else followup.rest_of(whole, group)
            if rest is not None:
                variance = group.variance() + rest.variance()
                rows.append((entity_id, year, group.value - rest.value, variance))
            elif group is not None and whole.kind == "median":  # not additive: the whole
                variance = followup.nested_variance(group.variance(), whole.variance())
                rows.append((entity_id, year, group.value - whole.value, variance))
    return pd.DataFrame(rows, columns=["entity_id", "year", "difference", "variance"])


def first_rows(rows: pd.DataFrame, level: str) -> dict[int, tuple[dict | None, dict]]:
    """year -> (its first municipality row, {entity_id: its first row of `level`}), rows as
    dicts read once: a filter and a row per group and year cost a report seconds (issue 17)."""
    narrow = rows[[c for c in SUMMARY_COLUMNS if c in rows.columns]]
    found: dict[int, tuple[dict | None, dict]] = {}
    for row in narrow.to_dict("records"):
        year = int(row["year"])
        whole, own = found.get(year, (None, {}))
        if row["level"] == "municipality" and whole is None:
            whole = row
        if row["level"] == level and not pd.isna(row["entity_id"]):
            own.setdefault(row["entity_id"], row)
        found[year] = (whole, own)
    return found


def year_pairs(series: pd.DataFrame, covariances: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every pair of years of one group: gap, change and the change's sampling variance.

    `covariances` (entity_id, year_from, year_to, covariance, rest_covariance; one indicator and
    level, evaluation.values.year_overlap) are the pupils answering in both years: the group's
    and the rest's covariances both tie the two years' differences (followup.change_variance)."""
    pairs = series.merge(series, on="entity_id", suffixes=("_from", "_to"))
    pairs = pairs[pairs["year_from"] < pairs["year_to"]]
    tied = pd.Series(0.0, index=pairs.index)
    if covariances is not None and not covariances.empty:
        keys = ["entity_id", "year_from", "year_to"]
        found = pairs[keys].merge(covariances, on=keys, how="left")
        tied = pd.Series(
            (found["covariance"].fillna(0.0) + found["rest_covariance"].fillna(0.0)).to_numpy(),
            index=pairs.index,
        )
    variance = followup.change_variance(pairs["variance_from"], pairs["variance_to"], tied)
    return pd.DataFrame(
        {
            "gap": pairs["year_to"] - pairs["year_from"],
            "change": pairs["difference_to"] - pairs["difference_from"],
            "variance": variance,
        }
    )


def drift_before(
    of_ind: pd.DataFrame,
    level: str,
    municipality,
    last_year: int,
    span: int,
    summary_of,
    covariances: pd.DataFrame | None = None,
    started: dict | None = None,
) -> float:
    """The variance beyond sampling over `span` years of the municipality's groups of `level`,
    from the years up to `last_year` (the decision's before year): none of the decision's own
    effect enters. `covariances` as year_pairs takes them. `started` (entity_id -> first year a
    decision of that group on the indicator can show): those years are left out, because a
    decision is meant to move its group, and an effect read as drift would widen every interval."""
    series = difference_series(of_ind, level, municipality, last_year, summary_of)
    if started:
        first = series["entity_id"].map(started).astype(float)
        series = series[~(series["year"] >= first)]
    pairs = year_pairs(series, covariances)
    return followup.drift_variance(pairs["gap"], pairs["change"], pairs["variance"], span)
