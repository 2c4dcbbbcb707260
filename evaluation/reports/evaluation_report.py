"""Content of the evaluation report (evalueringsrapport): coverage, methods, models, effect.

The notebook `notebooks/evaluation_report.ipynb` calls `prepare_report(...)` right after its
parameters, then one `build_*` function per section, and finally `collect_key_figures`. The
helpers behind the sections are in evaluation_tables, evaluation_effect, evaluation_design (start
groups and ATT(g, t)), evaluation_size (goals, effect size, detectable effect, leave-one-out,
randomisation test) and evaluation_sensitivity.
"""

from __future__ import annotations

import pandas as pd

from evaluation.catalog import load_catalog
from evaluation.errors import EvaluationError, ParameterError
from evaluation.reports import charts, evaluation_decisions, key_figures
from evaluation.reports import common as rc
from evaluation.reports.evaluation_context import EvaluationReport
from evaluation.reports.evaluation_design import cohorts_html, design_html
from evaluation.reports.evaluation_effect import (
    demo_truth,
    effect_chart_html,
    effect_decimals,
    effect_summary,
    shared_effect,
    subsection_start,
    truth_note_html,
)
from evaluation.reports.evaluation_pretrends import build_pretrend_checks
from evaluation.reports.evaluation_sensitivity import sensitivity_checks, sensitivity_row
from evaluation.reports.evaluation_size import randomisation_sentence, size_html
from evaluation.reports.evaluation_tables import (
    GRADES_4_9_SHARE,
    coverage_frame,
    model_attempts_table,
    model_fit_note,
    model_sample_sentence,
    model_terms_table,
    package_versions,
    provenance_table,
    response_rate,  # noqa: F401 - read as evaluation_report.response_rate (tests)
    variance_figures,
    variance_sentences,
    variance_table,
)
from evaluation.texts import SUPPRESSED_MARKER

SECTIONS = (
    ("datagrundlag", "coverage"),
    ("metoder", "methods"),
    ("model", "models"),
    ("effekt", "effect"),
    ("handlinger", "decisions"),
    ("foelsomhed", "sensitivity"),
    ("parametre", "parameters"),
)
EFFECT_FIGURES = (
    "estimate",
    "ci_low",
    "ci_high",
    "wild_ci_low",
    "wild_ci_high",
    "crve_ci_low",
    "crve_ci_high",
)


def check_parameters(municipality, year, language, warehouse, min_n, indicator, draws):
    """Stop with a ParameterError (listing valid values) before any work is done."""
    checked = rc.check_report_parameters(
        language, warehouse, min_n, year, lambda tables: rc.check_municipality(municipality, tables)
    )
    catalog = load_catalog()
    usable = [i.id for i in catalog.indicators if i.kind in ("mean", "proportion", "rate")]
    if indicator not in usable:
        raise ParameterError(
            f"indicator={indicator!r} cannot be modelled; choose one of: {', '.join(usable)}"
        )
    if int(draws) < 99:
        raise ParameterError(f"bootstrap_draws={draws!r} is too few; use at least 99 (e.g. 999)")
    return checked


def prepare_report(
    municipality: str = "",
    indicator: str = "generel_trivsel",
    year: int = 2024,
    language: str = "da",
    warehouse: str = "",
    min_n: int = 5,
    tables_dir: str = "",
    bootstrap_draws: int = 999,
    seed: int = 2023,
) -> EvaluationReport:
    checked = check_parameters(
        municipality, year, language, warehouse, min_n, indicator, bootstrap_draws
    )
    data, t, tables = rc.open_report(checked, tables_dir)
    params = {
        "municipality": checked.subject,
        "year": checked.year,
        "language": checked.language,
        "warehouse": str(checked.warehouse),
        "min_n": checked.min_n,
        "indicator": indicator,
        "bootstrap_draws": int(bootstrap_draws),
        "seed": int(seed),
    }
    return EvaluationReport(
        data,
        t,
        checked.subject,
        checked.year,
        indicator,
        int(bootstrap_draws),
        int(seed),
        tables,
        params,
    )


section_title = rc.section_titles("evaluation_report")  # section_title(report, key): a heading


