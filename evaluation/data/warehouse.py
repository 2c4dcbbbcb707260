"""The embedded DuckDB warehouse: table definitions and a few small helpers.

The tables are those of docs/architecture.md. `responses` is wide (one row per pupil and year,
q01..q40) and its rows never leave the warehouse: only `evaluation.values.scores` and
`evaluation.values.aggregate` read them.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from evaluation.catalog import ITEM_COLUMNS
from evaluation.data.writer_lock import check_warehouse_target
from evaluation.errors import ParameterError

TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "units": {
        "unit_id": "TEXT",
        "name": "TEXT",
        "kind": "TEXT",
        "municipality": "TEXT",
        "first_year": "INTEGER",
        "last_year": "INTEGER",
    },
    "clusters": {"cluster_id": "TEXT", "name": "TEXT", "municipality": "TEXT"},
    "cluster_membership": {
        "unit_id": "TEXT",
        "cluster_id": "TEXT",
        "from_year": "INTEGER",
        "to_year": "INTEGER",
    },
    "cluster_programme": {"cluster_id": "TEXT", "start_year": "INTEGER"},
    "settings": {"municipality": "TEXT", "effort_name": "TEXT"},
    "responses": {
        "year": "INTEGER",
        "unit_id": "TEXT",
        "grade": "INTEGER",
        "pupil_key": "TEXT",
        **{q: "TINYINT" for q in ITEM_COLUMNS},
        "gender": "TEXT",  # optional: girl / boy (pige / dreng); NULL = not given
    },
    "register": {
        "year": "INTEGER",
        "unit_id": "TEXT",
        "home_cluster": "TEXT",
        "pupils": "INTEGER",
        "in_general_setting": "INTEGER",
        "in_special_class": "INTEGER",
        "in_special_school": "INTEGER",
        "special_in_own_cluster": "INTEGER",
        "returned_to_general": "INTEGER",
        "referrals": "INTEGER",
        "median_wait_days": "DOUBLE",
        "absence_pct": "DOUBLE",
        "absence_sd": "DOUBLE",
        "pupils_over_10pct_absence": "INTEGER",
    },
    "daycare_language": {
        "year": "INTEGER",
        "unit_id": "TEXT",
        "assessed": "INTEGER",
        "generel": "INTEGER",
        "fokuseret": "INTEGER",
        "saerlig": "INTEGER",
    },
    "aggregates": {
        "year": "INTEGER",
        "unit_id": "TEXT",
        "grade_band": "TEXT",
        "indicator_id": "TEXT",
        "n": "INTEGER",
        "value": "DOUBLE",
        "sd": "DOUBLE",
        "source": "TEXT",
    },
    "aggregate_spread": {
        "year": "INTEGER",
        "grade_band": "TEXT",
        "indicator_id": "TEXT",
        "target": "DOUBLE",
        "intercept": "DOUBLE",
        "b": "DOUBLE",
        "schools": "INTEGER",
        "source": "TEXT",
    },
    "decisions": {
        "decision_id": "TEXT",
        "cluster_id": "TEXT",
        "decided": "DATE",
        "first_year": "INTEGER",
        "action": "TEXT",
        "targets": "TEXT",
        "grade_band": "TEXT",
        "unit_id": "TEXT",
        "responsible": "TEXT",
        "review": "TEXT",
        "review_date": "DATE",
        "status": "TEXT",
        "note": "TEXT",
    },
    # the ministry's other cubes (evaluation.data.public_records; docs/architecture.md)
    "public_answers": {
        "year": "INTEGER",
        "unit_id": "TEXT",
        "grade_band": "TEXT",
        "question": "TEXT",
        "answer": "TEXT",
        "answer_value": "INTEGER",
        "share_pct": "DOUBLE",
        "share_municipality_pct": "DOUBLE",
        "share_country_pct": "DOUBLE",
        "respondents": "INTEGER",
        "source": "TEXT",
    },
    "public_inclusion": {
        "year": "INTEGER",
        "unit_id": "TEXT",
        "grade": "TEXT",
        "pupils": "INTEGER",
        "inclusion_pct": "DOUBLE",
        "special_education_pct": "DOUBLE",
        "source": "TEXT",
    },
    "public_absence": {
        "year": "INTEGER",
        "unit_id": "TEXT",
        "absence_pct": "DOUBLE",
        "unauthorised_absence_pct": "DOUBLE",
        "sick_absence_pct": "DOUBLE",
        "over_10_pct": "DOUBLE",
        "source": "TEXT",
    },
    "unmapped_schools": {
        "unit_id": "TEXT",
        "name": "TEXT",
        "municipality": "TEXT",
        "year": "INTEGER",
    },
    "ingest_log": {
        "file": "TEXT",
        "sha256": "TEXT",
        "table_name": "TEXT",
        "rows": "INTEGER",
        "ingested_at": "TEXT",
    },
}

# One row per key in each table (checked after every ingest).
UNIQUE_KEYS: dict[str, list[str]] = {
    "units": ["unit_id"],
    "clusters": ["cluster_id"],
    "cluster_membership": ["unit_id", "from_year"],
    "cluster_programme": ["cluster_id"],
    "settings": ["municipality"],
    "responses": ["year", "unit_id", "pupil_key"],
    "register": ["year", "unit_id", "home_cluster"],
    "daycare_language": ["year", "unit_id"],
    "aggregates": ["year", "unit_id", "grade_band", "indicator_id"],
    "aggregate_spread": ["year", "grade_band", "indicator_id"],
    "decisions": ["decision_id"],
    "public_answers": ["year", "unit_id", "grade_band", "question", "answer"],
    "public_inclusion": ["year", "unit_id", "grade"],
    "public_absence": ["year", "unit_id"],
    "unmapped_schools": ["unit_id"],
}

# A table whose file is the whole list (the decisions): a new file replaces every row, so a
# decision deleted from the list goes. Several such files in one ingest make the list together.
WHOLE_TABLE: list[str] = []

# Rows of a new file replace the warehouse rows that share these key values, so loading the
# same export twice (or a corrected export) does not double-count.
REPLACE_KEYS: dict[str, list[str]] = {
    "units": ["unit_id"],
    "clusters": ["cluster_id"],
    "cluster_membership": ["unit_id"],
    "cluster_programme": ["cluster_id"],
    "settings": ["municipality"],
    "responses": ["year", "unit_id"],
    "register": ["year", "unit_id", "home_cluster"],
    "daycare_language": ["year", "unit_id"],
    # not `source`: a file without its optional source column replaces the same values
    "aggregates": ["year", "unit_id", "grade_band", "indicator_id"],
    "aggregate_spread": ["year", "grade_band", "indicator_id"],
    "decisions": WHOLE_TABLE,
    "public_answers": ["year", "unit_id", "grade_band", "question", "answer"],
    "public_inclusion": ["year", "unit_id", "grade"],
    "public_absence": ["year", "unit_id"],
    "unmapped_schools": ["unit_id"],
}


def require_warehouse(path: Path | str) -> Path:
    """The path of an existing warehouse file; else a ParameterError that says how to make one."""
    path = Path(path)
    if not path.exists():
        raise ParameterError(
            f"No warehouse at {path}. Run `workbench demo-data` and `workbench ingest "
            "data/raw/demo` (or ingest your own exports), or give `--warehouse PATH`."
        )
    # a folder, an empty file or an export is not a warehouse
    check_warehouse_target(path, writing=False)
    return path


def connect(path: Path | str, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (read-only by default, so reports cannot change it)."""
    if read_only:
        path = require_warehouse(path)
    return duckdb.connect(str(path), read_only=read_only)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every warehouse table that does not exist yet."""
    for name, columns in TABLE_COLUMNS.items():
        cols = ", ".join(f"{col} {sql_type}" for col, sql_type in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
        for col, sql_type in columns.items():  # a warehouse made before a column was added
            con.execute(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {col} {sql_type}")


def list_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the tables in the warehouse, sorted."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def write_table(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame) -> int:
    """Append a DataFrame to a warehouse table by column name; missing columns become NULL."""
    columns = [c for c in TABLE_COLUMNS[name] if c in df.columns]
    con.register("_incoming", df[columns])
    try:
        con.execute(
            f"INSERT INTO {name} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _incoming"
        )
    finally:
        con.unregister("_incoming")
    return len(df)


def read_table(path: Path | str, name: str) -> pd.DataFrame:
    """Read one whole table (not for `responses`: only evaluation.values reads those)."""
    if name not in TABLE_COLUMNS:
        raise ParameterError(f"Unknown table {name!r}; tables: {', '.join(TABLE_COLUMNS)}")
    with connect(path, read_only=True) as con:
        return con.execute(f"SELECT * FROM {name}").df()


def replace_file(tmp: Path | str, final: Path | str) -> None:
    """Move a finished warehouse into place in one step (atomic on the same file system)."""
    os.replace(tmp, final)
