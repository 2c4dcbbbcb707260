"""The ministry's public school files plus a cluster map, as one municipality's warehouse.

`workbench ingest school_wellbeing_2024_25.csv school_overview.csv my_cluster_map.csv`
(optionally `--municipality NAME`) runs through the ordinary validated import
(`evaluation.data.ingest`); this module is the step between validation and loading that turns the
public files into warehouse tables (docs/architecture.md, docs/importing.md):

- `units`: the municipality's schools (kind `school`), from the wellbeing file;
- `aggregates`: their five wellbeing indices as published (year 2024 = 2024/25), and the pupil
  count of the school overview as rows with indicator_id `pupils` (grade band `all`, value =
  pupils in all grades). It is the only size proxy: the ministry publishes no respondent n;
- `aggregate_spread`: per indicator the national fit Var(value) = intercept + b / pupils of
  `evaluation.stats.spread` (all the country's schools with a pupil count of at least 5, as the
  public report fits it), so standard errors of the municipality's schools rest on the whole
  country;
- `clusters` and `cluster_membership`: from the cluster map.

The municipality is the one given, else the one of the map's schools. Only its schools go in;
the country enters only through `aggregate_spread` (its pupil-weighted mean is stored there as
`target`). Every problem is a Problem(file, row, column, ...) like any other import.

Cluster map: CSV with `school_id;cluster_id[;cluster_name][;from_year;to_year]` (`;` or `,`), or
the ordinary cluster_membership format (unit_id;cluster_id;from_year;to_year, CSV or YAML).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from evaluation import config
from evaluation.data import public_schemas
from evaluation.data.public_files import (
    ABSENCE_ARTEFACT_BELOW,
    ABSENCE_INDICATOR,
    read_public_csv,
)
from evaluation.data.rules import FileKind, school_year_start
from evaluation.data.schemas import file_kinds
from evaluation.data.validation import raise_problems
from evaluation.errors import Problem
from evaluation.stats.spread import estimate_size_variance

PUPILS_INDICATOR = "pupils"  # aggregates rows holding the pupil-count proxy
SPREAD_KIND = FileKind("aggregate_spread", "aggregate_spread", pa.DataFrameSchema({}), {}, [], [])


def prepare_public_files(loaded: list, municipality: str | None = None) -> list:
    """Return the loaded files with the public ones shaped for one municipality.

    Nothing changes when no overview, no cluster map in the public format and no municipality
    is given (a plain wellbeing file still loads every school into `aggregates`).
    """
    wellbeing = [f for f in loaded if f.kind.name == "aggregates"]
    overview = [f for f in loaded if f.kind.name == "public_overview"]
    maps = [f for f in loaded if f.kind.name == "cluster_map"]
    memberships = [f for f in loaded if f.kind.name == "cluster_membership"]
    if not (overview or maps or municipality):
        return loaded
    if not wellbeing:
        raise_problems([missing_wellbeing_problem(f) for f in overview + maps])
    schools = school_table(wellbeing)
    municipality = choose_municipality(schools, maps + memberships, municipality, wellbeing[0])
    raise_problems(map_problems(maps + memberships, schools, municipality))
    own = schools[schools["municipality"] == municipality]
    pupils = pupil_rows(overview)
    others = [f for f in loaded if f not in wellbeing + overview + maps + memberships]
    out = others + [keep_schools(f, own["unit_id"]) for f in wellbeing]
    out.append(units_file(wellbeing[0], own))
    out += [keep_pupils(f, pupils, own["unit_id"]) for f in overview]
    absence = absence_rows(overview)
    out += [overview_aggregates(f, absence, own["unit_id"], ABSENCE_INDICATOR) for f in overview]
    if overview:
        absence_values = absence.assign(grade_band="all", indicator_id=ABSENCE_INDICATOR)
        values = pd.concat([*(f.frame for f in wellbeing), absence_values])
        spread = national_spread(overview[0].path.name, schools, pupils, values)
        if len(spread):
            out.append(
                replace(overview[0], kind=SPREAD_KIND, frame=spread, keys=None, rows=len(spread))
            )
    out += [f for f in memberships]
    for f in maps:
        out += map_files(f, municipality, int(own["year"].min()))
    if maps or memberships:
        out.append(unmapped_file(maps + memberships, own))
    if memberships and not maps and not any(f.kind.name == "clusters" for f in others):
        out.append(clusters_from_membership(memberships[0], municipality))
    return out


def missing_wellbeing_problem(f) -> Problem:
    return Problem(
        f.path.name,
        None,
        None,
        "a public file without the school wellbeing file",
        "school_wellbeing_2024_25.csv in the same ingest",
        "Give the wellbeing file, the overview and the cluster map in one command: workbench "
        "ingest school_wellbeing_2024_25.csv school_overview.csv my_cluster_map.csv",
    )


def school_table(wellbeing: list) -> pd.DataFrame:
    """One row per school of the wellbeing files: unit_id, name, municipality, code, year."""
    frame = pd.concat([f.frame for f in wellbeing])
    schools = frame.drop_duplicates("unit_id")
    return pd.DataFrame(
        {
            "unit_id": schools["unit_id"].astype(str),
            "name": schools["school_name"].astype(str),
            "municipality": schools["municipality"].astype(str),
            "municipality_code": schools["municipality_code"],
            "year": schools["year"].astype(int),
        }
    ).reset_index(drop=True)


def map_ids(f) -> pd.Series:
    """The school ids of a cluster map, indexed by the file's line numbers."""
    column = "school_id" if f.kind.name == "cluster_map" else "unit_id"
    return f.frame[column].astype(str)


