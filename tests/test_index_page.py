"""evaluation.render.index_page: the run's index page (status, errors, provenance), offline and
accessible, in Danish and English."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from offline_html import find_remote_references  # noqa: E402
from render_project import make_record  # noqa: E402

from evaluation.render import index_page  # noqa: E402


@pytest.mark.parametrize("language", ["da", "en"])
def test_index_page_lists_status_errors_and_provenance(language):
    page = index_page.build_index_html(make_record(language))
    assert f'<html lang="{language}">' in page and "<title>" in page and "<h1>" in page
    assert "<caption>" in page and 'scope="col"' in page and 'scope="row"' in page
    assert "2024/25" in page
    assert "&lt;script&gt;" in page and "<script>" not in page, "error text is escaped"
    assert "cell 4: KeyError" in page and 'href="notebooks/leader_summary.ipynb"' in page
    assert "ab" * 32 in page and "ef" * 20 in page and "pandas" in page
    assert find_remote_references(page) == []
    status_word = {"da": "uændret, genbrugt", "en": "unchanged, reused"}[language]
    assert status_word in page, "status is written out, not shown by colour alone"


def main_text(page: str) -> str:
    """What a reader sees without opening the folded provenance block."""
    return page[page.index("<body>") : page.index("<details>")]


def test_the_run_is_told_in_plain_danish():
    page = index_page.build_index_html(make_record("da"))
    main = main_text(page)
    # 20:30:15+01:00 is 20.30 on a Danish clock in November
    assert "Dannet 22. november 2025 kl. 20.30" in main
    assert "3,2 sekunder" in main and "3.2" not in main
    assert "T20:30" not in main and "/data/" not in main and "cluster=" not in main
    assert "2025-11-22T20:30:15+01:00" in page[page.index("<details>") :]


def test_failures_are_named_in_words():
    page = index_page.build_index_html(make_record("da"))
    assert "leader_summary stoppede i trin 4 med fejlen KeyError." in page


def test_reports_come_by_audience_leader_first_clusters_in_danish_order_evaluation_last():
    record = make_record("da")
    base = record["reports"][0]
    names = ["Åbyen", "Øst", "Vest", "Aabyen Syd", "Nord"]
    clusters = [
        {**base, "id": f"cluster_report-{i}", "title": f"Klyngerapport for {n}"}
        for i, n in enumerate(names)
    ]
    leader = {**base, "id": "leader_summary", "name": "leader_summary", "title": "Ledelsesoverblik"}
    evaluation = {**base, "id": "evaluation_report", "name": "evaluation_report", "title": "Eval"}
    for r in clusters:
        r["name"] = "cluster_report"
    record["reports"] = [evaluation, *clusters, leader]
    main = main_text(index_page.build_index_html(record))
    order = ["Ledelsesoverblik", "for Nord", "for Vest", "for Øst", "for Åbyen", "for Aabyen Syd"]
    positions = [main.index(x) for x in [*order, "Eval"]]
    assert positions == sorted(positions)
    assert main.index("Til ledelsen") < main.index("Til læringsfællesskaberne")
    assert main.index("Til læringsfællesskaberne") < main.index("Til evaluatorer")


def test_index_page_wording_comes_from_the_texts_files():
    page = index_page.build_index_html(make_record("da"))
    assert "<h1>Rapporter for skoleåret 2024/25</h1>" in page
    assert "1 rapporter dannet, 1 uændrede og genbrugt, 1 fejlede." in page
    # a language without texts falls back to English, as the page always did
    assert index_page.index_texts("fr") == index_page.index_texts("en")
    assert index_page.index_texts("en")["provenance"] == "Provenance: data, code and versions"


@pytest.mark.browser
def test_index_page_is_axe_clean_offline(chromium_path, tmp_path):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    index = tmp_path / "index.html"
    index.write_text(index_page.build_index_html(make_record("da")), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page()
        attempted = []
        page.route(
            lambda url: not url.startswith("file:"), lambda r: attempted.append(r) or r.abort()
        )
        page.goto(index.as_uri())
        results = Axe().run(
            page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
        )
        browser.close()
    assert attempted == []
    assert results.response["violations"] == [], results.generate_report()


def test_parameters_leave_out_the_places_and_text_is_escaped():
    shown = {"cluster": "nord", "year": 2024, "warehouse": "/w.duckdb", "tables_dir": "/t"}
    assert index_page.format_parameters(shown) == "cluster=nord, year=2024"
    assert index_page.esc('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert index_page.esc(2024) == "2024"


def test_reports_with_the_same_title_are_told_apart_by_their_id():
    record = make_record("en")
    record["reports"][1]["title"] = record["reports"][0]["title"]
    page = index_page.build_index_html(record)
    assert "Klyngerapport Nord &lt;2024/25&gt; (cluster_report-nord)" in page
    assert "Klyngerapport Nord &lt;2024/25&gt; (cluster_report-syd)" in page
    assert "(leader_summary)" not in page  # a title of its own needs no id
