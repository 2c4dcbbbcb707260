"""Privacy scan over everything a report run writes: HTML, executed notebook, CSV tables.

No pupil key, no pupil-level column, no group below min_n, and no suppressed value: a cell the
suppression hides must not appear with its number anywhere.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from report_runs import REPORTS, fixture_warehouse, rendered_fixture_report  # noqa: E402
from tiny_warehouse import SCRIPT_NAME, build_responses  # noqa: E402

MIN_N = 5
COUNT_HEADERS = {"Antal", "Number"}


def outputs_of(name: str) -> dict[str, str]:
    report = rendered_fixture_report(name, "da")
    files = {"html": report.html, "notebook": report.notebook}
    files.update({f"csv:{p.name}": p for p in report.tables_dir.glob("*.csv")})
    return {key: path.read_text(encoding="utf-8-sig") for key, path in files.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_no_pupil_key_or_pupil_column_anywhere(name):
    keys = set(build_responses()["pupil_key"])
    for where, text in outputs_of(name).items():
        found = [k for k in keys if k in text]
        assert not found, f"{where} holds pupil keys {found[:3]}"
        assert "pupil_key" not in text, where
        assert not re.search(r"\bq(0[1-9]|[1-3][0-9]|40)\b", text), f"{where}: item column"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_no_group_below_min_n_in_the_csv_tables(name):
    for where, text in outputs_of(name).items():
        if not where.startswith("csv:"):
            continue
        rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
        for row in rows:
            for header in COUNT_HEADERS & set(row):
                value = row[header].replace(".", "")
                if value.isdigit():
                    assert int(value) >= MIN_N, f"{where}: {header}={value}"


@pytest.mark.slow
def test_suppressed_unit_cells_do_not_appear_in_the_funnel_tables():
    """A unit whose cell is suppressed is left out of that indicator's funnel table and CSV."""
    from evaluation.values import load

    shown = load.load_indicator_values(fixture_warehouse(), MIN_N)
    names = {"a": "Åskolen", "b": SCRIPT_NAME, "e": "Lille Skole & Co"}
    hidden = shown[
        shown["suppressed"] & (shown["year"] == 2024) & shown["entity_id"].isin(list(names))
    ]
    assert len(hidden), "the fixture should hide some cells of cluster Nord's units"
    outputs = outputs_of("cluster_report")
    checked = 0
    for row in hidden.itertuples(index=False):
        text = outputs.get(f"csv:tragt-{row.indicator_id}.csv")
        if text is None:
            continue
        first_cells = {line.split(";")[0] for line in text.splitlines()[1:]}
        assert names[row.entity_id] not in first_cells, (row.indicator_id, row.entity_id)
        checked += 1
    assert checked >= 2
