"""What every report reads before it writes a word: its checked parameters and the warehouse data.

Bad parameters stop here with a ParameterError that lists the valid values, before any work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.catalog import load_catalog
from evaluation.data.warehouse import require_warehouse
from evaluation.errors import ParameterError
from evaluation.reports.cache_files import (
    read_pickle,
    read_shared_results,
    shared_results_path,
    warehouse_tables_path,
    write_pickle,
    write_shared_results,  # noqa: F401 (reports.shared imports it from here)
)
from evaluation.texts import Texts, check_language, format_school_year, texts_for
from evaluation.values.privacy import check_min_n

DATA_TABLES = ("responses", "register", "daycare_language", "aggregates")


@dataclass
class ReportData:
    """What every report reads: suppressed indicator values plus the warehouse's unit tables."""

    warehouse: Path
    min_n: int
    values: pd.DataFrame
    catalog: object  # evaluation.catalog.Catalog
    units: pd.DataFrame
    clusters: pd.DataFrame
    membership: pd.DataFrame
    programme: pd.DataFrame
    years: list[int] = field(default_factory=list)
    public: bool = False  # values from the ministry's published aggregates (credit line due)
    unmapped: pd.DataFrame = field(default_factory=pd.DataFrame)  # schools in no cluster
    effort_names: dict = field(default_factory=dict)  # municipality -> its name of the effort
    # results shared by every report of a run (`shared_result`): read from the values cache,
    # filled by the run's precomputation (evaluation.reports.shared); `memo` is this process's own
    shared: dict = field(default_factory=dict, repr=False)
    memo: dict = field(default_factory=dict, repr=False)

    scope: str = ""  # the one municipality the data was cut to (`scoped`); "" when not cut

    @property
    def municipality(self) -> str:
        if self.scope:
            return self.scope
        names = self.values.loc[self.values["level"] == "municipality", "entity_id"]
        return str(names.iloc[0]) if len(names) else ""

    def unit_name(self, unit_id: str) -> str:
        return self.names("units", "unit_id").get(unit_id, str(unit_id))

    def cluster_name(self, cluster_id: str) -> str:
        return self.names("clusters", "cluster_id").get(cluster_id, str(cluster_id))

    def names(self, table: str, id_column: str) -> dict:
        """id -> name of the units or clusters, the first row of an id; made once per report (a
        filter per name costs a report hundreds of string comparisons, issue 17)."""
        key = ("names", table)
        if key not in self.memo:
            frame = getattr(self, table)
            names: dict = {}
            if id_column in frame and "name" in frame:
                for entity, name in zip(frame[id_column], frame["name"], strict=True):
                    names.setdefault(entity, str(name))
            self.memo[key] = names
        return self.memo[key]


class CheckedParameters(NamedTuple):
    """A report's parameters after the checks, and the warehouse tables read for them."""

    subject: str  # what the report is about: a cluster id or a municipality name
    year: int
    language: str
    warehouse: Path
    min_n: int
    tables: dict


def resolve_warehouse(warehouse: str | Path) -> Path:
    """The warehouse file: the given path, or config.warehouse_path() when empty."""
    return require_warehouse(Path(warehouse) if str(warehouse) else config.warehouse_path())


def read_warehouse_tables(path: Path) -> dict[str, pd.DataFrame]:
    """`query_warehouse_tables`, from their copy in the cache folder when there is one for this
    warehouse (else written): ~0.003 CPU-s, not 0.06 (issue 17); with the caches' input_hashes."""
    from evaluation.values import load  # why: duckdb loads only when a report runs

    hashes = load.input_hashes(path)
    copy = warehouse_tables_path(path, hashes)
    tables = read_pickle(copy)
    if not tables:
        tables = query_warehouse_tables(path)
        if copy is not None:
            write_pickle(tables, copy)
    return {**tables, "input_hashes": hashes}


