"""Statistics: pure numpy/scipy/statsmodels functions on plain frames; they import only the base."""
