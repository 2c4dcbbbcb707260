"""The cluster report's funnel plots: the cluster's units against the municipality's value.

Every unit of the municipality is compared (evaluation.stats.compare); the plot names the
cluster's units and shows the others as grey context. The figure itself is drawn by
`evaluation.reports.funnels`, like every funnel of the reports.

Published school figures (no respondent count, the "median" path of `compare`) get no sampling
interval and no shrinkage: their lines are a band of usual variation between schools, and a
school is above or below it only when its whole one-decimal rounding interval is
(`evaluation.stats.rounding`; else "at_limit").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.reports import common as rc
from evaluation.reports.chart_records import named_rows
from evaluation.reports.cluster_parts import ClusterReport, member_units
from evaluation.reports.funnels import (
    FunnelFigure,
    band_names,
    funnel_figure_html,
    funnel_labels,
    limit_names,
    outside_counts,
    position_labels,
)
from evaluation.reports.public_parts import labelled_points
from evaluation.stats import compare, shrinkage
from evaluation.stats.rounding import PUBLISHED_DECIMALS, classify_rounded
from evaluation.texts import SUPPRESSED_MARKER, danish_order

FUNNEL_INDICATORS = ("generel_trivsel", "social_trivsel", "inklusionsgrad", "fravaer")
# published aggregates (evaluation.values.published) have the five indices and no register data
PUBLIC_FUNNEL_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "stoette_og_inspiration",
    "ro_og_orden",
)
Y_FORMATS = {"proportion": ".0f", "rate": ".1f"}  # other kinds: ".2f"


def funnel_indicators(report: ClusterReport) -> tuple[str, ...]:
    return PUBLIC_FUNNEL_INDICATORS if report.data.public else FUNNEL_INDICATORS


def funnel_for(report: ClusterReport, indicator_id: str) -> dict | None:
    """Compare every unit of the municipality that year; keep the cluster's units for the plot.
    Once per run (`rc.shared_result`): the cluster's report and the leader's lists read it."""
    key = ("funnel", str(report.cluster_id), indicator_id, int(report.year))
    return rc.shared_result(report.data, key, lambda: compute_funnel(report, indicator_id))


def compute_funnel(report: ClusterReport, indicator_id: str) -> dict | None:
    data, year = report.data, report.year
    if indicator_id not in data.catalog.by_id:
        return None
    indicator = data.catalog.get(indicator_id)
    none = data.values.iloc[:0]
    muni = rc.rows_by_indicator(data, "municipality", year=year).get(indicator_id, none)
    if muni.empty or muni["value"].isna().all():
        return None
    target = float(muni["value"].iloc[0])
    units = rc.rows_by_indicator(data, "unit", year=year).get(indicator_id, none)
    members = rc.shared_result(  # the same for each of the cluster's funnels
        data,
        ("member_units", str(report.cluster_id), int(year)),
        lambda: member_units(data, report.cluster_id, year),
        keep=False,
    )
    mine = units[units["entity_id"].isin(members["unit_id"])]
    hidden = [data.unit_name(u) for u in mine.loc[mine["value"].isna(), "entity_id"]]
    hidden.sort(key=danish_order)
    shown_all = units[units["value"].notna()]
    if shown_all.empty or mine["value"].notna().sum() == 0:
        return {"indicator": indicator, "target": target, "hidden": hidden, "units": None}
    kind = rc.comparison_kind(indicator, shown_all)
    comparison = rc.shared_result(  # every unit of the municipality: the same for each cluster
        data,
        ("funnel_comparison", indicator_id, int(year)),
        lambda: compare.compare_units(shown_all, target=target, kind=kind),
        keep=False,
    )
    published = kind == "median"  # published figures: no respondent count (module docstring)
    everyone = classify_published(comparison.units) if published else comparison.units
    result = everyone[everyone["entity_id"].isin(mine["entity_id"])].copy()
    others = everyone[~everyone["entity_id"].isin(mine["entity_id"])]
    result["name"] = [data.unit_name(u) for u in result["entity_id"]]
    result = result.sort_values("name", key=lambda names: names.map(danish_order))
    curve = funnel_limits(indicator, comparison, shown_all, target)
    return {
        "indicator": indicator,
        "target": target,
        "hidden": hidden,
        "units": result,
        "curve": curve,
        "others": others[["n", "value"]].reset_index(drop=True),
        "adjustment": comparison.adjustment,
        "published": published,
    }


def funnel_of(report: ClusterReport, indicator_id: str) -> dict | None:
    """`funnel_for` once per report: the funnel section, what stands out and the meeting
    view's findings share it."""
    cache = report.cache.setdefault("funnels", {})
    if indicator_id not in cache:
        cache[indicator_id] = funnel_for(report, indicator_id)
    return cache[indicator_id]