def query_warehouse_tables(path: Path) -> dict[str, pd.DataFrame]:
    """The small unit/cluster tables and the years present in each data table (read-only)."""
    from evaluation.data import warehouse  # why: duckdb loads only when a report runs

    con = warehouse.connect(path, read_only=True)
    try:
        present = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        out = {}
        small = ("units", "clusters", "cluster_membership", "cluster_programme", "unmapped_schools")
        for name in small:
            out[name] = con.execute(f"SELECT * FROM {name}").df() if name in present else None
        years: set[int] = set()
        for name in DATA_TABLES:
            if name in present:
                years |= {
                    int(r[0]) for r in con.execute(f"SELECT DISTINCT year FROM {name}").fetchall()
                }
        out["years"] = sorted(years)
        out["effort_names"] = effort_names(con) if "settings" in present else {}
        # only the ministry's public school files load `aggregates` (docs/importing.md)
        out["public"] = "aggregates" in present and bool(
            con.execute("SELECT count(*) FROM aggregates").fetchone()[0]
        )
    finally:
        con.close()
    return out


def effort_names(con) -> dict[str, str]:
    """{municipality: effort name} from the warehouse's `settings` table (evaluation.data.settings
    writes it), read on the connection the report opens anyway (issue 17)."""
    rows = con.execute("SELECT municipality, effort_name FROM settings").fetchall()
    return {str(m): str(name) for m, name in rows if name and str(name).strip()}


def check_year(year: int, years: list[int]) -> int:
    """The year, or ParameterError listing the school years that have data."""
    valid = ", ".join(f"{y} ({format_school_year(y)})" for y in years) or "none"
    try:
        value = int(year)
    except (TypeError, ValueError):
        value = None
    if value not in years:
        raise ParameterError(f"year={year!r} has no data; years with data: {valid}")
    return value


def check_cluster(cluster: str, clusters: pd.DataFrame) -> str:
    """The cluster_id for an id or a name, or ParameterError listing the valid clusters."""
    ids = clusters["cluster_id"].astype(str).tolist()
    names = clusters["name"].astype(str).tolist()
    if cluster in ids:
        return cluster
    if cluster in names:
        return ids[names.index(cluster)]
    lowered = [i.lower() for i in ids] + [n.lower() for n in names]
    if str(cluster).lower() in lowered:
        k = lowered.index(str(cluster).lower()) % len(ids)
        return ids[k]
    valid = ", ".join(f"{i} ({n})" for i, n in zip(ids, names, strict=True)) or "none"
    raise ParameterError(f"cluster={cluster!r} is not in the warehouse; valid clusters: {valid}")


def check_municipality(municipality: str, tables: dict) -> str:
    """The municipality name (the only one when empty), or ParameterError listing the valid."""
    names = sorted(tables["units"]["municipality"].dropna().astype(str).unique())
    if not municipality and len(names) == 1:
        return names[0]
    if municipality in names:
        return municipality
    valid = ", ".join(names) or "none"
    raise ParameterError(
        f"municipality={municipality!r} is not in the warehouse; valid municipalities: {valid}"
    )


def check_common(language: str, warehouse: str | Path, min_n: int) -> tuple[str, Path, int]:
    """Check the parameters every report has; cheap, so it runs before any work."""
    return check_language(language), resolve_warehouse(warehouse), check_min_n(min_n)


def check_report_parameters(
    language: str,
    warehouse: str | Path,
    min_n: int,
    year: int,
    check_subject: Callable[[dict], str],
) -> CheckedParameters:
    """The checks every report makes, in the order its errors are read: language, warehouse,
    min_n, then what the report is about (`check_subject` on the warehouse tables), then year."""
    language, path, min_n = check_common(language, warehouse, min_n)
    tables = read_warehouse_tables(path)
    subject = check_subject(tables)
    year = check_year(year, tables["years"])
    return CheckedParameters(subject, year, language, path, min_n, tables)