def choose_municipality(schools, maps: list, municipality: str | None, wellbeing) -> str:
    """The given municipality, else the one holding most of the map's schools."""
    known = sorted(schools["municipality"].dropna().astype(str).unique())
    if municipality:
        municipality = same_name(municipality, known)
        if municipality not in known:
            raise_problems(
                [
                    Problem(
                        wellbeing.path.name,
                        None,
                        "municipality",
                        f"no school of {municipality!r}",
                        "a municipality of the file: " + ", ".join(known),
                        "Write the municipality as in the file (e.g. Aarhus, København).",
                    )
                ]
            )
        return municipality
    by_id = schools.set_index("unit_id")["municipality"]
    found = pd.concat([map_ids(f).map(by_id) for f in maps]) if maps else pd.Series(dtype=str)
    if found.dropna().empty:
        raise_problems(
            [
                Problem(
                    maps[0].path.name if maps else wellbeing.path.name,
                    None,
                    "school_id" if maps else "municipality",
                    "no school id of the wellbeing file" if maps else "no municipality chosen",
                    "a cluster map of one municipality's school ids, or --municipality NAME",
                    "Use the 6-digit school ids of school_wellbeing_2024_25.csv in the map, or "
                    "give --municipality.",
                )
            ]
        )
    return str(found.value_counts().index[0])


def same_name(municipality: str, known: list[str]) -> str:
    """The name as the files write it, whatever its case ("aarhus" -> "Aarhus")."""
    found = [k for k in known if k.casefold() == municipality.strip().casefold()]
    return found[0] if found else municipality


def unmapped_file(maps: list, own: pd.DataFrame):
    """The municipality's schools no map names: loaded into `unmapped_schools` (reports list
    them as outside every cluster) and printed as a WARNING by `warnings`."""
    named = set(pd.concat([map_ids(f) for f in maps]))
    left = own[~own["unit_id"].isin(named)]
    frame = pd.DataFrame(
        {
            "unit_id": left["unit_id"],
            "name": left["name"],
            "municipality": left["municipality"],
            "year": left["year"].astype(int),
        }
    ).set_index(left.index + 2)
    return replace(
        maps[0],
        kind=public_schemas.unmapped_kind(),
        frame=frame,
        keys=frame.assign(row=frame.index),
        rows=len(frame),
    )


def warnings(loaded: list) -> str:
    """Summary lines for what was accepted with a warning: schools no cluster map names."""
    lines = []
    for f in loaded:
        if f.kind is not None and f.kind.name == "unmapped_schools" and len(f.frame):
            schools = ", ".join(f"{r.unit_id} {r.name}" for r in f.frame.itertuples())
            lines.append(
                f"WARNING: {len(f.frame)} school(s) of {f.frame['municipality'].iloc[0]} are in "
                f"no cluster of {f.path.name} (counted in the municipality, in no cluster; "
                f"recorded in table unmapped_schools): {schools}"
            )
    return "".join("\n" + line for line in lines)


