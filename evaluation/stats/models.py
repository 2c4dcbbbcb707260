"""Multilevel models: a statsmodels MixedLM wrapper that does not trust a single optimizer.

statsmodels' MixedLM can report converged=True at a wrong optimum (DESIGN.md, known pitfalls).
`fit_mixed` therefore fits the same model with several optimizers, keeps the fit with the best
(highest) log-likelihood, and reports which optimizer won and every log-likelihood, so the
evaluator report can show that the optimum is not an accident of one method.

References: Lindstrom & Bates (1988) for the (RE)ML criterion; statsmodels MixedLM
documentation; results checked against R lme4 (Bates et al. 2015) on statsmodels' dietox data.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from evaluation.errors import EvaluationError, ParameterError

OPTIMIZERS = ("lbfgs", "bfgs", "powell", "nm", "cg")
LLF_TIE = 1e-4  # log-likelihoods this close count as the same optimum


@dataclass
class MixedFit:
    """The best fit and how every optimizer did.

    `attempts` columns: method, llf, converged, error, best. `agree` says whether all
    successful optimizers reached the best log-likelihood (within LLF_TIE); when False the
    report should say that some optimizers stopped at worse optima.
    """

    result: object  # statsmodels MixedLMResults
    method: str
    attempts: pd.DataFrame
    agree: bool

    @property
    def llf(self) -> float:
        return float(self.result.llf)

    def fixed_effects(self) -> pd.DataFrame:
        """Fixed-effect estimates with standard errors and 95 % intervals."""
        r = self.result
        names = r.model.exog_names
        ci = r.conf_int().loc[names]
        return pd.DataFrame(
            {
                "term": names,
                "estimate": r.fe_params.to_numpy(),
                "se": r.bse_fe.to_numpy(),
                "ci_low": ci[0].to_numpy(),
                "ci_high": ci[1].to_numpy(),
            }
        )

    def variance_components(self) -> pd.DataFrame:
        """Every variance component, as lme4's VarCorr lists them (columns component, kind,
        variance; a covariance is in the variance column with kind "covariance").

        Rows: each random effect's variance ("group" for the group intercept, "group:<term>"
        for a random slope), each covariance ("group:<a>,<b>"), each vc_formula component
        under its name, and the residual.
        """
        r = self.result
        names = ["Intercept" if x == "Group" else x for x in r.cov_re.index]  # statsmodels' name
        cov = r.cov_re.to_numpy(dtype=float)
        rows = []
        for i, a in enumerate(names):
            label = "group" if a == "Intercept" else f"group:{a}"
            rows.append({"component": label, "kind": "variance", "variance": cov[i, i]})
        for i, a in enumerate(names):
            for j in range(i + 1, len(names)):
                rows.append(
                    {
                        "component": f"group:{a},{names[j]}",
                        "kind": "covariance",
                        "variance": cov[i, j],
                    }
                )
        for name, value in zip(r.model.exog_vc.names, np.atleast_1d(r.vcomp), strict=False):
            rows.append({"component": name, "kind": "variance", "variance": float(value)})
        rows.append({"component": "residual", "kind": "residual", "variance": float(r.scale)})
        return pd.DataFrame(rows)

    def group_reliability(self) -> pd.DataFrame:
        """Per group: its number of rows n and the reliability of its mean (`mean_reliability`
        with error variance sigma^2 / n). Only for a random intercept without slopes or
        vc_formula components (Raudenbush & Bryk 2002, ch. 4, table 4.2)."""
        r = self.result
        if r.cov_re.shape != (1, 1) or len(r.model.exog_vc.names):
            raise ParameterError(
                "group_reliability needs a random-intercept model; for schools within clusters "
                "use school_cluster_reliability"
            )
        n = np.array([len(rows) for rows in r.model.endog_li], dtype=float)
        reliability = mean_reliability(float(r.cov_re.iloc[0, 0]), float(r.scale) / n)
        return pd.DataFrame({"group": r.model.group_labels, "n": n, "reliability": reliability})


def mean_reliability(between: float, error_variance) -> np.ndarray:
    """How reliably a group's observed mean measures its true mean: the share of the mean's
    variance that is real difference, between / (between + error_variance).

    With error variance sigma^2 / n_j this is lambda_j of Raudenbush & Bryk (2002, ch. 3, and
    its table 4.2); 0 when the groups do not differ, near 1 for large groups.
    """
    error_variance = np.asarray(error_variance, dtype=float)
    if between <= 0:
        return np.zeros_like(error_variance)
    return between / (between + error_variance)


def fit_mixed(
    formula: str,
    data: pd.DataFrame,
    groups: str,
    re_formula: str | None = None,
    vc_formula: dict | None = None,
    reml: bool = True,
    methods: tuple[str, ...] = OPTIMIZERS,
) -> MixedFit:
    """Fit a MixedLM with each optimizer in `methods`; keep the best log-likelihood.

    formula/groups/re_formula/vc_formula are passed to `statsmodels.formula.api.mixedlm`.
    Optimizer failures are recorded, not raised, unless every optimizer fails.
    """
    if not methods:
        raise ParameterError("give at least one optimizer, e.g. methods=('lbfgs', 'powell')")
    model = smf.mixedlm(
        formula, data, groups=data[groups], re_formula=re_formula, vc_formula=vc_formula
    )
    fits, rows = {}, []
    for method in methods:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence chatter: judged by llf below
                result = model.fit(reml=reml, method=method)
            llf = float(result.llf)
            if not np.isfinite(llf):
                raise EvaluationError(f"log-likelihood {llf}")
            fits[method] = result
            rows.append({"method": method, "llf": llf, "converged": bool(result.converged)})
        except Exception as exc:  # noqa: BLE001 - any optimizer failure is data for the table
            rows.append({"method": method, "llf": np.nan, "converged": False, "error": str(exc)})
    attempts = pd.DataFrame(rows)
    if "error" not in attempts:
        attempts["error"] = None
    if not fits:
        raise EvaluationError(
            f"MixedLM failed with every optimizer ({', '.join(methods)}): "
            f"{attempts['error'].iloc[0]}. Check that each group has several rows."
        )
    best = attempts["llf"].idxmax()
    best_method = attempts.loc[best, "method"]
    attempts["best"] = attempts["method"] == best_method
    ok = attempts["llf"].notna()
    agree = bool((attempts.loc[ok, "llf"] >= attempts.loc[best, "llf"] - LLF_TIE).all())
    return MixedFit(fits[best_method], best_method, attempts, agree)


def fit_school_cluster_model(
    values: pd.DataFrame, reml: bool = True, methods: tuple[str, ...] = OPTIMIZERS
) -> MixedFit:
    """School-years within schools within clusters, with year terms.

    `values`: unit rows of the indicator-value table for one indicator (entity_id, cluster_id,
    year, value). Model: value ~ C(year) + (1 | cluster) + (1 | school within cluster).
    """
    needed = {"entity_id", "cluster_id", "year", "value"}
    missing = needed - set(values.columns)
    if missing:
        raise ParameterError(f"fit_school_cluster_model needs columns {sorted(missing)}")
    df = values.dropna(subset=["value", "cluster_id"]).copy()
    df["school"] = df["entity_id"].astype(str)
    return fit_mixed(
        "value ~ C(year)",
        df,
        groups="cluster_id",
        re_formula="1",
        vc_formula={"school": "0 + C(school)"},
        reml=reml,
        methods=methods,
    )


def school_cluster_reliability(fit: MixedFit) -> pd.DataFrame:
    """Mean reliability of a school's and of a cluster's mean in `fit_school_cluster_model`.

    Three levels (Raudenbush & Bryk 2002, ch. 8): school s with n_s school-years has
    lambda_s = tau_school / (tau_school + sigma^2 / n_s); cluster k has
    lambda_k = tau_cluster / (tau_cluster + 1 / sum_s 1 / (tau_school + sigma^2 / n_s)), the
    error variance of the precision-weighted mean of its schools. Rows: level ("school",
    "cluster"), units, mean_reliability, min_reliability, max_reliability.
    """
    frame = fit.result.model.data.frame
    vc = fit.variance_components().set_index("component")["variance"]
    tau_cluster, tau_school, sigma2 = vc["group"], vc["school"], vc["residual"]
    sizes = frame.groupby(["cluster_id", "school"]).size()
    school = mean_reliability(tau_school, sigma2 / sizes.to_numpy(dtype=float))
    precision = (1 / (tau_school + sigma2 / sizes)).groupby(level="cluster_id").sum()
    cluster = mean_reliability(tau_cluster, 1 / precision.to_numpy(dtype=float))
    return pd.DataFrame(
        [
            {
                "level": level,
                "units": len(values),
                "mean_reliability": float(values.mean()),
                "min_reliability": float(values.min()),
                "max_reliability": float(values.max()),
            }
            for level, values in (("school", school), ("cluster", cluster))
        ]
    )
