"""The public report: the municipality's schools against the country, the municipality against
the other municipalities, and the municipal series, from the ministry's published figures.

What the data cannot give is stated, never papered over: no respondent n (the spread of school
values is fitted on pupil counts, `evaluation.stats.spread`; over-dispersion on top of it by
`evaluation.stats.compare`), one year per school, and a municipal series for 20 municipalities.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.catalog import load_catalog
from evaluation.data.public_files import (
    ABSENCE_INDICATOR,
    NATIONAL_LABEL,
    WELLBEING_INDICATORS,
    PublicData,
    build_aggregates,
    build_units,
    check_municipality,
    list_municipalities,
    read_public_data,
    school_pupils,
)
from evaluation.reports import key_figures
from evaluation.reports.charts import (
    build_funnel_chart,
    build_trend_chart,
    chart_html,
    table_to_html,
)
from evaluation.reports.common import REPORT_CSS, credit_html
from evaluation.stats import compare
from evaluation.stats.spread import ROUNDING_VARIANCE, assumed_sampling_se, estimate_size_variance
from evaluation.texts import Texts, format_school_year, texts_for
from evaluation.values.privacy import check_min_n

# comparison: schools against the country, municipalities against each other ----------------

COMPARED_INDICATORS = (*WELLBEING_INDICATORS, ABSENCE_INDICATOR)


def school_table(data: PublicData) -> pd.DataFrame:
    """One row per school and compared indicator: value, pupils, name, municipality.

    Schools without a pupil count (3 in 2024/25) cannot be placed on a funnel and are left out.
    """
    values = build_aggregates(data)
    values = values[values["indicator_id"].isin(COMPARED_INDICATORS)]
    units = build_units(data).set_index("unit_id")
    out = values.assign(
        name=values["unit_id"].map(units["name"]),
        municipality=values["unit_id"].map(units["municipality"]),
        pupils=values["unit_id"].map(school_pupils(data)),
    )
    out = out[out["municipality"].isin(list_municipalities(data))]
    return out.dropna(subset=["pupils", "value"]).reset_index(drop=True)


def compare_public(values: pd.DataFrame, target: float, adjust: str) -> compare.Comparison:
    """compare_units on units with their own standard error (`se`), against a given target."""
    frame = values[["entity_id", "n", "value", "se"]]
    return compare.compare_units(frame, target=target, kind="median", adjust=adjust)


def unit_rows(rows: pd.DataFrame, result: compare.Comparison, suffix: str = "") -> pd.DataFrame:
    """Copy limits and classifications of a comparison onto the unit rows (matched by id)."""
    cols = ["z", "lower_95", "upper_95", "lower_998", "upper_998"]
    cols += ["classification", "classification_998"]
    found = result.units.set_index("entity_id")
    out = rows.copy()
    for col in cols:
        out[col + suffix] = out["entity_id"].map(found[col]).to_numpy()
    return out


def indicator_kind(indicator_id: str) -> str:
    return "rate" if indicator_id == ABSENCE_INDICATOR else "mean"


def compare_schools(table: pd.DataFrame, indicator_id: str) -> dict:
    """Every school in the country against the national value for one indicator.

    The limits shown are those of the fitted spread, target +/- z sqrt(a + b / pupils): where
    95 % (99.8 %) of the country's schools of that size lie. Beside them, for measuring only, a
    naive funnel with the assumed sampling se, without and with the additive tau2 of
    `evaluation.stats.compare` (its phi and tau are the over-dispersion figures).
    """
    rows = table[table["indicator_id"] == indicator_id]
    size = estimate_size_variance(rows["value"], rows["pupils"], indicator_id)
    band = str(rows["grade_band"].iloc[0])
    frame = pd.DataFrame(
        {
            "entity_id": rows["unit_id"].to_numpy(),
            "name": rows["name"].to_numpy(),
            "municipality": rows["municipality"].to_numpy(),
            "n": rows["pupils"].to_numpy(dtype=float),
            "value": rows["value"].to_numpy(dtype=float),
            "se": np.sqrt(size.variance(rows["pupils"])),
        }
    )
    shown = compare_public(frame, size.target, adjust="none")
    naive = frame.assign(se=assumed_sampling_se(frame["n"], band, indicator_kind(indicator_id)))
    plain = compare_public(naive, size.target, adjust="none")
    adjusted = compare_public(naive, size.target, adjust="additive")
    units = unit_rows(frame, shown)
    units = unit_rows(units, plain, "_naive")
    units = unit_rows(units, adjusted, "_naive_tau")
    return {"size": size, "plain": plain, "adjusted": adjusted, "units": units, "shown": shown}


def municipal_means(schools: pd.DataFrame) -> pd.DataFrame:
    """Pupil-weighted means of school values per municipality, with their standard error.

    se^2 = sum w^2 v_i / (sum w)^2 with w = pupils and v_i the fitted spread of school i: the
    spread expected if a municipality's schools were drawn at random from the country's schools.
    `n` is the effective number of average schools, V / se^2 (V = the pupil-weighted mean v_i),
    so the funnel lines target +/- z sqrt(V / n) fit every point exactly.
    """
    frame = schools.assign(w=schools["n"], v=schools["se"] ** 2)
    frame = frame.assign(wy=frame["w"] * frame["value"], w2v=frame["w"] ** 2 * frame["v"])
    grouped = frame.groupby("municipality").agg(
        w=("w", "sum"), wy=("wy", "sum"), w2v=("w2v", "sum"), schools=("entity_id", "size")
    )
    unit_var = float(np.average(frame["v"], weights=frame["w"]))
    se = np.sqrt(grouped["w2v"]) / grouped["w"]
    out = pd.DataFrame(
        {
            "entity_id": grouped.index.astype(str),
            "name": grouped.index.astype(str),
            "schools": grouped["schools"].to_numpy(),
            "pupils": grouped["w"].to_numpy(),
            "value": (grouped["wy"] / grouped["w"]).to_numpy(),
            "se": se.to_numpy(),
            "n": (unit_var / se**2).to_numpy(),
        }
    ).reset_index(drop=True)
    out.attrs["unit_var"] = unit_var
    return out


def compare_municipalities(school_result: dict) -> dict:
    """Every municipality's mean of its school values against the national value.

    Over-dispersion here means municipalities differ more than a random draw of schools would:
    the additive tau2 is used when the chi-square test rejects (compare's adjust="auto").
    """
    means = municipal_means(school_result["units"])
    target = school_result["size"].target
    plain = compare_public(means, target, adjust="none")
    shown = compare_public(means, target, adjust="auto")
    units = unit_rows(unit_rows(means, shown), plain, "_plain")
    return {"plain": plain, "shown": shown, "units": units, "unit_var": means.attrs["unit_var"]}


# one municipality's comparison ----------------------------------------------------------------


@dataclass
class PublicComparison:
    """Everything the public report shows for one municipality (see build_public_comparison)."""

    municipality: str
    year: int
    schools: dict[str, dict]  # indicator -> compare_schools(...) result (all schools)
    municipalities: dict[str, dict]  # indicator -> compare_municipalities(...) result
    dispersion: pd.DataFrame  # one row per indicator: the over-dispersion figures
    series: pd.DataFrame  # the municipality's and the country's series (may be empty)
    notes: list[dict]  # what was filtered or is missing, as {"key": ..., values}
    units: pd.DataFrame  # the municipality's schools (units table shape)

    def own_schools(self, indicator_id: str) -> pd.DataFrame:
        units = self.schools[indicator_id]["units"]
        return units[units["municipality"] == self.municipality].reset_index(drop=True)


def drop_small_schools(table: pd.DataFrame, min_n: int) -> tuple[pd.DataFrame, dict]:
    """Leave out schools with fewer pupils than min_n (pupils bound the respondents from above)."""
    small = table["pupils"] < min_n
    note = {
        "key": "small_schools",
        "count": int(table.loc[small, "unit_id"].nunique()),
        "min_n": min_n,
    }
    return table[~small].reset_index(drop=True), note


def share_outside(classification: pd.Series) -> float:
    return float((classification != "within").mean()) if len(classification) else float("nan")


def summarise_dispersion(municipality: str, schools: dict, municipalities: dict) -> pd.DataFrame:
    """The over-dispersion figures per indicator, for the country and for the municipality."""
    rows = []
    for indicator_id, result in schools.items():
        units, size = result["units"], result["size"]
        own = units[units["municipality"] == municipality]
        naive = result["adjusted"].dispersion
        mun = municipalities[indicator_id]["shown"].dispersion
        rows.append(
            {
                "indicator_id": indicator_id,
                "schools": len(units),
                "national_value": size.target,
                "between_school_sd": float(units["value"].std()),
                "tau_fitted": float(np.sqrt(max(size.intercept - ROUNDING_VARIANCE, 0.0))),
                "b_fitted": size.b,
                "phi_naive": naive.phi,
                "tau_naive": float(np.sqrt(naive.tau2)),
                "p_overdispersion": naive.p_value,
                "outside_95_naive": share_outside(units["classification_naive"]),
                "outside_95_naive_tau": share_outside(units["classification_naive_tau"]),
                "outside_95_shown": share_outside(units["classification"]),
                "outside_998_naive": share_outside(units["classification_998_naive"]),
                "outside_998_naive_tau": share_outside(units["classification_998_naive_tau"]),
                "outside_998_shown": share_outside(units["classification_998"]),
                "own_schools": len(own),
                "own_sd": float(own["value"].std()) if len(own) > 1 else float("nan"),
                "own_outside_95_naive": share_outside(own["classification_naive"]),
                "own_outside_95_naive_tau": share_outside(own["classification_naive_tau"]),
                "own_outside_95_shown": share_outside(own["classification"]),
                "own_outside_998_shown": share_outside(own["classification_998"]),
                "municipal_phi": mun.phi,
                "municipal_tau": float(np.sqrt(mun.tau2)),
                "municipal_p": mun.p_value,
            }
        )
    return pd.DataFrame(rows)


def municipal_series(data: PublicData, municipality: str) -> pd.DataFrame:
    """The municipality's series and the country's, long (empty when it is not in the file)."""
    series = data.series
    if municipality not in set(series["municipality"]):
        return series.iloc[0:0].copy()
    keep = series["municipality"].isin([municipality, NATIONAL_LABEL])
    return series[keep].sort_values(["measure", "level", "year"]).reset_index(drop=True)


def build_public_comparison(
    municipality: str, data_dir: str | Path | None = None, min_n: int = config.MIN_N_DEFAULT
) -> PublicComparison:
    """One municipality's schools against the country, the municipality against the other 97,
    its series over time where the file has it, and the notes on what the data cannot say."""
    check_min_n(min_n)
    data = read_public_data(data_dir)
    check_municipality(municipality, data)
    table, small_note = drop_small_schools(school_table(data), min_n)
    schools = {ind: compare_schools(table, ind) for ind in COMPARED_INDICATORS}
    municipalities = {ind: compare_municipalities(res) for ind, res in schools.items()}
    dispersion = summarise_dispersion(municipality, schools, municipalities)
    series = municipal_series(data, municipality)
    units = build_units(data)
    units = units[units["municipality"] == municipality].reset_index(drop=True)
    notes = list(data.notes) + [small_note, *coverage_notes(data, municipality)]
    if series.empty:
        notes.append({"key": "no_series", "count": int(data.series["municipality"].nunique() - 1)})
    return PublicComparison(
        municipality=municipality,
        year=int(data.wellbeing["year"].max()),
        schools=schools,
        municipalities=municipalities,
        dispersion=dispersion,
        series=series,
        notes=notes,
        units=units,
    )


def coverage_notes(data: PublicData, municipality: str) -> list[dict]:
    """The municipality's schools, and how many lack pupils or a støtte og inspiration value."""
    wb = data.wellbeing[data.wellbeing["municipality"] == municipality]
    ids = set(wb["school_id"])
    with_support = set(wb.loc[wb["indicator"] == "stoette_og_inspiration", "school_id"])
    return [
        {"key": "schools", "count": len(ids)},
        {"key": "no_pupils", "count": len(ids - set(school_pupils(data).index))},
        {"key": "no_support_values", "count": len(ids - with_support)},
    ]


# report content (the notebook calls these; all wording from evaluation/texts/<language>.yaml) --

POSITION_KEYS = {"above": "over", "within": "within", "below": "under"}


def genitive(name: str, language: str) -> str:
    """ "Aarhus" -> "Aarhus'" and "København" -> "Københavns" (da); "Aarhus's" (en)."""
    if language == "en":
        return f"{name}'s"
    return f"{name}'" if name[-1:].lower() in ("s", "x", "z") else f"{name}s"


def names(comp: PublicComparison, language: str) -> dict:
    """The municipality's name and its genitive, for the texts' {municipality} and {owner}."""
    return {"municipality": comp.municipality, "owner": genitive(comp.municipality, language)}


def indicator_name(indicator_id: str, language: str) -> str:
    ind = load_catalog().get(indicator_id)
    return ind.name_da if language == "da" else ind.name_en


def indicator_direction(indicator_id: str) -> str:
    return load_catalog().get(indicator_id).direction


def format_value(t: Texts, indicator_id: str, value: float) -> str:
    return t.number(value, 2 if indicator_id != ABSENCE_INDICATOR else 1)


def position_label(t: Texts, classification: str) -> str:
    return t(f"position.{POSITION_KEYS.get(classification, 'within')}")


def header_html(comp: PublicComparison, language: str = "da") -> str:
    """Title, lead, the credit line and what the report rests on."""
    t = texts_for(language)
    year = format_school_year(comp.year)
    notes = {n["key"]: n for n in comp.notes}
    facts = t(
        "public.facts",
        schools=notes["schools"]["count"],
        **names(comp, language),
        school_year=year,
    )
    return (
        REPORT_CSS
        + f"<h1>{html.escape(t('public.title', **names(comp, language), school_year=year))}"
        f"</h1><p>{html.escape(t('public.lead'))}</p>"
        + credit_html(language)
        + f"<p>{html.escape(facts)}</p>"
        + f"<p>{html.escape(t('public.how_to_read'))}</p>"
    )


def overview_table(comp: PublicComparison, language: str = "da") -> pd.DataFrame:
    """One row per indicator: the municipality's value, the country's, and the placement."""
    t = texts_for(language)
    rows = []
    for ind, result in comp.municipalities.items():
        own = result["units"].set_index("entity_id").loc[comp.municipality]
        schools = comp.own_schools(ind)
        rows.append(
            {
                t("public.columns.indicator"): indicator_name(ind, language),
                t("public.columns.municipality"): format_value(t, ind, own["value"]),
                t("public.columns.country"): format_value(t, ind, result["plain"].target),
                t("public.columns.position_95"): position_label(t, own["classification"]),
                t("public.columns.position_998"): position_label(t, own["classification_998"]),
                t("public.columns.schools"): len(schools),
                t("public.columns.schools_outside"): int(
                    (schools["classification"] != "within").sum()
                ),
            }
        )
    return pd.DataFrame(rows)


def overview_html(comp: PublicComparison, language: str = "da") -> str:
    t = texts_for(language)
    year = format_school_year(comp.year)
    table = overview_table(comp, language)
    caption = t("public.overview_caption", **names(comp, language), school_year=year)
    return (
        f"<h2>{html.escape(t('public.sections.overview'))}</h2>"
        f"<p>{html.escape(t('public.overview_intro'))}</p>"
        + table_to_html(table, caption, [t("public.direction_note"), t("public.credit_line")])
    )


def limit_lines(
    target: float, n_grid, variance, labels: tuple[str, str], span: tuple[float, float]
) -> pd.DataFrame:
    """Funnel lines target +/- z sqrt(variance(n)) at 95 % and 99.8 %, long for the chart.

    Points of a line outside `span` (the data's range plus a margin) are dropped, so the lines
    of the tiniest sizes do not stretch the y axis far beyond the data.
    """
    frames = []
    for level, label in zip(compare.LEVELS, labels, strict=True):
        half = compare.z_for_level(level) * np.sqrt(variance(n_grid))
        for side, sign in (("lower", -1), ("upper", 1)):
            frames.append(
                pd.DataFrame(
                    {"n": n_grid, "limit": label, "side": side, "value": target + sign * half}
                )
            )
    lines = pd.concat(frames, ignore_index=True)
    return lines[lines["value"].between(*span)].reset_index(drop=True)


def value_span(values) -> tuple[float, float]:
    """The range of the values plus a tenth of it each side."""
    low, high = float(np.min(values)), float(np.max(values))
    pad = max(high - low, 1e-9) * 0.1
    return low - pad, high + pad


def funnel_with_background(points, limits, target, labels, background, y_format):
    """The team's funnel chart; `background` (n, value) is drawn as grey context points."""
    order = [labels["positions"][k] for k in ("under", "within", "over")]
    others = None
    if background is not None and not background.empty:
        others = background.assign(group=labels["others"])
    return build_funnel_chart(
        points, limits, target, labels, order, y_format=y_format, others=others
    )


def chart_labels(t: Texts, x_key: str, y_text: str, target_key: str) -> dict:
    return {
        "x": t(x_key),
        "y": y_text,
        "position": t("position.legend_title"),
        "limit": t("position.limit_title"),
        "target": t(target_key),
        "positions": {k: t(f"position.{k}") for k in ("under", "within", "over")},
        "others": t("public.other_schools"),
    }


def school_funnel_html(
    comp: PublicComparison, indicator_id: str, language: str = "da", tables_dir: str = ""
) -> str:
    """The municipality's schools against the country's schools for one indicator."""
    t = texts_for(language)
    result = comp.schools[indicator_id]
    size, own = result["size"], comp.own_schools(indicator_id)
    name = indicator_name(indicator_id, language)
    year = format_school_year(comp.year)
    if own.empty:
        return f"<p>{html.escape(t('public.funnel_none', indicator=name))}</p>"
    positions = own["classification"].map(lambda c: position_label(t, c))
    points = pd.DataFrame(
        {
            "name": np.where(own["classification"] != "within", own["name"], ""),
            "n": own["n"],
            "value": own["value"],
            "position": positions,
        }
    )
    all_units = result["units"]
    grid = np.geomspace(all_units["n"].min(), all_units["n"].max(), 120)
    limits = limit_lines(
        size.target,
        grid,
        size.variance,
        (t("position.limit_95"), t("position.limit_998")),
        value_span(all_units["value"]),
    )
    labels = chart_labels(t, "public.schools_x", name, "public.country_level")
    background = all_units.loc[all_units["municipality"] != comp.municipality, ["n", "value"]]
    chart = funnel_with_background(points, limits, size.target, labels, background, ".1f")
    counts = own["classification"].value_counts()
    description = t(
        "public.schools_funnel_description",
        target=format_value(t, indicator_id, size.target),
        shown=len(own),
        over=int(counts.get("above", 0)),
        under=int(counts.get("below", 0)),
        **names(comp, language),
    )
    outside = own[own["classification"] != "within"].sort_values("value")
    table = pd.DataFrame(
        {
            t("public.columns.school"): outside["name"],
            t("public.columns.pupils"): outside["n"].astype(int),
            t("public.columns.value"): [format_value(t, indicator_id, v) for v in outside["value"]],
            t("public.columns.limits_95"): [
                t("format.interval", lower=t.number(lo, 2), upper=t.number(hi, 2))
                for lo, hi in zip(outside["lower_95"], outside["upper_95"], strict=True)
            ],
            t("public.columns.position_95"): outside["classification"].map(
                lambda c: position_label(t, c)
            ),
            t("public.columns.position_998"): outside["classification_998"].map(
                lambda c: position_label(t, c)
            ),
        }
    )
    csv_table = own[["entity_id", "name", "n", "value", "lower_95", "upper_95"]].assign(
        lower_998=own["lower_998"],
        upper_998=own["upper_998"],
        classification=own["classification"],
        classification_998=own["classification_998"],
    )
    return chart_html(
        chart,
        table,
        t(
            "public.schools_funnel_title",
            indicator=name,
            **names(comp, language),
            school_year=year,
        ),
        description,
        f"public-schools-{indicator_id}",
        tables_dir or None,
        language=language,
        csv_table=csv_table,
        table_caption=t("public.schools_table_caption", **names(comp, language)),
        footnotes=[t("public.schools_funnel_note"), t("public.credit_line")],
    )


def municipality_funnel_html(
    comp: PublicComparison, indicator_id: str, language: str = "da", tables_dir: str = ""
) -> str:
    """The municipality against the other 97 for one indicator (means of school values)."""
    t = texts_for(language)
    result = comp.municipalities[indicator_id]
    units, shown = result["units"], result["shown"]
    name = indicator_name(indicator_id, language)
    year = format_school_year(comp.year)
    target = shown.target
    tau2 = shown.dispersion.tau2 if shown.adjustment == "additive" else 0.0
    unit_var = result["unit_var"]
    label_it = (units["entity_id"] == comp.municipality) | (units["classification_998"] != "within")
    points = pd.DataFrame(
        {
            "name": np.where(label_it, units["name"], ""),
            "n": units["n"],
            "value": units["value"],
            "position": units["classification"].map(lambda c: position_label(t, c)),
        }
    )
    grid = np.geomspace(units["n"].min(), units["n"].max(), 120)
    limits = limit_lines(
        target,
        grid,
        lambda n: unit_var / n + tau2,
        (t("position.limit_95"), t("position.limit_998")),
        value_span(units["value"]),
    )
    labels = chart_labels(t, "public.municipalities_x", name, "public.country_level")
    chart = funnel_with_background(points, limits, target, labels, None, ".2f")
    own = units.set_index("entity_id").loc[comp.municipality]
    counts = units["classification"].value_counts()
    description = t(
        "public.municipalities_funnel_description",
        **names(comp, language),
        value=format_value(t, indicator_id, own["value"]),
        target=format_value(t, indicator_id, target),
        position=position_label(t, own["classification"]),
        over=int(counts.get("above", 0)),
        under=int(counts.get("below", 0)),
        total=len(units),
    )
    adjusted = t("public.municipalities_adjusted") if tau2 > 0 else ""
    shown_rows = units[label_it].sort_values("value", ascending=False)
    table = pd.DataFrame(
        {
            t("public.columns.municipality_name"): shown_rows["name"],
            t("public.columns.schools"): shown_rows["schools"],
            t("public.columns.value"): [
                format_value(t, indicator_id, v) for v in shown_rows["value"]
            ],
            t("public.columns.position_95"): shown_rows["classification"].map(
                lambda c: position_label(t, c)
            ),
            t("public.columns.position_998"): shown_rows["classification_998"].map(
                lambda c: position_label(t, c)
            ),
        }
    )
    csv_table = units[["name", "schools", "pupils", "value", "lower_95", "upper_95"]].assign(
        classification=units["classification"], classification_998=units["classification_998"]
    )
    return chart_html(
        chart,
        table,
        t("public.municipalities_funnel_title", indicator=name, school_year=year),
        f"{description} {adjusted}".strip(),
        f"public-municipalities-{indicator_id}",
        tables_dir or None,
        language=language,
        csv_table=csv_table,
        table_caption=t("public.municipalities_table_caption", **names(comp, language)),
        footnotes=[t("public.municipalities_funnel_note"), t("public.credit_line")],
    )


def section_html(key: str, language: str = "da", **values) -> str:
    """A section heading and its introduction from the texts."""
    t = texts_for(language)
    return (
        f"<h2>{html.escape(t(f'public.sections.{key}'))}</h2>"
        f"<p>{html.escape(t(f'public.intro.{key}', **values))}</p>"
    )


def schools_table(comp: PublicComparison, language: str = "da") -> pd.DataFrame:
    """All the municipality's schools, one column per indicator: value and a mark when outside."""
    t = texts_for(language)
    marks = {"above": " ▲", "below": " ▼", "within": ""}
    out = comp.units[["unit_id", "name"]].rename(columns={"name": t("public.columns.school")})
    for ind in COMPARED_INDICATORS:
        own = comp.own_schools(ind).set_index("entity_id")
        cells = [
            format_value(t, ind, own.at[u, "value"]) + marks[own.at[u, "classification"]]
            if u in own.index
            else None
            for u in out["unit_id"]
        ]
        out[indicator_name(ind, language)] = cells
    return out.drop(columns="unit_id").sort_values(t("public.columns.school"))


def schools_section_html(comp: PublicComparison, language: str = "da", tables_dir: str = "") -> str:
    """The funnels of the municipality's schools, then one table with every school's values."""
    t = texts_for(language)
    parts = [section_html("schools", language, **names(comp, language))]
    parts += [school_funnel_html(comp, ind, language, tables_dir) for ind in COMPARED_INDICATORS]
    parts.append(
        table_to_html(
            schools_table(comp, language),
            t("public.schools_all_caption", **names(comp, language)),
            [t("public.schools_all_note"), t("public.credit_line")],
        )
    )
    return "".join(parts)


def municipalities_section_html(
    comp: PublicComparison, language: str = "da", tables_dir: str = ""
) -> str:
    parts = [section_html("municipalities", language, **names(comp, language))]
    parts += [
        municipality_funnel_html(comp, ind, language, tables_dir) for ind in COMPARED_INDICATORS
    ]
    return "".join(parts)


def short_school_year(year: int) -> str:
    """2018 -> "18/19": eight years fit under a small chart."""
    return f"{year % 100:02d}/{(year + 1) % 100:02d}"


def series_section_html(comp: PublicComparison, language: str = "da", tables_dir: str = "") -> str:
    """The municipality's and the country's series, or a note saying the file does not have it."""
    t = texts_for(language)
    head = section_html("series", language, **names(comp, language))
    if comp.series.empty:
        return head + f"<p>{html.escape(t('public.series_missing', **names(comp, language)))}</p>"
    data = comp.series.copy()
    national = t("public.country_level")
    data = pd.DataFrame(
        {
            "panel": data["measure"].map(lambda m: t(f"public.series_measures.{m}")),
            "series": np.where(data["level"] == "national", national, data["municipality"]),
            "year": data["year"].astype(int),
            "year_label": data["year"].map(short_school_year),
            "value": data["value"].astype(float),
            "lower": np.nan,
            "upper": np.nan,
        }
    )
    first, last = int(data["year"].min()), int(data["year"].max())
    all_years = [short_school_year(y) for y in range(first, last + 1)]
    labels = {"x": t("common.school_year"), "y": t("common.value"), "series": ""}
    chart = build_trend_chart(data, all_years, labels, columns=3)
    table = data.pivot_table(
        index=["panel", "year_label"], columns="series", values="value", aggfunc="first"
    ).reset_index()
    table = table.rename(
        columns={"panel": t("public.columns.measure"), "year_label": t("common.school_year")}
    )
    for col in table.columns[2:]:
        table[col] = [t.number(v, 1) if pd.notna(v) else None for v in table[col]]
    return head + chart_html(
        chart,
        table,
        t(
            "public.series_title",
            **names(comp, language),
            first=format_school_year(first),
            last=format_school_year(last),
        ),
        t("public.series_description", **names(comp, language)),
        "public-series",
        tables_dir or None,
        language=language,
        footnotes=[t("public.series_note"), t("public.credit_line")],
    )


def dispersion_table(comp: PublicComparison, language: str = "da") -> pd.DataFrame:
    """The over-dispersion figures per indicator, formatted for the methods section."""
    t = texts_for(language)
    d = comp.dispersion
    pct = lambda v: t.percent(v, 0)  # noqa: E731
    return pd.DataFrame(
        {
            t("public.columns.indicator"): [indicator_name(i, language) for i in d["indicator_id"]],
            t("public.columns.schools"): d["schools"],
            t("public.columns.between_sd"): [t.number(v, 3) for v in d["between_school_sd"]],
            t("public.columns.tau_fitted"): [t.number(v, 3) for v in d["tau_fitted"]],
            t("public.columns.phi"): [t.number(v, 1) for v in d["phi_naive"]],
            t("public.columns.tau_naive"): [t.number(v, 3) for v in d["tau_naive"]],
            t("public.columns.outside_naive"): [
                f"{pct(a)} / {pct(b)}"
                for a, b in zip(d["outside_95_naive"], d["outside_998_naive"], strict=True)
            ],
            t("public.columns.outside_naive_tau"): [
                f"{pct(a)} / {pct(b)}"
                for a, b in zip(d["outside_95_naive_tau"], d["outside_998_naive_tau"], strict=True)
            ],
            t("public.columns.outside_shown"): [
                f"{pct(a)} / {pct(b)}"
                for a, b in zip(d["outside_95_shown"], d["outside_998_shown"], strict=True)
            ],
            t("public.columns.municipal_phi"): [t.number(v, 1) for v in d["municipal_phi"]],
        }
    )


def methods_section_html(comp: PublicComparison, language: str = "da", min_n: int = 5) -> str:
    """How the limits are made, the over-dispersion measured, and what the data cannot say."""
    t = texts_for(language)
    notes = {n["key"]: n for n in comp.notes}
    items = t.lookup("public.methods_items")
    cannot = t.lookup("public.cannot_items")
    facts = [
        t("public.note_absence", count=notes["absence_artefacts"]["count"]),
        t(
            "public.note_no_pupils",
            count=notes["no_pupils"]["count"],
            **names(comp, language),
        ),
        t(
            "public.note_no_support",
            count=notes["no_support_values"]["count"],
            **names(comp, language),
        ),
        t("public.note_min_n", min_n=min_n, count=notes["small_schools"]["count"]),
    ]
    if "no_series" in notes:
        facts.append(t("public.series_missing", **names(comp, language)))
    values = {"rounding": t.number(ROUNDING_VARIANCE, 5)}
    table = table_to_html(
        dispersion_table(comp, language),
        t("public.dispersion_caption"),
        [t("public.dispersion_note"), t("public.credit_line")],
    )
    return (
        f"<h2>{html.escape(t('public.sections.cannot'))}</h2>"
        + "<ul>"
        + "".join(f"<li>{html.escape(s)}</li>" for s in cannot)
        + "".join(f"<li>{html.escape(s)}</li>" for s in facts)
        + "</ul>"
        + f"<h2>{html.escape(t('public.sections.methods'))}</h2><ul>"
        + "".join(f"<li>{html.escape(s.format(**values))}</li>" for s in items)
        + "</ul>"
        + table
        + credit_html(language)
    )


def public_key_figures(comp: PublicComparison) -> dict:
    """The figures `workbench verify` compares between runs."""
    figures = {"municipality": comp.municipality, "year": comp.year}
    for ind, result in comp.municipalities.items():
        own = result["units"].set_index("entity_id").loc[comp.municipality]
        figures[f"{ind}_municipality"] = round(float(own["value"]), 6)
        figures[f"{ind}_country"] = round(float(result["shown"].target), 6)
        figures[f"{ind}_position"] = str(own["classification"])
    for row in comp.dispersion.itertuples(index=False):
        figures[f"{row.indicator_id}_phi_naive"] = round(float(row.phi_naive), 6)
        figures[f"{row.indicator_id}_tau_fitted"] = round(float(row.tau_fitted), 6)
    return figures


def record_figures(comp: PublicComparison) -> None:
    """The notebook's last cell: record the key figures `workbench verify` compares."""
    key_figures.record_key_figures(public_key_figures(comp))
