"""The evaluation report's effect: the cluster-year panel for evaluation.stats.effect, how an
effect, its intervals and p-values are written, the methods notes, the demo's known true effect,
and the chart of the event study.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from evaluation import config
from evaluation.reports import charts
from evaluation.reports import common as rc
from evaluation.reports.evaluation_context import EvaluationReport
from evaluation.texts import SUPPRESSED_MARKER, Texts


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
    report: EvaluationReport,
    values: pd.DataFrame,
    indicator_id: str,
    comparison: str = "not_yet",
    event_times: bool = True,
):
    """The effect of the programme on the indicator (evaluation.stats.effect) against the
    `comparison` group: clusters not yet started, or those never started; without the
    per-event-time and start-group rows when `event_times` is False (cheaper: only the overall
    row is read)."""
    from evaluation.stats import effect  # why: scipy loads only when a report runs

    panel = effect_panel(report, values, indicator_id)
    return effect.estimate_effect(
        panel,
        draws=report.draws,
        seed=report.seed,
        comparison=comparison,
        event_times=event_times,
        cohorts=event_times,
    )


def effect_decimals(indicator) -> int:
    """Decimals of a printed effect in stored units (format_effect): 3 on a 1-5 scale, one
    decimal of a point for shares (3 as a fraction) and rates, one for days."""
    if indicator.kind in ("proportion", "rate"):
        return rc.stored_decimals(indicator, signed=True)
    return 1 if indicator.kind == "median" else 3


def shared_effect(report: EvaluationReport, indicator_id: str, event_times: bool = True):
    """`run_effect` once per run: the evaluation report and the leader summary show the very same
    estimate (issue 14), so the run's precomputation (evaluation.reports.shared) estimates it once
    and both read it. Without that, a report estimates it itself: the leader (`event_times`
    False) only the overall row, which is the first row estimated and so the same either way."""
    key = ("effect", indicator_id, int(report.year), int(report.draws), int(report.seed))
    if key in report.data.shared or event_times:
        return rc.shared_result(
            report.data, key, lambda: run_effect(report, report.data.values, indicator_id)
        )
    return run_effect(report, report.data.values, indicator_id, event_times=False)


def format_effect(t: Texts, indicator, value) -> str:
    """An effect: 3 decimals on a 1-5 scale (effects are small), points for shares and rates,
    days with one decimal for a median waiting time."""
    if rc.is_missing(value):
        return SUPPRESSED_MARKER
    if indicator.kind in ("proportion", "rate"):
        return rc.format_difference(t, indicator, value)
    if indicator.kind == "median":
        return t("format.days", number=t.number(value, decimals=1, signed=True))
    return t.number(value, decimals=3, signed=True)


def format_effect_interval(t: Texts, indicator, lower, upper) -> str:
    """The interval of an effect, in the same unit and decimals as format_effect."""
    if rc.is_missing(lower) or rc.is_missing(upper):
        return SUPPRESSED_MARKER
    if indicator.kind in ("proportion", "rate"):
        return rc.format_interval(t, indicator, lower, upper, signed=True)
    decimals = 1 if indicator.kind == "median" else 3
    interval = t(
        "format.interval_signed",
        lower=t.number(lower, decimals=decimals, signed=True),
        upper=t.number(upper, decimals=decimals, signed=True),
    )
    return t("format.days", number=interval) if indicator.kind == "median" else interval


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
    from evaluation.stats import effect  # why: scipy loads only when a report runs

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
    if result.event_study["refused"].astype(bool).any():
        notes.append(t("evaluation_report.effect_note_refused"))
    return notes


def refusal_text(t: Texts, row) -> str:
    """Why an event-study row has no interval and no p-value, in plain words; "" when it has
    them (evaluation.stats.effect decides: fewer than two treated clusters, or no jackknife)."""
    if not row["refused"]:
        return ""
    if row["n_treated_clusters"] < 2:
        return t("evaluation_report.effect_refused_few")
    return t("evaluation_report.effect_refused_jackknife")


def demo_truth_file(report: EvaluationReport) -> Path | None:
    """The demo's true_effects.json: in config.demo_raw_dir(), or beside the warehouse's
    data folder (data/warehouse/x.duckdb -> data/raw/demo/true_effects.json)."""
    candidates = [
        config.demo_raw_dir() / "true_effects.json",
        report.data.warehouse.parent.parent / "raw" / "demo" / "true_effects.json",
    ]
    return next((c for c in candidates if c.is_file()), None)


def demo_truth(report: EvaluationReport) -> dict:
    """Known true effects {indicator_id: realised} when the data are the synthetic demo's: the
    municipality is the demo one and the sidecar's start years match the warehouse's."""
    from evaluation.data import demo  # why: pyarrow and scipy load only when a report runs

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


def effect_summary(t: Texts, indicator, result) -> str:
    """The headline sentence: the overall effect, its intervals and p-values, clear or not."""
    overall = result.overall_row()
    if overall["refused"]:
        return t(
            "evaluation_report.effect_summary_refused",
            indicator=rc.indicator_name(t, indicator),
            estimate=format_effect(t, indicator, overall["estimate"]),
            interval=SUPPRESSED_MARKER,
            p=SUPPRESSED_MARKER,
            clusters=result.n_clusters,
            reason=refusal_text(t, overall),
        )
    summary = t(
        "evaluation_report.effect_summary",
        indicator=rc.indicator_name(t, indicator),
        estimate=format_effect(t, indicator, overall["estimate"]),
        interval=format_effect_interval(t, indicator, overall["ci_low"], overall["ci_high"]),
        p=format_p(t, overall["p_value"], named=True),
        clusters=result.n_clusters,
        wild=format_effect_interval(t, indicator, overall["wild_ci_low"], overall["wild_ci_high"]),
        wild_p=format_p(t, overall["wild_p_value"], named=True),
    )
    clear = not (overall["ci_low"] <= 0 <= overall["ci_high"])
    return (
        summary
        + " "
        + t("evaluation_report.effect_clear" if clear else "evaluation_report.effect_unclear")
    )


def truth_note_html(report: EvaluationReport, result) -> str:
    """On the demo data: the known true effect and whether the interval holds it; else ""."""
    t, indicator = report.t, report.indicator
    truth = demo_truth(report).get(report.indicator_id)
    if truth is None:
        return ""
    overall = result.overall_row()
    if overall["refused"]:
        inside = "evaluation_report.effect_truth_no_interval"
    elif overall["ci_low"] <= truth <= overall["ci_high"]:
        inside = "evaluation_report.effect_truth_inside"
    else:
        inside = "evaluation_report.effect_truth_outside"
    return rc.paragraph(
        t(
            "evaluation_report.effect_truth",
            truth=format_effect(t, indicator, truth),
            inside=t(inside),
        ),
        "wb-note",
    )


def event_time_label(t: Texts, event_time) -> str:
    """ "Samlet" for the overall row, else the years since start with a real minus: "−2"."""
    if event_time == "overall":
        return t("evaluation_report.effect_overall")
    return t(
        "evaluation_report.effect_event_time",
        k=signed_event_time(event_time),
    )


def interval_series(t: Texts) -> list[str]:
    """The names of the three intervals, in the order the chart shows them."""
    return [t(f"evaluation_report.effect_{key}") for key in ("cv3", "wild", "crv")]


def effect_rows(t: Texts, indicator, event_study: pd.DataFrame) -> tuple[list, list]:
    """(chart rows: one per event time and interval, table rows: one per event time). A refused
    row shows its estimate, "–" for the intervals and p-values, and why in a note column (there
    only when some row is refused)."""
    cv3, wild, crv = interval_series(t)
    cols = t.lookup("evaluation_report.effect_columns")
    scale = rc.display_scale(indicator)
    places = effect_decimals(indicator) - (2 if scale == 100.0 else 0)  # at display scale
    rows, table_rows = [], []
    any_refused = event_study["refused"].astype(bool).any()
    for r in event_study.itertuples(index=False):
        label = event_time_label(t, r.event_time)
        for series, lo, hi in (
            (cv3, r.ci_low, r.ci_high),
            (wild, r.wild_ci_low, r.wild_ci_high),
            (crv, r.crve_ci_low, r.crve_ci_high),
        ):
            rows.append(
                {
                    "row": label,
                    "series": series,
                    # as printed, never more precisely (issue #18)
                    "value": round(r.estimate * scale, places),
                    "lower": round(lo * scale, places),
                    "upper": round(hi * scale, places),
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
        if any_refused:
            table_rows[-1][cols["note"]] = refusal_text(t, r._asdict())
    return rows, table_rows


SUPERSCRIPT = str.maketrans(
    "0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def caveat_marks(labels: list[str], caveats) -> tuple[list[str], list[str]]:
    """Each row label with a footnote mark (¹, ², ...) where the row has a caveat, and the
    footnotes under the table: one per distinct caveat, behind the same mark."""
    numbers: dict[str, int] = {}
    marked = []
    for label, caveat in zip(labels, caveats, strict=True):
        caveat = "" if rc.is_missing(caveat) else str(caveat).strip()
        if not caveat:
            marked.append(label)
            continue
        number = numbers.setdefault(caveat, len(numbers) + 1)
        marked.append(f"{label} {str(number).translate(SUPERSCRIPT)}")
    notes = [f"{str(n).translate(SUPERSCRIPT)} {caveat}" for caveat, n in numbers.items()]
    return marked, notes


def caveat_text(t: Texts, row: dict) -> str:
    """A row's caveat in words ("" when none): where `caveat` is True, what the simulations
    measured for rows of its kind (evaluation.stats.effect_validation; validation/README.md)."""
    caveat = row.get("caveat", False)
    if rc.is_missing(caveat) or not bool(caveat):
        return ""
    return t(
        "effect_extras.caveat_simulated",
        treated=t.number(row.get("n_treated_clusters", 0), decimals=0),
        coverage=t.percent(row["sim_coverage"], decimals=1),
        rejection=t.percent(row["sim_rejection"], decimals=1),
        datasets=t.number(row.get("sim_datasets", 0), decimals=0),
    )


def row_caveats(t: Texts, frame: pd.DataFrame) -> list[str]:
    """Each row's caveat in words ("" everywhere when the estimator gives none)."""
    return [caveat_text(t, row) for row in frame.to_dict("records")]


