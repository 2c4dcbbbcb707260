"""Building blocks shared by the three report builders (report_cluster, report_leader,
report_evaluation): parameter checks, loading, status of an indicator, number wording, HTML.

Everything a report shows goes through here or `evaluation.reports.charts`, so names from data are
escaped in one place and a suppressed figure becomes the marker "–", never a blank or a zero.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.catalog import load_catalog
from evaluation.errors import ParameterError
from evaluation.reports.charts import is_missing  # noqa: F401 - used as rc.is_missing
from evaluation.reports.html import SCROLL_REGION_CSS
from evaluation.texts import (
    SUPPRESSED_MARKER,
    Texts,
    check_language,
    format_school_year,
    texts_for,
)
from evaluation.values.privacy import check_min_n

Z95 = 1.959963984540054
HEADLINE_INDICATORS = (
    "generel_trivsel",
    "social_trivsel",
    "faglig_trivsel",
    "stoette_og_inspiration",
    "ro_og_orden",
    "hoej_trivsel_andel",
    "inklusionsgrad",
    "fravaer",
)
INCLUSION_INDICATORS = (
    "inklusionsgrad",
    "naerhed",
    "tilbagevenden",
    "ventetid",
    "fravaer",
    "fravaer_over_10",
    "sprog_indsats",
)
DATA_TABLES = ("responses", "register", "daycare_language", "aggregates")


# --- parameters and data -------------------------------------------------------------------


@dataclass
class ReportData:
    """What every report reads: suppressed indicator values plus the warehouse's unit tables."""

    warehouse: Path
    min_n: int
    values: pd.DataFrame
    catalog: object  # evaluation.values.indicators.Catalog
    units: pd.DataFrame
    clusters: pd.DataFrame
    membership: pd.DataFrame
    programme: pd.DataFrame
    years: list[int] = field(default_factory=list)
    public: bool = False  # values from the ministry's published aggregates (credit line due)

    @property
    def municipality(self) -> str:
        names = self.values.loc[self.values["level"] == "municipality", "entity_id"]
        return str(names.iloc[0]) if len(names) else ""

    def unit_name(self, unit_id: str) -> str:
        match = self.units.loc[self.units["unit_id"] == unit_id, "name"]
        return str(match.iloc[0]) if len(match) else str(unit_id)

    def cluster_name(self, cluster_id: str) -> str:
        match = self.clusters.loc[self.clusters["cluster_id"] == cluster_id, "name"]
        return str(match.iloc[0]) if len(match) else str(cluster_id)


def resolve_warehouse(warehouse: str | Path) -> Path:
    """The warehouse file: the given path, or config.warehouse_path() when empty."""
    path = Path(warehouse) if str(warehouse) else config.warehouse_path()
    if not path.is_file():
        raise ParameterError(
            f"warehouse={str(warehouse)!r}: no warehouse file at {path}. Run `workbench demo-data` "
            "and `workbench ingest data/raw/demo`, or give the path of a warehouse file."
        )
    return path


def read_warehouse_tables(path: Path) -> dict[str, pd.DataFrame]:
    """The small unit/cluster tables and the years present in each data table (read-only)."""
    from evaluation.data import warehouse

    con = warehouse.connect(path, read_only=True)
    try:
        present = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        out = {}
        for name in ("units", "clusters", "cluster_membership", "cluster_programme"):
            out[name] = con.execute(f"SELECT * FROM {name}").df() if name in present else None
        years: set[int] = set()
        for name in DATA_TABLES:
            if name in present:
                years |= {
                    int(r[0]) for r in con.execute(f"SELECT DISTINCT year FROM {name}").fetchall()
                }
        out["years"] = sorted(years)
        # only the ministry's public school files load `aggregates` (docs/importing.md)
        out["public"] = "aggregates" in present and bool(
            con.execute("SELECT count(*) FROM aggregates").fetchone()[0]
        )
    finally:
        con.close()
    return out


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


def check_common(language: str, warehouse: str | Path, min_n: int) -> tuple[str, Path, int]:
    """Check the parameters every report has; cheap, so it runs before any work."""
    return check_language(language), resolve_warehouse(warehouse), check_min_n(min_n)


def load_report_data(path: Path, min_n: int, tables: dict | None = None) -> ReportData:
    """Suppressed indicator values (evaluation.values.indicators) and the unit/cluster tables."""
    from evaluation.values import indicators

    tables = tables or read_warehouse_tables(path)
    values = indicators.load_indicator_values(path, min_n)
    values = values.assign(year=values["year"].astype(int))
    empty = pd.DataFrame()
    return ReportData(
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
    )


