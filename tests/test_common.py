"""The shared report building blocks (common and the modules behind it), on small hand-made
inputs: number and name wording, parameter checks, status verdicts, and the page frame.

Covers the façade evaluation.reports.common and its parts evaluation.reports.formatting,
.inputs, .status and .page (evaluation.reports.html has its own file, test_html.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from evaluation.catalog import load_catalog
from evaluation.errors import ParameterError
from evaluation.reports import common as rc
from evaluation.reports import formatting, inputs, page, status
from evaluation.texts import texts_for

DA, EN = texts_for("da"), texts_for("en")


def indicator(kind="mean", direction="higher_better", **more):
    names = {"name_da": "Trivsel", "name_en": "Wellbeing", "short_da": "T", "short_en": "W"}
    return SimpleNamespace(kind=kind, direction=direction, **{**names, **more})


# --- formatting --------------------------------------------------------------------------------


def test_values_are_written_in_the_unit_of_their_kind():
    assert formatting.format_value(DA, indicator("mean"), 3.7234) == "3,72"
    assert formatting.format_value(DA, indicator("proportion"), 0.943) == "94\u00a0%"
    assert formatting.format_value(DA, indicator("median"), 12.4) == "12\u00a0dage"
    assert formatting.format_value(EN, indicator("rate"), 5.3) == "5.3%"
    assert formatting.format_value(DA, indicator("mean"), math.nan) == "–"


def test_differences_are_signed_and_shares_are_points():
    assert formatting.format_difference(DA, indicator("mean"), 0.123) == "+0,12"
    assert (
        formatting.format_difference(DA, indicator("proportion"), 0.031) == "+3,1\u00a0pct.-point"
    )
    assert formatting.format_difference(DA, indicator("median"), -4) == "−4\u00a0dage"
    assert formatting.format_difference(DA, indicator("mean"), None) == "–"


def test_intervals_use_the_language_and_percent_for_shares():
    assert formatting.format_interval(DA, indicator("mean"), 3.61, 3.8) == "3,61–3,80"
    assert formatting.format_interval(EN, indicator("mean"), 3.61, 3.8) == "3.61 to 3.80"
    assert formatting.format_interval(DA, indicator("proportion"), 0.9, 0.95) == "90–95"
    signed = formatting.format_interval(DA, indicator("proportion"), -0.01, 0.02, signed=True)
    assert signed == "−1,0 til +2,0"
    assert formatting.format_interval(DA, indicator("mean"), 1.0, math.nan) == "–"


def test_indicator_names_come_from_the_catalog_in_the_report_language():
    catalog = load_catalog()
    fravaer = catalog.get("fravaer")
    assert formatting.indicator_name(DA, fravaer) == "Elevfravær (gennemsnit, % af skoledage)"
    assert formatting.indicator_name(EN, fravaer, short=True) == "Absence (% of days)"
    assert formatting.indicator_name(DA, catalog.get("generel_trivsel"), short=True) == (
        "Generel trivsel (1-5)"
    )
    # without a short name of its own, the short name is the name
    inklusion = catalog.get("inklusionsgrad")
    assert formatting.indicator_name(EN, inklusion, short=True) == "Inclusion rate"


def test_a_statement_is_quoted_inside_a_sentence():
    assert formatting.indicator_phrase(DA, indicator(statement=2)) == "»Trivsel«"
    assert formatting.indicator_phrase(EN, indicator(statement=None)) == "Wellbeing"


def test_axis_label_adds_the_unit_unless_the_name_has_one():
    assert formatting.axis_label(DA, indicator("mean")) == "Trivsel (skala 1-5)"
    assert formatting.axis_label(DA, indicator("rate", name_da="Fravær (%)")) == "Fravær (%)"


def test_names_are_joined_with_the_language_and_lowered_only_when_not_an_acronym():
    assert formatting.join_names(DA, ["A", "B", "C"]) == "A, B og C"
    assert formatting.join_names(EN, ["A", "B"]) == "A and B"
    assert formatting.join_names(DA, []) == "ingen"
    assert formatting.lower_first("Ventetid fra") == "ventetid fra"
    assert formatting.lower_first("PPR") == "PPR"


def test_missing_years_are_named_per_source():
    data = SimpleNamespace(
        years=[2020, 2021, 2022, 2023],
        catalog=SimpleNamespace(
            indicators=[
                SimpleNamespace(id="a", source="survey"),
                SimpleNamespace(id="b", source="register"),
            ]
        ),
        values=pd.DataFrame(
            {
                "indicator_id": ["a", "a", "b", "b", "b", "b"],
                "year": [2020, 2023, 2020, 2021, 2022, 2023],
            }
        ),
        memo={},  # a report's own look-ups (ReportData.memo)
    )
    assert inputs.missing_years_by_source(data) == {"survey": [2021, 2022]}
    assert inputs.missing_years_by_source(data, up_to=2021) == {"survey": [2021]}
    assert formatting.missing_years_sentences(DA, data, "cluster_report.quality_missing_years") == [
        "Der mangler data fra trivselsmålingen for 2021/22 og 2022/23 i hele kommunen."
    ]


# --- inputs ------------------------------------------------------------------------------------


def small_values_data() -> inputs.ReportData:
    """Values of two clusters and their municipality over two years, one id named twice."""
    values = pd.DataFrame(
        {
            "indicator_id": ["a", "a", "b", "a", "a", "a", "b"],
            "level": [
                "cluster",
                "cluster",
                "cluster",
                "municipality",
                "cluster",
                "cluster",
                "cluster",
            ],
            "entity_id": ["nord", "nord", "nord", "Fjordby", "syd", "nord", "syd"],
            "year": [2023, 2024, 2024, 2024, 2024, 2024, 2023],
            "value": [3.1, 3.2, 0.5, 3.3, 3.4, 9.9, 0.6],
        }
    )
    clusters = pd.DataFrame({"cluster_id": ["nord", "syd", "nord"], "name": ["Nord", "Syd", "X"]})
    empty = pd.DataFrame()
    return inputs.ReportData(Path("w.duckdb"), 5, values, None, empty, clusters, empty, empty)


def test_rows_and_names_are_looked_up_as_a_filter_would_find_them():
    """The look-ups made once per report (issue 17) find what a filter of every row finds:
    the first row of a key, in the values' order, and None or the id when there is none."""
    data = small_values_data()
    v = data.values
    nord = rc.rows_by_indicator(data, "cluster", "nord")
    assert nord["a"]["value"].tolist() == [3.1, 3.2, 9.9]  # every year, in the values' order
    assert nord["b"]["value"].tolist() == [0.5]
    of_2024 = rc.rows_by_indicator(data, "cluster", year=2024)
    assert of_2024["a"]["entity_id"].tolist() == ["nord", "syd", "nord"]
    assert "b" in of_2024 and of_2024["b"]["entity_id"].tolist() == ["nord"]
    first = v[(v["indicator_id"] == "a") & (v["entity_id"] == "nord") & (v["year"] == 2024)]
    pd.testing.assert_series_equal(rc.value_row(data, "a", "cluster", "nord", 2024), first.iloc[0])
    assert rc.value_row(data, "a", "cluster", "nord", 2024)["value"] == 3.2  # not the later 9.9
    assert rc.value_row(data, "a", "municipality", "Fjordby", 2024)["value"] == 3.3
    assert rc.value_row(data, "b", "cluster", "syd", 2024) is None  # syd's b is of 2023 only
    assert data.cluster_name("nord") == "Nord"  # the first row of an id
    assert data.cluster_name("vest") == "vest"  # unknown: the id itself
    assert data.unit_name("u1") == "u1"  # no units table: the id itself


