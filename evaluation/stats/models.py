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
        """Variances: the group (cluster) intercept, any named components, and the residual."""
        r = self.result
        rows = []
        if r.cov_re.shape[0]:
            rows.append({"component": "group", "variance": float(r.cov_re.iloc[0, 0])})
        for name, value in zip(r.model.exog_vc.names, np.atleast_1d(r.vcomp), strict=False):
            rows.append({"component": name, "variance": float(value)})
        rows.append({"component": "residual", "variance": float(r.scale)})
        return pd.DataFrame(rows)


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
