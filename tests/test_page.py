"""evaluation.reports.page: the header every report shares carries the run's navigation and
the embedded font."""

from __future__ import annotations

import pandas as pd

from evaluation.reports import page
from evaluation.reports.fonts import font_directory
from evaluation.texts import texts_for


class Data:
    clusters = pd.DataFrame(
        {
            "cluster_id": ["aabyen", "oest", "nord", "vest"],
            "name": ["Åbyen", "Øst", "Nord", "Vest"],
            "municipality": ["Aarhus", "Aarhus", "Aarhus", "Odder"],
        }
    )


def test_cluster_links_are_in_danish_order_without_the_report_itself():
    links = page.cluster_links(Data(), "Aarhus", skip="nord")
    assert list(links) == ["Øst", "Åbyen"]
    assert links["Øst"] == "cluster_report-oest.html"


def test_every_report_opens_with_links_to_the_run_but_not_to_itself():
    t = texts_for("da")
    leader = str(page.report_header(t, "leader_summary", (), "Titel", ""))
    assert '<a href="index.html">Forside</a>' in leader
    assert 'href="evaluation_report.html"' in leader and 'href="leader_summary.html"' not in leader
    cluster = str(page.report_header(t, "cluster_report", (), "Titel", ""))
    assert 'href="leader_summary.html"' in cluster and 'href="evaluation_report.html"' in cluster
    assert cluster.index('class="wb-nav"') < cluster.index("<h1>")


def test_the_other_clusters_are_one_labelled_navigation():
    nav = page.clusters_nav(texts_for("da"), {"Øst": "c-oest.html", "Åbyen": "c-aabyen.html"})
    assert nav.startswith('<nav class="wb-nav" aria-label="De andre klyngers rapporter">')
    assert 'Andre klynger: <ul><li class="wb-nav-item"><a href="c-oest.html">Øst</a>' in nav
    assert page.clusters_nav(texts_for("da"), {}) == ""


def test_the_header_embeds_the_font_as_a_data_url():
    header = str(page.report_header(texts_for("en"), "public", (), "Title", ""))
    if font_directory() is None:
        assert "@font-face" not in header
        return
    assert header.count("@font-face") == 2
    assert 'font-family: "Liberation Sans"' in header
    assert "src: url(data:font/woff;base64," in header and "http" not in header.split("</style>")[0]
