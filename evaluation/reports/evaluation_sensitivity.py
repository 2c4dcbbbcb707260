"""The evaluation report's sensitivity checks: the main estimate again with another indicator, a
placebo, without the COVID years, against never-started clusters, with fixed membership and with
stricter suppression; a check that cannot run says so in its row.
"""

from __future__ import annotations

import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.reports import common as rc
from evaluation.reports.evaluation_context import EvaluationReport
from evaluation.reports.evaluation_effect import (
    format_effect,
    format_effect_interval,
    refusal_text,
    run_effect,
)
from evaluation.texts import SUPPRESSED_MARKER, format_school_year

SENSITIVITY_INDICATOR = "social_trivsel"
SENSITIVITY_MIN_N = 10
PLACEBO_INDICATOR = "ro_og_orden"  # the demo's placebo: the effort is not expected to move it
COVID_YEARS = (2019, 2020, 2021)  # school years 2019/20-2021/22


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
    from evaluation.values import load  # why: duckdb loads only when a report runs

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
    strict = load.load_indicator_values(report.data.warehouse, strict_n)
    strict = strict.assign(year=strict["year"].astype(int))
    checks.append((t(key + "min_n", min_n=strict_n), strict, main, ""))
    return [check if len(check) == 5 else (*check, "not_yet") for check in checks]


def sensitivity_row(report: EvaluationReport, check: tuple, truth: dict) -> dict:
    """One check's row: estimate, both intervals, the demo's truth (when known) and its note;
    the marker and the reason in the note when the check cannot be run."""
    t = report.t
    cols = t.lookup("evaluation_report.sensitivity_columns")
    label, values, indicator_id, note, comparison = check
    indicator = report.data.catalog.get(indicator_id)
    estimate = interval = wild = SUPPRESSED_MARKER
    if values is not None:
        try:
            result = run_effect(report, values, indicator_id, comparison, event_times=False)
            overall = result.overall_row()
            estimate = format_effect(t, indicator, overall["estimate"])
            interval = format_effect_interval(t, indicator, overall["ci_low"], overall["ci_high"])
            wild = format_effect_interval(
                t, indicator, overall["wild_ci_low"], overall["wild_ci_high"]
            )
            if overall["refused"]:
                note = (note + " " if note else "") + refusal_text(t, overall)
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
    return row
