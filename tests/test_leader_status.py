"""evaluation.reports.leader_status: what the leader summary shows of every cluster (the attention
list, the side-by-side table's symbols and spoken words, the CSV frame), on a hand-made report
whose status rows are set by hand (the status itself is evaluation.reports.status's, tested in
test_common.py and, on the fixture warehouse, in test_leader_summary.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation.catalog import load_catalog
from evaluation.reports import leader_status
from evaluation.reports.inputs import ReportData
from evaluation.texts import texts_for

DA = texts_for("da")
CATALOG = load_catalog()
CLUSTERS = pd.DataFrame(
    {
        "cluster_id": ["s", "n", "x"],
        "name": ["Syd", "Nord", "Ved siden af"],
        "municipality": ["Fjordby", "Fjordby", "Aby"],
    }
)


def status_row(cluster_id, indicator_id, value, position, change, previous_value, reference=3.8):
    """A row as status.summarise_entity gives it: the level with a deciding 95 % interval of
    +-0.1, the municipality 3.8, the change from 2023 with an interval of +-0.15."""
    difference = round(value - previous_value, 6)
    return {
        "cluster_id": cluster_id,
        "indicator_id": indicator_id,
        "indicator": CATALOG.get(indicator_id),
        "value": value,
        "decided_lower": round(value - 0.1, 6),
        "decided_upper": round(value + 0.1, 6),
        "difference_lower": round(value - 0.1 - reference, 6),
        "difference_upper": round(value + 0.1 - reference, 6),
        "n": 40,
        "reference": reference,
        "position": position,
        "change": difference,
        "change_lower": round(difference - 0.15, 6),
        "change_upper": round(difference + 0.15, 6),
        "change_verdict": change,
        "previous_year": 2023,
        "previous_value": previous_value,
    }


STATUS = pd.DataFrame(
    [
        status_row("n", "generel_trivsel", 3.6, "worse", "worse", 3.9),
        status_row("n", "inklusionsgrad", 0.95, "better", "none", 0.94, reference=0.8),
        status_row("s", "social_trivsel", 3.9, "within", "better", 3.7),
        status_row("s", "fravaer", 5.2, "better", "better", 6.0),
    ]
)


def make_report(status: pd.DataFrame = STATUS, years=(2023, 2024)) -> leader_status.LeaderReport:
    data = ReportData(
        warehouse=Path("w.duckdb"),
        min_n=5,
        values=pd.DataFrame(),
        catalog=CATALOG,
        units=pd.DataFrame(),
        clusters=CLUSTERS,
        membership=pd.DataFrame(),
        programme=pd.DataFrame(),
        years=list(years),
    )
    report = leader_status.LeaderReport(
        data=data, t=DA, year=2024, tables_dir=None, municipality="Fjordby"
    )
    report.cache["status"] = status
    return report


def test_clusters_of_the_municipality_by_name_and_the_previous_year():
    report = make_report()
    assert report.cluster_ids() == ["n", "s"]  # Nord before Syd; Aby's cluster left out
    assert report.previous == 2023
    assert make_report(years=(2021, 2024)).previous == 2021
    assert make_report(years=(2024,)).previous is None


def test_attention_lists_clear_declines_first_and_clear_improvements_per_cluster():
    worse, better = leader_status.attention_items(make_report())
    assert worse == [
        "Nord: Generel trivsel er tydeligt dårligere end i 2023/24 (3,90 → 3,60).",
        "Nord: Generel trivsel er tydeligt dårligere end kommunen (3,60 mod 3,80).",
    ]
    assert better == ["Syd: Social trivsel og Elevfravær (gennemsnit, % af skoledage)"]
    assert leader_status.attention_items(make_report(pd.DataFrame())) == ([], [])


def test_a_cell_shows_symbols_words_only_where_clear_and_speaks_in_full():
    report = make_report()
    clear = {"value": "3,60", "place": "worse", "change": "better"}
    assert leader_status.cell_spoken(report, clear) == (
        "tydeligt dårligere end kommunen",
        "tydeligt bedre end i 2023/24",
    )
    assert leader_status.overview_cell_html(report, clear) == (
        '3,60<span aria-hidden="true">'
        '<span class="wb-sym">▼</span><span class="wb-word"> dårligere</span>'
        '<span class="wb-sym">↑</span><span class="wb-word"> bedre</span></span>'
        '<span class="wb-sr">: tydeligt dårligere end kommunen; tydeligt bedre end i 2023/24</span>'
    )
    unclear = {"value": "3,60", "place": "within", "change": "none"}
    assert leader_status.overview_cell_html(report, unclear) == (
        '3,60<span aria-hidden="true"><span class="wb-sym">●</span><span class="wb-sym">→</span>'
        '</span><span class="wb-sr">: ingen tydelig forskel fra kommunen; '
        "ingen tydelig ændring siden 2023/24</span>"
    )
    assert leader_status.overview_cell_html(report, None) == "–"


def test_overview_cells_and_the_csv_frame_spell_every_verdict_out():
    report = make_report()
    cells = dict(leader_status.overview_cells(report))
    assert list(cells) == ["Nord", "Syd"]
    # LEADER_INDICATORS: generel, social, inklusion, fravær, ventetid; a missing row is None
    assert cells["Nord"] == [
        {"value": "3,60", "place": "worse", "change": "worse"},
        None,
        {"value": "95\u00a0%", "place": "better", "change": "none"},
        None,
        None,
    ]
    frame = leader_status.overview_frame(report)
    assert frame.columns.tolist() == [
        "Klyngen",
        "Generel trivsel (1-5)",
        "Social trivsel (1-5)",
        "Inklusionsgrad",
        "Fravær (% af dagene)",
        "Ventetid til hjælp (dage)",
    ]
    assert frame.iloc[0].tolist() == [
        "Nord",
        "3,60; tydeligt dårligere end kommunen; tydeligt dårligere end i 2023/24",
        "–",
        "95\u00a0%; tydeligt bedre end kommunen; ingen tydelig ændring siden 2023/24",
        "–",
        "–",
    ]
    assert (
        frame.iloc[1, 4] == "5,2\u00a0%; tydeligt bedre end kommunen; tydeligt bedre end i 2023/24"
    )


def test_legend_names_the_previous_year_and_the_table_points_to_it():
    report = make_report()
    assert leader_status.overview_legend(report) == (
        '<p class="wb-legend" id="wb-legend-klynger">'
        '<span class="wb-key">Første symbol, placering mod kommunen: ▲ tydeligt bedre, '
        "▼ tydeligt dårligere, ● ingen tydelig forskel.</span> "
        '<span class="wb-key">Andet symbol, ændring siden 2023/24: ↑ tydeligt bedre, '
        "↓ tydeligt dårligere, → ingen tydelig ændring.</span> "
        '<span class="wb-key">– kan ikke vurderes. Ord står kun ved det, der er statistisk '
        "tydeligt. For fravær og ventetid er lavere bedre.</span> </p>"
    )
    table = leader_status.overview_table_html(report)
    assert 'aria-describedby="wb-legend-klynger"' in table
    assert "<caption>Nøgletal pr. klynge, 2024/25: værdi, placering og ændring</caption>" in table
    assert table.index('<th scope="row">Nord</th>') < table.index('<th scope="row">Syd</th>')


def test_detail_frame_gives_each_cluster_and_indicator_its_intervals():
    frame = leader_status.detail_frame(make_report())
    assert frame.columns.tolist() == [
        "Klyngen",
        "Nøgletal",
        "Værdi (95 %-interval inkl. almindelig forskel mellem klynger)",
        "Kommunen",
        "Ændring siden 2023/24 (95 %-interval)",
    ]
    assert frame["Klyngen"].tolist() == ["Nord", "Nord", "Syd", "Syd"]
    # 3.6 with 3.5-3.7; the municipality 3.8; change 3.6 - 3.9 = -0.3 with -0.45 to -0.15
    assert frame.iloc[0].tolist() == [
        "Nord",
        "Generel trivsel (1-5)",
        "3,60 (3,50–3,70)",
        "3,80",
        "−0,30 (−0,45 til −0,15)",
    ]
    without_previous = leader_status.detail_frame(make_report(years=(2024,)))
    assert without_previous.columns.tolist()[-1] == "Kommunen"


def test_detail_frame_is_empty_without_status_rows():
    assert leader_status.detail_frame(make_report(pd.DataFrame())).empty
