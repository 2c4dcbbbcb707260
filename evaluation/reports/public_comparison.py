"""The public report's comparison: the municipality's schools against the country's schools, the
municipality against the other municipalities, and the over-dispersion measured on the way.

What the data cannot give is stated, never papered over: no respondent n (the spread of school
values is fitted on pupil counts, `evaluation.stats.spread`: a band of usual variation between
schools, not a sampling interval; over-dispersion on top of it by `evaluation.stats.compare`),
one year per school, and a municipal series for 20 municipalities. Values are published with one
decimal, so a school (and a mean of schools) is called above or below its band only when its
whole rounding interval lies beyond it (`evaluation.stats.rounding`; else "at_limit").
The report's sections (`evaluation.reports.public_report`) only word and draw what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import config
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
from evaluation.stats import compare
from evaluation.stats.rounding import PUBLISHED_DECIMALS, classify_rounded
from evaluation.stats.spread import (
    ROUNDING_VARIANCE,
    assumed_sampling_se,
    estimate_size_variance,
    loaded_tau2,
)
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


def classify_published(units: pd.DataFrame, published=True) -> pd.DataFrame:
    """Re-classify the rows that are published values (`published`, a mask or True) by their
    one-decimal rounding interval (`evaluation.stats.rounding`); the plain classification is
    kept as `*_unrounded`.

    A municipal mean of several schools is not a published value: its rounding error is an
    average of the schools' and is already in the band's variance (0.1^2/12 per school, see
    `evaluation.stats.spread`); the worst case +/- 0.05 would put a third of the municipalities
    "at the limit". A one-school municipality's mean is its school's published value.
    """
    out = units.copy()
    mask = np.broadcast_to(np.asarray(published, dtype=bool), len(out))
    for tag, col in (("95", "classification"), ("998", "classification_998")):
        out[col + "_unrounded"] = out[col]
        rounded = classify_rounded(
            out["value"], out[f"lower_{tag}"], out[f"upper_{tag}"], PUBLISHED_DECIMALS
        )
        out[col] = np.where(mask, rounded, out[col])
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
    units = classify_published(unit_rows(frame, shown))
    units = unit_rows(units, plain, "_naive")
    units = unit_rows(units, adjusted, "_naive_tau")
    return {"size": size, "plain": plain, "adjusted": adjusted, "units": units, "shown": shown}


def municipal_means(schools: pd.DataFrame) -> pd.DataFrame:
    """Pupil-weighted means of school values per municipality, with their standard error.

    se^2 = sum w^2 v_i / (sum w)^2 with w = pupils and v_i the fitted spread of school i: the
    spread expected if a municipality's schools were drawn at random from the country's schools.
    `n` is the effective number of average schools, V / se^2 (V = the pupil-weighted mean v_i),
    so the funnel lines target +/- z sqrt(V / n) fit every point exactly. `concentration` is
    H = sum w^2 / (sum w)^2 (1 for a one-school municipality).
    """
    frame = schools.assign(w=schools["n"], v=schools["se"] ** 2)
    frame = frame.assign(
        wy=frame["w"] * frame["value"], w2v=frame["w"] ** 2 * frame["v"], w2=frame["w"] ** 2
    )
    grouped = frame.groupby("municipality").agg(
        w=("w", "sum"),
        wy=("wy", "sum"),
        w2v=("w2v", "sum"),
        w2=("w2", "sum"),
        schools=("entity_id", "size"),
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
            "concentration": (grouped["w2"] / grouped["w"] ** 2).to_numpy(),
        }
    ).reset_index(drop=True)
    out.attrs["unit_var"] = unit_var
    return out


def compare_municipalities(school_result: dict) -> dict:
    """Every municipality's mean of its school values against the national value.

    Over-dispersion here means municipalities differ more than a random draw of schools would.
    When the chi-square test rejects (as compare's adjust="auto"), a shared municipality effect
    tau2 is estimated (`evaluation.stats.spread.loaded_tau2`) and the mean's variance becomes
    se^2 + tau2 (1 - H): the schools' fitted spread already holds that effect, so it is not
    added again in full (a one-school municipality gets its school's band exactly). `n` is then
    the effective number of schools of that variance, so the lines V / n fit every point.
    """
    means = municipal_means(school_result["units"])
    target = school_result["size"].target
    plain = compare_public(means, target, adjust="none")
    tau2 = 0.0
    if plain.dispersion.rejects:
        d = plain.dispersion
        tau2, _ = loaded_tau2(d.n_units, d.phi, means["se"], 1 - means["concentration"])
    unit_var = means.attrs["unit_var"]
    se = np.sqrt(means["se"] ** 2 + tau2 * (1 - means["concentration"]))
    widened = means.assign(se=se, n=unit_var / se**2)
    shown = compare_public(widened, target, adjust="none")
    units = classify_published(unit_rows(widened, shown), widened["schools"] == 1)
    units = unit_rows(units, plain, "_plain")
    return {
        "plain": plain,
        "shown": shown,
        "units": units,
        "unit_var": unit_var,
        "tau2": tau2,
    }


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
    # the municipality's published values of schools without a pupil count (never weighted)
    unweighted: pd.DataFrame = field(default_factory=pd.DataFrame)

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
    """The share above or below the limits ("at_limit" is not outside)."""
    outside = classification.isin(["above", "below"])
    return float(outside.mean()) if len(classification) else float("nan")


def summarise_dispersion(municipality: str, schools: dict, municipalities: dict) -> pd.DataFrame:
    """The over-dispersion figures per indicator, for the country and for the municipality."""
    rows = []
    for indicator_id, result in schools.items():
        units, size = result["units"], result["size"]
        own = units[units["municipality"] == municipality]
        naive = result["adjusted"].dispersion
        mun = municipalities[indicator_id]["plain"].dispersion
        mun_tau2 = municipalities[indicator_id]["tau2"]
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
                "municipal_tau": float(np.sqrt(mun_tau2)),
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
    municipality = check_municipality(municipality, data)  # "københavn" -> "København"
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
        unweighted=unweighted_values(data, units["unit_id"]),
    )


def same_value_contrasts(comp: PublicComparison, indicator_id: str, decimals: int) -> list[dict]:
    """The municipality's schools with the municipality's value (at `decimals`) but another
    95 % state, with both bands and why they differ.

    Both are compared with the same national value, so only the bands differ: the school's is
    the band of the country's schools of its size; the municipality's is that of a pupil-weighted
    mean of its schools (narrower: "reason_narrower"), widened by the shared municipality effect
    tau2 (1 - H) when municipalities vary more than their schools explain (wider: "reason_tau").
    A one-school municipality has its school's band exactly (H = 1), so it is never listed.
    """
    result = comp.municipalities[indicator_id]
    mun = result["units"].set_index("entity_id").loc[comp.municipality]
    own = comp.own_schools(indicator_id)
    same = own[
        (own["value"].round(decimals) == round(float(mun["value"]), decimals))
        & (own["classification"] != mun["classification"])
    ]
    out = []
    for school in same.itertuples(index=False):
        wider = mun["upper_95"] - mun["lower_95"] > school.upper_95 - school.lower_95
        if not wider:
            reason = "reason_narrower"
        elif result["tau2"] > 0:
            reason = "reason_tau"
        else:
            reason = "reason_wider"
        out.append(
            {
                "school": school.name,
                "value": float(school.value),
                "school_state": school.classification,
                "municipality_state": str(mun["classification"]),
                "school_limits": (float(school.lower_95), float(school.upper_95)),
                "municipality_limits": (float(mun["lower_95"]), float(mun["upper_95"])),
                "reason": reason,
            }
        )
    return out


def coverage_notes(data: PublicData, municipality: str) -> list[dict]:
    """The municipality's schools, and how many lack pupils (named: they have values, but no
    weight, issue 16's Kirsebærhavens Skole and Lykkebo Skole) or a støtte og inspiration value."""
    wb = data.wellbeing[data.wellbeing["municipality"] == municipality]
    ids = set(wb["school_id"])
    with_support = set(wb.loc[wb["indicator"] == "stoette_og_inspiration", "school_id"])
    no_pupils = wb[~wb["school_id"].isin(school_pupils(data).index)]
    names = sorted(no_pupils["school_name"].astype(str).unique())
    return [
        {"key": "schools", "count": len(ids)},
        {"key": "no_pupils", "count": len(names), "names": names},
        {"key": "no_support_values", "count": len(ids - with_support)},
    ]


def unweighted_values(data: PublicData, unit_ids: pd.Series) -> pd.DataFrame:
    """unit_id, indicator_id, value of the given schools that have values but no pupil count."""
    values = build_aggregates(data)
    keep = values["unit_id"].isin(set(unit_ids)) & ~values["unit_id"].isin(
        school_pupils(data).index
    )
    keep &= values["indicator_id"].isin(COMPARED_INDICATORS)
    return values.loc[keep, ["unit_id", "indicator_id", "value"]].reset_index(drop=True)
