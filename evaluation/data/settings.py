"""The municipality settings file ("indstillinger"): what a municipality calls its effort.

A small file (CSV, Excel or YAML) with one row per municipality, ingested like the other files
(validated, all-or-nothing) into the warehouse table `settings`:

    municipality;effort_name
    Aarhus;Bredere børnefællesskaber

The reports name the effort from it ("Klyngen startede Bredere børnefællesskaber i år");
without a row they say "indsatsen". docs/importing.md describes the file.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from evaluation.data.rules import FileKind, make_kind, rule, text

EFFORT_NAME_MAX = 80  # a heading-length name; a longer cell is likely a description

# Danish headers a municipality may write instead of the column names
HEADER_ALIASES = {"kommune": "municipality", "indsats": "effort_name", "indsatsnavn": "effort_name"}


def name_check() -> pa.Check:
    return rule(
        pa.Check(lambda s: s.str.strip().str.len().between(1, EFFORT_NAME_MAX)),
        f"the effort's name, 1 to {EFFORT_NAME_MAX} characters",
        "Write the name the municipality uses for the effort, e.g. Bredere børnefællesskaber.",
    )


def settings_kind() -> FileKind:
    """The settings file as a file kind of the importer (registered in data.schemas)."""
    return make_kind(
        "settings",
        {"municipality": text(), "effort_name": text(name_check())},
        signature=["municipality", "effort_name"],
        key=["municipality"],
        aliases=HEADER_ALIASES,
        shape=shape_settings,
    )


def shape_settings(typed: pd.DataFrame) -> pd.DataFrame:
    """The warehouse rows: names without surrounding spaces."""
    return pd.DataFrame(
        {
            "municipality": typed["municipality"].str.strip(),
            "effort_name": typed["effort_name"].str.strip(),
        },
        index=typed.index,
    )


def effort_names(warehouse_path) -> dict[str, str]:
    """{municipality: effort name} from the warehouse's `settings` table (empty without one)."""
    from evaluation.data import warehouse  # why: duckdb loads only when a report asks

    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        if "settings" not in warehouse.list_tables(con):
            return {}
        rows = con.execute("SELECT municipality, effort_name FROM settings").fetchall()
    finally:
        con.close()
    return {str(m): str(name) for m, name in rows if name and str(name).strip()}
