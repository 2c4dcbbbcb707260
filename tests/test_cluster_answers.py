"""The six statements with their questions on the tiny fixture warehouse: question texts,
"foreløbig" where the catalog says modelled, and answer shares checked against counts taken
straight from the fixture's answers (not from the code under test)."""

from __future__ import annotations

import re
import sys
from html import unescape
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import MEMBERSHIP, build_fixture_warehouse, build_responses  # noqa: E402

from evaluation.catalog import load_catalog  # noqa: E402
from evaluation.reports import cluster_report  # noqa: E402

CATALOG = load_catalog()
MIN_N = 5


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    return cluster_report.prepare_report("nord", 2024, "da", str(path), MIN_N)


@pytest.fixture(scope="module")
def questions_html(report):
    return unescape(str(cluster_report.build_questions(report)))


def statement_items() -> list[str]:
    return [q for ind in CATALOG.indicators if ind.statement is not None for q in ind.items]


def test_every_statement_shows_its_questions_and_marks_the_modelled(questions_html):
    form = CATALOG.forms["4-9"]
    for item in statement_items():
        spec = form.items[item]
        heading = f"<h4>Spørgsmål: »{spec.text_da}«"
        assert heading in questions_html
        tagged = f"{heading} (foreløbig)</h4>" in questions_html
        assert tagged == (spec.status == "modelled"), item
    assert "Foreløbig: spørgsmålet er vores bud" in questions_html
    assert "catalog.yaml" not in questions_html  # no source paths in the report


def nord_counts(item: str, year: int) -> dict[int, int]:
    """Answers 1-5 of nord's units in grades 4-9, turned where the item is reversed, counted
    with plain Python from the fixture's rows."""
    members = {
        row.unit_id
        for row in MEMBERSHIP.itertuples()
        if row.cluster_id == "nord"
        and row.from_year <= year
        and (row.to_year is None or row.to_year != row.to_year or row.to_year >= year)
    }
    reverse = CATALOG.forms["4-9"].items[item].reverse
    counts = {k: 0 for k in range(1, 6)}
    frame = build_responses()
    for row in frame[(frame["year"] == year) & frame["unit_id"].isin(members)].itertuples():
        answer = int(getattr(row, item))
        if answer > 0:
            counts[6 - answer if reverse else answer] += 1
    return counts


def printed_row(html: str, text: str, row: str) -> dict[str, str]:
    """The cells of one row of the table of one question, by column header."""
    table = html.split(f"<caption>Svarfordeling på »{text}«</caption>")[1].split("</table>")[0]
    headers = re.findall(r'<th scope="col">([^<]*)</th>', table)
    body = table.split(f'<th scope="row">{row}</th>')[1].split("</tr>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", body)
    return dict(zip(headers[1:], cells, strict=True))


@pytest.mark.parametrize("item", ["q15", "q16", "q10"])  # q10 is reversed
def test_printed_shares_match_the_answers_and_every_group_is_big_enough(questions_html, item):
    counts = nord_counts(item, 2024)
    total = sum(counts.values())
    text = CATALOG.forms["4-9"].items[item].text_da
    cells = printed_row(questions_html, text, "Nord 2024/25")
    assert cells["Elever, der svarede"] == str(total)
    shown = 0
    for header, cell in cells.items():
        found = re.fullmatch(r"Svar (\d)(?:-(\d))?", header)
        if not found or cell == "–":
            continue
        first, last = int(found[1]), int(found[2] or found[1])
        count = sum(counts[a] for a in range(first, last + 1))
        assert count >= MIN_N and total - count >= MIN_N, (header, count)
        assert cell.replace("\xa0", " ") == f"{round(100 * count / total)} %"
        shown += 1
    assert shown >= 2 or all(c == "–" for h, c in cells.items() if h.startswith("Svar"))


def test_the_meeting_view_links_to_the_questions(report):
    today = str(cluster_report.build_today(report))
    assert 'href="#spoergsmaal"' in today
    statements = str(cluster_report.build_statements(report))
    assert 'href="#spoergsmaal"' in statements and "catalog.yaml" not in statements