def missing_years(years: list[int]) -> list[int]:
    """Years inside the range that have no data at all."""
    if not years:
        return []
    return [y for y in range(min(years), max(years) + 1) if y not in set(years)]


def missing_years_by_source(data: ReportData, up_to: int | None = None) -> dict[str, list[int]]:
    """Per data source (survey, register, daycare_language): years inside the overall range
    that have no indicator value from that source (e.g. the survey skipped in spring 2021)."""
    years = [y for y in data.years if up_to is None or y <= up_to]
    if not years:
        return {}
    source_of = {ind.id: ind.source for ind in data.catalog.indicators}
    sources = data.values["indicator_id"].map(source_of)
    out = {}
    for source in dict.fromkeys(sources.dropna()):
        have = set(data.values.loc[sources == source, "year"].astype(int))
        gaps = [y for y in range(min(years), max(years) + 1) if y not in have and min(have) < y]
        if gaps:
            out[source] = gaps
    return out


def missing_years_sentences(
    t: Texts, data: ReportData, key: str, up_to: int | None = None
) -> list[str]:
    """One sentence per set of missing years, naming every source that lacks them."""
    grouped: dict[tuple[int, ...], list[str]] = {}
    for source, gaps in missing_years_by_source(data, up_to).items():
        grouped.setdefault(tuple(gaps), []).append(t(f"sources.{source}"))
    return [
        t(
            key,
            source=join_names(t, names),
            years=join_names(t, [format_school_year(y) for y in gaps]),
        )
        for gaps, names in grouped.items()
    ]


def previous_year(year: int, years: list[int]) -> int | None:
    """The last year with data before `year` (None when there is none)."""
    earlier = [y for y in years if y < year]
    return max(earlier) if earlier else None


# --- formatting -----------------------------------------------------------------------------


def indicator_name(t: Texts, indicator) -> str:
    return indicator.name_da if t.language == "da" else indicator.name_en


def indicator_phrase(t: Texts, indicator) -> str:
    """The name for use inside a sentence: a statement is quoted (»...« / "...")."""
    name = indicator_name(t, indicator)
    if getattr(indicator, "statement", None):
        return t("format.quote", text=name)
    return name


def format_value(t: Texts, indicator, value) -> str:
    """A level in the unit of its kind: 3,72 / 94 % / 12 dage / 5,3 %."""
    if is_missing(value):
        return SUPPRESSED_MARKER
    if indicator.kind == "proportion":
        return t.percent(value, decimals=0)
    if indicator.kind == "median":
        return t("format.days", number=t.number(value, decimals=0))
    if indicator.kind == "rate":
        return t("format.percent", number=t.number(value, decimals=1))
    return t.number(value, decimals=2)


def format_difference(t: Texts, indicator, value) -> str:
    """A signed difference: +0,12 / +3 pct.-point / −4 dage."""
    if is_missing(value):
        return SUPPRESSED_MARKER
    if indicator.kind == "proportion":
        return t("format.points", number=t.number(value * 100, decimals=1, signed=True))
    if indicator.kind == "rate":
        return t("format.points", number=t.number(value, decimals=1, signed=True))
    if indicator.kind == "median":
        return t("format.days", number=t.number(value, decimals=0, signed=True))
    return t.number(value, decimals=2, signed=True)


def format_interval(t: Texts, indicator, lower, upper, signed: bool = False) -> str:
    """ "3,61–3,80" (da) or "3.61 to 3.80" (en); percent for shares."""
    if is_missing(lower) or is_missing(upper):
        return SUPPRESSED_MARKER
    if indicator.kind == "proportion":
        scale, decimals = 100.0, 1 if signed else 0
    elif indicator.kind == "rate":
        scale, decimals = 1.0, 1
    elif indicator.kind == "median":
        scale, decimals = 1.0, 0
    else:
        scale, decimals = 1.0, 2
    lo = t.number(lower * scale, decimals=decimals, signed=signed)
    hi = t.number(upper * scale, decimals=decimals, signed=signed)
    return t("format.interval_signed" if signed else "format.interval", lower=lo, upper=hi)


def display_scale(indicator) -> float:
    """Factor from stored value to the number a chart shows (shares as percent)."""
    return 100.0 if indicator.kind == "proportion" else 1.0


