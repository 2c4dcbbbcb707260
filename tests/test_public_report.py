"""evaluation.reports.public_report: the public report's pages on the public fixture
(tests/fixtures/public/): the credit line, headings and contents, key figures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from public_data import FIXTURE  # noqa: E402

from evaluation.reports import public_comparison as comparison  # noqa: E402
from evaluation.reports import public_report as public  # noqa: E402


@pytest.fixture(scope="module")
def report_da():
    return public.prepare_report("Frederiksberg", "da", str(FIXTURE))


def test_report_pages_carry_the_credit_line(report_da):
    da = str(public.build_title(report_da))
    assert "Kilde: Uddannelsesstatistik.dk (Børne- og Undervisningsministeriet)" in da
    en = str(public.build_methods(public.prepare_report("Frederiksberg", "en", str(FIXTURE))))
    assert "Source: Uddannelsesstatistik.dk (the Danish Ministry of Children and Education)" in en
    assert "Kilde:" not in en, "English pages credit the same source in English"


def test_one_h1_and_every_section_linked_from_the_contents(report_da):
    title = str(public.build_title(report_da))
    assert title.count("<h1>") == 1 and 'class="wb-toc"' in title
    builders = [public.build_overview, public.build_municipalities, public.build_cannot]
    sections = "".join(str(build(report_da)) for build in builders)
    for anchor, _key in public.SECTIONS:
        assert f'href="#{anchor}"' in title
    for anchor in ("overblik", "kommuner", "begraensninger"):
        assert f'<h2 id="{anchor}">' in sections
    assert '<h2 id="kommuner">Kommunen mod de andre kommuner</h2>' in sections


def test_key_figures_are_plain_and_complete(report_da):
    figures = public.collect_key_figures(report_da)
    assert figures["municipality"] == "Frederiksberg"
    for ind in comparison.COMPARED_INDICATORS:
        assert isinstance(figures[f"{ind}_municipality"], float)
