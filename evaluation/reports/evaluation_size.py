"""The evaluation report's size of the effect: the effect on the effort's own goals, the headline
in standard deviations and in percentage points of high wellbeing, the smallest effect the design
could detect (Bloom 1995), the estimate with each cluster left out, and the randomisation test.

Each goal runs the estimator once more without the event-time rows (only the overall row is read),
so the cost stays small; results are cached on the report for the key figures.
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.evaluation_context import EvaluationReport
from evaluation.reports.evaluation_effect import (
    demo_truth,
    effect_panel,
    format_effect,
    format_effect_interval,
    format_p,
    refusal_text,
    run_effect,
    subsection_start,
)
from evaluation.texts import SUPPRESSED_MARKER, Texts, danish_order, format_school_year

# The effort's goals ("Bredere børnefællesskaber"): inclusion in the general setting, special
# provision near home, short waits for help, and the share of pupils with high wellbeing.
GOAL_INDICATORS = ("inklusionsgrad", "naerhed", "ventetid", "hoej_trivsel_andel")
HIGH_WELLBEING = "hoej_trivsel_andel"
# Shuffles of the start years in the randomisation test: the report's bootstrap draws, at most
# this many (each recomputes the estimate; 499 keep it under a second and allow p down to 0.002).
MAX_PERMUTATIONS = 499


def goal_result(report: EvaluationReport, indicator_id: str):
    """The effect on one goal (overall row only), or the reason it cannot be estimated (str);
    the headline's own result when the goal is the report's indicator."""
    cache = report.cache.setdefault("goals", {})
    if indicator_id not in cache:
        if indicator_id == report.indicator_id and "effect" in report.cache:
            cache[indicator_id] = report.cache["effect"]
        elif indicator_id not in report.data.catalog.by_id:
            cache[indicator_id] = report.t("effect_extras.goals.not_in_catalog")
        else:
            values = report.data.values
            if not (values["indicator_id"] == indicator_id).any():
                cache[indicator_id] = report.t("effect_extras.goals.no_data")
            else:
                try:
                    cache[indicator_id] = run_effect(
                        report, values, indicator_id, event_times=False
                    )
                except EvaluationError as exc:
                    cache[indicator_id] = report.t("effect_extras.goals.failed", reason=str(exc))
    return cache[indicator_id]


def goal_row(report: EvaluationReport, indicator_id: str) -> tuple[dict, str]:
    """One goal's row (estimate, CV3 interval and p, clusters behind) and its "–" reason."""
    t = report.t
    cols = t.lookup("effect_extras.goals.columns")
    catalog = report.data.catalog
    indicator = catalog.get(indicator_id) if indicator_id in catalog.by_id else None
    name = rc.indicator_name(t, indicator) if indicator is not None else indicator_id
    empty = dict.fromkeys(list(cols.values())[1:], SUPPRESSED_MARKER)
    result = goal_result(report, indicator_id)
    if isinstance(result, str):
        return {cols["goal"]: name, **empty}, result
    overall = result.overall_row()
    row = {
        cols["goal"]: name,
        cols["estimate"]: format_effect(t, indicator, overall["estimate"]),
        cols["interval"]: format_effect_interval(
            t, indicator, overall["ci_low"], overall["ci_high"]
        ),
        cols["p"]: format_p(t, overall["p_value"]),
        cols["clusters"]: t(
            "effect_extras.goals.clusters_behind",
            treated=t.number(overall["n_treated_clusters"], decimals=0),
            total=t.number(result.n_clusters, decimals=0),
        ),
    }
    return row, refusal_text(t, overall)


def goals_html(report: EvaluationReport) -> str:
    """The effect on each of the effort's goals in one compact table."""
    t = report.t
    rows, by_reason = [], {}
    for indicator_id in GOAL_INDICATORS:
        row, reason = goal_row(report, indicator_id)
        rows.append(row)
        if reason:
            by_reason.setdefault(reason, []).append(row[next(iter(row))])
    notes = [
        t("effect_extras.goals.row_note", goals=rc.join_names(t, names), note=reason)
        for reason, names in by_reason.items()
    ]
    lower_better = [
        rc.lower_first(rc.indicator_name(t, report.data.catalog.get(i)))
        for i in GOAL_INDICATORS
        if i in report.data.catalog.by_id and report.data.catalog.get(i).direction == "lower_better"
    ]
    if lower_better:
        notes.append(t("effect_extras.goals.lower_better", names=rc.join_names(t, lower_better)))
    notes.append(t("effect_extras.goals.method"))
    truth = demo_truth(report)
    if truth:  # the demo's known true effects, as in the sensitivity table
        column = t("evaluation_report.sensitivity_columns.truth")
        for row, indicator_id in zip(rows, GOAL_INDICATORS, strict=True):
            known = truth.get(indicator_id)
            indicator = report.data.catalog.by_id.get(indicator_id)
            row[column] = SUPPRESSED_MARKER if known is None else format_effect(t, indicator, known)
        notes.append(t("evaluation_report.sensitivity_truth_note"))
    table = pd.DataFrame(rows)
    if report.tables_dir is not None:
        charts.write_table_csv(table, "effekt-maal", report.tables_dir, t.language)
    body = subsection_start(t, "goals")
    return body + charts.table_to_html(table, t("effect_extras.goals.caption"), notes)


