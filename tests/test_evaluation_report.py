"""Evaluation report content: the fixture warehouse for wording and tables, the demo data for
the known true effect (the builders directly, no kernel).

Covers evaluation.reports.evaluation_report and its parts evaluation_context, evaluation_tables,
evaluation_effect, evaluation_design, evaluation_size and evaluation_sensitivity (the sections the
builders below put together).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.reports import evaluation_design, evaluation_effect, evaluation_tables  # noqa: E402
from evaluation.reports import evaluation_report as report_evaluation  # noqa: E402
from evaluation.stats import effect
from evaluation.texts import texts_for
from evaluation.versions import KEY_PACKAGES

BUILDERS = ["build_coverage", "build_methods", "build_effect", "build_sensitivity"]


def render_sections(warehouse: Path, tables: Path, language: str = "da", year: int = 2024):
    report = report_evaluation.prepare_report(
        "", "generel_trivsel", year, language, str(warehouse), 5, str(tables), 199, 2023
    )
    html = "".join(str(getattr(report_evaluation, b)(report)) for b in BUILDERS)
    return report, html


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory):
    warehouse = build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    return render_sections(warehouse, tmp_path_factory.mktemp("tables"))


def test_no_english_method_label_in_the_danish_report(fixture_report):
    _, html = fixture_report
    for label in (effect.CV3_LABEL, effect.CRVE_LABEL, "beside it", "over-rejects"):
        assert label not in html


def test_methods_name_their_references(fixture_report):
    _, html = fixture_report
    for ref in ("MacKinnon", "Callaway", "Webb", "Roodman"):
        assert ref in html


def test_sensitivity_table_has_every_check_with_its_note(fixture_report):
    report, html = fixture_report
    section = html[html.index('id="foelsomhed"') :]
    for key in ("main", "placebo", "no_covid", "never_treated", "fixed_membership", "min_n"):
        label = report.t.lookup(f"evaluation_report.sensitivity_checks.{key}")
        assert label.split("{")[0].strip() in section, key
    never = report.t.lookup("evaluation_report.sensitivity_notes.never_treated")
    assert never[:40] in section


def test_response_rate_is_answers_over_pupils_times_the_stated_share():
    assert report_evaluation.response_rate(600, 1000) == pytest.approx(1.0)
    assert report_evaluation.response_rate(510, 1000) == pytest.approx(0.85)
    assert math.isnan(report_evaluation.response_rate(510, float("nan")))  # no register
    assert math.isnan(report_evaluation.response_rate(float("nan"), 1000))  # no survey


def test_effects_have_three_decimals_on_a_scale_and_points_for_shares():
    t = texts_for("da")
    mean, share = SimpleNamespace(kind="mean"), SimpleNamespace(kind="proportion")
    assert evaluation_effect.format_effect(t, mean, 0.0123) == "+0,012"
    assert evaluation_effect.format_effect(t, share, 0.031) == "+3,1\u00a0pct.-point"
    assert evaluation_effect.format_effect(t, mean, math.nan) == "–"
    assert evaluation_effect.format_effect_interval(t, mean, -0.02, 0.05) == "−0,020 til +0,050"


def test_p_values_below_a_thousandth_are_not_written_out():
    t = texts_for("da")
    assert evaluation_effect.format_p(t, 0.0481) == "0,048"
    assert evaluation_effect.format_p(t, 0.0481, named=True) == "p = 0,048"
    assert evaluation_effect.format_p(t, 0.0002, named=True) == "p <\u00a00,001"


def test_event_times_and_model_terms_are_written_in_words():
    t = texts_for("da")
    assert evaluation_effect.event_time_label(t, "overall") == "Samlet effekt"
    assert evaluation_effect.event_time_label(t, -2) == "År −2 i forhold til start"
    assert evaluation_effect.event_time_label(t, 1) == "År +1 i forhold til start"
    assert evaluation_tables.term_label(t, "C(year)[T.2017]", 2016) == (
        "Skoleår 2017/18 (forskel fra 2016/17)"
    )
    assert evaluation_tables.term_label(t, "Intercept", 2016) == "Niveau i 2016/17"


def test_the_versions_table_lists_python_and_the_manifest_packages():
    table = evaluation_tables.package_versions()
    assert table["package"].tolist() == ["python", *KEY_PACKAGES]
    assert table["version"].str.len().gt(0).all()


def test_coverage_states_how_the_response_rate_is_estimated(fixture_report):
    _, html = fixture_report
    assert "Svarprocent (anslået)" in html
    assert "60\u00a0%" in html  # the stated share of grades 4-9


def test_no_demo_truth_outside_the_demo(fixture_report):
    _, html = fixture_report
    assert "Kendt sand effekt" not in html


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """`workbench demo-data && workbench ingest` into a temporary home."""
    home = tmp_path_factory.mktemp("demo-home")
    (home / "data").mkdir()
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    env.pop("WORKBENCH_WAREHOUSE", None)
    workbench = str(Path(sys.executable).parent / "workbench")
    for args in (["demo-data"], ["ingest", str(home / "data" / "raw" / "demo")]):
        done = subprocess.run([workbench, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def demo_report(demo_home, tmp_path_factory):
    """The demo's evaluation report (2025/26), rendered once, and the demo's sidecar."""
    import json

    warehouse = demo_home / "data" / "warehouse" / "workbench.duckdb"
    report, html = render_sections(warehouse, tmp_path_factory.mktemp("demo-tables"), year=2025)
    sidecar = json.loads((demo_home / "data" / "raw" / "demo" / "true_effects.json").read_text())
    return report, html, sidecar


@pytest.mark.slow
def test_demo_report_shows_the_known_true_effect_labelled_as_synthetic(demo_report):
    report, html, sidecar = demo_report
    truth = sidecar["effects"]["generel_trivsel"]["realised"]
    shown = report.t.number(truth, decimals=3, signed=True)
    assert f"Kendt sand effekt i demodata: {shown}" in html
    assert "syntetiske" in html
    sensitivity = html[html.index('id="foelsomhed"') :]
    assert "Kendt sand effekt (kun demodata)" in sensitivity
    placebo = re.search(r"Placebo: Ro og orden</th>(.*?)</tr>", sensitivity).group(1)
    assert "±0,000" in placebo  # the placebo's true effect is exactly zero
    figures = report_evaluation.collect_key_figures(report)
    # key figures carry the page's precision (issue 18): three decimals on a 1-5 scale
    assert figures["effect.demo_truth"] == pytest.approx(round(truth, 3))
    assert figures["effect.ci_low"] <= round(truth, 3) <= figures["effect.ci_high"]


# --- The effect section's further elements (evaluation_design, evaluation_size) -------------


def subsection(html: str, name: str) -> str:
    """The HTML of one sub-heading of the effect section, up to the next sub-heading."""
    start = html.index(f'id="effekt-{name}"')
    ends = [i for i in (html.find("<h3", start), html.find("</section>", start)) if i > 0]
    return html[start : min(ends)]


def table_rows(html: str) -> list[list[str]]:
    """The body rows of the tables in `html` as lists of cell texts (a cluster's name is a link
    to its report: the text is what counts here)."""
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", re.sub(r"</?a\b[^>]*>", "", html))
    return [re.split(r"</t[hd]><t[hd]>", row.removesuffix("</td>")) for row in rows]


def test_cohort_table_names_each_start_group_and_the_clusters_not_started(fixture_report):
    _, html = fixture_report
    rows = table_rows(subsection(html, "cohorts"))
    assert rows == [["2023/24", "Nord", "1"], ["Ikke startet", "Syd", "1"]]


def test_refused_cells_show_a_dash_the_clusters_behind_and_why(fixture_report):
    report, html = fixture_report
    section = subsection(html, "cells")
    rows = table_rows(section)
    assert [r[:4] for r in rows] == [
        ["2023/24", "2023/24", "2021/22", "+0"],
        ["2023/24", "2024/25", "2021/22", "+1"],
    ]
    assert all(r[4:] == ["–", "1", "1"] for r in rows)  # effect refused, 1 treated, 1 comparison
    assert "– : " + report.t("effect_extras.cells.refused") in section.replace("&#x27;", "'")


def test_goals_table_has_every_goal_with_the_clusters_behind_it(fixture_report):
    _, html = fixture_report
    section = subsection(html, "goals")
    rows = table_rows(section)
    names = [r[0] for r in rows]
    assert names == [
        "Inklusionsgrad",
        "Nærhed (specialtilbud i egen klynge)",
        "Ventetid fra indstilling til første hjælp (dage, median)",
        "Andel elever med høj trivsel",
    ]
    assert all(r[4] == "1 startede af 2" and r[2] == "–" and r[3] == "–" for r in rows)
    assert rows[0][1].endswith("pct.-point") and rows[2][1].endswith("dage")
    assert REFUSED_DA in section and "lavere bedre" in section


def test_a_refused_headline_has_no_randomisation_p_no_detectable_effect(fixture_report):
    report, html = fixture_report
    headline = subsection(html, "headline")
    assert "Randomiseringstest: –. " + REFUSED_DA in headline
    assert "Kan ikke beregnes, fordi den samlede effekt ingen standardfejl har" in subsection(
        html, "mde"
    )
    loo = subsection(html, "leave-one-out")
    assert table_rows(loo) == [["Nord", "2023/24", "–"], ["Syd", "Ikke startet", "–"]]
    assert "ingen sammenligningsklynge tilbage" in loo
    figures = report_evaluation.collect_key_figures(report)
    assert "effect.randomisation_p" not in figures and "effect.mde" not in figures


def test_cohort_effects_show_refusals_and_caveats_as_footnotes():
    import pandas as pd

    t, mean = texts_for("da"), SimpleNamespace(kind="mean")
    cohorts = pd.DataFrame(
        {
            "group": [2023, 2024, 2025],
            "estimate": [0.05, 0.08, 0.2],
            "ci_low": [0.01, 0.02, math.nan],
            "ci_high": [0.09, 0.14, math.nan],
            "p_value": [0.03, 0.0004, math.nan],
            "n_treated_clusters": [3, 3, 1],
            "refused": ["", "", "fewer than two treated clusters (1)"],
            "caveat": [False, True, False],
            "sim_coverage": [0.94, 0.908, math.nan],
            "sim_rejection": [0.06, 0.093, math.nan],
            "sim_datasets": [4000, 2000, 0],
        }
    )
    table, notes = evaluation_design.cohort_estimates_table(t, mean, cohorts)
    rows = table.to_numpy().tolist()
    assert rows[0] == ["2023/24", "+0,050", "+0,010 til +0,090", "0,030", "3"]
    assert rows[1][0] == "2024/25 \u00b9" and rows[1][3] == "<\u00a00,001"
    assert rows[2] == ["2025/26", "+0,200", "–", "–", "1"]
    assert notes[0] == "– : " + REFUSED_DA
    assert notes[1].startswith("\u00b9 Rækken hviler på 3 startede klynger. I simuleringer")
    assert "i 90,8\u00a0% af tilfældene" in notes[1] and "i 9,3\u00a0%" in notes[1]
    mean = SimpleNamespace(kind="mean", name_da="Trivsel", name_en="Wellbeing")
    report = SimpleNamespace(t=t, indicator=mean, tables_dir=None)
    cells = one_starter_result(extra_starters=2).cells
    before = evaluation_design.design_html(report, SimpleNamespace(cells=cells))  # no `cohorts`
    assert 'id="effekt-cells"' in before and 'id="effekt-cohort-effects"' not in before
    after = evaluation_design.design_html(report, SimpleNamespace(cells=cells, cohorts=cohorts))
    assert 'id="effekt-cohort-effects"' in after and "Rækken hviler på 3 startede" in after


def test_caveat_marks_number_each_distinct_caveat_once():
    labels, notes = evaluation_effect.caveat_marks(
        ["a", "b", "c", "d"], ["", "thin", math.nan, "thin"]
    )
    assert labels == ["a", "b \u00b9", "c", "d \u00b9"]
    assert notes == ["\u00b9 thin"]


def demo_names(report, sidecar, start):
    """The demo clusters' names with this start year (None: never), from the sidecar."""
    ids = [c for c, s in sidecar["start_years"].items() if s == start]
    return {report.data.cluster_name(c) for c in ids}


