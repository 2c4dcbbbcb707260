"""Evaluation report content: the fixture warehouse for wording and tables, the demo data for
the known true effect (the builders directly, no kernel).

Covers evaluation.reports.evaluation_report and its parts evaluation_context, evaluation_tables,
evaluation_effect and evaluation_sensitivity (the sections the builders below put together).
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

from evaluation.reports import evaluation_effect, evaluation_tables  # noqa: E402
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


@pytest.mark.slow
def test_demo_report_shows_the_known_true_effect_labelled_as_synthetic(demo_home, tmp_path):
    import json

    warehouse = demo_home / "data" / "warehouse" / "workbench.duckdb"
    report, html = render_sections(warehouse, tmp_path, year=2025)
    sidecar = json.loads((demo_home / "data" / "raw" / "demo" / "true_effects.json").read_text())
    truth = sidecar["effects"]["generel_trivsel"]["realised"]
    shown = report.t.number(truth, decimals=3, signed=True)
    assert f"Kendt sand effekt i demodata: {shown}" in html
    assert "syntetiske" in html
    sensitivity = html[html.index('id="foelsomhed"') :]
    assert "Kendt sand effekt (kun demodata)" in sensitivity
    placebo = re.search(r"Placebo: Ro og orden</th>(.*?)</tr>", sensitivity).group(1)
    assert "±0,000" in placebo  # the placebo's true effect is exactly zero
    figures = report_evaluation.collect_key_figures(report)
    assert figures["effect.demo_truth"] == pytest.approx(truth)
    assert figures["effect.ci_low"] <= truth <= figures["effect.ci_high"]


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