def axis_label(t: Texts, indicator) -> str:
    """The indicator's name with its unit, unless the name already says it."""
    name = indicator_name(t, indicator)
    if "(" in name:
        return name
    return f"{name} ({t('kind_unit.' + indicator.kind)})"


def lower_first(text: str) -> str:
    """ "Ventetid fra ..." -> "ventetid fra ..." for use inside a sentence (not "PPR")."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def join_names(t: Texts, names: list[str]) -> str:
    """ "A, B og C" / "A, B and C"."""
    names = [str(n) for n in names]
    if not names:
        return t("common.none_listed")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {t('common.and')} " + names[-1]


# --- status of an indicator: level, interval, change, position ---------------------------


def level_interval(indicator, value, se) -> tuple[float, float]:
    """95 % interval of a level; shares kept inside 0-1, other kinds at or above zero."""
    if is_missing(value) or is_missing(se):
        return (math.nan, math.nan)
    lower, upper = value - Z95 * se, value + Z95 * se
    if indicator.kind == "proportion":
        return max(lower, 0.0), min(upper, 1.0)
    return max(lower, 0.0), upper


def judge(indicator, lower, upper) -> str:
    """ "better" / "worse" / "none" for an interval of a difference; "missing" without one.

    A difference is only called one when its interval excludes zero (DESIGN.md, Statistics).
    """
    if is_missing(lower) or is_missing(upper):
        return "missing"
    if lower <= 0 <= upper:
        return "none"
    higher = lower > 0
    good = higher if indicator.direction == "higher_better" else not higher
    return "better" if good else "worse"


def year_change(indicator, now: pd.Series | None, before: pd.Series | None) -> dict:
    """Change between two years of one entity with its 95 % interval (evaluation.stats.change):
    Newcombe's hybrid score interval for proportions, a normal interval for the rest."""
    from evaluation.stats import change

    out = {"change": math.nan, "change_lower": math.nan, "change_upper": math.nan}
    if now is None or before is None or is_missing(now["value"]) or is_missing(before["value"]):
        return {**out, "change_verdict": "missing"}
    if indicator.kind == "proportion":
        needed = (now["numerator"], now["n"], before["numerator"], before["n"])
        if any(is_missing(x) for x in needed):
            return {**out, "change_verdict": "missing"}
        result = change.change_in_proportions(*([float(x)] for x in needed))
    else:
        if is_missing(now["se"]) or is_missing(before["se"]):
            return {**out, "change_verdict": "missing"}
        result = change.change_in_means(
            [float(now["value"])],
            [float(now["se"])],
            [float(before["value"])],
            [float(before["se"])],
        )
    row = result.iloc[0]
    lower, upper = float(row["ci_low"]), float(row["ci_high"])
    return {
        "change": float(row["change"]),
        "change_lower": lower,
        "change_upper": upper,
        "change_verdict": judge(indicator, lower, upper),
    }


def position_against(indicator, entities: pd.DataFrame, target: float) -> pd.DataFrame:
    """Funnel comparison (evaluation.stats.compare) of entities against the municipality value.

    Returns entity_id, classification (below/within/above at 95 %), classification_998,
    lower_95 ... upper_998, and `position` as better/worse/within/missing.
    """
    from evaluation.stats import compare

    shown = entities[entities["value"].notna()]
    cols = ["entity_id", "classification", "classification_998", "position"]
    if shown.empty or is_missing(target):
        return pd.DataFrame(columns=cols)
    kind = comparison_kind(indicator, shown)
    result = compare.compare_units(shown, target=float(target), kind=kind)
    units = result.units.copy()
    good = "above" if indicator.direction == "higher_better" else "below"
    units["position"] = np.where(
        units["classification"] == "within",
        "within",
        np.where(units["classification"] == good, "better", "worse"),
    )
    units.attrs["comparison"] = result
    return units


def comparison_kind(indicator, rows: pd.DataFrame) -> str:
    """The kind to give evaluation.stats.compare: a mean without pupil-level sd but with its own se
    (published aggregates, evaluation.values.published) is compared on that se ("median" path)."""
    no_sd = "sd" not in rows or rows["sd"].isna().all()
    has_se = "se" in rows and rows["se"].notna().any()
    if indicator.kind in ("mean", "rate") and no_sd and has_se:
        return "median"
    return indicator.kind