def map_problems(maps: list, schools: pd.DataFrame, municipality: str) -> list[Problem]:
    """file:row:column problems for map rows naming unknown schools or another municipality."""
    by_id = schools.set_index("unit_id")["municipality"]
    problems = []
    for f in maps:
        column = "school_id" if f.kind.name == "cluster_map" else "unit_id"
        for row, school in map_ids(f).items():
            if school not in by_id.index:
                problems.append(
                    Problem(
                        f.path.name,
                        int(row),
                        column,
                        f"school id {school!r}",
                        f"a school id of {municipality} in the wellbeing file",
                        "Check the id against school_wellbeing_2024_25.csv (6 digits, leading "
                        "zeros kept); schools without published values cannot be mapped.",
                    )
                )
            elif by_id[school] != municipality:
                problems.append(
                    Problem(
                        f.path.name,
                        int(row),
                        column,
                        f"school {school} of {by_id[school]}",
                        f"a school of {municipality}",
                        f"Map only {municipality}'s schools, or ingest {by_id[school]} separately "
                        "with its own map.",
                    )
                )
    return problems


def keep_schools(f, unit_ids: pd.Series):
    """The wellbeing rows of the chosen municipality's schools."""
    frame = f.frame[f.frame["unit_id"].isin(set(unit_ids))]
    return replace(f, frame=frame, keys=frame.assign(row=frame.index), rows=len(frame))


def units_file(f, own: pd.DataFrame):
    """A `units` file made from the wellbeing file (logged under its name in ingest_log)."""
    frame = pd.DataFrame(
        {
            "unit_id": own["unit_id"],
            "name": own["name"],
            "kind": "school",
            "municipality": own["municipality"],
            "first_year": own["year"],
            "last_year": own["year"],
        }
    ).set_index(own.index + 2)
    return replace(
        f,
        kind=file_kinds()["units"],
        frame=frame,
        keys=frame.assign(row=frame.index),
        rows=len(frame),
    )


def pupil_rows(overview: list) -> pd.DataFrame:
    """unit_id, year, pupils, source and line of every `pupils` row of the overview files."""
    pupils = measure_rows(overview, "pupils").rename(columns={"value": "pupils"})
    bad = pupils["pupils"].isna() | (pupils["pupils"] < 0) | (pupils["pupils"] % 1 != 0)
    raise_problems(
        [
            Problem(
                overview[0].path.name,
                int(r.line),
                "value",
                repr(r.pupils),
                "a pupil count: a whole number, 0 or more",
                "Correct the pupils value of this school.",
            )
            for r in pupils[bad].itertuples()
        ]
    )
    return pupils


def keep_pupils(f, pupils: pd.DataFrame, unit_ids: pd.Series):
    """The chosen schools' pupil counts as `aggregates` rows (indicator_id `pupils`)."""
    return overview_aggregates(f, pupils.rename(columns={"pupils": "value"}), unit_ids, "pupils")


def measure_rows(overview: list, measure: str) -> pd.DataFrame:
    """unit_id, year, value, source and line of every row of one measure of the overview files."""
    frames = []
    for f in overview:
        rows = f.frame[f.frame["measure"] == measure]
        frames.append(
            pd.DataFrame(
                {
                    "unit_id": rows["school_id"].astype(str),
                    "year": school_year_start(rows["school_year"]).astype(int),
                    "value": rows["value"].astype(float),
                    "source": rows["source"] if "source" in rows else None,
                    "line": rows.index,
                }
            )
        )
    columns = ["unit_id", "year", "value", "source", "line"]
    return pd.concat(frames) if frames else pd.DataFrame(columns=columns)


def absence_rows(overview: list) -> pd.DataFrame:
    """Every usable `absence_pct` row of the overview (measure_rows' columns).

    Values in [0, 1.2] % are registration artefacts (public_files.filter_absence_artefacts), as
    in the public report; the cluster path leaves them out the same way.
    """
    rows = measure_rows(overview, "absence_pct")
    return rows[rows["value"] > ABSENCE_ARTEFACT_BELOW]


def overview_aggregates(f, rows: pd.DataFrame, unit_ids: pd.Series, indicator_id: str):
    """Overview rows (unit_id, year, value, source, line) of the chosen schools as `aggregates`
    rows of one indicator (grade band `all`: pupils and absence cover every grade)."""
    mine = rows[rows["unit_id"].isin(set(unit_ids))]
    frame = pd.DataFrame(
        {
            "year": mine["year"],
            "unit_id": mine["unit_id"],
            "grade_band": "all",
            "indicator_id": indicator_id,
            "n": pd.array([pd.NA] * len(mine), dtype="Int64"),
            "value": mine["value"],
            "sd": np.nan,
            "source": mine["source"],
        }
    ).set_index(mine["line"].to_numpy())
    return replace(
        f,
        kind=file_kinds()["aggregates"],
        frame=frame,
        keys=frame.assign(row=frame.index),
        rows=len(frame),
    )