@pytest.mark.slow
def test_demo_cohort_table_matches_the_sidecar_start_years(demo_report):
    report, html, sidecar = demo_report
    rows = table_rows(subsection(html, "cohorts"))
    starts = sorted({s for s in sidecar["start_years"].values() if s is not None})
    assert [r[0] for r in rows] == [f"{s}/{(s + 1) % 100:02d}" for s in starts] + ["Ikke startet"]
    for row, start in zip(rows, [*starts, None], strict=True):
        names = demo_names(report, sidecar, start)
        assert set(row[1].replace(" og ", ", ").split(", ")) == names
        assert row[2] == str(len(names))


@pytest.mark.slow
def test_demo_cells_count_the_not_yet_started_clusters_behind_each_comparison(demo_report):
    """Comparison clusters of ATT(g, t): the other groups' clusters not started by max(t, base
    year) (Callaway & Sant'Anna's not-yet-treated group), counted from the sidecar's start years."""
    _, html, sidecar = demo_report
    starts = sidecar["start_years"]
    rows = table_rows(subsection(html, "cells"))
    assert len(rows) == 16  # 2 start groups x 8 of the 9 survey years (the base year left out)
    for row in rows:
        group, year, base = (int(row[k][:4]) for k in range(3))
        later = max(year, base)
        comparison = sum(1 for s in starts.values() if s != group and (s is None or s > later))
        treated = sum(1 for s in starts.values() if s == group)
        assert row[5:] == [str(treated), str(comparison)], row
        assert row[4] != "–"


