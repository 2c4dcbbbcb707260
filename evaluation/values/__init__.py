"""Stage 2, values: indicator values per unit, cluster and municipality, suppressed for privacy.

`load_indicator_values` is the single door the reports use.
"""
