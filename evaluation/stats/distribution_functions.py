"""The few distribution functions the statistics use, from scipy.special, bit for bit as
scipy.stats computes them.

scipy.stats' norm, t, chi2, f and binom call these very special functions (scipy/stats/
_continuous_distns.py and _discrete_distns.py: norm._ppf is ndtri, t._ppf stdtrit, t._sf
stdtr(df, -x), chi2._ppf 2 * gammaincinv(df / 2, p), chi2._sf chdtrc, f._sf fdtrc,
binom._ppf/_cdf/_pmf the Boost binomial in scipy.special._ufuncs), wrapped in
scipy/stats/_distn_infrastructure.py's checks (invalid shapes give nan, the ends of the support
their limits, loc 0 and scale 1 added). Those checks are copied here, so the numbers are the
same, at a fraction of the import: scipy.stats takes ~0.7 s of CPU to import, scipy.special
~0.15 s, and every cluster report and the run's shared precomputation needs only these
(issue 17). tests/test_distribution_functions.py compares them with scipy.stats on wide grids.
"""

from __future__ import annotations

import numpy as np
import scipy.special as special

try:  # the Boost binomial scipy.stats.binom calls (scu in scipy/stats/_discrete_distns.py)
    from scipy.special._ufuncs import _binom_cdf, _binom_pmf, _binom_ppf
except ImportError:  # private: a scipy that keeps them elsewhere gets scipy.stats.binom itself
    _binom_cdf = _binom_pmf = _binom_ppf = None


def scipy_binom():
    """scipy.stats.binom, for a scipy without the private binomial functions above."""
    from scipy.stats import binom  # why: ~0.7 s of CPU, only where the fast path is missing

    return binom


def norm_ppf(q):
    """scipy.stats.norm.ppf(q)."""
    return continuous_ppf(special.ndtri, q, (), -np.inf, np.inf)


def t_ppf(q, df):
    """scipy.stats.t.ppf(q, df)."""
    return continuous_ppf(lambda q, df: special.stdtrit(df, q), q, (df,), -np.inf, np.inf)


def t_sf(x, df):
    """scipy.stats.t.sf(x, df)."""
    return continuous_sf(lambda x, df: special.stdtr(df, -x), x, (df,), -np.inf, np.inf)


def chi2_ppf(q, df):
    """scipy.stats.chi2.ppf(q, df)."""
    return continuous_ppf(lambda q, df: 2 * special.gammaincinv(df / 2, q), q, (df,), 0.0, np.inf)


def chi2_sf(x, df):
    """scipy.stats.chi2.sf(x, df)."""
    return continuous_sf(lambda x, df: special.chdtrc(df, x), x, (df,), 0.0, np.inf)


def f_sf(x, dfn, dfd):
    """scipy.stats.f.sf(x, dfn, dfd)."""
    return continuous_sf(lambda x, n, d: special.fdtrc(n, d, x), x, (dfn, dfd), 0.0, np.inf)


def floats(*arrays) -> list[np.ndarray]:
    return np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))


def where_valid(mask: np.ndarray, function, *arrays) -> np.ndarray:
    """`function` of the arrays where `mask` holds (only there, as scipy.stats' argsreduce:
    no warning from a value it would not compute), nan elsewhere."""
    output = np.full(mask.shape, np.nan)
    if mask.any():
        output[mask] = function(*(a[mask] for a in arrays))
    return output


def continuous_ppf(quantile, q, shapes: tuple, lower: float, upper: float):
    """rv_continuous.ppf with loc 0 and scale 1: `quantile(q, *shapes)` inside (0, 1), the
    support's ends at 0 and 1, nan for shapes not > 0 or q outside [0, 1]."""
    q, *shapes = floats(q, *shapes)
    valid = np.logical_and.reduce([q == q, *(shape > 0 for shape in shapes)])
    inside = where_valid(valid & (q > 0) & (q < 1), quantile, q, *shapes) + 0  # + loc 0, as
    at_ends = np.where(q == 0, lower, np.where(q == 1, upper, inside))  # scipy: -0.0 is 0.0
    return np.where(valid, at_ends, np.nan)[()]


def continuous_sf(survival, x, shapes: tuple, lower: float, upper: float):
    """rv_continuous.sf with loc 0 and scale 1: `survival(x, *shapes)` inside the open support,
    1 at or below its lower end, 0 at or above the upper, nan for shapes not > 0 or x nan."""
    x, *shapes = floats(x, *shapes)
    valid = np.logical_and.reduce([x == x, *(shape > 0 for shape in shapes)])
    inside = where_valid(valid & (x > lower) & (x < upper), survival, x, *shapes)
    output = np.where(x <= lower, 1.0, np.where(x >= upper, 0.0, inside))
    return np.where(valid, output, np.nan)[()]


def binomial_shapes(n, p):
    """rv_discrete's check of binom's shapes: a whole n >= 0, 0 <= p <= 1."""
    return (n >= 0) & (n == np.round(n)) & (p >= 0) & (p <= 1)


def binom_ppf(q, n, p):
    """scipy.stats.binom.ppf(q, n, p): the least k with P(K <= k) >= q; -1 at q = 0, n at 1."""
    if _binom_ppf is None:
        return scipy_binom().ppf(q, n, p)
    q, n, p = floats(q, n, p)
    valid = binomial_shapes(n, p)
    inside = where_valid(valid & (q > 0) & (q < 1), _binom_ppf, q, n, p) + 0
    return np.where(valid & (q == 0), -1.0, np.where(valid & (q == 1), n, inside))[()]


def binom_cdf(k, n, p):
    """scipy.stats.binom.cdf(k, n, p): P(K <= floor(k))."""
    if _binom_cdf is None:
        return scipy_binom().cdf(k, n, p)
    k, n, p = floats(k, n, p)
    valid = binomial_shapes(n, p) & (k == k)
    inside = valid & (k >= 0) & (k < n) & np.isfinite(k)
    found = np.clip(
        where_valid(inside, lambda k, n, p: _binom_cdf(np.floor(k), n, p), k, n, p), 0, 1
    )
    output = np.where(inside, found, np.where(k >= n, 1.0, 0.0))
    return np.where(valid, output, np.nan)[()]


def binom_pmf(k, n, p):
    """scipy.stats.binom.pmf(k, n, p): P(K = k), 0 for k not a whole number in [0, n]."""
    if _binom_pmf is None:
        return scipy_binom().pmf(k, n, p)
    k, n, p = floats(k, n, p)
    valid = binomial_shapes(n, p) & (k == k)
    inside = valid & (k >= 0) & (k <= n) & (np.floor(k) == k)
    found = np.clip(where_valid(inside, _binom_pmf, k, n, p), 0, 1)
    return np.where(valid, np.where(inside, found, 0.0), np.nan)[()]
