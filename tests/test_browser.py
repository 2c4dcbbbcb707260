"""The rendered reports in headless Chromium: offline, no console errors, WCAG 2 A/AA clean
(axe-core), every chart an SVG with an accessible name; a full-page screenshot for people.

Screenshots go to the pytest tmp dir and are copied to reports/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from report_runs import REPORTS, ROOT, rendered_fixture_report  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "reports" / "screenshots"


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


def open_report(browser, html: Path):
    """Open a report with every non-file request blocked; return page, requests, errors."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    attempted, errors = [], []

    def block(route):
        attempted.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith("file:"), block)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    return page, attempted, errors


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_in_the_browser(browser, tmp_path, name, language):
    from axe_playwright_python.sync_playwright import Axe

    report = rendered_fixture_report(name, language)
    page, attempted, errors = open_report(browser, report.html)
    try:
        assert attempted == []
        assert errors == []
        assert page.evaluate("document.documentElement.lang") == language
        assert page.locator("h1").count() == 1
        svgs = page.locator("figure.wb-figure svg")
        assert svgs.count() >= 1
        for i in range(svgs.count()):
            svg = svgs.nth(i)
            assert svg.get_attribute("role") == "img"
            assert (svg.get_attribute("aria-label") or "").strip()
            box = svg.bounding_box()
            assert box and box["width"] > 50 and box["height"] > 50
            assert svg.locator("path, line, text, circle").count() > 5
        assert page.get_by_text("<script>alert(1)</script>").count() >= (
            1 if name == "cluster_report" else 0
        )
        # a desktop screen and a phone: what scrolls (and so must be reachable) differs
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            results = Axe().run(
                page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
            )
            violations = results.response["violations"]
            assert violations == [], f"at {width} px:\n" + results.generate_report()
            shot = tmp_path / f"{name}_{language}_{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, SCREENSHOTS / shot.name)
    finally:
        page.close()


# --- one rendered run of the fixture warehouse: first screen, print, phone, links -----------------

A4_CONTENT_PX = 710  # 210 mm less the 11 mm side margins of evaluation.reports.html.PRINT_CSS
RUN_PAGES = (
    "index.html",
    "leader_summary.html",
    "cluster_report-nord.html",
    "evaluation_report.html",
)


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory) -> Path:
    """Every report of the fixture warehouse rendered as one run (index, leader, clusters,
    evaluation), as `workbench render` writes it."""
    from report_runs import fixture_warehouse

    from evaluation.render import run as render

    out = tmp_path_factory.mktemp("run")
    options = render.RenderOptions(year=2024, warehouse=fixture_warehouse(), out=out, jobs=1)
    record = render.render_run(options)
    assert [r["id"] for r in record["reports"] if r["status"] == "failed"] == []
    return out / record["run_id"]


def open_run_page(browser, run: Path, name: str, width: int = 1280, height: int = 900):
    page, attempted, errors = open_report(browser, run / name)
    page.set_viewport_size({"width": width, "height": height})
    assert attempted == [] and errors == []
    return page


@pytest.mark.browser
@pytest.mark.slow
def test_the_leaders_first_screen_holds_grid_start_effect_and_both_lists(browser, fixture_run):
    page = open_run_page(browser, fixture_run, "leader_summary.html")
    try:
        shown = {
            "grid": page.locator("table.wb-grid").first,
            "start column": page.locator("table.wb-grid th", has_text="Startede").first,
            "effect": page.locator("p.wb-effect").first,
            "look closer": page.locator("h3", has_text="Det skal vi se nærmere på").first,
            "learn from": page.locator("h3", has_text="Hvem kan vi lære af").first,
            "first item": page.locator(".wb-lists li").first,
        }
        for what, locator in shown.items():
            box = locator.bounding_box()
            assert box and box["y"] + box["height"] <= 900, f"{what} is below the first screen"
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_prints_within_a4_and_the_leader_on_two_pages(browser, fixture_run, tmp_path):
    for name in RUN_PAGES:
        page = open_run_page(browser, fixture_run, name, A4_CONTENT_PX, 1000)
        try:
            page.emulate_media(media="print")
            right = page.evaluate(
                "Math.max(...[...document.querySelectorAll('body *')].map("
                "e => e.getBoundingClientRect().right))"
            )
            assert right <= A4_CONTENT_PX + 1, f"{name}: something ends at {right} px"
            assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT_PX
            if name == "leader_summary.html":
                pdf = tmp_path / "leader.pdf"
                page.pdf(path=str(pdf), format="A4")
                pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
                assert 1 <= pages <= 2, f"the leader summary prints on {pages} pages"
                text = pdf_text(pdf)
                for words in ("Startede", "Effekten af indsatsen", "Hvem kan vi lære af"):
                    assert text is None or words in text, f"{words!r} is not in the print"
        finally:
            page.close()


