"""How much a municipality's groups drift apart from year to year beyond sampling, from the
years before a decision (evaluation.stats.followup.drift_variance explains the estimate).

For every group of the decision's level (clusters, or units) in its municipality and every
published year up to the decision's "before" year: the group minus the rest of the municipality
and that difference's sampling variance (the group and the rest are disjoint pupils). Every
pair of years of one group then gives a change, its gap in years and its sampling variance.
Suppressed values are never used.
"""

from __future__ import annotations

import pandas as pd

from evaluation.stats import followup

# what a values row needs to become a followup.Summary, with the year, level and entity
SUMMARY_COLUMNS = [
    "year", "level", "entity_id", "kind", "n", "value", "numerator", "sd", "se", "suppressed",
]  # fmt: skip


def difference_series(of_ind: pd.DataFrame, level: str, municipality, last_year: int, as_summary):
    """Rows (entity_id, year, difference, variance) of group minus rest, years <= last_year;
    `as_summary` turns a values row into a followup.Summary (None when suppressed)."""
    mine = of_ind[
        (of_ind["municipality"] == municipality)
        & (of_ind["year"] <= last_year)
        & of_ind["level"].isin([level, "municipality"])
    ]
    mine = mine[[c for c in SUMMARY_COLUMNS if c in mine.columns]]  # narrow rows: quick to read
    rows = []
    for year, in_year in mine.groupby("year"):
        whole = as_summary(in_year[in_year["level"] == "municipality"])
        if whole is None:
            continue
        for entity_id, own in in_year[in_year["level"] == level].groupby("entity_id"):
            group = as_summary(own)
            rest = None if group is None else followup.rest_of(whole, group)
            if rest is not None:
                variance = group.variance() + rest.variance()
                rows.append((entity_id, int(year), group.value - rest.value, variance))
    return pd.DataFrame(rows, columns=["entity_id", "year", "difference", "variance"])


def year_pairs(series: pd.DataFrame) -> pd.DataFrame:
    """Every pair of years of one group: gap, change and the change's sampling variance."""
    pairs = series.merge(series, on="entity_id", suffixes=("_from", "_to"))
    pairs = pairs[pairs["year_from"] < pairs["year_to"]]
    return pd.DataFrame(
        {
            "gap": pairs["year_to"] - pairs["year_from"],
            "change": pairs["difference_to"] - pairs["difference_from"],
            "variance": pairs["variance_to"] + pairs["variance_from"],
        }
    )


def drift_before(
    of_ind: pd.DataFrame, level: str, municipality, last_year: int, span: int, as_summary
) -> float:
    """The variance beyond sampling over `span` years of the municipality's groups of `level`,
    from the years up to `last_year` (the decision's before year): none of the decision's own
    effect enters."""
    series = difference_series(of_ind, level, municipality, last_year, as_summary)
    pairs = year_pairs(series)
    return followup.drift_variance(pairs["gap"], pairs["change"], pairs["variance"], span)