def classify_published(units: pd.DataFrame) -> pd.DataFrame:
    """Both classifications by the values' one-decimal rounding interval."""
    out = units.copy()
    for tag, col in (("95", "classification"), ("998", "classification_998")):
        out[col] = classify_rounded(
            out["value"], out[f"lower_{tag}"], out[f"upper_{tag}"], PUBLISHED_DECIMALS
        )
    return out


def outside(classification) -> bool:
    """Above or below the limits ("at_limit" and "within" are not)."""
    return classification in ("above", "below")


def any_outside(units: pd.DataFrame) -> bool:
    """Whether a unit lies outside the 99.8 % limits: most funnels have none, and one column
    read spares a walk over every row and column (issue 17)."""
    return len(units) > 0 and any(outside(c) for c in units["classification_998"])


def funnel_limits(indicator, comparison, shown: pd.DataFrame, target: float) -> pd.DataFrame:
    """Limit lines along n, with the same over-dispersion adjustment as the classification."""
    n_max = float(shown["n"].max()) * 1.1
    n_min = max(2.0, float(shown["n"].min()) * 0.8)
    n = np.unique(np.round(np.geomspace(n_min, n_max, 80)))
    if rc.comparison_kind(indicator, shown) == "median":
        se0 = spread_along_n(shown, n)
    elif indicator.kind == "proportion":
        se0 = np.sqrt(target * (1 - target) / n)
    elif indicator.kind in ("mean", "rate"):
        sd = compare.pooled_sd(shown["n"].to_numpy(float), shown["sd"].to_numpy(float))
        se0 = sd / np.sqrt(n)
    else:
        return pd.DataFrame(columns=["n", "limit", "side", "value"])
    rows = []
    for level, tag in zip(compare.LEVELS, ("95", "998"), strict=True):
        if comparison.adjustment == "none" and indicator.kind == "proportion":
            lower, upper = compare.proportion_limits(n, target, level)
        else:
            half = compare.adjusted_half_width(
                se0, level, comparison.adjustment, comparison.dispersion
            )
            lower, upper = target - half, target + half
            if indicator.kind == "proportion":
                lower, upper = np.clip(lower, 0, 1), np.clip(upper, 0, 1)
        for side, line in (("lower", lower), ("upper", upper)):
            rows.append(pd.DataFrame({"n": n, "limit": tag, "side": side, "value": line}))
    return pd.concat(rows, ignore_index=True)


def spread_along_n(shown: pd.DataFrame, n: np.ndarray) -> np.ndarray:
    """se at each n for units with their own se: se^2 = a + b / n fitted through the units.

    Published aggregates have se^2 = intercept + b / pupils exactly (evaluation.values.published),
    so the fit returns those lines; with one size only the se is flat.
    """
    size = shown["n"].to_numpy(float)
    var = shown["se"].to_numpy(float) ** 2
    if np.unique(size).size < 2:
        return np.full(len(n), np.sqrt(var.mean()))
    design = np.column_stack([np.ones_like(size), 1 / size])
    (a, b), *_ = np.linalg.lstsq(design, var, rcond=None)
    return np.sqrt(np.clip(a + b / n, 0, None))


def hidden_key(indicator) -> str:
    """Why a unit has no figure: a share is also hidden when the rest of the group is small."""
    if indicator.kind == "proportion":
        return "cluster_report.funnel_hidden_share"
    return "cluster_report.funnel_hidden"