def test_rows_split_by_level_first_are_the_rows_a_filter_of_every_row_finds():
    """rows_by_indicator splits one level's rows (split once per report, issue 17): each frame
    equals the filter of the whole table, rows, order and index, for every key asked."""
    data = small_values_data()
    v = data.values
    for level, entity, year in [
        ("cluster", "nord", None),
        ("cluster", None, 2024),
        ("cluster", "syd", 2023),
        ("municipality", "Fjordby", None),
        ("unit", None, None),  # no unit rows: nothing
    ]:
        mask = v["level"] == level
        if entity is not None:
            mask &= v["entity_id"] == entity
        if year is not None:
            mask &= v["year"] == year
        found = rc.rows_by_indicator(data, level, entity, year)
        assert sorted(found) == sorted(set(v.loc[mask, "indicator_id"]))
        for indicator_id, rows in found.items():
            expected = v[mask & (v["indicator_id"] == indicator_id)]
            pd.testing.assert_frame_equal(rows, expected)


def test_year_and_cluster_checks_list_the_valid_values():
    assert inputs.check_year("2023", [2023, 2024]) == 2023
    with pytest.raises(ParameterError, match=r"2023 \(2023/24\), 2024 \(2024/25\)"):
        inputs.check_year(2022, [2023, 2024])
    clusters = pd.DataFrame({"cluster_id": ["nord", "syd"], "name": ["Nord", "Syd"]})
    assert inputs.check_cluster("Syd", clusters) == "syd"
    assert inputs.check_cluster("NORD", clusters) == "nord"
    with pytest.raises(ParameterError, match=r"nord \(Nord\), syd \(Syd\)"):
        inputs.check_cluster("vest", clusters)


def test_an_empty_municipality_is_the_only_one_in_the_warehouse():
    one = {"units": pd.DataFrame({"municipality": ["Fjordby", "Fjordby", None]})}
    assert inputs.check_municipality("", one) == "Fjordby"
    two = {"units": pd.DataFrame({"municipality": ["Fjordby", "Aby"]})}
    with pytest.raises(ParameterError, match="valid municipalities: Aby, Fjordby"):
        inputs.check_municipality("", two)


