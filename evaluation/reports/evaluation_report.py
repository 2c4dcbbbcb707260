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

from evaluation.catalog import load_catalog
from evaluation.errors import EvaluationError, ParameterError
from evaluation.reports import charts, key_figures
from evaluation.reports import common as rc
from evaluation.reports.leader_summary import check_municipality
from evaluation.texts import SUPPRESSED_MARKER, Texts, format_school_year, texts_for

SENSITIVITY_INDICATOR = "social_trivsel"
SENSITIVITY_MIN_N = 10
PLACEBO_INDICATOR = "ro_og_orden"  # the demo's placebo: the effort is not expected to move it
COVID_YEARS = (2019, 2020, 2021)  # school years 2019/20-2021/22
GRADES_4_9_SHARE = 0.6  # grades 4-9 are 6 of the 10 grades 0-9 in the register's pupil count
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

    language, path, min_n = rc.check_common(language, warehouse, min_n)
    tables = rc.read_warehouse_tables(path)
    names = sorted(tables["units"]["municipality"].dropna().astype(str).unique())
    municipality = check_municipality(municipality, names)
    year = rc.check_year(year, tables["years"])
    catalog = load_catalog()
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
    return rc.section("datagrundlag", section_title(report, "coverage"), body)


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
    """MixedLM (evaluation.stats.models): school-years in schools in clusters, year terms."""
    from evaluation.stats import models

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
    """Cluster-year panel (cluster_id, year, value, start_year) for evaluation.stats.effect."""
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


def run_effect(
    report: EvaluationReport, values: pd.DataFrame, indicator_id: str, comparison: str = "not_yet"
):
    from evaluation.stats import effect

    panel = effect_panel(report, values, indicator_id)
    return effect.estimate_effect(
        panel, draws=report.draws, seed=report.seed, comparison=comparison
    )


def format_effect(t: Texts, indicator, value) -> str:
    """An effect: 3 decimals on a 1-5 scale (effects are small), points for shares and rates."""
    if rc.is_missing(value):
        return SUPPRESSED_MARKER
    if indicator.kind in ("proportion", "rate"):
        return rc.format_difference(t, indicator, value)
    return t.number(value, decimals=3, signed=True)


def format_effect_interval(t: Texts, indicator, lower, upper) -> str:
    if rc.is_missing(lower) or rc.is_missing(upper):
        return SUPPRESSED_MARKER
    if indicator.kind in ("proportion", "rate"):
        return rc.format_interval(t, indicator, lower, upper, signed=True)
    return t(
        "format.interval_signed",
        lower=t.number(lower, decimals=3, signed=True),
        upper=t.number(upper, decimals=3, signed=True),
    )


def format_p(t: Texts, p, named: bool = False) -> str:
    """ "0,048" / "< 0,001"; with `named` "p = 0,048" / "p < 0,001" for use in a sentence."""
    if rc.is_missing(p):
        return SUPPRESSED_MARKER
    if p < 0.001:
        text = t("evaluation_report.p_below", value=t.number(0.001, 3))
        return f"p {text}" if named else text
    return f"p = {t.number(p, 3)}" if named else t.number(p, 3)


def inference_notes(t: Texts, result, draws: int) -> list[str]:
    """The methods behind the intervals, in the report's language (effect.py's own labels are
    English and stay out of the report)."""
    from evaluation.stats import effect

    webb = result.n_clusters <= effect.WEBB_MAX_CLUSTERS
    notes = [
        t(
            "evaluation_report.effect_note_headline",
            clusters=result.n_clusters,
            df=result.n_clusters - 1,
        ),
        t(
            "evaluation_report.effect_note_wild",
            weights=t(
                "evaluation_report.weights_webb" if webb else "evaluation_report.weights_rademacher"
            ),
            draws=draws,
        ),
        t("evaluation_report.effect_note_crv"),
    ]
    if (result.event_study["se_method"] != "CV3").any():
        notes.append(t("evaluation_report.effect_note_fallback"))
    return notes


def demo_truth_file(report: EvaluationReport) -> Path | None:
    """The demo's true_effects.json: in config.demo_raw_dir(), or beside the warehouse's
    data folder (data/warehouse/x.duckdb -> data/raw/demo/true_effects.json)."""
    from evaluation import config

    candidates = [
        config.demo_raw_dir() / "true_effects.json",
        report.data.warehouse.parent.parent / "raw" / "demo" / "true_effects.json",
    ]
    return next((c for c in candidates if c.is_file()), None)


def demo_truth(report: EvaluationReport) -> dict:
    """Known true effects {indicator_id: realised} when the data are the synthetic demo's: the
    municipality is the demo one and the sidecar's start years match the warehouse's."""
    import json

    from evaluation.data import demo

    if "truth" in report.cache:
        return report.cache["truth"]
    truth: dict = {}
    path = demo_truth_file(report)
    if path is not None and report.municipality == demo.municipality_name(1):
        sidecar = json.loads(path.read_text(encoding="utf-8"))
        programme = report.data.programme
        starts = {
            str(c): (None if rc.is_missing(y) else int(y))
            for c, y in zip(programme["cluster_id"], programme["start_year"], strict=True)
        }
        if sidecar.get("start_years") == starts:
            truth = {k: float(v["realised"]) for k, v in sidecar.get("effects", {}).items()}
    report.cache["truth"] = truth
    return truth