@pytest.mark.slow
def test_demo_goals_hold_their_known_true_effects(demo_report):
    report, html, sidecar = demo_report
    rows = {r[0]: r for r in table_rows(subsection(html, "goals"))}
    assert len(rows) == 4 and all(r[1] != "–" and r[4] == "6 startede af 10" for r in rows.values())
    for indicator_id in ("inklusionsgrad", "hoej_trivsel_andel"):
        truth = sidecar["effects"][indicator_id]["realised"]
        overall = report.cache["goals"][indicator_id].overall_row()
        assert overall["ci_low"] <= truth <= overall["ci_high"], indicator_id
        name = report.data.catalog.get(indicator_id).name_da
        assert rows[name][1] == report.t(
            "format.points",
            number=report.t.number(overall["estimate"] * 100, decimals=1, signed=True),
        )


@pytest.mark.slow
def test_demo_effect_in_sd_units_divides_by_the_baseline_pupil_sd(demo_report):
    report, html, sidecar = demo_report
    first_start = min(s for s in sidecar["start_years"].values() if s is not None)
    values = report.data.values
    baseline = values[
        (values["indicator_id"] == "generel_trivsel")
        & (values["level"] == "municipality")
        & (values["year"] == first_start - 1)
    ]
    sd = float(baseline["sd"].iloc[0])
    figures = report_evaluation.collect_key_figures(report)
    assert figures["effect.baseline_sd"] == pytest.approx(round(sd, 2), abs=1e-9)  # as printed
    section = subsection(html, "size")
    units = report.t.number(figures["effect.estimate"] / sd, decimals=2, signed=True)
    assert f"svarer til {units} standardafvigelser" in section
    assert f"skoleåret {first_start - 1}/{first_start % 100:02d}" in section
    assert "På andelen af elever med høj trivsel er effekten +" in section


