"""What the cluster report's sections share (evaluation.reports.cluster_parts), on hand-made
tables: the cluster's units, membership changes, the statements chart and data quality."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from evaluation.catalog import load_catalog
from evaluation.reports import cluster_parts
from evaluation.reports.common import ReportData
from evaluation.texts import texts_for

CATALOG = load_catalog()


def small_data(**overrides) -> ReportData:
    units = pd.DataFrame(
        {"unit_id": ["u1", "u2", "u3"], "name": ["Bakke", "Aa", "Cirkel"], "kind": "school"}
    )
    membership = pd.DataFrame(
        {
            "unit_id": ["u1", "u2", "u3"],
            "cluster_id": ["nord", "nord", "nord"],
            "from_year": [2020, 2023, 2020],
            "to_year": pd.array([pd.NA, pd.NA, 2022], dtype="Int64"),
        }
    )
    fields = {
        "warehouse": Path("w.duckdb"),
        "min_n": 5,
        "values": pd.DataFrame(),
        "catalog": CATALOG,
        "units": units,
        "clusters": pd.DataFrame({"cluster_id": ["nord"], "name": ["Nord"]}),
        "membership": membership,
        "programme": pd.DataFrame(),
        "years": [2020, 2021, 2022, 2023, 2024],
    }
    return ReportData(**{**fields, **overrides})


def test_member_units_are_those_of_the_year_sorted_by_name():
    data = small_data()
    assert cluster_parts.member_units(data, "nord", 2021)["name"].tolist() == ["Bakke", "Cirkel"]
    # Danish order: "Aa" is Å, after Bakke
    assert cluster_parts.member_units(data, "nord", 2024)["unit_id"].tolist() == ["u1", "u2"]
    assert cluster_parts.member_units(small_data(membership=pd.DataFrame()), "nord", 2024).empty


def test_membership_changes_inside_the_data_years():
    # u2 joined in 2023; u3 left after 2022; u1 was there from the first year (no change)
    assert cluster_parts.membership_changes(small_data(), "nord") == [
        ("leave", "Cirkel", 2022),
        ("join", "Aa", 2023),
    ]


def status_row(indicator_id: str, value: float, reference: float) -> dict:
    return {
        "indicator_id": indicator_id,
        "indicator": CATALOG.get(indicator_id),
        "value": value,
        "decided_lower": value - 0.05,
        "decided_upper": value + 0.05,
        "difference_lower": value - 0.05 - reference,
        "difference_upper": value + 0.05 - reference,
        "reference": reference,
        "position": "within",
    }


def test_statement_chart_rows_in_percent_and_hidden_names():
    report = SimpleNamespace(t=texts_for("da"), cluster_name="Nord", data=SimpleNamespace(min_n=5))
    rows = pd.DataFrame(
        [
            status_row("udsagn_god_ven", 0.80, 0.75),
            status_row("udsagn_voksen", math.nan, 0.70),
        ]
    )
    chart_rows, hidden = cluster_parts.statement_chart_rows(report, rows)
    assert [(r["series"], r["value"]) for r in chart_rows] == [
        ("Nord", pytest.approx(80.0)),
        ("Kommunen", pytest.approx(75.0)),
    ]
    assert chart_rows[0]["lower"] == pytest.approx(75.0) and math.isnan(chart_rows[1]["lower"])
    assert hidden == [CATALOG.get("udsagn_voksen").name_da]
    text = cluster_parts.statement_description(report, rows, hidden)
    assert "80\u00a0%" in text and "(kommunen 75\u00a0%)" in text and "Udsagn uden tal" in text


def test_suppressed_line_counts_the_reasons():
    report = SimpleNamespace(t=texts_for("da"), school_year="2024/25")
    hidden = pd.DataFrame({"suppression_reason": ["primary", "secondary", "primary"]})
    line = cluster_parts.suppressed_line(report, hidden)
    assert line.startswith("I 2024/25 er 3 tal") and "(2 fordi for få har svaret, 1 fordi" in line
    assert "store nok" in cluster_parts.suppressed_line(report, hidden.iloc[0:0])


def test_only_clear_findings_stand_out():
    report = SimpleNamespace(t=texts_for("da"))
    row = {
        **status_row("generel_trivsel", 3.8, 3.6),
        "change_verdict": "better",
        "previous_year": 2023,
        "previous_value": 3.6,
        "change": 0.2,
        "change_lower": 0.1,
        "change_upper": 0.3,
    }
    clear = pd.DataFrame([{**row, "position": "better"}])
    unclear = pd.DataFrame([{**row, "change_verdict": "none", "position": "within"}])
    lines = cluster_parts.status_standout_lines(report, clear)
    assert lines[0].startswith("Generel trivsel er tydeligt bedre siden 2023/24: fra 3,60 til 3,80")
    assert lines[1].startswith("Generel trivsel ligger tydeligt over kommunen: 3,80 mod 3,60")
    # the difference interval printed is the one that decided the position
    assert "klynger: +0,15 til +0,25)" in lines[1]
    assert cluster_parts.status_standout_lines(report, unclear) == []


def test_definitions_come_from_the_catalog_with_which_way_is_better():

    report = SimpleNamespace(t=texts_for("da"), data=SimpleNamespace(catalog=load_catalog()))
    table = cluster_parts.definition_rows(report, ["fravaer", "inklusionsgrad", "generel_trivsel"])
    rows = table.set_index("Tal")
    assert rows.loc["Elevfravær (gennemsnit, % af skoledage)", "Bedre er"] == "lavere"
    assert rows.loc["Inklusionsgrad", "Tæller"] == "elever i almene klasser"
    assert rows.loc["Inklusionsgrad", "Nævner"] == "alle elever"
    assert "»Er du glad for din skole?«" in rows.loc["Generel trivsel", "Tæller"]
    assert rows.loc["Generel trivsel", "Kilde"] == "Trivselsmålingen"