def build_title(report: EvaluationReport) -> rc.Html:
    t = report.t
    title, facts = rc.municipality_title(report, "evaluation_report")
    intro = rc.paragraph(t("evaluation_report.lead"), "wb-lead") + rc.paragraph(facts, "wb-meta")
    return rc.report_header(t, "evaluation_report", SECTIONS, title, intro)


def build_coverage(report: EvaluationReport) -> rc.Html:
    t = report.t
    table = coverage_frame(report)
    body = rc.paragraph(t("evaluation_report.coverage_intro"))
    has_register = table[t("evaluation_report.coverage_columns.pupils")].ne(SUPPRESSED_MARKER).any()
    body += rc.paragraph(
        t(
            "evaluation_report.response_note"
            if has_register
            else "evaluation_report.response_unavailable",
            share=t.percent(GRADES_4_9_SHARE, decimals=0),
        )
    )
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
    section = rc.section("datagrundlag", section_title(report, "coverage"), body)
    return rc.link_clusters(section, report.data, report.municipality)


def build_methods(report: EvaluationReport) -> rc.Html:
    t = report.t
    items = list(t.lookup("evaluation_report.methods_items"))
    items += [
        x.format(min_n=report.data.min_n) for x in t.lookup("cluster_report.methods_items")[-1:]
    ]
    body = rc.bullets(items)
    body += f"<h3>{rc.esc(t('evaluation_report.references_title'))}</h3>"
    body += rc.bullets(list(t.lookup("evaluation_report.references")))
    return rc.section("metoder", section_title(report, "methods"), body)


def build_models(report: EvaluationReport) -> rc.Html:
    """MixedLM (evaluation.stats.models): school-years in schools in clusters, year terms; what
    was fitted, the year terms and the variance components with the reliability of means."""
    from evaluation.stats import models  # why: statsmodels loads only when a report runs

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
    body += rc.paragraph(model_sample_sentence(t, fit, name))
    table = model_terms_table(t, fit, int(units["year"].min()))
    body += charts.table_to_html(
        table, t("evaluation_report.models_caption", indicator=name), [model_fit_note(t, fit)]
    )
    figures = variance_figures(fit)
    variances = variance_table(t, figures)
    body += rc.paragraph(variance_sentences(t, figures))
    body += charts.table_to_html(
        variances,
        t("model_fit.variance_caption", indicator=name),
        [t("model_fit.variance_note"), t("model_fit.formula", formula=t("model_fit.formula_text"))],
    )
    if report.tables_dir is not None:
        charts.write_table_csv(table, "model", report.tables_dir, t.language)
        charts.write_table_csv(variances, "model_varians", report.tables_dir, t.language)
    return rc.section("model", section_title(report, "models"), body)


def build_effect(report: EvaluationReport) -> rc.Html:
    """Staggered DiD: who started when; the headline (jackknife CV3 interval first, wild
    bootstrap beside, CR1 for comparison) with the randomisation test; the event study and the
    checks of parallel trends (joint test of the pre-start points, Rambachan-Roth breakdown);
    each start group and ATT(g, t) cell; the effort's goals; the effect's size; the smallest
    detectable effect and the estimate with each cluster left out, each under a sub-heading."""
    t = report.t
    body = rc.paragraph(t("evaluation_report.effect_intro"))
    try:
        result = shared_effect(report, report.indicator_id)
    except EvaluationError as exc:
        body += rc.paragraph(t("evaluation_report.effect_unavailable", reason=str(exc)))
        return rc.section("effekt", section_title(report, "effect"), body + cohorts_html(report))
    report.cache["effect"] = result
    body += cohorts_html(report, result)
    body += subsection_start(t, "headline")
    body += f'<p class="wb-note">{rc.esc(effect_summary(t, report.indicator, result))}</p>'
    body += rc.paragraph(randomisation_sentence(report, result), "wb-note")
    body += truth_note_html(report, result)
    body += effect_chart_html(report, result)
    body += str(build_pretrend_checks(report, result))  # parallel trends: joint test, breakdown
    body += design_html(report, result)
    body += size_html(report, result)
    section = rc.section("effekt", section_title(report, "effect"), body)
    return rc.link_clusters(section, report.data, report.municipality)