def national_spread(source: str, schools, pupils, values: pd.DataFrame) -> pd.DataFrame:
    """Fit Var(value) = a + b / pupils per year, band and indicator over the country's schools.

    The same schools as the public report (evaluation.reports.public_report.school_table and
    drop_small_schools): a municipality code, a pupil count, at least MIN_N_DEFAULT pupils.
    """
    coded = schools.loc[schools["municipality_code"].fillna("").astype(str) != "", "unit_id"]
    size = pupils.drop_duplicates(["unit_id", "year"]).set_index(["unit_id", "year"])["pupils"]
    rows = values[values["unit_id"].isin(set(coded))]
    rows = rows.assign(
        pupils=[
            size.get((u, y), np.nan) for u, y in zip(rows["unit_id"], rows["year"], strict=True)
        ]
    )
    rows = rows[rows["pupils"] >= config.MIN_N_DEFAULT]
    out = []
    for (year, band, ind), group in rows.groupby(["year", "grade_band", "indicator_id"]):
        if len(group) < 3:
            continue
        fit = estimate_size_variance(group["value"], group["pupils"], ind)
        out.append(
            {
                "year": int(year),
                "grade_band": band,
                "indicator_id": ind,
                "target": fit.target,
                "intercept": fit.intercept,
                "b": fit.b,
                "schools": fit.n_schools,
                "source": f"fit over the country's schools in {source} and the wellbeing file",
            }
        )
    return pd.DataFrame(out)


def map_files(f, municipality: str, first_year: int) -> list:
    """The cluster map as a `cluster_membership` file and a `clusters` file."""
    frame = f.frame
    names = frame["cluster_name"] if "cluster_name" in frame else pd.Series(None, frame.index)
    start = frame["from_year"] if "from_year" in frame else pd.Series(np.nan, frame.index)
    end = frame["to_year"] if "to_year" in frame else pd.Series(np.nan, frame.index)
    membership = pd.DataFrame(
        {
            "unit_id": frame["school_id"].astype(str),
            "cluster_id": frame["cluster_id"].astype(str),
            "from_year": start.fillna(first_year).astype("Int64"),
            "to_year": end.astype("Float64").astype("Int64"),
        },
        index=frame.index,
    )
    named = pd.DataFrame(
        {"cluster_id": frame["cluster_id"].astype(str), "name": names}, index=frame.index
    )
    named = named.assign(name=named["name"].where(named["name"].notna(), named["cluster_id"]))
    clusters = named.drop_duplicates("cluster_id").assign(municipality=municipality)
    kinds = file_kinds()
    return [
        replace(
            f,
            kind=kinds["cluster_membership"],
            frame=membership,
            keys=membership.assign(row=membership.index),
            rows=len(membership),
        ),
        replace(
            f,
            kind=kinds["clusters"],
            frame=clusters,
            keys=clusters.assign(row=clusters.index),
            rows=len(clusters),
        ),
    ]


def clusters_from_membership(f, municipality: str):
    """A `clusters` file for an ordinary membership file (name = id), when no map names them."""
    ids = f.frame["cluster_id"].astype(str).drop_duplicates()
    frame = pd.DataFrame({"cluster_id": ids, "name": ids, "municipality": municipality})
    return replace(
        f,
        kind=file_kinds()["clusters"],
        frame=frame,
        keys=frame.assign(row=frame.index),
        rows=len(frame),
    )


def demo_cluster_map(wellbeing_csv, municipality: str, clusters: int = 8) -> pd.DataFrame:
    """A made-up cluster map for trying the report: NOT the municipality's real clusters.

    Rule: the municipality's schools in the wellbeing file, sorted by school id, are cut into
    `clusters` consecutive blocks of (nearly) equal size: school i of n goes to cluster
    i * clusters // n + 1 ("demo-1" ... "demo-8", named "Demoklynge 1" ...).
    """
    rows = read_public_csv(Path(wellbeing_csv))
    ids = sorted(rows.loc[rows["municipality"] == municipality, "school_id"].unique())
    number = [i * clusters // len(ids) + 1 for i in range(len(ids))]
    return pd.DataFrame(
        {
            "school_id": ids,
            "cluster_id": [f"demo-{k}" for k in number],
            "cluster_name": [f"Demoklynge {k}" for k in number],
        }
    )