def build_effect(report: EvaluationReport) -> rc.Html:
    """Staggered DiD: jackknife CV3 interval first, wild bootstrap beside, CR1 for comparison."""
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
    summary = t(
        "evaluation_report.effect_summary",
        indicator=name,
        estimate=format_effect(t, indicator, overall["estimate"]),
        interval=format_effect_interval(t, indicator, overall["ci_low"], overall["ci_high"]),
        p=format_p(t, overall["p_value"], named=True),
        clusters=result.n_clusters,
        wild=format_effect_interval(t, indicator, overall["wild_ci_low"], overall["wild_ci_high"]),
        wild_p=format_p(t, overall["wild_p_value"], named=True),
    )
    clear = not (overall["ci_low"] <= 0 <= overall["ci_high"])
    summary += " " + t(
        "evaluation_report.effect_clear" if clear else "evaluation_report.effect_unclear"
    )
    body += f'<p class="wb-note">{rc.esc(summary)}</p>'
    truth = demo_truth(report).get(report.indicator_id)
    if truth is not None:
        inside = overall["ci_low"] <= truth <= overall["ci_high"]
        body += rc.paragraph(
            t(
                "evaluation_report.effect_truth",
                truth=format_effect(t, indicator, truth),
                inside=t(
                    "evaluation_report.effect_truth_inside"
                    if inside
                    else "evaluation_report.effect_truth_outside"
                ),
            ),
            "wb-note",
        )
    es = result.event_study
    cv3 = t("evaluation_report.effect_cv3")
    wild = t("evaluation_report.effect_wild")
    crv = t("evaluation_report.effect_crv")
    cols = t.lookup("evaluation_report.effect_columns")
    scale = rc.display_scale(indicator)
    rows, table_rows = [], []
    for r in es.itertuples(index=False):
        label = (
            t("evaluation_report.effect_overall")
            if r.event_time == "overall"
            else t(
                "evaluation_report.effect_event_time",
                k=f"{int(r.event_time):+d}".replace("-", "\N{MINUS SIGN}"),
            )
        )
        for series, lo, hi in (
            (cv3, r.ci_low, r.ci_high),
            (wild, r.wild_ci_low, r.wild_ci_high),
            (crv, r.crve_ci_low, r.crve_ci_high),
        ):
            rows.append(
                {
                    "row": label,
                    "series": series,
                    "value": r.estimate * scale,
                    "lower": lo * scale,
                    "upper": hi * scale,
                }
            )
        table_rows.append(
            {
                cols["time"]: label,
                cols["estimate"]: format_effect(t, indicator, r.estimate),
                cols["cv3"]: format_effect_interval(t, indicator, r.ci_low, r.ci_high),
                cols["cv3_p"]: format_p(t, r.p_value),
                cols["wild"]: format_effect_interval(t, indicator, r.wild_ci_low, r.wild_ci_high),
                cols["wild_p"]: format_p(t, r.wild_p_value),
                cols["crv"]: format_effect_interval(t, indicator, r.crve_ci_low, r.crve_ci_high),
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
        series_order=[cv3, wild, crv],
        shapes=["circle", "diamond", "square"],
    )
    body += charts.chart_html(
        chart,
        pd.DataFrame(table_rows),
        t("evaluation_report.effect_chart_title", indicator=name),
        t("evaluation_report.effect_chart_description"),
        "effekt",
        report.tables_dir,
        language=t.language,
        footnotes=inference_notes(t, result, report.draws),
    )
    return rc.section("effekt", section_title(report, "effect"), body)


def fixed_membership_values(report: EvaluationReport, indicator_id: str) -> pd.DataFrame | None:
    """Cluster rows rebuilt from unit rows with every unit kept in its cluster of the report
    year (the membership of each year is the default). Survey-type indicators only (register
    ones are by the pupils' home cluster); units whose figure is hidden are left out, so
    this is an approximation. None when it does not apply."""
    data = report.data
    indicator = data.catalog.get(indicator_id)
    if indicator.cluster_rollup != "membership" or indicator.kind not in ("mean", "proportion"):
        return None
    m = data.membership
    if m is None or m.empty:
        return None
    year = report.year
    now = m[
        (m["from_year"].fillna(-1).astype(int) <= year)
        & (m["to_year"].isna() | (m["to_year"].fillna(9999).astype(int) >= year))
    ]
    fixed = dict(zip(now["unit_id"].astype(str), now["cluster_id"].astype(str), strict=True))
    values = data.values
    units = values[
        (values["indicator_id"] == indicator_id)
        & (values["level"] == "unit")
        & values["value"].notna()
    ].copy()
    units["fixed_cluster"] = units["entity_id"].astype(str).map(fixed)
    units = units.dropna(subset=["fixed_cluster"])
    if indicator.kind == "proportion":
        units["weighted"] = units["numerator"].astype(float)
    else:
        units["weighted"] = units["value"].astype(float) * units["n"].astype(float)
    sums = units.groupby(["fixed_cluster", "year"])[["weighted", "n"]].sum().reset_index()
    clusters = pd.DataFrame(
        {
            "year": sums["year"].astype(int),
            "level": "cluster",
            "entity_id": sums["fixed_cluster"],
            "indicator_id": indicator_id,
            "value": sums["weighted"] / sums["n"],
        }
    )
    return clusters


def sensitivity_checks(
    report: EvaluationReport,
) -> list[tuple[str, pd.DataFrame | None, str, str, str]]:
    """(label, indicator values or None when not possible, indicator id, note, comparison
    group of evaluation.stats.effect) per check."""
    from evaluation.values import indicators

    t, values, main = report.t, report.data.values, report.indicator_id
    key = "evaluation_report.sensitivity_checks."
    note = "evaluation_report.sensitivity_notes."
    checks = [(t(key + "main"), values, main, "")]
    other = SENSITIVITY_INDICATOR if main != SENSITIVITY_INDICATOR else "generel_trivsel"
    other_name = rc.indicator_name(t, report.data.catalog.get(other))
    checks.append((t(key + "other_indicator", indicator=other_name), values, other, ""))
    if main != PLACEBO_INDICATOR and PLACEBO_INDICATOR in report.data.catalog.by_id:
        placebo_name = rc.indicator_name(t, report.data.catalog.get(PLACEBO_INDICATOR))
        checks.append(
            (
                t(key + "placebo", indicator=placebo_name),
                values,
                PLACEBO_INDICATOR,
                t(note + "placebo"),
            )
        )
    covid = [format_school_year(y) for y in COVID_YEARS]
    checks.append(
        (
            t(key + "no_covid", first=covid[0], last=covid[-1]),
            values[~values["year"].isin(COVID_YEARS)],
            main,
            t(note + "no_covid"),
        )
    )
    checks.append((t(key + "never_treated"), values, main, t(note + "never_treated"), "never"))
    fixed = fixed_membership_values(report, main)
    checks.append(
        (
            t(key + "fixed_membership", school_year=report.school_year),
            fixed,
            main,
            t(note + ("fixed_membership" if fixed is not None else "fixed_membership_register")),
        )
    )
    strict_n = max(SENSITIVITY_MIN_N, report.data.min_n + 5)
    strict = indicators.load_indicator_values(report.data.warehouse, strict_n)
    strict = strict.assign(year=strict["year"].astype(int))
    checks.append((t(key + "min_n", min_n=strict_n), strict, main, ""))
    return [check if len(check) == 5 else (*check, "not_yet") for check in checks]


def build_sensitivity(report: EvaluationReport) -> rc.Html:
    """The main estimate beside other indicators, a placebo, other years, other membership and
    stricter suppression; a row says plainly when a check cannot be run."""
    t = report.t
    cols = t.lookup("evaluation_report.sensitivity_columns")
    truth = demo_truth(report)
    rows = []
    for label, values, indicator_id, note, comparison in sensitivity_checks(report):
        indicator = report.data.catalog.get(indicator_id)
        estimate = interval = wild = SUPPRESSED_MARKER
        if values is not None:
            try:
                overall = run_effect(report, values, indicator_id, comparison).overall_row()
                estimate = format_effect(t, indicator, overall["estimate"])
                interval = format_effect_interval(
                    t, indicator, overall["ci_low"], overall["ci_high"]
                )
                wild = format_effect_interval(
                    t, indicator, overall["wild_ci_low"], overall["wild_ci_high"]
                )
            except EvaluationError as exc:
                note = (note + " " if note else "") + t(
                    "evaluation_report.sensitivity_notes.failed", reason=str(exc)
                )
        row = {
            cols["check"]: label,
            cols["estimate"]: estimate,
            cols["interval"]: interval,
            cols["wild"]: wild,
        }
        if truth:
            row[cols["truth"]] = (
                format_effect(t, indicator, truth[indicator_id])
                if indicator_id in truth
                else SUPPRESSED_MARKER
            )
        row[cols["note"]] = note
        rows.append(row)
    table = pd.DataFrame(rows)
    name = rc.indicator_name(t, report.indicator)
    body = rc.paragraph(t("evaluation_report.sensitivity_intro"))
    footnotes = [t("evaluation_report.sensitivity_truth_note")] if truth else []
    body += charts.table_to_html(
        table, t("evaluation_report.sensitivity_caption", indicator=name), footnotes
    )
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
        for key in (
            "estimate",
            "ci_low",
            "ci_high",
            "wild_ci_low",
            "wild_ci_high",
            "crve_ci_low",
            "crve_ci_high",
        ):
            figures[f"effect.{key}"] = round(float(overall[key]), 6)
    truth = report.cache.get("truth", {}).get(report.indicator_id)
    if truth is not None:
        figures["effect.demo_truth"] = round(truth, 6)
    fit = report.cache.get("model")
    if fit is not None:
        figures["model.llf"] = round(fit.llf, 4)
        figures["model.method"] = fit.method
    return figures


def record_figures(report: EvaluationReport) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(collect_key_figures(report))