@pytest.mark.slow
def test_demo_detectable_effect_is_blooms_formula_with_the_headline_se(demo_report):
    report, html, _ = demo_report
    se = report.cache["effect"].overall_row()["se"]
    figures = report_evaluation.collect_key_figures(report)
    # 10 clusters: t(0.975, 9) = 2.262, t(0.80, 9) = 0.883 (printed t tables)
    assert figures["effect.mde"] == pytest.approx((2.262 + 0.883) * se, abs=5e-4 + 1e-3 * se)
    shown = report.t.number(figures["effect.mde"], decimals=3)
    assert f"opdage en samlet effekt på {shown} eller mere" in subsection(html, "mde")


@pytest.mark.slow
def test_demo_leave_one_out_equals_re_estimating_without_the_cluster(demo_report):
    report, html, _ = demo_report
    section = subsection(html, "leave-one-out")
    rows = table_rows(section)
    assert len(rows) == 10 and all(r[2] != "–" for r in rows)
    panel = evaluation_effect.effect_panel(report, report.data.values, "generel_trivsel")
    without = effect.estimate_effect(
        panel[panel["cluster_id"] != "bakkerne"], draws=99, event_times=False
    )
    shown = {r[0]: r[2] for r in rows}
    expected = without.overall_row()["estimate"]
    assert shown["Bakkerne"] == evaluation_effect.format_effect(
        report.t, report.indicator, expected
    )
    figures = report_evaluation.collect_key_figures(report)
    assert figures["effect.leave_one_out_min"] <= round(expected, 3)  # as printed
    assert round(expected, 3) <= figures["effect.leave_one_out_max"]
    low = evaluation_effect.format_effect(
        report.t, report.indicator, figures["effect.leave_one_out_min"]
    )
    assert f"ligger den samlede effekt mellem {low} (uden " in section


