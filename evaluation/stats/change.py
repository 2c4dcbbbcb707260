"""Change over time: year-on-year change with a confidence interval, and the trend.

On the national wellbeing survey only about 1 % of a school's year-to-year changes are
statistically clear, so a change is called a change only when its interval excludes zero;
otherwise it is "no clear change". Everything here returns labels (codes), never colours, so
reports can show uncertainty in words and symbols.

References:
- Difference of two means from independent samples: normal interval with
  se = sqrt(se1^2 + se0^2). The pupils answering in two years largely differ (new cohorts,
  moved grades), so independence is the usual approximation; with a panel of the same pupils
  the interval is conservative.
- Difference of two proportions: Newcombe RG (1998). Interval estimation for the difference
  between independent proportions: comparison of eleven methods. Statistics in Medicine
  17:873-890, method 10 (hybrid Wilson score), checked against its published table.
- Trend: weighted least squares of value on year with weights 1/se^2; when the points scatter
  more than their standard errors allow, the slope's se is scaled up by sqrt(phi) and t(k-2) is
  used (the multiplicative over-dispersion idea of Spiegelhalter 2005, section 6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import ParameterError
from evaluation.stats import distribution_functions as dist


def z_two_sided(level: float) -> float:
    if not 0 < level < 1:
        raise ParameterError(f"level must be between 0 and 1, got {level}")
    return float(dist.norm_ppf(0.5 + level / 2))


def describe_change(ci_low, ci_high) -> np.ndarray:
    """'increase' / 'decrease' when the interval excludes zero, else 'no clear change' (an
    interval ending exactly at zero holds it). The one rule for every change and trend verdict:
    each function here returns it beside the interval that decided it, and the reports only name
    it better or worse by the indicator's direction (evaluation.reports.status.verdict_for)."""
    lo, hi = np.asarray(ci_low, dtype=float), np.asarray(ci_high, dtype=float)
    return np.where(lo > 0, "increase", np.where(hi < 0, "decrease", "no clear change"))


def change_in_means(value1, se1, value0, se0, level: float = 0.95) -> pd.DataFrame:
    """Change value1 - value0 with a normal interval, se = sqrt(se1^2 + se0^2)."""
    return pd.DataFrame(mean_change(value1, se1, value0, se0, level))


def mean_change(value1, se1, value0, se0, level: float = 0.95) -> dict[str, np.ndarray]:
    """`change_in_means`' columns as arrays: one change at a time (a report's status rows)
    needs no frame (issue 17)."""
    v1, v0 = np.asarray(value1, dtype=float), np.asarray(value0, dtype=float)
    se = np.sqrt(np.asarray(se1, dtype=float) ** 2 + np.asarray(se0, dtype=float) ** 2)
    diff = v1 - v0
    half = z_two_sided(level) * se
    return changed(diff, se, diff - half, diff + half)


def changed(change, se, low, high) -> dict[str, np.ndarray]:
    """The columns of a change: the change, its se, its interval and the direction it decides."""
    direction = describe_change(low, high)
    return {"change": change, "se": se, "ci_low": low, "ci_high": high, "direction": direction}


def wilson_interval(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion x/n (Wilson 1927)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z = z_two_sided(level)
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def change_in_proportions(x1, n1, x0, n0, level: float = 0.95) -> pd.DataFrame:
    """Change p1 - p0 with Newcombe's (1998) hybrid score interval (method 10).

    lower = d - sqrt((p1 - l1)^2 + (u0 - p0)^2), upper = d + sqrt((u1 - p1)^2 + (p0 - l0)^2),
    with (l, u) the Wilson intervals of each proportion. Good also for small n and 0 or 100 %.
    """
    return pd.DataFrame(proportion_change(x1, n1, x0, n0, level))


def proportion_change(x1, n1, x0, n0, level: float = 0.95) -> dict[str, np.ndarray]:
    """`change_in_proportions`' columns as arrays (as `mean_change`)."""
    x1, n1 = np.asarray(x1, dtype=float), np.asarray(n1, dtype=float)
    x0, n0 = np.asarray(x0, dtype=float), np.asarray(n0, dtype=float)
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson_interval(x1, n1, level)
    l0, u0 = wilson_interval(x0, n0, level)
    d = p1 - p0
    low = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)  # for display only
    return changed(d, se, low, high)


def year_on_year(series: pd.DataFrame, kind: str, level: float = 0.95) -> pd.DataFrame:
    """Change from each unit's previous available year (indicator-value table rows).

    series: entity_id, year, value, and se (means, rates, medians) or n + numerator
    (proportions). Suppressed rows (no value) are skipped, so a change may span a gap; its
    `from_year` says from when.
    """
    needed = {"entity_id", "year", "value"} | (
        {"n", "numerator"} if kind == "proportion" else {"se"}
    )
    missing = needed - set(series.columns)
    if missing:
        raise ParameterError(f"year_on_year(kind={kind!r}) needs columns {sorted(missing)}")
    df = series.dropna(subset=["value"]).sort_values(["entity_id", "year"]).copy()
    prev = df.groupby("entity_id").shift(1)
    keep = prev["year"].notna()
    cur, prev = df[keep], prev[keep]
    if kind == "proportion":
        ch = change_in_proportions(cur["numerator"], cur["n"], prev["numerator"], prev["n"], level)
    else:
        ch = change_in_means(cur["value"], cur["se"], prev["value"], prev["se"], level)
    out = pd.DataFrame(
        {
            "entity_id": cur["entity_id"].to_numpy(),
            "from_year": prev["year"].astype(int).to_numpy(),
            "year": cur["year"].to_numpy(),
            "value_from": prev["value"].to_numpy(),
            "value": cur["value"].to_numpy(),
        }
    )
    return pd.concat([out, ch.reset_index(drop=True)], axis=1)


def trend(years, values, se, last_k: int | None = 5, level: float = 0.95) -> dict:
    """Linear trend per year over the last `last_k` observed years (weighted least squares).

    Returns slope, se, ci_low, ci_high, direction, n_years, phi (scatter beyond the standard
    errors; the slope's se is multiplied by sqrt(phi) when phi > 1, with t(k-2) quantiles).
    """
    df = pd.DataFrame({"year": years, "value": values, "se": se}).dropna()
    df = df.sort_values("year")
    if last_k:
        df = df.tail(last_k)
    k = len(df)
    if k < 3:
        raise ParameterError(f"a trend needs at least 3 years with values, got {k}")
    x, y = df["year"].to_numpy(dtype=float), df["value"].to_numpy(dtype=float)
    w = 1 / df["se"].to_numpy(dtype=float) ** 2
    xbar = np.sum(w * x) / w.sum()
    sxx = np.sum(w * (x - xbar) ** 2)
    slope = float(np.sum(w * (x - xbar) * y) / sxx)
    intercept = np.sum(w * y) / w.sum() - slope * xbar
    phi = float(np.sum(w * (y - intercept - slope * x) ** 2) / (k - 2))
    se_slope = float(np.sqrt(1 / sxx))
    if phi > 1:
        se_slope *= np.sqrt(phi)
        crit = float(dist.t_ppf(0.5 + level / 2, k - 2))
    else:
        crit = z_two_sided(level)
    low, high = slope - crit * se_slope, slope + crit * se_slope
    return {
        "slope": slope,
        "se": se_slope,
        "ci_low": low,
        "ci_high": high,
        "direction": str(describe_change(low, high)),
        "n_years": k,
        "first_year": int(x[0]),
        "last_year": int(x[-1]),
        "phi": phi,
    }
