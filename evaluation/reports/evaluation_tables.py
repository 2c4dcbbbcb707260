"""The evaluation report's plain tables: coverage per school year, the model's terms, fit and
variance components, and the versions, data hash and commit behind the numbers.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from evaluation.files import hash_file
from evaluation.reports import common as rc
from evaluation.reports.evaluation_context import EvaluationReport
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year
from evaluation.versions import KEY_PACKAGES, read_git_commit, read_package_versions

GRADES_4_9_SHARE = 0.6  # grades 4-9 are 6 of the 10 grades 0-9 in the register's pupil count
# the model's levels as the report names them, and the component each is in the fit
VARIANCE_LEVELS = (("cluster", "group"), ("school", "school"), ("residual", "residual"))
CLUSTER_WEAK_BELOW = 0.5  # a cluster mean less reliable than this mostly reflects its schools


def coverage_frame(report: EvaluationReport) -> pd.DataFrame:
    """Per school year: answers, pupils, units with figures, clusters, hidden unit cells."""
    t, values = report.t, report.data.values
    cols = t.lookup("evaluation_report.coverage_columns")
    years = [y for y in report.data.years if y <= report.year]
    rows = []
    for year in range(min(years), max(years) + 1):
        of_year = values[values["year"] == year]

        def muni_n(indicator_id, of_year=of_year):
            sel = of_year[
                (of_year["indicator_id"] == indicator_id) & (of_year["level"] == "municipality")
            ]
            return sel["n"].iloc[0] if len(sel) else math.nan

        survey_units = of_year[
            (of_year["indicator_id"] == "generel_trivsel") & (of_year["level"] == "unit")
        ]
        clusters = of_year.loc[of_year["level"] == "cluster", "entity_id"].nunique()
        answers, pupils = muni_n("generel_trivsel"), muni_n("inklusionsgrad")
        no_survey = rc.is_missing(answers) and survey_units.empty
        rows.append(
            {
                cols["year"]: format_school_year(year),
                cols["respondents"]: t("common.no_data") if no_survey else _count(t, answers),
                cols["pupils"]: _count(t, pupils),
                cols["response"]: t("common.no_data")
                if no_survey
                else _response_rate(t, answers, pupils),
                cols["units"]: _count(
                    t, survey_units["value"].notna().sum() if len(of_year) else math.nan
                ),
                cols["clusters"]: _count(t, clusters if len(of_year) else math.nan),
                cols["suppressed"]: _count(
                    t, survey_units["suppressed"].astype(bool).sum() if len(of_year) else math.nan
                ),
            }
        )
    return pd.DataFrame(rows)


def response_rate(answers, pupils) -> float:
    """Answers in grades 4-9 over the register's pupils (grades 0-9) times GRADES_4_9_SHARE:
    an estimate, as the register does not count pupils by grade. NaN when either is missing."""
    if rc.is_missing(answers) or rc.is_missing(pupils) or float(pupils) <= 0:
        return math.nan
    return float(answers) / (float(pupils) * GRADES_4_9_SHARE)


def _response_rate(t: Texts, answers, pupils) -> str:
    rate = response_rate(answers, pupils)
    return SUPPRESSED_MARKER if rc.is_missing(rate) else t.percent(rate, decimals=0)


def _count(t: Texts, n) -> str:
    return SUPPRESSED_MARKER if rc.is_missing(n) else t.number(float(n), decimals=0)


def term_label(t: Texts, term: str, base_year: int) -> str:
    """ "C(year)[T.2017]" -> "Skoleår 2017/18 (forskel fra 2016/17)"; Intercept -> base level."""
    base = format_school_year(base_year)
    match = re.fullmatch(r"C\(year\)\[T\.(\d{4})\]", term)
    if match:
        year = format_school_year(int(match.group(1)))
        return t("evaluation_report.model_term_year", school_year=year, base=base)
    if term == "Intercept":
        return t("evaluation_report.model_term_intercept", base=base)
    return term


def model_terms_table(t: Texts, fit, base_year: int) -> pd.DataFrame:
    """The fixed effects of a model fit (evaluation.stats.models): term, estimate, se, interval."""
    fe = fit.fixed_effects()
    return pd.DataFrame(
        {
            t("evaluation_report.model_columns.term"): [
                term_label(t, x, base_year) for x in fe["term"]
            ],
            t("evaluation_report.model_columns.estimate"): [t.number(v, 3) for v in fe["estimate"]],
            t("evaluation_report.model_columns.se"): [t.number(v, 3) for v in fe["se"]],
            t("common.interval"): [
                t(
                    "format.interval_signed",
                    lower=t.number(lo, 3, signed=True),
                    upper=t.number(hi, 3, signed=True),
                )
                for lo, hi in zip(fe["ci_low"], fe["ci_high"], strict=True)
            ],
        }
    )


def model_fit_note(t: Texts, fit) -> str:
    """The footnote under the terms: optimizer, log-likelihood, observations, clusters."""
    return t(
        "evaluation_report.models_fit",
        method=fit.method,
        llf=t.number(fit.llf, 2),
        n_obs=int(fit.result.nobs),
        n_groups=len(fit.result.model.group_labels),
    )


def model_sample_sentence(t: Texts, fit, indicator_name: str) -> str:
    """What `fit_school_cluster_model` was fitted to: school-years, schools, clusters, years."""
    frame = fit.result.model.data.frame
    years = sorted(int(y) for y in frame["year"].unique())
    return t(
        "model_fit.sample",
        indicator=indicator_name,
        n_obs=t.number(int(fit.result.nobs), 0),
        n_schools=frame["school"].nunique(),
        n_clusters=frame["cluster_id"].nunique(),
        n_years=len(years),
        first=format_school_year(years[0]),
        last=format_school_year(years[-1]),
    )


def variance_figures(fit) -> pd.DataFrame:
    """Rows cluster, school, residual, total: the variance, its share of the total, and the
    mean reliability of a cluster's or a school's mean (`school_cluster_reliability`)."""
    from evaluation.stats import models  # why: statsmodels loads only when a report runs

    vc = fit.variance_components().set_index("component")["variance"]
    reliability = models.school_cluster_reliability(fit).set_index("level")["mean_reliability"]
    variance = pd.Series({level: float(vc[name]) for level, name in VARIANCE_LEVELS})
    out = pd.DataFrame({"variance": variance, "share": variance / variance.sum()})
    out["reliability"] = [reliability["cluster"], reliability["school"], math.nan]
    out.loc["total"] = [variance.sum(), 1.0, math.nan]
    return out


def _significant(t: Texts, value: float, digits: int = 3) -> str:
    """A small variance with `digits` significant digits (0,000597 rather than 0,0006)."""
    if not value or not math.isfinite(value):
        return t.number(value, 0)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return t.number(value, min(decimals, 8))


def variance_table(t: Texts, figures: pd.DataFrame) -> pd.DataFrame:
    """The variance components in plain words beside their exact terms."""
    cols = t.lookup("model_fit.variance_columns")
    return pd.DataFrame(
        {
            cols["part"]: [t(f"model_fit.rows.{level}") for level in figures.index],
            cols["term"]: [t(f"model_fit.terms.{level}") for level in figures.index],
            cols["variance"]: [_significant(t, v) for v in figures["variance"]],
            cols["sd"]: [_significant(t, math.sqrt(v)) for v in figures["variance"]],
            cols["share"]: [t.percent(s, decimals=0) for s in figures["share"]],
            cols["reliability"]: [
                SUPPRESSED_MARKER if rc.is_missing(r) else t.number(r, 2)
                for r in figures["reliability"]
            ],
        }
    )


def variance_sentences(t: Texts, figures: pd.DataFrame) -> str:
    """The shares and reliabilities in plain words, for a school leader."""
    text = t(
        "model_fit.plain",
        cluster_share=t.percent(figures.loc["cluster", "share"], decimals=0),
        school_share=t.percent(figures.loc["school", "share"], decimals=0),
        residual_share=t.percent(figures.loc["residual", "share"], decimals=0),
        school_rel=t.number(figures.loc["school", "reliability"], 2),
        cluster_rel=t.number(figures.loc["cluster", "reliability"], 2),
    )
    if figures.loc["cluster", "reliability"] < CLUSTER_WEAK_BELOW:
        text += " " + t("model_fit.cluster_weak")
    return text


def provenance_table(t: Texts, warehouse: str) -> pd.DataFrame:
    """The warehouse's SHA-256 and the code's git commit, as the run manifest records them."""
    commit = read_git_commit()
    cols = t.lookup("model_fit.provenance_columns")
    return pd.DataFrame(
        {
            cols["item"]: [t("model_fit.provenance_data"), t("model_fit.provenance_commit")],
            cols["value"]: [
                hash_file(Path(warehouse)),
                t("model_fit.provenance_unknown") if commit == "unknown" else commit,
            ],
        }
    )


def model_attempts_table(t: Texts, fit) -> pd.DataFrame:
    """Every optimizer tried, its log-likelihood and which fit was kept."""
    attempts = fit.attempts
    return pd.DataFrame(
        {
            t("evaluation_report.model_columns.optimizer"): attempts["method"],
            "log-likelihood": [t.number(v, 3) for v in attempts["llf"]],
            t("evaluation_report.model_columns.best"): [
                t("evaluation_report.model_columns.best_mark") if b else ""
                for b in attempts["best"]
            ],
        }
    )


def package_versions() -> pd.DataFrame:
    """Python and the key packages (evaluation.versions, the list the run manifest records);
    a package that is not installed shows the marker."""
    installed = read_package_versions()
    names = ["python", *KEY_PACKAGES]
    return pd.DataFrame(
        [(name, installed.get(name, SUPPRESSED_MARKER)) for name in names],
        columns=["package", "version"],
    )