def summarise_entity(
    data: ReportData, level: str, entity_id: str, year: int, indicator_ids
) -> pd.DataFrame:
    """One row per indicator: value and interval this year, the municipality's value, the
    position against the municipality among entities of the same level, and the change since
    the previous year with data."""
    values = data.values
    prev = previous_year(year, data.years)
    rows = []
    for ind_id in indicator_ids:
        if ind_id not in data.catalog.by_id:
            continue
        indicator = data.catalog.get(ind_id)
        of_ind = values[values["indicator_id"] == ind_id]
        now = _row(of_ind, level, entity_id, year)
        if now is None:
            continue
        before = _row(of_ind, level, entity_id, prev) if prev is not None else None
        muni = of_ind[(of_ind["level"] == "municipality") & (of_ind["year"] == year)]
        reference = (
            float(muni["value"].iloc[0])
            if len(muni) and muni["value"].notna().iloc[0]
            else math.nan
        )
        peers = of_ind[(of_ind["level"] == level) & (of_ind["year"] == year)]
        positions = position_against(indicator, peers, reference)
        match = positions[positions["entity_id"] == entity_id]
        position = str(match["position"].iloc[0]) if len(match) else "missing"
        lower, upper = level_interval(indicator, now["value"], now["se"])
        rows.append(
            {
                "indicator_id": ind_id,
                "indicator": indicator,
                "n": now["n"],
                "value": now["value"],
                "lower": lower,
                "upper": upper,
                "suppressed": bool(now["suppressed"]),
                "reference": reference,
                "position": position,
                "previous_year": prev,
                "previous_value": before["value"] if before is not None else math.nan,
                **year_change(indicator, now, before),
            }
        )
    return pd.DataFrame(rows)


def _row(frame: pd.DataFrame, level: str, entity_id: str, year: int | None) -> pd.Series | None:
    match = frame[
        (frame["level"] == level) & (frame["entity_id"] == entity_id) & (frame["year"] == year)
    ]
    return match.iloc[0] if len(match) else None


# --- HTML -----------------------------------------------------------------------------------


class Html:
    """A piece of report HTML that a notebook cell displays (text/html output)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def esc(text) -> str:
    """Escape anything that came from data before it goes into HTML."""
    return html.escape(str(text), quote=True)


def paragraph(text: str, css_class: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return f"<p{cls}>{esc(text)}</p>"


def bullets(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def section(anchor: str, title: str, body: str) -> Html:
    """An h2 section with an id the table of contents links to."""
    return Html(
        f'<section class="wb-section wb-report" aria-labelledby="{anchor}">'
        f'<h2 id="{anchor}">{esc(title)}</h2>{body}</section>'
    )


def table_of_contents(t: Texts, entries: list[tuple[str, str]], compact: bool = False) -> str:
    """Links to the h2 sections; `compact` puts them on one line (the leader summary's one
    screen)."""
    items = "".join(f'<li><a href="#{a}">{esc(title)}</a></li>' for a, title in entries)
    css = "wb-toc wb-toc-compact" if compact else "wb-toc"
    return (
        f'<nav class="{css}" aria-labelledby="wb-toc-title">'
        f'<h2 id="wb-toc-title">{esc(t("common.contents"))}</h2><ol>{items}</ol></nav>'
    )


REPORT_CSS = (
    "<style>\n"
    + SCROLL_REGION_CSS
    + """
.wb-report { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: #1a1a1a;
  line-height: 1.5; }
