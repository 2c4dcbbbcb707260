"""evaluation.render.links: after a run, its reports link only to reports the run holds."""

from __future__ import annotations

from evaluation.render import links
from evaluation.reports import page
from evaluation.texts import texts_for

T = texts_for("da")
NAV = page.report_nav(T, "cluster_report") + page.clusters_nav(
    T, {"Nord": "cluster_report-nord.html", "Øst": "cluster_report-oest.html"}
)


def test_a_run_of_every_report_keeps_every_link():
    present = {
        "index.html",
        "leader_summary.html",
        "evaluation_report.html",
        "cluster_report-nord.html",
        "cluster_report-oest.html",
    }
    assert links.prune_links(NAV, present) == NAV


def test_a_partial_run_drops_the_absent_reports_from_the_navigation():
    pruned = links.prune_links(NAV, {"index.html", "cluster_report-nord.html"})
    assert 'href="index.html"' in pruned and 'href="cluster_report-nord.html"' in pruned
    for absent in ("leader_summary.html", "evaluation_report.html", "cluster_report-oest.html"):
        assert absent not in pruned
    assert "Ledelsesoverblik" not in pruned and "Øst" not in pruned


def test_an_empty_group_of_other_clusters_goes_with_its_label_and_navigation():
    pruned = links.prune_links(NAV, {"index.html"})
    assert "Andre klynger" not in pruned and pruned.count("<nav") == 1
    assert pruned.count("<li") == pruned.count("</li>") == 1


def test_a_link_in_text_to_an_absent_report_keeps_its_words():
    markup = (
        '<td><a href="cluster_report-vest.html#skoler">Vest</a></td>'
        '<p><a href="#metode">Metode</a> og <a href="https://example.org/x.html">kilde</a></p>'
    )
    pruned = links.prune_links(markup, {"index.html"})
    assert pruned.startswith("<td>Vest</td>")
    assert '<a href="#metode">Metode</a>' in pruned and "https://example.org/x.html" in pruned


def test_a_run_rewrites_only_changed_files_and_their_sizes(tmp_path):
    (tmp_path / "cluster_report-nord.html").write_text(NAV, encoding="utf-8")
    kept = '<a href="cluster_report-nord.html">Nord</a>'
    (tmp_path / "leader_summary.html").write_text(kept, encoding="utf-8")
    results = {
        "cluster_report-nord": {"html": "cluster_report-nord.html", "html_bytes": 1},
        "leader_summary": {"html": "leader_summary.html", "html_bytes": 2},
        "evaluation_report": {"html": None, "status": "failed"},
    }
    links.prune_run_links(tmp_path, results)
    nord = (tmp_path / "cluster_report-nord.html").read_text(encoding="utf-8")
    assert "evaluation_report.html" not in nord and "leader_summary.html" in nord
    assert results["cluster_report-nord"]["html_bytes"] == len(nord.encode("utf-8"))
    assert (tmp_path / "leader_summary.html").read_text(encoding="utf-8") == kept
    assert results["leader_summary"]["html_bytes"] == 2
