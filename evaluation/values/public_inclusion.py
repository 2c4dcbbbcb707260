"""The school inklusionsgrad the ministry publishes (ELEV/ELEVEX, table `public_inclusion`):
the share of a school's pupils taught in general classes, with its pupil count.

Per school and year: n = `Antal elever`, numerator = round(inklusionsgrad / 100 * n); clusters
and the municipality add their schools' counts (`public_answers.proportion_levels`). Unlike the
register's inclusion (by the pupils' home cluster), these are by the school attended, and the
count is the school's pupils, so the binomial se is a sampling view of a census figure: it says
how much the share would move with a cohort of that size, not a survey error.
"""

from __future__ import annotations

import pandas as pd

from evaluation.values.public_answers import percent_values

INDICATOR = "inklusionsgrad"


def inclusion_values(con, tables: set[str], catalog, units, membership, cluster_muni):
    """Unit, cluster and municipality rows of inklusionsgrad (module docstring)."""
    if "public_inclusion" not in tables or INDICATOR not in {i.id for i in catalog.indicators}:
        return pd.DataFrame()
    query = (
        "SELECT year, unit_id, max(pupils) AS n, max(inclusion_pct) AS pct FROM public_inclusion "
        "WHERE grade = 'all' AND pupils > 0 AND inclusion_pct IS NOT NULL GROUP BY year, unit_id"
    )
    return percent_values(con, query, INDICATOR, catalog, units, membership, cluster_muni)