def effect_chart_html(report: EvaluationReport, result) -> str:
    """The event study as dots with three intervals each, with its table and methods notes;
    a row's caveat from the estimator is a marked footnote under the table."""
    t, indicator = report.t, report.indicator
    rows, table_rows = effect_rows(t, indicator, result.event_study)
    time = t.lookup("evaluation_report.effect_columns")["time"]
    labels, caveats = caveat_marks(
        [r[time] for r in table_rows], row_caveats(t, result.event_study)
    )
    for row, label in zip(table_rows, labels, strict=True):
        row[time] = label
    chart = charts.build_interval_chart(
        pd.DataFrame(rows),
        {
            "x": f"{t('evaluation_report.effect_chart_x')} ({t('kind_unit.' + indicator.kind)})",
            "series": "",
        },
        ".2f" if indicator.kind != "proportion" else ".0f",
        zero_line=True,
        series_order=interval_series(t),
        shapes=["circle", "diamond", "square"],
    )
    return charts.chart_html(
        chart,
        pd.DataFrame(table_rows),
        t("evaluation_report.effect_chart_title", indicator=rc.indicator_name(t, indicator)),
        t("evaluation_report.effect_chart_description"),
        "effekt",
        report.tables_dir,
        language=t.language,
        footnotes=inference_notes(t, result, report.draws) + caveats,
    )


def subsection_start(t: Texts, name: str) -> str:
    """A sub-heading in the effect section (h3, linkable as #effekt-<name>) and its lead
    sentence saying what to look for: `effect_extras.<name>.title` and `.lead`."""
    anchor = "effekt-" + name.replace("_", "-")
    heading = f'<h3 id="{anchor}">{rc.esc(t(f"effect_extras.{name}.title"))}</h3>'
    return heading + rc.paragraph(t(f"effect_extras.{name}.lead"))


def signed_event_time(event_time: int) -> str:
    """ "+2" / "−3" with a real minus sign, as the event-study labels write it."""
    return f"{int(event_time):+d}".replace("-", "\N{MINUS SIGN}")
