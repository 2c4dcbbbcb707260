"""Checks across files, on the loaded copy of the warehouse: unknown ids, units without a
cluster, overlapping periods, a key twice. Each offending key is placed in the new file and row
that holds it (or in the warehouse table, if no new file does), as a file:row:column Problem.
`loaded` is the ingest's list of `LoadedFile`s (evaluation.data.ingest): path, kind and key rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from evaluation.data import warehouse
from evaluation.data.validation import MAX_PROBLEMS, sort_problems
from evaluation.errors import Problem

CROSS_CHECKS = (
    [
        (
            table,
            f"SELECT DISTINCT unit_id, year FROM {table} "
            "WHERE unit_id NOT IN (SELECT unit_id FROM units)",
            ["unit_id", "year"],
            "unit_id",
            "unit id '{unit_id}'",
            "a unit listed in a units file",
            "Add the unit to units.csv (unit_id;name;kind;municipality) or correct the id.",
        )
        for table in ("responses", "register", "daycare_language")
    ]
    + [
        (
            table,
            f"SELECT DISTINCT t.unit_id, t.year FROM {table} t JOIN units u USING (unit_id) "
            "WHERE NOT EXISTS (SELECT 1 FROM cluster_membership m WHERE m.unit_id = t.unit_id "
            "AND m.from_year <= t.year AND (m.to_year IS NULL OR m.to_year >= t.year))",
            ["unit_id", "year"],
            "unit_id",
            "unit '{unit_id}' without a cluster in {year}",
            "a cluster for the unit in every year it reports",
            "Add a row to cluster_membership (unit_id;cluster_id;from_year;to_year) covering "
            "{year}.",
        )
        for table in ("responses", "register", "daycare_language")
    ]
    + [
        (
            "register",
            "SELECT DISTINCT home_cluster, year FROM register "
            "WHERE home_cluster NOT IN (SELECT cluster_id FROM clusters)",
            ["home_cluster", "year"],
            "home_cluster",
            "cluster id '{home_cluster}'",
            "a cluster listed in a clusters file",
            "Add the cluster to clusters.csv or correct the id.",
        ),
        (
            "cluster_membership",
            "SELECT DISTINCT unit_id FROM cluster_membership "
            "WHERE unit_id NOT IN (SELECT unit_id FROM units)",
            ["unit_id"],
            "unit_id",
            "unit id '{unit_id}'",
            "a unit listed in a units file",
            "Add the unit to units.csv or correct the id.",
        ),
        (
            "cluster_membership",
            "SELECT DISTINCT unit_id, cluster_id FROM cluster_membership "
            "WHERE cluster_id NOT IN (SELECT cluster_id FROM clusters)",
            ["unit_id", "cluster_id"],
            "cluster_id",
            "cluster id '{cluster_id}'",
            "a cluster listed in a clusters file",
            "Add the cluster to clusters.csv or correct the id.",
        ),
        (
            "cluster_membership",
            "SELECT DISTINCT a.unit_id, a.from_year FROM cluster_membership a "
            "JOIN cluster_membership b ON a.unit_id = b.unit_id AND a.from_year > b.from_year "
            "AND (b.to_year IS NULL OR b.to_year >= a.from_year)",
            ["unit_id", "from_year"],
            "from_year",
            "unit '{unit_id}' in two clusters from {from_year}",
            "periods that do not overlap (one cluster per unit and year)",
            "Set to_year of the earlier period to the year before {from_year}.",
        ),
        (
            # a cluster labelled with another municipality than its units escapes the checks
            # that tie clusters to their municipality (secondary suppression among them)
            "cluster_membership",
            "SELECT DISTINCT m.unit_id, m.cluster_id, u.municipality AS unit_municipality, "
            "c.municipality AS cluster_municipality FROM cluster_membership m "
            "JOIN units u USING (unit_id) JOIN clusters c USING (cluster_id) "
            "WHERE lower(trim(u.municipality)) <> lower(trim(c.municipality))",
            ["unit_id", "cluster_id"],
            "cluster_id",
            "unit '{unit_id}' of {unit_municipality} in cluster '{cluster_id}' of "
            "{cluster_municipality}",
            "a cluster in the same municipality as its units",
            "Correct the municipality of cluster '{cluster_id}' in clusters.csv or of unit "
            "'{unit_id}' in units.csv, or the cluster in cluster_membership.",
        ),
        (
            "cluster_programme",
            "SELECT DISTINCT cluster_id FROM cluster_programme "
            "WHERE cluster_id NOT IN (SELECT cluster_id FROM clusters)",
            ["cluster_id"],
            "cluster_id",
            "cluster id '{cluster_id}'",
            "a cluster listed in a clusters file",
            "Add the cluster to clusters.csv or correct the id.",
        ),
    ]
)

CROSS_CHECKS += [  # the decisions file: its clusters and units must be the warehouse's
    (
        "decisions",
        "SELECT DISTINCT cluster_id FROM decisions "
        "WHERE cluster_id NOT IN (SELECT cluster_id FROM clusters)",
        ["cluster_id"],
        "cluster_id",
        "cluster id '{cluster_id}', which the warehouse does not have",
        "a cluster of the warehouse (imported with a clusters file)",
        "Correct the cluster id (clusters.csv lists them), or import the clusters file with it.",
    ),
    (
        "decisions",
        "SELECT DISTINCT unit_id FROM decisions "
        "WHERE unit_id IS NOT NULL AND unit_id NOT IN (SELECT unit_id FROM units)",
        ["unit_id"],
        "unit_id",
        "unit id '{unit_id}', which the warehouse does not have",
        "a unit listed in a units file",
        "Correct the unit id, or leave the cell empty when the decision is for the whole cluster.",
    ),
    (
        "decisions",
        "SELECT DISTINCT d.unit_id, d.cluster_id FROM decisions d JOIN units u USING (unit_id) "
        "WHERE NOT EXISTS (SELECT 1 FROM cluster_membership m "
        "WHERE m.unit_id = d.unit_id AND m.cluster_id = d.cluster_id)",
        ["unit_id", "cluster_id"],
        "unit_id",
        "unit '{unit_id}', which has never been in cluster '{cluster_id}'",
        "a unit of the decision's cluster",
        "Correct the unit or the cluster, or leave the unit empty.",
    ),
]

CROSS_CHECKS += [
    (
        table,
        f"SELECT {', '.join(key)} FROM {table} GROUP BY ALL HAVING count(*) > 1",
        [k for k in key if k in ("year", "unit_id", "cluster_id", "from_year")] or key,
        key[-1],
        ", ".join(f"{k}={{{k}}}" for k in key) + " in more than one row or file",
        f"one row per {', '.join(key)}",
        "Import each record once: remove the duplicate row, or leave out one of the two files.",
    )
    for table, key in warehouse.UNIQUE_KEYS.items()
]


def check_cross_tables(con: duckdb.DuckDBPyConnection, loaded: list) -> list[Problem]:
    """Checks across tables on the loaded copy: unknown ids, units without a cluster."""
    problems = []
    for table, sql, place_by, column, found, expected, fix in CROSS_CHECKS:
        bad = con.execute(sql + f" LIMIT {MAX_PROBLEMS + 1}").df()
        for record in bad.to_dict("records"):
            values = {k: format_value(v) for k, v in record.items()}
            file, row = locate(loaded, table, {k: record[k] for k in place_by})
            problems.append(
                Problem(
                    file,
                    row,
                    column,
                    found.format(**values),
                    expected,
                    fix.format(**values),
                )
            )
    return sort_problems(problems)


def format_value(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def locate(loaded: list, table: str, key: dict) -> tuple[str, int | None]:
    """The new file and first row holding a key; the warehouse itself if no new file has it."""
    for f in loaded:
        if f.kind is None or f.kind.table != table or f.keys is None:
            continue
        keys = f.keys
        if not set(key) <= set(keys.columns):
            continue
        match = pd.Series(True, index=keys.index)
        for column, value in key.items():
            match &= keys[column].astype(str).str.removesuffix(".0") == format_value(value)
        if match.any():
            return f.path.name, int(keys.loc[match, "row"].min())
    return f"warehouse table {table}", None
