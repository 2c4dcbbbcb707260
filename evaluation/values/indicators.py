"""Indicator values under the name the reports, tests and scripts have always imported.

The work lives in three modules, in the order the data flow through them:
`evaluation.values.scores` (pupil scores from survey answers), `evaluation.values.aggregate`
(`compute_indicator_values`: unit, cluster and municipality values from the warehouse) and
`evaluation.values.load` (`load_indicator_values`: suppressed and cached, what reports use).
"""

from __future__ import annotations

from evaluation.values.aggregate import LEVELS, VALUE_COLUMNS, compute_indicator_values
from evaluation.values.load import load_indicator_values
from evaluation.values.scores import score_pupils

__all__ = [
    "LEVELS",
    "VALUE_COLUMNS",
    "compute_indicator_values",
    "load_indicator_values",
    "score_pupils",
]