def test_previous_year_is_the_last_year_with_data_before():
    assert inputs.previous_year(2024, [2021, 2023, 2024]) == 2023
    assert inputs.previous_year(2021, [2021, 2023]) is None


def test_a_missing_warehouse_says_how_to_make_one(tmp_path):
    with pytest.raises(ParameterError, match="workbench demo-data"):
        inputs.resolve_warehouse(tmp_path / "none.duckdb")


# --- status ------------------------------------------------------------------------------------


def test_a_difference_is_judged_only_when_its_interval_excludes_zero():
    higher, lower = indicator(direction="higher_better"), indicator(direction="lower_better")
    assert status.judge(higher, 0.1, 0.3) == "better"
    assert status.judge(lower, 0.1, 0.3) == "worse"
    assert status.judge(higher, -0.1, 0.3) == "none"
    assert status.judge(higher, math.nan, 0.3) == "missing"


def test_level_interval_keeps_shares_inside_zero_and_one():
    lo, hi = status.level_interval(indicator("proportion"), 0.98, 0.02)
    assert lo == pytest.approx(0.98 - 1.959963984540054 * 0.02) and hi == 1.0
    assert status.level_interval(indicator("mean"), 0.01, 0.1)[0] == 0.0
    assert all(math.isnan(x) for x in status.level_interval(indicator("mean"), 3.0, None))


def test_published_means_without_sd_are_compared_on_their_own_se():
    rows = pd.DataFrame({"sd": [math.nan], "se": [0.1]})
    assert status.comparison_kind(indicator("mean"), rows) == "median"
    assert status.comparison_kind(indicator("mean"), rows.assign(sd=[0.5])) == "mean"


def test_status_frame_writes_value_interval_and_change():
    row = {
        "indicator": indicator("mean"),
        "value": 3.72,
        "decided_lower": 3.61,
        "decided_upper": 3.8,
        "reference": 3.5,
        "previous_value": 3.6,
        "change": 0.12,
        "change_lower": 0.02,
        "change_upper": 0.22,
        "change_verdict": "better",
        "position": "within",
        "n": 40,
    }
    columns = [("I", "indicator"), ("V", "value_interval"), ("C", "change"), ("N", "n")]
    frame = status.status_frame(DA, pd.DataFrame([row]), columns)
    assert frame.iloc[0].tolist() == [
        "Trivsel",
        "3,72 (3,61–3,80)",
        "+0,12 (+0,02 til +0,22)",
        "40",
    ]


# --- page --------------------------------------------------------------------------------------


def test_section_titles_come_from_the_report_texts():
    report = SimpleNamespace(t=DA)
    assert page.section_title(DA, "leader_summary", "overview") == "Alle klynger side om side"
    assert page.section_titles("evaluation_report")(report, "models") == "Flerniveaumodel"


def test_report_header_is_css_title_intro_and_contents():
    sections = (("alle-klynger", "overview"), ("kommunen", "municipality_trend"))
    header = str(page.report_header(DA, "leader_summary", sections, "T & U", "<p>i</p>"))
    fonts = f"<style>\n{page.font_face_css()}</style>\n"
    assert header == (
        fonts
        + page.REPORT_CSS
        + '<header class="wb-report">'
        + page.report_nav(DA, "leader_summary")
        + "<h1>T &amp; U</h1><p>i</p>"
        '<nav class="wb-toc" aria-labelledby="wb-toc-title"><h2 id="wb-toc-title">Indhold</h2>'
        '<ol><li><a href="#alle-klynger">Alle klynger side om side</a></li>'
        '<li><a href="#kommunen">Kommunen over tid</a></li></ol></nav></header>'
    )
    compact = str(page.report_header(EN, "leader_summary", sections, "T", "", True, "<s>"))
    assert compact.startswith(fonts + page.REPORT_CSS + "<s><header")
    assert 'class="wb-toc wb-toc-compact"' in compact


def test_municipality_title_and_facts():
    report = SimpleNamespace(
        t=DA, municipality="Fjordby", school_year="2024/25", data=SimpleNamespace(min_n=5)
    )
    assert page.municipality_title(report, "evaluation_report") == (
        "Evalueringsrapport for Fjordby, skoleåret 2024/25",
        "Data: Fjordby, skoleåret 2024/25. Mindst 5 svar i hver gruppe.",
    )


def test_common_still_offers_what_the_reports_use():
    for name in ("ReportData", "Html", "esc", "summarise_entity", "status_table", "credit_html"):
        assert hasattr(rc, name), name
    assert rc.lower_first is formatting.lower_first
    assert not hasattr(rc, "missing_years")  # removed: nothing called it
