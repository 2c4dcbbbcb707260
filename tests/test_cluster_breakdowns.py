"""The appendix's breakdowns on the tiny fixture warehouse: a table per key indicator, the bands'
pupils adding up to the total, and the note when the data hold no gender."""

from __future__ import annotations

import re
import sys
from html import unescape
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from tiny_warehouse import build_fixture_warehouse  # noqa: E402

from evaluation.reports import cluster_report  # noqa: E402


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    path = build_fixture_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    report = cluster_report.prepare_report("nord", 2024, "da", str(path), 5)
    return unescape(str(cluster_report.build_breakdowns(report)))


def rows_of(html: str, caption: str) -> dict[str, list[str]]:
    table = html.split(f"<caption>{caption}</caption>")[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return {
        head: re.findall(r"<td>([^<]*)</td>", rest)
        for head, rest in re.findall(r'<th scope="row">([^<]*)</th>(.*?)</tr>', body)
    }


def test_a_table_per_key_indicator_with_both_bands(section):
    # the six headline indicators of the 4-9 survey: the five means and the high-wellbeing share
    assert section.count("<table") == 6
    rows = rows_of(section, "Generel trivsel: Nord opdelt, 2024/25")
    assert list(rows) == [
        "4.-9. klasse i alt",
        "Mellemtrin (4.-6. klasse)",
        "Udskoling (7.-9. klasse)",
    ]
    total, young, old = (int(r[1].replace(".", "")) for r in rows.values())
    assert young + old == total  # the fixture's pupils are all in grades 4-9
    assert "Data har ikke elevernes køn" in section