def baseline_sd(report: EvaluationReport, result) -> tuple[float, int | None]:
    """(the pupil-level SD of the headline indicator in the municipality, its year): the year
    before the first start group's start (its base year), from the values' `sd` (mean, rate)
    or sqrt(p (1 - p)) from the share (proportion). NaN when not known."""
    from evaluation.stats import effect_scale  # why: scipy loads only when a report runs

    if result.cells.empty:
        return math.nan, None
    year = int(result.cells["base_year"].min())
    values = report.data.values
    row = values[
        (values["indicator_id"] == report.indicator_id)
        & (values["level"] == "municipality")
        & (values["entity_id"] == report.municipality)
        & (values["year"] == year)
    ]
    if row.empty:
        return math.nan, year
    value, sd = float(row["value"].iloc[0]), float(row["sd"].iloc[0])
    return effect_scale.pupil_sd(report.indicator.kind, value, sd), year


def sd_units(t: Texts, value) -> str:
    """An effect in standard deviations: "+0,15"."""
    return SUPPRESSED_MARKER if rc.is_missing(value) else t.number(value, decimals=2, signed=True)


def effect_size_sentences(report: EvaluationReport, result) -> list[str]:
    """The headline in SD units (saying which SD) and the effect on high wellbeing in points."""
    t, indicator = report.t, report.indicator
    overall = result.overall_row()
    sd, year = baseline_sd(report, result)
    report.cache["baseline_sd"] = sd
    name = rc.lower_first(rc.indicator_name(t, indicator))
    if rc.is_missing(sd) or sd <= 0:
        sentences = [t("effect_extras.size.no_sd", indicator=name)]
    else:
        sentences = [
            t(
                "effect_extras.size.sd_units",
                estimate=format_effect(t, indicator, overall["estimate"]),
                units=sd_units(t, overall["estimate"] / sd),
                interval=(
                    SUPPRESSED_MARKER
                    if overall["refused"]
                    else t(
                        "format.interval_signed",
                        lower=sd_units(t, overall["ci_low"] / sd),
                        upper=sd_units(t, overall["ci_high"] / sd),
                    )
                ),
                sd=t.number(sd, decimals=2),
                which=t(
                    "effect_extras.size.which_share"
                    if indicator.kind == "proportion"
                    else "effect_extras.size.which_sd",
                    indicator=name,
                    school_year=format_school_year(year),
                ),
            )
        ]
    high = goal_result(report, HIGH_WELLBEING)
    if not isinstance(high, str) and report.indicator_id != HIGH_WELLBEING:
        row = high.overall_row()
        share = report.data.catalog.get(HIGH_WELLBEING)
        sentences.append(
            t(
                "effect_extras.size.high_wellbeing",
                estimate=format_effect(t, share, row["estimate"]),
                interval=format_effect_interval(t, share, row["ci_low"], row["ci_high"]),
            )
        )
    return sentences


def format_magnitude(t: Texts, indicator, value) -> str:
    """An unsigned size in the indicator's effect unit (as format_effect, without the sign)."""
    return format_effect(t, indicator, value).lstrip("+")


