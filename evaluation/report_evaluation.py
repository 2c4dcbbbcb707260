"""Content of the evaluation report (evalueringsrapport): coverage, methods, models, effect.

The notebook `notebooks/evaluation_report.ipynb` calls `prepare_report(...)` right after its
parameters, then one `build_*` function per section, and finally `collect_key_figures`.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation import charts
from evaluation import report_common as rc
from evaluation.errors import EvaluationError, ParameterError
from evaluation.report_leader import check_municipality
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year, texts_for

SENSITIVITY_INDICATOR = "social_trivsel"
SENSITIVITY_MIN_N = 10
PACKAGES = (
    "evaluation",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "duckdb",
    "altair",
    "vl-convert-python",
    "papermill",
    "nbconvert",
)
SECTIONS = (
    ("datagrundlag", "coverage"),
    ("metoder", "methods"),
    ("model", "models"),
    ("effekt", "effect"),
    ("foelsomhed", "sensitivity"),
    ("parametre", "parameters"),
)


@dataclass
class EvaluationReport:
    data: rc.ReportData
    t: Texts
    municipality: str
    year: int
    indicator_id: str
    draws: int
    seed: int
    tables_dir: Path | None
    parameters: dict
    cache: dict = field(default_factory=dict)

    @property
    def indicator(self):
        return self.data.catalog.get(self.indicator_id)

    @property
    def school_year(self) -> str:
        return format_school_year(self.year)


def check_parameters(municipality, year, language, warehouse, min_n, indicator, draws):
    """Stop with a ParameterError (listing valid values) before any work is done."""
    from evaluation import indicators

    language, path, min_n = rc.check_common(language, warehouse, min_n)
    tables = rc.read_warehouse_tables(path)
    names = sorted(tables["units"]["municipality"].dropna().astype(str).unique())
    municipality = check_municipality(municipality, names)
    year = rc.check_year(year, tables["years"])
    catalog = indicators.load_catalog()
    usable = [i.id for i in catalog.indicators if i.kind in ("mean", "proportion", "rate")]
    if indicator not in usable:
        raise ParameterError(
            f"indicator={indicator!r} cannot be modelled; choose one of: {', '.join(usable)}"
        )
    if int(draws) < 99:
        raise ParameterError(f"bootstrap_draws={draws!r} is too few; use at least 99 (e.g. 999)")
    return municipality, year, language, path, min_n, tables


def prepare_report(
    municipality: str = "",
    year: int = 2024,
    language: str = "da",
    warehouse: str = "",
    min_n: int = 5,
    tables_dir: str = "",
    indicator: str = "generel_trivsel",
    bootstrap_draws: int = 999,
    seed: int = 2023,
) -> EvaluationReport:
    municipality, year, language, path, min_n, tables = check_parameters(
        municipality, year, language, warehouse, min_n, indicator, bootstrap_draws
    )
    data = rc.load_report_data(path, min_n, tables)
    params = {
        "municipality": municipality,
        "year": year,
        "language": language,
        "warehouse": str(path),
        "min_n": min_n,
        "indicator": indicator,
        "bootstrap_draws": int(bootstrap_draws),
        "seed": int(seed),
    }
    return EvaluationReport(
        data,
        texts_for(language),
        municipality,
        year,
        indicator,
        int(bootstrap_draws),
        int(seed),
        Path(tables_dir) if tables_dir else None,
        params,
    )


def section_title(report: EvaluationReport, key: str) -> str:
    return report.t(f"evaluation_report.sections.{key}")


def build_title(report: EvaluationReport) -> rc.Html:
    t = report.t
    title = t(
        "evaluation_report.title", municipality=report.municipality, school_year=report.school_year
    )
    facts = t(
        "common.report_for",
        municipality=report.municipality,
        school_year=report.school_year,
        min_n=report.data.min_n,
    )
    toc = rc.table_of_contents(t, [(a, section_title(report, k)) for a, k in SECTIONS])
    return rc.Html(
        rc.REPORT_CSS
        + '<header class="wb-report">'
        + f"<h1>{rc.esc(title)}</h1>"
        + rc.paragraph(t("evaluation_report.lead"), "wb-lead")
        + rc.paragraph(facts, "wb-meta")
        + toc
        + "</header>"
    )


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
        rows.append(
            {
                cols["year"]: format_school_year(year),
                cols["respondents"]: _count(t, muni_n("generel_trivsel")),
                cols["pupils"]: _count(t, muni_n("inklusionsgrad")),
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


def _count(t: Texts, n) -> str:
    return SUPPRESSED_MARKER if rc.is_missing(n) else t.number(float(n), decimals=0)


def build_coverage(report: EvaluationReport) -> rc.Html:
    t = report.t
    table = coverage_frame(report)
    body = rc.paragraph(t("evaluation_report.coverage_intro"))
    body += "".join(
        rc.paragraph(s)
        for s in rc.missing_years_sentences(
            t, report.data, "cluster_report.quality_missing_years", report.year
        )
    )
    body += charts.table_to_html(
        table,
        t("evaluation_report.coverage_caption"),
        [t("common.suppressed_note", min_n=report.data.min_n)],
    )
    if report.tables_dir is not None:
        charts.write_table_csv(table, "datagrundlag", report.tables_dir, t.language)
    return rc.section("datagrundlag", section_title(report, "coverage"), body)


def build_methods(report: EvaluationReport) -> rc.Html:
    t = report.t
    items = list(t.lookup("evaluation_report.methods_items"))
    items += [
        x.format(min_n=report.data.min_n) for x in t.lookup("cluster_report.methods_items")[-1:]
    ]
    return rc.section("metoder", section_title(report, "methods"), rc.bullets(items))


def build_models(report: EvaluationReport) -> rc.Html:
    """MixedLM (evaluation.models): school-years in schools in clusters, year terms."""
    from evaluation import models

    t, values = report.t, report.data.values
    name = rc.indicator_name(t, report.indicator)
    body = rc.paragraph(t("evaluation_report.models_intro"))
    units = values[
        (values["indicator_id"] == report.indicator_id)
        & (values["level"] == "unit")
        & (values["year"] <= report.year)
        & values["value"].notna()
    ]
    try:
        fit = models.fit_school_cluster_model(units)
    except EvaluationError as exc:
        body += rc.paragraph(t("evaluation_report.models_unavailable", reason=str(exc)))
        return rc.section("model", section_title(report, "models"), body)
    report.cache["model"] = fit
    fe = fit.fixed_effects()
    base = int(units["year"].min())
    table = pd.DataFrame(
        {
            t("evaluation_report.model_columns.term"): [term_label(t, x, base) for x in fe["term"]],
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
    vc = fit.variance_components().set_index("component")["variance"]
    group_var = float(vc.get("group", math.nan))
    fit_text = t(
        "evaluation_report.models_fit",
        method=fit.method,
        llf=t.number(fit.llf, 2),
        group_var=t.number(group_var, 4),
        scale=t.number(float(vc.get("residual", math.nan)), 4),
        n_obs=int(fit.result.nobs),
        n_groups=len(fit.result.model.group_labels),
    )
    body += charts.table_to_html(
        table, t("evaluation_report.models_caption", indicator=name), [fit_text]
    )
    attempts = fit.attempts
    attempts_table = pd.DataFrame(
        {
            t("evaluation_report.model_columns.optimizer"): attempts["method"],
            "log-likelihood": [t.number(v, 3) for v in attempts["llf"]],
            t("evaluation_report.model_columns.best"): [
                t("evaluation_report.model_columns.best_mark") if b else ""
                for b in attempts["best"]
            ],
        }
    )
    body += charts.table_to_html(attempts_table, t("evaluation_report.models_attempts"))
    if report.tables_dir is not None:
        charts.write_table_csv(table, "model", report.tables_dir, t.language)
    return rc.section("model", section_title(report, "models"), body)


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


def effect_panel(report: EvaluationReport, values: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """Cluster-year panel (cluster_id, year, value, start_year) for evaluation.effect."""
    sel = values[
        (values["indicator_id"] == indicator_id)
        & (values["level"] == "cluster")
        & (values["year"] <= report.year)
        & values["value"].notna()
    ]
    programme = report.data.programme
    start = dict(zip(programme["cluster_id"], programme["start_year"], strict=True))
    return pd.DataFrame(
        {
            "cluster_id": sel["entity_id"].astype(str).to_numpy(),
            "year": sel["year"].astype(int).to_numpy(),
            "value": sel["value"].astype(float).to_numpy(),
            "start_year": [
                float(start[c]) if not rc.is_missing(start.get(c)) else math.nan
                for c in sel["entity_id"]
            ],
        }
    )


def run_effect(report: EvaluationReport, values: pd.DataFrame, indicator_id: str):
    from evaluation import effect

    panel = effect_panel(report, values, indicator_id)
    return effect.estimate_effect(panel, draws=report.draws, seed=report.seed)


def build_effect(report: EvaluationReport) -> rc.Html:
    """Staggered DiD with wild cluster bootstrap; plain cluster-robust beside it, labelled."""
    t, indicator = report.t, report.indicator
    name = rc.indicator_name(t, indicator)
    body = rc.paragraph(t("evaluation_report.effect_intro"))
    try:
        result = run_effect(report, report.data.values, report.indicator_id)
    except EvaluationError as exc:
        body += rc.paragraph(t("evaluation_report.effect_unavailable", reason=str(exc)))
        return rc.section("effekt", section_title(report, "effect"), body)
    report.cache["effect"] = result
    overall = result.overall_row()
    interval = rc.format_interval(t, indicator, overall["ci_low"], overall["ci_high"], signed=True)
    summary = t(
        "evaluation_report.effect_summary",
        indicator=name,
        estimate=rc.format_difference(t, indicator, overall["estimate"]),
        interval=interval,
        clusters=result.n_clusters,
    )
    clear = not (overall["ci_low"] <= 0 <= overall["ci_high"])
    summary += " " + t(
        "evaluation_report.effect_clear" if clear else "evaluation_report.effect_unclear"
    )
    body += f'<p class="wb-note">{rc.esc(summary)}</p>'
    es = result.event_study
    wild, crv = t("evaluation_report.effect_wild"), t("evaluation_report.effect_crv")
    rows, table_rows = [], []
    for r in es.itertuples(index=False):
        label = (
            t("evaluation_report.effect_overall")
            if r.event_time == "overall"
            else t("evaluation_report.effect_event_time", k=f"{int(r.event_time):+d}")
        )
        scale = rc.display_scale(indicator)
        rows.append(
            {
                "row": label,
                "series": wild,
                "value": r.estimate * scale,
                "lower": r.ci_low * scale,
                "upper": r.ci_high * scale,
            }
        )
        rows.append(
            {
                "row": label,
                "series": crv,
                "value": r.estimate * scale,
                "lower": r.crve_ci_low * scale,
                "upper": r.crve_ci_high * scale,
            }
        )
        table_rows.append(
            {
                t("evaluation_report.effect_columns.time"): label,
                t("evaluation_report.effect_columns.estimate"): rc.format_difference(
                    t, indicator, r.estimate
                ),
                wild: rc.format_interval(t, indicator, r.ci_low, r.ci_high, signed=True),
                crv: rc.format_interval(t, indicator, r.crve_ci_low, r.crve_ci_high, signed=True),
            }
        )
    chart = charts.build_interval_chart(
        pd.DataFrame(rows),
        {
            "x": f"{t('evaluation_report.effect_chart_x')} ({t('kind_unit.' + indicator.kind)})",
            "series": "",
        },
        ".2f" if indicator.kind != "proportion" else ".0f",
        zero_line=True,
        series_order=[wild, crv],
        shapes=["circle", "square"],
    )
    body += charts.chart_html(
        chart,
        pd.DataFrame(table_rows),
        t("evaluation_report.effect_chart_title", indicator=name),
        t("evaluation_report.effect_chart_description"),
        "effekt",
        report.tables_dir,
        language=t.language,
        footnotes=[result.inference, result.comparison_note],
    )
    return rc.section("effekt", section_title(report, "effect"), body)


def build_sensitivity(report: EvaluationReport) -> rc.Html:
    """The main estimate beside another indicator and stricter suppression."""
    from evaluation import indicators

    t = report.t
    cols = t.lookup("evaluation_report.sensitivity_columns")
    checks = [
        (t("evaluation_report.sensitivity_checks.main"), report.data.values, report.indicator_id)
    ]
    other = (
        SENSITIVITY_INDICATOR if report.indicator_id != SENSITIVITY_INDICATOR else "generel_trivsel"
    )
    other_name = rc.indicator_name(t, report.data.catalog.get(other))
    checks.append(
        (
            t("evaluation_report.sensitivity_checks.other_indicator", indicator=other_name),
            report.data.values,
            other,
        )
    )
    strict_n = max(SENSITIVITY_MIN_N, report.data.min_n + 5)
    strict = indicators.load_indicator_values(report.data.warehouse, strict_n)
    strict = strict.assign(year=strict["year"].astype(int))
    checks.append(
        (
            t("evaluation_report.sensitivity_checks.min_n", min_n=strict_n),
            strict,
            report.indicator_id,
        )
    )
    rows = []
    for label, values, indicator_id in checks:
        indicator = report.data.catalog.get(indicator_id)
        try:
            overall = run_effect(report, values, indicator_id).overall_row()
            estimate = rc.format_difference(t, indicator, overall["estimate"])
            interval = rc.format_interval(
                t, indicator, overall["ci_low"], overall["ci_high"], signed=True
            )
        except EvaluationError:
            estimate, interval = SUPPRESSED_MARKER, SUPPRESSED_MARKER
        rows.append({cols["check"]: label, cols["estimate"]: estimate, cols["interval"]: interval})
    table = pd.DataFrame(rows)
    name = rc.indicator_name(t, report.indicator)
    body = rc.paragraph(t("evaluation_report.sensitivity_intro"))
    body += charts.table_to_html(table, t("evaluation_report.sensitivity_caption", indicator=name))
    if report.tables_dir is not None:
        charts.write_table_csv(table, "foelsomhed", report.tables_dir, t.language)
    return rc.section("foelsomhed", section_title(report, "sensitivity"), body)


def package_versions() -> pd.DataFrame:
    rows = [("python", platform.python_version())]
    for name in PACKAGES:
        try:
            rows.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((name, SUPPRESSED_MARKER))
    return pd.DataFrame(rows, columns=["package", "version"])


def build_parameters(report: EvaluationReport) -> rc.Html:
    t = report.t
    params = pd.DataFrame(
        {
            t("evaluation_report.parameter"): list(report.parameters),
            t("common.value"): [str(v) for v in report.parameters.values()],
        }
    )
    versions = package_versions()
    versions.columns = [t("evaluation_report.package"), t("evaluation_report.version")]
    body = charts.table_to_html(params, t("evaluation_report.parameters_caption"))
    body += charts.table_to_html(versions, t("evaluation_report.versions_caption"))
    return rc.section("parametre", section_title(report, "parameters"), body)


def collect_key_figures(report: EvaluationReport) -> dict:
    figures = {
        "report": "evaluation_report",
        "municipality": report.municipality,
        "year": report.year,
        "indicator": report.indicator_id,
    }
    result = report.cache.get("effect")
    if result is not None:
        overall = result.overall_row()
        for key in ("estimate", "ci_low", "ci_high", "crve_ci_low", "crve_ci_high"):
            figures[f"effect.{key}"] = round(float(overall[key]), 6)
    fit = report.cache.get("model")
    if fit is not None:
        figures["model.llf"] = round(fit.llf, 4)
        figures["model.method"] = fit.method
    return figures