def load_report_data(
    path: Path, min_n: int, tables: dict | None = None, municipality: str = ""
) -> ReportData:
    """Suppressed indicator values (evaluation.values.load) and the unit/cluster tables; with
    `municipality`, only that municipality's (`scoped`)."""
    from evaluation.values import load  # why: duckdb loads only when a report runs

    tables = tables or read_warehouse_tables(path)
    hashes = tables.get("input_hashes")  # known: the values need not hash the warehouse again
    values = load.load_indicator_values(path, min_n, inputs=hashes, municipality=municipality)
    values = values.assign(year=values["year"].astype(int))
    empty = pd.DataFrame()
    data = ReportData(
        warehouse=path,
        min_n=min_n,
        values=values,
        catalog=load_catalog(),
        units=tables["units"] if tables["units"] is not None else empty,
        clusters=tables["clusters"] if tables["clusters"] is not None else empty,
        membership=tables["cluster_membership"]
        if tables["cluster_membership"] is not None
        else empty,
        programme=tables["cluster_programme"] if tables["cluster_programme"] is not None else empty,
        years=sorted(int(y) for y in values["year"].unique()),
        public=bool(tables.get("public", False)),
        unmapped=tables.get("unmapped_schools")
        if tables.get("unmapped_schools") is not None
        else empty,
        effort_names=tables.get("effort_names", {}),
    )
    return scoped(data, municipality, hashes) if municipality else data


def scoped(data: ReportData, municipality: str, hashes: tuple | None = None) -> ReportData:
    """`data` of one municipality only, with that municipality's shared results. A warehouse may
    hold several municipalities (the national demo, a joint warehouse), and every comparison a
    report makes is with its own municipality, among its own clusters and units."""

    def own(frame: pd.DataFrame, column: str, keep) -> pd.DataFrame:
        if not len(frame) or column not in frame:
            return frame
        return frame[frame[column].astype(str).isin(keep)].reset_index(drop=True)

    values = own(data.values, "municipality", {municipality})
    clusters = own(data.clusters, "municipality", {municipality})
    cluster_ids = set(clusters["cluster_id"].astype(str)) if len(clusters) else set()
    return replace(
        data,
        values=values,
        units=own(data.units, "municipality", {municipality}),
        clusters=clusters,
        membership=own(data.membership, "cluster_id", cluster_ids),
        programme=own(data.programme, "cluster_id", cluster_ids),
        years=sorted(int(y) for y in values["year"].unique()),
        unmapped=own(data.unmapped, "municipality", {municipality}),
        shared=read_shared_results(
            shared_results_path(data.warehouse, data.min_n, municipality, hashes)
        ),
        memo={},
        scope=municipality,
    )


def subject_municipality(checked: CheckedParameters) -> str:
    """The municipality a report is about: a cluster report's cluster's, else the checked
    municipality itself (leader summary, evaluation report)."""
    clusters = checked.tables.get("clusters")
    if clusters is not None and len(clusters) and "municipality" in clusters:
        own = clusters.loc[clusters["cluster_id"].astype(str) == str(checked.subject)]
        if len(own):
            return str(own["municipality"].iloc[0])
    return str(checked.subject)


# --- results shared by the reports of a run --------------------------------------------------


def shared_result(data: ReportData, key: tuple, compute: Callable[[], object], keep: bool = True):
    """`compute()` once per run: from the run's shared results when precomputed there
    (evaluation.reports.shared), else computed here and kept for the rest of this report (and,
    during the precomputation, for the file). `keep=False`: only for this process, never stored
    (cheap to recompute, large to store)."""
    store = data.shared if keep else data.memo
    if key not in store:
        store[key] = compute()
    return store[key]


def rows_by_indicator(
    data: ReportData, level: str, entity_id: str | None = None, year: int | None = None
) -> IndicatorRows:
    """indicator_id -> the values rows of a level (of one entity, of one year: None is any), in
    the values' order, split once per report: the sections read the cluster's, the municipality's
    and the clusters' rows of the year many times (issue 17)."""

    def split() -> IndicatorRows:
        v = level_rows(data, level)
        mask = pd.Series(True, index=v.index)
        if entity_id is not None:
            mask &= v["entity_id"] == entity_id
        if year is not None:
            mask &= v["year"] == year
        chosen = v[mask]
        return IndicatorRows(chosen, chosen.groupby("indicator_id", sort=False).indices)

    key = ("rows_by_indicator", level, entity_id, year)
    return shared_result(data, key, split, keep=False)


class IndicatorRows(Mapping):
    """indicator_id -> its rows of `frame` (the positions of `groupby(...).indices`), each frame
    cut at its first look-up: a report looks up few of the ~50 indicators of a split, and
    cutting all (a DataFrame per group) cost ~0.05 CPU-s a report (issue 17)."""

    def __init__(self, frame: pd.DataFrame, positions: dict):
        self.frame, self.positions, self.cut = frame, positions, {}

    def __getitem__(self, indicator_id: str) -> pd.DataFrame:
        if indicator_id not in self.cut:
            self.cut[indicator_id] = self.frame.take(self.positions[indicator_id])
        return self.cut[indicator_id]

    def __iter__(self):
        return iter(self.positions)

    def __len__(self) -> int:
        return len(self.positions)