def mde_sentences(report: EvaluationReport, result) -> list[str]:
    """The smallest overall effect the design could detect (80 % power, 5 % two-sided) with
    the headline's CV3 standard error and t(G-1), and how to read it."""
    from evaluation.stats import effect_scale  # why: scipy loads only when a report runs

    t, indicator = report.t, report.indicator
    overall = result.overall_row()
    if overall["refused"]:
        return [t("effect_extras.mde.refused", reason=refusal_text(t, overall))]
    mde = effect_scale.minimal_detectable_effect(overall["se"], result.n_clusters)
    report.cache["mde"] = mde
    sd = report.cache.get("baseline_sd", math.nan)
    in_sd = (
        t("effect_extras.mde.in_sd", units=t.number(mde / sd, decimals=2))
        if not rc.is_missing(sd) and sd > 0
        else ""
    )
    return [
        t(
            "effect_extras.mde.sentence",
            clusters=result.n_clusters,
            se=format_magnitude(t, indicator, overall["se"]),
            mde=format_magnitude(t, indicator, mde),
            in_sd=in_sd,
            estimate=format_effect(t, indicator, overall["estimate"]),
        ),
        t("effect_extras.mde.method", df=result.n_clusters - 1),
    ]


def leave_one_out_html(report: EvaluationReport, result) -> str:
    """The overall estimate with each cluster left out: a compact table and the range."""
    from evaluation.stats import effect_scale  # why: scipy loads only when a report runs

    t, indicator = report.t, report.indicator
    cols = t.lookup("effect_extras.leave_one_out.columns")
    panel = effect_panel(report, report.data.values, report.indicator_id)
    loo = effect_scale.leave_one_cluster_out(panel)
    loo["name"] = [report.data.cluster_name(str(c)) for c in loo["cluster_id"]]
    loo = loo.sort_values("name", key=lambda names: names.map(danish_order), ignore_index=True)
    report.cache["leave_one_out"] = loo
    table = pd.DataFrame(
        {
            cols["cluster"]: loo["name"],
            cols["start"]: [
                t("effect_extras.cohorts.never") if rc.is_missing(s) else format_school_year(int(s))
                for s in loo["start_year"]
            ],
            cols["estimate"]: [format_effect(t, indicator, v) for v in loo["estimate"]],
        }
    )
    notes = [t("effect_extras.leave_one_out.dash")] if loo["estimate"].isna().any() else []
    body = subsection_start(t, "leave_one_out")
    known = loo.dropna(subset=["estimate"])
    if len(known):
        low, high = known.loc[known["estimate"].idxmin()], known.loc[known["estimate"].idxmax()]
        body += rc.paragraph(
            t(
                "effect_extras.leave_one_out.range",
                low=format_effect(t, indicator, low["estimate"]),
                low_name=low["name"],
                high=format_effect(t, indicator, high["estimate"]),
                high_name=high["name"],
                estimate=format_effect(t, indicator, result.overall_row()["estimate"]),
            )
        )
    if report.tables_dir is not None:
        charts.write_table_csv(table, "effekt-uden-klynge", report.tables_dir, t.language)
    caption = t("effect_extras.leave_one_out.caption", indicator=rc.indicator_name(t, indicator))
    return body + charts.table_to_html(table, caption, notes)


def randomisation_sentence(report: EvaluationReport, result) -> str:
    """The randomisation-inference p-value of the overall effect in plain words, beside the
    headline (start years shuffled across clusters as often as the bootstrap draws, at most
    MAX_PERMUTATIONS times; evaluation.stats.effect.randomisation_p_value); "–" with the reason
    when the overall row is refused (as for the other p-values)."""
    from evaluation.stats import effect  # why: scipy loads only when a report runs

    t = report.t
    overall = result.overall_row()
    if overall["refused"]:
        return t("effect_extras.randomisation.refused", reason=refusal_text(t, overall))
    panel = effect_panel(report, report.data.values, report.indicator_id)
    permutations = min(report.draws, MAX_PERMUTATIONS)
    try:
        _, p = effect.randomisation_p_value(panel, permutations=permutations, seed=report.seed)
    except EvaluationError as exc:
        return t("effect_extras.randomisation.failed", reason=str(exc))
    report.cache["randomisation_p"] = p
    report.cache["randomisation_permutations"] = permutations
    return t(
        "effect_extras.randomisation.sentence",
        permutations=t.number(permutations, decimals=0),
        p=format_p(t, p, named=True),
        p_min=t.number(1 / (permutations + 1), decimals=3),
    )


def size_html(report: EvaluationReport, result) -> str:
    """Goals, effect size, detectable effect and leave-one-out, each under its sub-heading."""
    t = report.t
    body = goals_html(report)
    body += subsection_start(t, "size")
    body += "".join(rc.paragraph(s) for s in effect_size_sentences(report, result))
    body += subsection_start(t, "mde")
    body += "".join(rc.paragraph(s) for s in mde_sentences(report, result))
    return body + leave_one_out_html(report, result)
