"""Values: indicator values per unit, cluster and municipality, suppressed for privacy.

`load_indicator_values` is the single door the reports use.
"""

from evaluation.values.load import load_indicator_values

__all__ = ["load_indicator_values"]