def pdf_text(pdf: Path) -> str | None:
    """The PDF's text by poppler's pdftotext (None when it is not installed)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    done = subprocess.run([tool, str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


@pytest.mark.browser
@pytest.mark.slow
def test_no_page_is_wider_than_a_phone(browser, fixture_run):
    from axe_playwright_python.sync_playwright import Axe

    for name in RUN_PAGES:
        page = open_run_page(browser, fixture_run, name, 390, 844)
        try:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{name} is {width} px wide at 390 px"
            if name == "index.html":  # the reports are checked by test_report_in_the_browser
                results = Axe().run(
                    page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
                )
                assert results.response["violations"] == [], results.generate_report()
        finally:
            page.close()


@pytest.mark.slow
def test_every_link_resolves_inside_the_run_folder(fixture_run):
    pages = sorted(fixture_run.glob("*.html"))
    assert {p.name for p in pages} >= set(RUN_PAGES)
    checked = 0
    for html in pages:
        text = html.read_text(encoding="utf-8")
        for href in re.findall(r'<a [^>]*href="([^"]+)"', text):
            target, _, anchor = href.partition("#")
            assert "://" not in target and not target.startswith("/"), f"{html.name}: {href}"
            path = (html.parent / target).resolve() if target else html
            assert path.is_relative_to(fixture_run.resolve()), f"{html.name}: {href} leaves"
            assert path.is_file(), f"{html.name}: {href} is missing"
            if anchor and path.suffix == ".html":
                assert f'id="{anchor}"' in path.read_text(encoding="utf-8"), f"{href}"
            checked += 1
    assert checked > 20


# --- links between the reports, the embedded font (issues 13 and 14) -------------------------


def report_links(html: Path) -> set[str]:
    """The report files (no anchors) a page links to."""
    text = html.read_text(encoding="utf-8")
    return {h.partition("#")[0] for h in re.findall(r'<a [^>]*href="([^"#:/]+\.html)', text)}


@pytest.mark.slow
def test_the_reports_link_to_each_other(fixture_run):
    cluster = report_links(fixture_run / "cluster_report-nord.html")
    assert {"index.html", "leader_summary.html", "evaluation_report.html"} <= cluster
    assert {f for f in cluster if f.startswith("cluster_report-")} - {"cluster_report-nord.html"}
    evaluation = report_links(fixture_run / "evaluation_report.html")
    assert {"index.html", "leader_summary.html"} <= evaluation
    named = {f for f in evaluation if f.startswith("cluster_report-")}
    assert len(named) >= 2, "the evaluation report names clusters without linking them"
    assert "evaluation_report.html" in report_links(fixture_run / "leader_summary.html")


@pytest.mark.slow
def test_a_run_of_one_cluster_links_to_no_absent_report(tmp_path):
    from report_runs import fixture_warehouse

    from evaluation.render import run as render

    options = render.RenderOptions(
        year=2024, warehouse=fixture_warehouse(), out=tmp_path, jobs=1, clusters=["nord"]
    )
    record = render.render_run(options)
    run = tmp_path / record["run_id"]
    assert sorted(p.name for p in run.glob("*.html")) == ["cluster_report-nord.html", "index.html"]
    assert report_links(run / "cluster_report-nord.html") == {"index.html"}
    entry = record["reports"][0]
    assert entry["html_bytes"] == (run / entry["html"]).stat().st_size


@pytest.mark.browser
@pytest.mark.slow
def test_pages_embed_the_font_their_charts_are_measured_in(browser, fixture_run):
    import base64

    from evaluation.reports import fonts

    if fonts.font_directory() is None:
        pytest.skip("Liberation Sans is not installed (fonts-liberation2)")
    for name in RUN_PAGES:
        html = (fixture_run / name).read_text(encoding="utf-8")
        sources = re.findall(r"src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", html)
        assert len(sources) == 2, f"{name}: the font is not embedded as data URLs"
        covered = fonts.covered_characters(base64.b64decode(sources[0]))
        page = open_run_page(browser, fixture_run, name)
        try:
            text = page.evaluate("document.body.innerText")
            missing = {c for c in text if not c.isspace() and c not in covered}
            assert missing == set(), f"{name}: the embedded font lacks {sorted(missing)}"
            assert page.evaluate("document.fonts.check('12px \"Liberation Sans\"')")
            families = page.evaluate(
                "[...document.querySelectorAll('figure svg text')].map("
                "e => e.getAttribute('font-family'))"
            )
            assert all(f.startswith("Liberation Sans") for f in families), name
            assert families or name == "index.html", f"{name}: no chart text found"
        finally:
            page.close()