@pytest.mark.slow
def test_demo_randomisation_p_stands_beside_the_headline(demo_report):
    report, html, _ = demo_report
    headline = subsection(html, "headline")
    figures = report_evaluation.collect_key_figures(report)
    p = figures["effect.randomisation_p"]
    assert figures["effect.randomisation_permutations"] == 199  # the test's bootstrap draws
    assert 1 / 200 <= p <= 1
    assert "klyngerne 199 gange" in headline
    shown = evaluation_effect.format_p(report.t, p, named=True).replace("<", "&lt;")
    assert f"som den fundne, er {shown}." in headline
    assert headline.index("Skønnet effekt") < headline.index("Randomiseringstest")


def test_an_event_study_caveat_is_a_marked_footnote_under_its_table():
    t, mean = texts_for("da"), SimpleNamespace(kind="mean", name_da="Trivsel", name_en="Wellbeing")
    result = one_starter_result(extra_starters=2)
    flagged = result.event_study["event_time"].eq(2)
    result.event_study = result.event_study.assign(
        caveat=flagged, sim_coverage=0.906, sim_rejection=0.0945, sim_datasets=4000
    )
    report = SimpleNamespace(t=t, indicator=mean, tables_dir=None, draws=99)
    html = evaluation_effect.effect_chart_html(report, result)
    assert "År +2 i forhold til start \u00b9</th>" in html
    assert "<p>\u00b9 Rækken hviler på" in html and "dækkede 95 %-intervallet" in html


