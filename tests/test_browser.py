"""The rendered reports in headless Chromium: offline, no console errors, WCAG 2 A/AA clean
(axe-core), every chart an SVG with an accessible name; a full-page screenshot for people.

Screenshots go to the pytest tmp dir and are copied to reports/screenshots/ (git-ignored).
"""

from __future__ import annotations

import shutil
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
