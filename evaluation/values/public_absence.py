"""The share of pupils with more than 10 % absence that the ministry publishes (ELEVFRAV/FRAVAAR,
table `public_absence`, column over_10_pct), as the catalog's `fravaer_over_10`.

Per school and year: n = the school's pupils (the overview's `pupils` rows in `aggregates`, the
same count the published absence is over), numerator = round(over_10_pct / 100 * n); clusters
and the municipality add their schools' counts (`public_answers.proportion_levels`). Like the
ELEVEX inklusionsgrad, it is a census figure: the binomial se says how much the share would move
with a cohort of that size, not a survey error. A school without a pupil count gets no value.
"""

from __future__ import annotations

import pandas as pd

from evaluation.values.public_answers import percent_values

INDICATOR = "fravaer_over_10"


def over_10_values(con, tables: set[str], catalog, units, membership, cluster_muni):
    """Unit, cluster and municipality rows of fravaer_over_10 (module docstring)."""
    needed = {"public_absence", "aggregates"}
    if not needed <= tables or INDICATOR not in {i.id for i in catalog.indicators}:
        return pd.DataFrame()
    query = (
        "SELECT a.year, a.unit_id, max(p.value) AS n, max(a.over_10_pct) AS pct "
        "FROM public_absence a JOIN aggregates p ON p.unit_id = a.unit_id AND p.year = a.year "
        "AND p.indicator_id = 'pupils' WHERE a.over_10_pct IS NOT NULL AND p.value > 0 "
        "GROUP BY a.year, a.unit_id"
    )
    return percent_values(con, query, INDICATOR, catalog, units, membership, cluster_muni)