.wb-report h1, .wb-section h2 { line-height: 1.25; }
.wb-section { margin-top: 2.2rem; }
.wb-section h3 { margin-top: 1.6rem; font-size: 1.1rem; }
.wb-lead { font-size: 1.1rem; max-width: 48rem; }
.wb-meta { color: #333; }
.wb-toc { border: 1px solid #bbb; padding: 0.6rem 1.2rem; margin: 1rem 0; max-width: 40rem; }
.wb-toc h2 { font-size: 1.1rem; margin: 0.2rem 0; }
.wb-toc ol { margin: 0.2rem 0 0.4rem 1.2rem; padding: 0; }
.wb-toc a { color: #0b4f8a; }
.wb-note { border-left: 4px solid #0072B2; background: #f3f7fb; padding: 0.5rem 1rem;
  max-width: 48rem; }
.wb-report table.wb-table { border-collapse: collapse; font-size: 0.92rem; margin: 0; }
.wb-table caption { text-align: left; font-weight: bold; padding: 0.3rem 0; caption-side: top; }
.wb-report table.wb-table th, .wb-report table.wb-table td { border: 1px solid #bbb;
  padding: 0.3rem 0.55rem; text-align: left; vertical-align: top; max-width: 22rem; }
.wb-report table.wb-table thead th { background: #eef1f4; }
.wb-report table.wb-table tbody th { font-weight: normal; }
.wb-report table.wb-table tbody tr:nth-child(odd) { background: #fafafa; }
.wb-footnotes p { font-size: 0.88rem; margin: 0.3rem 0; color: #333; }
.wb-figure { margin: 1rem 0 0.4rem 0; }
.wb-figure figcaption { font-size: 0.95rem; max-width: 48rem; margin-top: 0.3rem; }
.wb-chart svg { max-width: 100%; height: auto; }
.wb-questions li { margin-bottom: 0.5rem; }
.wb-toc-compact { max-width: none; padding: 0.3rem 0.8rem; margin: 0.5rem 0; display: flex;
  flex-wrap: wrap; align-items: baseline; gap: 0 0.9rem; }
.wb-toc-compact h2 { font-size: 1rem; margin: 0; }
.wb-toc-compact ol { display: flex; flex-wrap: wrap; gap: 0 0.9rem; margin: 0; padding: 0;
  list-style: none; }
.wb-toc-compact li { white-space: nowrap; }
.wb-sr { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.wb-legend { font-size: 0.92rem; margin: 0.3rem 0; max-width: none; }
.wb-legend span.wb-key { margin-right: 1rem; white-space: nowrap; }
.wb-report table.wb-compact td, .wb-report table.wb-compact th { padding: 0.15rem 0.5rem;
  white-space: nowrap; }
.wb-report table.wb-compact thead th { white-space: normal; vertical-align: bottom; }
.wb-sym { font-weight: bold; margin-left: 0.3rem; }
.wb-word { font-weight: bold; }
.wb-attention li { margin-bottom: 0.4rem; }
@media print {
  .wb-toc { display: none; }
  .wb-section { break-inside: avoid-page; }
  .wb-table-wrap { overflow: visible; }
  a { color: #000; }
}
</style>
"""
)


def status_table(
    t: Texts, rows: pd.DataFrame, caption: str, columns: list[tuple[str, str]], min_n: int
) -> str:
    """A table of indicator status rows; `columns` pairs a header with a field key.

    Field keys: indicator, value, interval, value_interval, reference, previous, change, verdict,
    position, n.
    """
    from evaluation.reports.charts import table_to_html

    table = status_frame(t, rows, columns)
    return table_to_html(table, caption, footnotes=[t("common.suppressed_note", min_n=min_n)])


def status_frame(t: Texts, rows: pd.DataFrame, columns: list[tuple[str, str]]) -> pd.DataFrame:
    """The display strings of status rows (also what goes to the CSV file)."""
    out = {header: [] for header, _ in columns}
    for row in rows.itertuples(index=False):
        ind = row.indicator
        cells = {
            "indicator": indicator_name(t, ind),
            "value": format_value(t, ind, row.value),
            "interval": format_interval(t, ind, row.lower, row.upper),
            "value_interval": _value_with_interval(t, ind, row),
            "reference": format_value(t, ind, row.reference),
            "previous": format_value(t, ind, row.previous_value),
            "change": _change_text(t, ind, row),
            "verdict": t("change." + row.change_verdict),
            "position": t("level." + row.position),
            "n": SUPPRESSED_MARKER if is_missing(row.n) else t.number(row.n, decimals=0),
        }
        for header, key in columns:
            out[header].append(cells[key])
    return pd.DataFrame(out)


def _value_with_interval(t: Texts, ind, row) -> str:
    if is_missing(row.value):
        return SUPPRESSED_MARKER
    return f"{format_value(t, ind, row.value)} ({format_interval(t, ind, row.lower, row.upper)})"


def _change_text(t: Texts, ind, row) -> str:
    if is_missing(row.change):
        return SUPPRESSED_MARKER
    interval = format_interval(t, ind, row.change_lower, row.change_upper, signed=True)
    return f"{format_difference(t, ind, row.change)} ({interval})"


def credit_html(language: str = "da") -> str:
    """The credit line the ministry's terms ask for, on every page built from its figures."""
    t = texts_for(language)
    return (
        f'<p class="wb-credit"><strong>{esc(t("public.credit_line"))}</strong>. '
        f"{esc(t('public.credit_terms'))}</p>"
    )