def shrunk_units(report: ClusterReport, indicator_id: str) -> pd.DataFrame | None:
    """Empirical-Bayes values (evaluation.stats.shrinkage) of every unit of the municipality that
    year, pulled toward the mean of the municipality's units: entity_id, shrunk, reliability.
    None when shrinkage is not possible (too few units, no standard errors). The same for every
    cluster report of the municipality: computed once per run (`shared_result`)."""
    key = ("shrunk_units", indicator_id, int(report.year))
    return rc.shared_result(report.data, key, lambda: compute_shrunk_units(report, indicator_id))


def compute_shrunk_units(report: ClusterReport, indicator_id: str) -> pd.DataFrame | None:
    """`shrunk_units` computed."""
    values = report.data.values
    units = values[
        (values["indicator_id"] == indicator_id)
        & (values["level"] == "unit")
        & (values["year"] == report.year)
    ]
    if units.empty or "se" not in units.columns:
        return None
    if "sd" in units.columns and units["sd"].isna().all():
        return None  # published figures: the se is a spread between schools, not noise
    try:
        table, _ = shrinkage.shrink_values(units, by=None)
    except EvaluationError:
        return None
    return table[["entity_id", "shrunk", "reliability"]]


# --- the section's parts -------------------------------------------------------------------


def funnel_parts(report: ClusterReport, found: dict) -> list[str]:
    """One indicator's heading and figure, or why there is no figure."""
    t, indicator = report.t, found["indicator"]
    name = rc.indicator_name(t, indicator)
    parts = [f"<h3>{rc.esc(name)}</h3>"]
    if found["units"] is not None and not found["units"].empty:
        return parts + [funnel_figure(report, found)]
    parts.append(
        rc.paragraph(
            t("cluster_report.funnel_none", indicator=name, school_year=report.school_year)
        )
    )
    if found["hidden"]:
        names = rc.join_names(t, found["hidden"])
        parts.append(rc.paragraph(t(hidden_key(indicator), min_n=report.data.min_n, names=names)))
    return parts


def worse_outliers(found: dict) -> list[tuple[str, object]]:
    """(unit name, indicator) of the cluster's units outside the 99.8 % limits, worse side."""
    indicator = found["indicator"]
    if found["units"] is None:
        return []
    good = "above" if indicator.direction == "higher_better" else "below"
    return [
        (row.name, indicator)
        for row in named_rows(found["units"])
        if outside(row.classification_998) and row.classification_998 != good
    ]


def funnel_figure(report: ClusterReport, found: dict) -> str:
    """The funnel of one indicator: the cluster's units named, the municipality's others grey."""
    t, indicator, units = report.t, found["indicator"], found["units"]
    scale = rc.display_scale(indicator)
    curve = found["curve"].copy()
    curve["value"] = curve["value"] * scale
    names = band_names(t) if found.get("published") else limit_names(t)
    curve["limit"] = curve["limit"].map(dict(zip(("95", "998"), names, strict=True)))
    table, footnotes = funnel_table(report, found)
    points = pd.DataFrame(
        {
            "name": units["name"],
            "n": units["n"],
            "value": units["value"] * scale,
            "position": position_labels(t, units["classification"], indicator.direction),
        }
    )
    if found.get("published"):  # one-decimal school values tie: names never overprint (#16)
        every = pd.concat([points, found["others"].assign(value=found["others"]["value"] * scale)])
        points, tied = labelled_points(t, points, every["n"], every["value"], indicator.id)
        footnotes = [*tied, *footnotes]
    figure = FunnelFigure(
        points=points,
        limits=curve,
        target=found["target"] * scale,
        labels=funnel_labels(t, t("cluster_report.funnel_x"), rc.axis_label(t, indicator)),
        y_format=Y_FORMATS.get(indicator.kind, ".2f"),
        others=found["others"].assign(
            value=found["others"]["value"] * scale, group=t("position.others")
        ),
        title=t(
            "cluster_report.funnel_title",
            indicator=rc.indicator_name(t, indicator),
            school_year=report.school_year,
        ),
        description=funnel_description(report, found),
        table=table,
        slug=f"tragt-{indicator.id}",
        footnotes=footnotes,
        at_limit=bool(found.get("published")),
        lower_better=indicator.direction == "lower_better",
        valence_words=True,
    )
    return funnel_figure_html(t, figure, report.tables_dir)


