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


def test_index_page_wording_comes_from_the_texts_files():
    page = index_page.build_index_html(make_record("da"))
    assert "<h1>Rapporter, skoleåret 2024/25</h1>" in page
    assert "1 rapporter dannet, 1 uændrede og genbrugt, 1 fejlede." in page
    # a language without texts falls back to English, as the page always did
    assert index_page.index_texts("fr") == index_page.index_texts("en")
    assert index_page.index_texts("en")["provenance"] == "Provenance"


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