def test_a_simulated_caveat_is_written_with_its_coverage_and_rejection():
    t = texts_for("da")
    row = {
        "caveat": True,
        "n_treated_clusters": 2,
        "sim_coverage": 0.906,
        "sim_rejection": 0.0945,
        "sim_datasets": 4000,
    }
    text = evaluation_effect.caveat_text(t, row)
    assert text.startswith("Rækken hviler på 2 startede klynger.")
    assert "(4.000 datasæt med 10 klynger)" in text
    assert "i 90,6\u00a0% af tilfældene (bør være 95 %)" in text and "9,4\u00a0%" in text
    assert evaluation_effect.caveat_text(t, {**row, "caveat": False}) == ""
    assert evaluation_effect.caveat_text(t, {}) == ""


def test_rows_on_two_treated_clusters_carry_the_simulated_caveat():
    """From the design's own facts: a start group of two clusters, measured in
    validation/effect_rows.py at 90.8 % coverage and 9.3 % rejection."""
    result = one_starter_result(extra_starters=2)
    cohorts = result.cohorts.set_index("group")
    assert cohorts.loc[2023, "n_treated_clusters"] == 2
    assert bool(cohorts.loc[2023, "caveat"])
    assert cohorts.loc[2023, "sim_coverage"] == pytest.approx(0.908)
    assert not bool(cohorts.loc[2022, "caveat"])  # refused: one cluster, no interval at all