def level_rows(data: ReportData, level: str) -> pd.DataFrame:
    """The values rows of one level (unit, cluster, municipality), in the values' order and with
    their index: one filter of every row per report and level, not one per look-up (issue 17)."""

    def split() -> dict[str, pd.DataFrame]:
        return dict(iter(data.values.groupby("level", sort=False)))

    found = shared_result(data, ("level_rows",), split, keep=False)
    return found.get(level, data.values.iloc[:0])


def value_row(
    data: ReportData, indicator_id: str, level: str, entity_id: str, year: int
) -> pd.Series | None:
    """The first values row of an indicator, entity and year (None without one), from an index
    of the year's rows made once per report instead of a filter of every row per look-up."""

    def index() -> dict[tuple, int]:
        v = data.values
        rows = np.flatnonzero((v["year"] == year).to_numpy())
        of_year = v.iloc[rows]
        keys = zip(of_year["indicator_id"], of_year["level"], of_year["entity_id"], strict=True)
        found: dict[tuple, int] = {}
        for key, row in zip(keys, rows, strict=True):
            found.setdefault(key, int(row))
        return found

    row = shared_result(data, ("value_rows", year), index, keep=False).get(
        (indicator_id, level, entity_id)
    )
    return None if row is None else data.values.iloc[row]


def open_report(
    checked: CheckedParameters, tables_dir: str
) -> tuple[ReportData, Texts, Path | None]:
    """What every report holds: the values loaded once, the wording, and the folder for the CSV
    tables behind its figures (None: no CSV files)."""
    data = load_report_data(
        checked.warehouse, checked.min_n, checked.tables, subject_municipality(checked)
    )
    return data, texts_for(checked.language), Path(tables_dir) if tables_dir else None


def missing_years_by_source(data: ReportData, up_to: int | None = None) -> dict[str, list[int]]:
    """Per data source (survey, register, daycare_language): years inside the overall range
    that have no indicator value from that source (e.g. the survey skipped in spring 2021)."""
    years = [y for y in data.years if up_to is None or y <= up_to]
    if not years:
        return {}
    out = {}
    for source, have in years_by_source(data).items():
        gaps = [y for y in range(min(years), max(years) + 1) if y not in have and min(have) < y]
        if gaps:
            out[source] = gaps
    return out


def years_by_source(data: ReportData) -> dict[str, set[int]]:
    """Per data source, the years with an indicator value (sources in the values' order); once
    per report, though the data-quality lines ask for it twice (issue 17)."""

    def collect() -> dict[str, set[int]]:
        source_of = {ind.id: ind.source for ind in data.catalog.indicators}
        frame = pd.DataFrame(
            {"source": data.values["indicator_id"].map(source_of), "year": data.values["year"]}
        )
        return {
            source: set(years.astype(int))
            for source, years in frame.groupby("source", sort=False)["year"]
        }

    return shared_result(data, ("years_by_source",), collect, keep=False)


def previous_year(year: int, years: list[int]) -> int | None:
    """The last year with data before `year` (None when there is none)."""
    earlier = [y for y in years if y < year]
    return max(earlier) if earlier else None


@dataclass
class ReportFrame:
    """What every report object holds: the data, the bound texts, the school year, where its
    tables go, and a cache the section builders share. Each report adds its subject."""

    data: ReportData
    t: Texts
    year: int
    tables_dir: Path | None
    cache: dict = field(default_factory=dict)

    @property
    def school_year(self) -> str:
        return format_school_year(self.year)


def build_report(report_class: type, checked: CheckedParameters, tables_dir: str, subject: str):
    """A report object (a ReportFrame) with its data opened once and its subject (`subject`
    names the field: cluster_id or municipality) set to the checked one."""
    data, t, tables = open_report(checked, tables_dir)
    return report_class(
        data=data, t=t, year=checked.year, tables_dir=tables, **{subject: checked.subject}
    )
