"""evaluation.reports.public_credit: the ministry's credit line on a run's index page and as a
column of every CSV table (STIL's terms, ../shared/data/real/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from render_project import make_record  # noqa: E402

from evaluation.render import index_page  # noqa: E402
from evaluation.reports import charts  # noqa: E402
from evaluation.reports import public_credit as credit  # noqa: E402

CREDIT_DA = "Kilde: Uddannelsesstatistik.dk (Børne- og Undervisningsministeriet)"


def test_public_figures_are_told_by_source_or_by_the_ingest_log():
    assert credit.uses_public_figures("public", [])
    assert credit.uses_public_figures("warehouse", [{"table_name": "aggregates"}])
    assert not credit.uses_public_figures("warehouse", [{"table_name": "responses"}])


def test_every_csv_gets_the_credit_column_and_keeps_its_cells(tmp_path):
    table = pd.DataFrame({"Skole": ["=Nord", "Syd"], "Værdi": [3.45, None]})
    path = charts.write_table_csv(table, "tragt", tmp_path / "tables" / "r1", "da")
    before = path.read_text(encoding="utf-8-sig").splitlines()
    assert credit.credit_tables(tmp_path / "tables", "da") == [path]
    after = path.read_text(encoding="utf-8-sig").splitlines()
    assert after[0] == before[0] + ";Kilde"
    assert after[1] == before[1] + ";" + CREDIT_DA  # "'=Nord;3,45" kept as written
    assert after[2] == before[2] + ";" + CREDIT_DA
    assert credit.credit_tables(tmp_path / "tables", "da") == [], "a second pass changes nothing"


def test_english_csv_credit_in_english(tmp_path):
    charts.write_table_csv(pd.DataFrame({"School": ["A"], "Value": [3.5]}), "t", tmp_path, "en")
    credit.credit_tables(tmp_path, "en")
    frame = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    assert frame["Source"].tolist() == [
        "Source: Uddannelsesstatistik.dk (the Danish Ministry of Children and Education)"
    ]
    assert frame["Value"].tolist() == [3.5]


def test_index_page_credits_the_ministry_only_when_its_figures_are_used():
    record = make_record("da")
    assert CREDIT_DA not in index_page.build_index_html(record)
    record["parameters"]["public_figures"] = True
    assert CREDIT_DA in index_page.build_index_html(record)
