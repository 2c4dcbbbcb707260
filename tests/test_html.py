"""evaluation.reports.html: its pieces escape what came from data, and every box that can scroll
(`scroll_region`) is reachable and named, in every page a run publishes (no browser).

A scroll container is an element whose class a page's stylesheet gives `overflow: auto` or
`scroll` (the last screen rule for that selector wins, as in the cascade). axe's
scrollable-region-focusable only fires when a box actually overflows at the browser's width, so
this check does not wait for a layout to overflow: it asks every such box for tabindex, a role
and a name.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from render_project import make_record  # noqa: E402
from report_runs import REPORTS, execute_report, rendered_fixture_report  # noqa: E402

from evaluation.render import index_page
from evaluation.reports import html  # noqa: E402
from evaluation.reports.html import (  # noqa: E402
    PRINT_CSS,
    SCROLL_REGION_CSS,
    chart_box,
    scroll_region,
)

FIXTURES = Path(__file__).parent / "fixtures"
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
OVERFLOW = re.compile(r"overflow(?:-[xy])?\s*:\s*([a-z]+)")
SCROLLING = {"auto", "scroll"}


def screen_css(page: str) -> str:
    """The page's stylesheets without @media print blocks (print never scrolls)."""
    css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", page, flags=re.S))
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return re.sub(r"@media\s+print\s*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)


def scrolling_classes(page: str) -> set[str]:
    """Classes whose simple selector (`.name`) leaves the element able to scroll."""
    last: dict[str, bool] = {}
    for selectors, body in RULE.findall(screen_css(page)):
        values = OVERFLOW.findall(body)
        if not values:
            continue
        for selector in selectors.split(","):
            selector = selector.strip()
            if re.fullmatch(r"\.[\w-]+", selector):
                last[selector[1:]] = values[-1] in SCROLLING
    return {name for name, scrolls in last.items() if scrolls}


class ScrollBoxes(HTMLParser):
    """Collects the attributes of every element carrying one of the given classes."""

    def __init__(self, classes: set[str]):
        super().__init__()
        self.classes = classes
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self.classes & set((attributes.get("class") or "").split()):
            self.found.append({"tag": tag, **attributes})


def unnamed_scroll_boxes(page: str) -> tuple[int, list[dict]]:
    parser = ScrollBoxes(scrolling_classes(page))
    parser.feed(page)
    bad = [
        box
        for box in parser.found
        if box.get("tabindex") != "0"
        or box.get("role") != "region"
        or not (box.get("aria-label") or box.get("aria-labelledby") or "").strip()
    ]
    return len(parser.found), bad


def test_scroll_region_is_focusable_and_named():
    box = scroll_region("<table></table>", 'Klynger & "skoler"')
    count, bad = unnamed_scroll_boxes("<style>.wb-table-wrap { overflow-x: auto; }</style>" + box)
    assert (count, bad) == (1, [])
    assert 'aria-label="Klynger &amp; &quot;skoler&quot;"' in box


def test_check_catches_an_unnamed_scroll_box():
    page = "<style>.x { overflow: auto; } .y { overflow: auto; } .y { overflow: visible; }</style>"
    count, bad = unnamed_scroll_boxes(page + '<div class="x"></div><div class="y"></div>')
    assert count == 1 and bad[0]["class"] == "x"


@pytest.mark.slow
@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_scroll_boxes_are_reachable(name, language):
    page = rendered_fixture_report(name, language).html.read_text(encoding="utf-8")
    count, bad = unnamed_scroll_boxes(page)
    assert count >= 1, "every report has at least one table box"
    assert bad == []


@pytest.mark.slow
def test_public_report_scroll_boxes_are_reachable(tmp_path):
    report = execute_report(
        "public_report",
        tmp_path,
        {"municipality": "Frederiksberg", "data_dir": str(FIXTURES / "public")},
    )
    count, bad = unnamed_scroll_boxes(report.html.read_text(encoding="utf-8"))
    assert count >= 1 and bad == []


@pytest.mark.parametrize("language", ["da", "en"])
def test_index_page_scroll_boxes_are_reachable(language):
    count, bad = unnamed_scroll_boxes(index_page.build_index_html(make_record(language)))
    assert count == 2 and bad == []


def test_html_pieces_escape_what_came_from_data():
    assert html.paragraph("a < b", "wb-meta") == '<p class="wb-meta">a &lt; b</p>'
    assert html.bullets(["x", "y&z"]) == "<ul><li>x</li><li>y&amp;z</li></ul>"
    assert str(html.section("s", "A & B", "<p>x</p>")) == (
        '<section class="wb-section wb-report" aria-labelledby="s">'
        '<h2 id="s">A &amp; B</h2><p>x</p></section>'
    )


def test_link_names_links_whole_cells_and_items_only():
    from evaluation.reports.html import cluster_report_file, link_names

    hrefs = {
        "Øst & Co": cluster_report_file("oest co", "skoler"),
        "Nord": "cluster_report-nord.html",
    }
    markup = (
        '<table><tr><th scope="row">Øst &amp; Co</th><td>Nord</td><td>Nordby</td></tr></table>'
        "<ul><li>Nord</li></ul><p>Nord ligger højt</p><h3>Nord</h3>"
    )
    linked = link_names(markup, hrefs)
    assert '<th scope="row"><a href="cluster_report-oest_co.html#skoler">Øst &amp; Co</a></th>' in (
        linked
    )
    assert linked.count('<a href="cluster_report-nord.html">Nord</a>') == 2
    assert "<td>Nordby</td>" in linked and "<p>Nord ligger højt</p>" in linked
    assert "<h3>Nord</h3>" in linked


def test_link_names_links_each_name_of_a_list_of_names():
    from evaluation.reports.html import link_names

    hrefs = {"Nord": "n.html", "Syd": "s.html", "Åbyen": "a.html"}
    linked = link_names("<td>Nord, Syd og Åbyen</td><td>Nord og Midtby</td>", hrefs)
    assert linked.startswith(
        '<td><a href="n.html">Nord</a>, <a href="s.html">Syd</a> og <a href="a.html">Åbyen</a></td>'
    )
    assert linked.endswith("<td>Nord og Midtby</td>")


def test_a_wide_chart_shrinks_only_so_far_on_a_phone_and_its_box_can_be_reached():
    """A chart wider than a phone can show at LEAST_SCALE (trend panels, 727 px) keeps at least
    that share of its width, in a named scroll box; a narrow one shrinks with the page."""
    wide = chart_box('<svg width="727" height="300"><g></g></svg>', 'Udvikling "A" & B')
    assert 'style="max-width:max(100%,582px);height:auto;width:727px"' in wide
    count, bad = unnamed_scroll_boxes(f"<style>{SCROLL_REGION_CSS}</style>{wide}")
    assert (count, bad) == (1, [])
    assert 'aria-label="Udvikling &quot;A&quot; &amp; B"' in wide
    narrow = chart_box('<svg width="310" height="80"><g></g></svg>', "Fund")
    assert narrow.startswith('<div class="wb-chart"><svg')
    assert 'style="max-width:100%;height:auto;width:310px"' in narrow
    # on paper every chart fits the page's width again
    assert ".wb-chart-wide {" in PRINT_CSS.split("@media print")[1]
