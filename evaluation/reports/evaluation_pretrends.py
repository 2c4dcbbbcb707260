"""The evaluation report's pre-start checks of the effect (evaluation.stats.pretrends): the joint
test that all points before the start are zero, a word on single points that reject on their
own, and the Rambachan & Roth (2023) relative-magnitude sensitivity with its breakdown value.

`build_pretrend_checks(report, result)` returns a fragment (h3, sentences, a small table) for the
effect section; it rebuilds the effect's cluster-year panel the way `run_effect` does.
"""

from __future__ import annotations

import pandas as pd

from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.evaluation_context import EvaluationReport
from evaluation.reports.evaluation_effect import (
    effect_panel,
    format_effect,
    format_effect_interval,
    format_p,
)
from evaluation.texts import Texts

SMALL_P = 0.05  # below this the joint test says the clusters were moving apart


def build_pretrend_checks(report: EvaluationReport, result) -> rc.Html:
    """The pre-start checks of `result` (what `run_effect` returned for the report's indicator
    with not-yet-started comparison clusters, the headline)."""
    from evaluation.stats import pretrends  # why: scipy loads only when a report runs

    panel = effect_panel(report, report.data.values, report.indicator_id)
    checks = pretrends.pretrend_checks(
        panel, result.event_study, draws=report.draws, seed=report.seed
    )
    return pretrend_html(report.t, report.indicator, checks)


def pretrend_html(t: Texts, indicator, checks) -> rc.Html:
    """The fragment for one set of checks (`evaluation.stats.pretrends.PretrendChecks`)."""
    body = f"<h3>{rc.esc(t('pretrends.title'))}</h3>"
    body += rc.paragraph(t("pretrends.intro"))
    body += "".join(rc.paragraph(s) for s in test_sentences(t, checks.test))
    body += "".join(rc.paragraph(s) for s in sensitivity_sentences(t, indicator, checks))
    rm = checks.sensitivity
    if not rm.reason:
        body += charts.table_to_html(
            sensitivity_rows(t, indicator, checks.table),
            t("pretrends.table_caption", indicator=rc.indicator_name(t, indicator)),
            [t("pretrends.method_note")],
        )
    return rc.Html(body)


def times_text(times) -> str:
    """Event times as "−3, −2" with a real minus sign."""
    return ", ".join(f"{int(e):+d}".replace("-", "\N{MINUS SIGN}") for e in times)


def test_sentences(t: Texts, test) -> list[str]:
    """What is tested, the result and how to read it, and a word on single points."""
    sentences = []
    if test.excluded:
        sentences.append(t("pretrends.excluded", times=times_text(test.excluded)))
    single = times_text(test.single_rejections)
    if test.reason:
        sentences.append(t(f"pretrends.reasons.{test.reason}", k=test.k, clusters=test.n_clusters))
        if test.single_rejections:
            sentences.append(single_comment(t, test, "pretrends.single_no_test"))
        return sentences
    webb = test.weights_name.startswith("Webb")
    sentences.append(
        t(
            "pretrends.test_what",
            k=test.k,
            times=times_text(test.event_times),
            clusters=test.n_clusters,
            draws=test.draws,
            weights=t(f"evaluation_report.weights_{'webb' if webb else 'rademacher'}"),
        )
    )
    result = t(
        "pretrends.test_result",
        wald=t.number(test.wald, 2),
        p=format_p(t, test.p_value, named=True),
    )
    small = test.p_value < SMALL_P
    sentences.append(result + " " + t("pretrends.test_small" if small else "pretrends.test_large"))
    if test.single_rejections and small:
        sentences.append(t("pretrends.single_and_joint", times=single))
    elif test.single_rejections:
        sentences.append(single_comment(t, test, "pretrends.single_not_joint"))
    sentences.append(t("pretrends.how_to_read"))
    return sentences


def single_comment(t: Texts, test, key: str) -> str:
    """Single points that reject on their own, and whether they still do once the k tries
    are allowed for (Bonferroni)."""
    comment = t(
        key,
        times=times_text(test.single_rejections),
        k=test.k,
        p=format_p(t, test.bonferroni_p_value, named=True),
    )
    clear = test.bonferroni_p_value < SMALL_P
    return (
        comment + " " + t("pretrends.single_still_clear" if clear else "pretrends.single_not_clear")
    )


def sensitivity_sentences(t: Texts, indicator, checks) -> list[str]:
    """What the sensitivity analysis allows, its target and the breakdown value."""
    rm = checks.sensitivity
    if rm.reason:
        return [t(f"pretrends.sensitivity_reasons.{rm.reason}")]
    sentences = [
        t(
            "pretrends.sensitivity_what",
            max_change=format_effect(t, indicator, rm.max_pre_change).lstrip("+"),
        )
    ]
    post_left_out = [e for e in rm.left_out if e >= 0]
    if post_left_out:
        sentences.append(
            t(
                "pretrends.target_some",
                times=times_text(rm.post_times),
                left_out=times_text(post_left_out),
            )
        )
    else:
        sentences.append(t("pretrends.target_all"))
    breakdown = rm.breakdown
    if pd.isna(breakdown):
        sentences.append(t("pretrends.breakdown_none"))
    elif breakdown == float("inf"):
        sentences.append(t("pretrends.breakdown_infinite"))
    else:
        sentences.append(t("pretrends.breakdown", mbar=t.number(breakdown, 2)))
    return sentences


def sensitivity_rows(t: Texts, indicator, table: pd.DataFrame) -> pd.DataFrame:
    """Mbar, the possible effects and the robust interval, written for the report."""
    cols = t.lookup("pretrends.columns")
    return pd.DataFrame(
        {
            cols["mbar"]: [t.number(m, 1) for m in table["mbar"]],
            cols["set"]: [
                format_effect_interval(t, indicator, lo, hi)
                for lo, hi in zip(table["set_low"], table["set_high"], strict=True)
            ],
            cols["interval"]: [
                format_effect_interval(t, indicator, lo, hi)
                for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            cols["zero"]: [
                t("pretrends.answer_no" if out else "pretrends.answer_yes")
                for out in table["excludes_zero"]
            ],
        }
    )