def build_decisions(report: EvaluationReport) -> rc.Html:
    """The clusters' decisions by cluster and school year, as description, not as effects
    (evaluation_decisions)."""
    section = evaluation_decisions.build_decisions_table(report)
    return rc.link_clusters(section, report.data, report.municipality)


def build_sensitivity(report: EvaluationReport) -> rc.Html:
    """The main estimate beside other indicators, a placebo, other years, other membership and
    stricter suppression; a row says plainly when a check cannot be run."""
    t = report.t
    truth = demo_truth(report)
    table = pd.DataFrame(
        [sensitivity_row(report, check, truth) for check in sensitivity_checks(report)]
    )
    name = rc.indicator_name(t, report.indicator)
    body = rc.paragraph(t("evaluation_report.sensitivity_intro"))
    footnotes = [t("evaluation_report.sensitivity_truth_note")] if truth else []
    body += charts.table_to_html(
        table, t("evaluation_report.sensitivity_caption", indicator=name), footnotes
    )
    if report.tables_dir is not None:
        charts.write_table_csv(table, "foelsomhed", report.tables_dir, t.language)
    section = rc.section("foelsomhed", section_title(report, "sensitivity"), body)
    return rc.link_clusters(section, report.data, report.municipality)


def build_parameters(report: EvaluationReport) -> rc.Html:
    """The appendix: parameters, package versions, the data hash and code commit, and how each
    optimizer did on the multilevel model (when the model section fitted one)."""
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
    body += charts.table_to_html(
        provenance_table(t, report.parameters["warehouse"]),
        t("model_fit.provenance_caption"),
        [t("model_fit.provenance_note")],
    )
    fit = report.cache.get("model")
    if fit is not None:
        body += f"<h3>{rc.esc(t('model_fit.attempts_heading'))}</h3>"
        body += rc.paragraph(t("model_fit.attempts_intro"))
        body += charts.table_to_html(
            model_attempts_table(t, fit), t("evaluation_report.models_attempts")
        )
    return rc.section("parametre", section_title(report, "parameters"), body)


def collect_key_figures(report: EvaluationReport) -> dict:
    """The figures verify compares, each at the precision the page prints it (issue #18)."""
    figures = {
        "report": "evaluation_report",
        "municipality": report.municipality,
        "year": report.year,
        "indicator": report.indicator_id,
    }
    decimals = effect_decimals(report.indicator)
    result = report.cache.get("effect")
    if result is not None:
        overall = result.overall_row()
        for key in EFFECT_FIGURES:
            figures[f"effect.{key}"] = key_figures.Shown(overall[key], decimals)
        if overall["refused"]:
            figures["effect.refused"] = overall["refused"]
    figures.update(size_figures(report, decimals))
    truth = report.cache.get("truth", {}).get(report.indicator_id)
    if truth is not None:
        figures["effect.demo_truth"] = key_figures.Shown(truth, decimals)
    fit = report.cache.get("model")
    if fit is not None:
        figures["model.llf"] = round(fit.llf, 4)
        figures["model.method"] = fit.method
    return figures


def size_figures(report: EvaluationReport, decimals: int) -> dict:
    """The effect's size figures the report shows: randomisation p, detectable effect, SD
    units, the leave-one-out range and each goal's overall estimate (only those computed)."""
    shown = key_figures.Shown
    figures: dict = {}
    places = {"randomisation_p": 3, "mde": decimals, "baseline_sd": 2}
    for key in ("randomisation_p", "randomisation_permutations", "mde", "baseline_sd"):
        value = report.cache.get(key)
        if value is not None and not rc.is_missing(value):
            figures[f"effect.{key}"] = shown(value, places[key]) if key in places else value
    loo = report.cache.get("leave_one_out")
    if loo is not None and loo["estimate"].notna().any():
        figures["effect.leave_one_out_min"] = shown(loo["estimate"].min(), decimals)
        figures["effect.leave_one_out_max"] = shown(loo["estimate"].max(), decimals)
    for indicator_id, result in report.cache.get("goals", {}).items():
        if not isinstance(result, str):
            goal = effect_decimals(report.data.catalog.get(indicator_id))
            estimate = result.overall_row()["estimate"]
            figures[f"goal.{indicator_id}.estimate"] = shown(estimate, goal)
    return figures


def record_figures(report: EvaluationReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
