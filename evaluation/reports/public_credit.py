"""The ministry's credit line wherever its figures travel: the run's index page and, as a
column, every CSV table a report built from them exports.

STIL's terms (../shared/data/real/README.md) ask for "Kilde: Uddannelsesstatistik.dk (Børne- og
Undervisningsministeriet)" with every use; a CSV copied into a spreadsheet leaves the page's
footnotes behind, so the credit travels inside the file. The renderer calls `credit_tables`
once per run, after every report has written its tables.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation import files
from evaluation.reports.html import esc
from evaluation.texts import texts_for

# warehouse tables only the ministry's public figures load (evaluation.data.public_ingest)
PUBLIC_TABLES = frozenset(
    {"aggregates", "aggregate_spread", "public_answers", "public_inclusion", "public_absence"}
)


def uses_public_figures(source: str, ingest_log: list[dict]) -> bool:
    """True for the public source and for a warehouse that loaded any of the ministry's files."""
    return source == "public" or any(e.get("table_name") in PUBLIC_TABLES for e in ingest_log)


def credit_line(language: str) -> str:
    return texts_for(language)("public.credit_line")


def with_credit(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """The table with the credit line as its last column (the same text in every row)."""
    column = texts_for(language)("public2.credit_column")
    if column in table.columns:
        return table
    return table.assign(**{column: credit_line(language)})


def credit_tables(folder: Path, language: str) -> list[Path]:
    """Add the credit column to every CSV under `folder` that lacks it; returns those changed.

    Cells are read and written back as text (Danish files keep ';' and the decimal comma), so
    nothing but the new column changes.
    """
    sep = ";" if language == "da" else ","
    changed = []
    for path in sorted(Path(folder).rglob("*.csv")):
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        credited = with_credit(table, language)
        if credited is not table:
            # a new file, never written in place: a reused report's tables are hard links into
            # an earlier run, which must stay as it was published
            text = credited.to_csv(sep=sep, index=False)
            files.write_text_atomically(path, "\ufeff" + text)
            changed.append(path)
    return changed


def index_credit_html(language: str) -> str:
    """The credit paragraph of a run's index page."""
    return f'<p class="wb-credit"><strong>{esc(credit_line(language))}</strong></p>'