def one_starter_result(extra_starters: int = 0):
    """An effect with one cluster starting in 2022 (plus `extra_starters` starting in 2023) and
    three never starting, 2019-2024; small noise."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(5)
    starts = {"a": 2022.0, "x": math.nan, "y": math.nan, "z": math.nan}
    starts |= {f"b{k}": 2023.0 for k in range(extra_starters)}
    panel = pd.DataFrame(
        [
            {"cluster_id": c, "year": y, "value": 3.8 + rng.normal(0, 0.05), "start_year": s}
            for c, s in starts.items()
            for y in range(2019, 2025)
        ]
    )
    return effect.estimate_effect(panel, draws=99)


REFUSED_DA = (
    "Kun én klynge er startet bag dette tal, så ingen usikkerhed kan beregnes; "
    "tallet vises uden interval."
)


def test_a_refused_row_prints_a_dash_and_says_why_in_danish():
    t, mean = texts_for("da"), SimpleNamespace(kind="mean", name_da="Trivsel", name_en="Wellbeing")
    result = one_starter_result()
    _, table = evaluation_effect.effect_rows(t, mean, result.event_study)
    cols = t.lookup("evaluation_report.effect_columns")
    overall = table[0]
    assert overall[cols["time"]] == "Samlet effekt"
    assert overall[cols["estimate"]] != "–"  # the point estimate stays
    for key in ("cv3", "cv3_p", "wild", "wild_p", "crv"):
        assert overall[cols[key]] == "–", key
    assert overall[cols["note"]] == REFUSED_DA
    assert all(row[cols["note"]] == REFUSED_DA for row in table)  # one starter behind every row
    summary = evaluation_effect.effect_summary(t, mean, result)
    assert "95 %-interval: –; p-værdi: –; 4 klynger" in summary
    assert summary.endswith(REFUSED_DA) and "CV3" not in summary
    notes = evaluation_effect.inference_notes(t, result, 99)
    assert notes[-1] == t("evaluation_report.effect_note_refused")
    english = evaluation_effect.effect_summary(texts_for("en"), mean, result)
    assert "95% interval: –; p-value: –" in english and "Only one cluster has started" in english


def test_rows_that_are_not_refused_print_as_before_beside_refused_ones():
    t, mean = texts_for("da"), SimpleNamespace(kind="mean", name_da="Trivsel", name_en="Wellbeing")
    result = one_starter_result(extra_starters=2)  # 3 starters; only one reaches year +2
    es = result.event_study.set_index("event_time")
    assert es.loc["overall", "refused"] == "" and es.loc[2, "refused"] != ""
    _, table = evaluation_effect.effect_rows(t, mean, result.event_study)
    cols = t.lookup("evaluation_report.effect_columns")
    rows = dict(zip(result.event_study["event_time"], table, strict=True))
    assert rows["overall"][cols["note"]] == ""
    assert rows["overall"][cols["cv3"]] == evaluation_effect.format_effect_interval(
        t, mean, es.loc["overall", "ci_low"], es.loc["overall", "ci_high"]
    )
    assert rows[2][cols["cv3_p"]] == "–" and rows[2][cols["note"]] == REFUSED_DA
    assert "Kun én klynge" not in evaluation_effect.effect_summary(t, mean, result)


def test_the_fixture_with_one_started_cluster_refuses_its_effect(fixture_report):
    report, html = fixture_report
    section = html[html.index('id="effekt"') : html.index('id="foelsomhed"')]
    assert REFUSED_DA in section and "p-værdi: –" in section
    assert "&lt;\u00a00,001" not in section and "< 0,001" not in section
    assert REFUSED_DA in html[html.index('id="foelsomhed"') :]  # the main check's note
    figures = report_evaluation.collect_key_figures(report)
    assert figures["effect.ci_low"] is None or math.isnan(figures["effect.ci_low"])
    assert figures["effect.refused"].startswith("fewer than two treated clusters (1)")


@pytest.fixture(scope="module")
def model_sections(fixture_report):
    report, _ = fixture_report
    models = str(report_evaluation.build_models(report))
    parameters = str(report_evaluation.build_parameters(report))
    return report, models, parameters


def test_model_section_says_what_is_fitted_and_shows_every_variance(model_sections):
    report, html, _ = model_sections
    fit = report.cache["model"]
    frame = fit.result.model.data.frame
    assert f"Modellen bygger på {len(frame)} tal for " in html
    schools, clusters = frame["school"].nunique(), frame["cluster_id"].nunique()
    assert f"fra {schools} skoler i {clusters} klynger over {frame['year'].nunique()} " in html
    for row in ("Mellem klynger", "Mellem skoler i samme klynge", "Fra år til år på samme skole"):
        assert row in html
    assert "Pålidelighed af et gennemsnit" in html and "Raudenbush" in html
    assert "Optimeringsmetode" not in html  # the optimizer table is in the appendix


def test_variance_figures_add_up_and_carry_the_models_reliability(model_sections):
    from evaluation.stats import models

    report, _, _ = model_sections
    fit = report.cache["model"]
    figures = evaluation_tables.variance_figures(fit)
    vc = fit.variance_components().set_index("component")["variance"]
    assert figures.loc["cluster", "variance"] == vc["group"]
    assert figures.loc["school", "variance"] == vc["school"]
    assert figures.loc[["cluster", "school", "residual"], "share"].sum() == pytest.approx(1.0)
    reliability = models.school_cluster_reliability(fit).set_index("level")["mean_reliability"]
    assert figures.loc["school", "reliability"] == reliability["school"]
    assert figures.loc["cluster", "reliability"] == reliability["cluster"]


def test_appendix_has_the_optimizers_the_data_hash_and_the_commit(model_sections):
    from evaluation.files import hash_file
    from evaluation.versions import read_git_commit

    report, _, html = model_sections
    assert "Flerniveaumodellens optimeringsmetoder" in html
    assert "Optimeringsmetode" in html
    assert hash_file(Path(report.parameters["warehouse"])) in html
    commit = read_git_commit()
    assert (commit if commit != "unknown" else "ukendt") in html


@pytest.mark.slow
def test_demo_effect_section_checks_parallel_trends_after_the_event_study(demo_report):
    report, html, _ = demo_report
    effect_section = html[html.index('id="effekt"') :]
    title = report.t("pretrends.title")
    assert title in effect_section
    assert "Wald = " in effect_section and "M̄" in effect_section
    # after the event-study chart, before the start groups' table
    assert effect_section.index("Effekt af indsatsen på") < effect_section.index(title)
    assert effect_section.index(title) < effect_section.index('id="effekt-cells"')