def funnel_description(report: ClusterReport, found: dict) -> str:
    t, units = report.t, found["units"]
    description = t(
        "cluster_report.funnel_description",
        target=rc.format_value(t, found["indicator"], found["target"]),
        counts=count_words(t, len(units), outside_counts(units["classification"])),
    )
    if found.get("published"):
        description += " " + t("public_band.cluster_shapes")
    at_limit = int((units["classification"] == "at_limit").sum())
    if at_limit:
        description += " " + t("public_band.at_limit_count", at_limit=at_limit)
    if found["adjustment"] != "none":
        description += " " + t("cluster_report.funnel_adjusted")
    return description


def count_words(t, shown: int, counts: dict[str, int]) -> str:
    """Where the units lie, without "1 enheder" or "0 under"."""
    outside_any = counts["over"] + counts["under"] > 0
    if shown == 1:
        where = t("meeting.funnel_outside" if outside_any else "meeting.funnel_inside")
        return t("meeting.funnel_counts_one", where=where)
    if not outside_any:
        return t("meeting.funnel_counts_inside", shown=shown)
    keys = ("over", "under")
    parts = [t(f"meeting.funnel_{k}", count=counts[k]) for k in keys if counts[k]]
    return t("meeting.funnel_counts_some", shown=shown, parts=rc.join_names(t, parts))


def funnel_table(report: ClusterReport, found: dict) -> tuple[pd.DataFrame, list[str]]:
    """The cluster's units with their positions, and shrunk values where they can be fitted;
    with the table's footnotes."""
    t, indicator, units = report.t, found["indicator"], found["units"]
    footnotes = [t("common.suppressed_note", min_n=report.data.min_n)]
    if found["hidden"]:
        names = rc.join_names(t, found["hidden"])
        footnotes.insert(0, t(hidden_key(indicator), min_n=report.data.min_n, names=names))
    cols = t.lookup("cluster_report.funnel_columns")
    table = pd.DataFrame(
        {
            cols["unit"]: units["name"].tolist(),
            cols["n"]: [t.number(n, decimals=0) for n in units["n"]],
            cols["value"]: [rc.format_value(t, indicator, v) for v in units["value"]],
            cols["position_95"]: position_labels(t, units["classification"], indicator.direction),
            cols["position_998"]: position_labels(
                t, units["classification_998"], indicator.direction
            ),
        }
    )
    if found.get("published"):
        notes = [t("public_band.cluster_band_note"), t("public_band.rounding_note")]
        return table, [*notes, *footnotes]
    shrunk = shrunk_units(report, indicator.id)
    if shrunk is not None:
        match = units[["entity_id"]].merge(shrunk, on="entity_id", how="left")
        table.insert(3, cols["shrunk"], [rc.format_value(t, indicator, v) for v in match["shrunk"]])
        reliability = [
            SUPPRESSED_MARKER if rc.is_missing(r) else t.number(r, 2) for r in match["reliability"]
        ]
        table.insert(4, cols["reliability"], reliability)
        footnotes.insert(0, t("cluster_report.shrinkage_note"))
    return table, footnotes


def unit_standout_lines(report: ClusterReport) -> list[str]:
    """The cluster's units outside the 99.8 % funnel limits, in words."""
    t, lines = report.t, []
    for indicator_id in funnel_indicators(report):
        found = funnel_of(report, indicator_id)
        if not found or found["units"] is None or not any_outside(found["units"]):
            continue
        for row in named_rows(found["units"]):
            if not outside(row.classification_998):
                continue
            key = (
                "position_above_998" if row.classification_998 == "above" else "position_below_998"
            )
            lines.append(
                t(
                    "cluster_report.standout_unit",
                    unit=row.name,
                    position=t(f"cluster_report.{key}"),
                    indicator=rc.indicator_phrase(t, found["indicator"]),
                    value=rc.format_value(t, found["indicator"], row.value),
                    reference=rc.format_value(t, found["indicator"], found["target"]),
                )
            )
    return lines
