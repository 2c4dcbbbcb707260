"""The frame every report page shares: its stylesheet, its header (title, lead, contents)
and its section headings, so the three reports open and link their sections the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from evaluation.reports import public_cluster
from evaluation.reports.chart_records import named_rows
from evaluation.reports.fonts import font_face_css
from evaluation.reports.html import (
    INDEX_FILE,
    PRINT_CSS,
    SCROLL_REGION_CSS,
    Html,
    cluster_report_file,
    esc,
    link,
    link_names,
    report_file,
)
from evaluation.texts import Texts, danish_order, texts_for

# the reports every report's navigation offers, besides the cluster reports (issue 14)
NAV_REPORTS = ("leader_summary", "evaluation_report")


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
/* links inside running text: underlined, not told by colour alone (WCAG 1.4.1) */
.wb-report a, .wb-report a:link, .wb-report a:visited { color: #0b4f8a;
  text-decoration: underline; }
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
/* the links to the run's other reports, on one line where it fits (the other clusters' links
   flow on as items of the same line), no bullets; selectors strong enough to win over the
   notebook page's own list styles */
.wb-report nav.wb-nav { font-size: 1rem; margin: 0.2rem 0 0.3rem 0; }
.wb-report nav.wb-nav ul { list-style: none; margin: 0; padding: 0; display: flex;
  flex-wrap: wrap; gap: 0.1rem 0.9rem; align-items: baseline; }
.wb-report nav.wb-nav li.wb-nav-group, .wb-report nav.wb-nav ul ul { display: contents; }
.wb-report nav.wb-nav li { list-style: none; margin: 0; padding: 0; }
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
@media screen and (max-width: 40rem) {
  .wb-legend span.wb-key { white-space: normal; display: block; }
  .wb-toc-compact li { white-space: normal; }
  .wb-report { overflow-wrap: break-word; }
  .wb-report table.wb-table tbody tr:nth-child(odd), .wb-report table.wb-table thead th {
    background: transparent; }
}
"""
    + PRINT_CSS
    + """</style>
"""
)


def credit_html(language: str = "da") -> str:
    """The credit line the ministry's terms ask for, on every page built from its figures."""
    t = texts_for(language)
    return (
        f'<p class="wb-credit"><strong>{esc(t("public.credit_line"))}</strong>. '
        f"{esc(t('public.credit_terms'))}</p>"
    )


def section_title(t: Texts, report_name: str, key: str) -> str:
    """The heading of a section: `<report_name>.sections.<key>` in the texts."""
    return t(f"{report_name}.sections.{key}")


def section_titles(report_name: str) -> Callable[[object, str], str]:
    """`section_title(report, key)` for one report, so its sections and its contents share
    one heading per key."""

    def section_title_of(report, key: str) -> str:
        return section_title(report.t, report_name, key)

    return section_title_of


def report_for(
    t: Texts, municipality: str, school_year: str, min_n: int, public: bool = False
) -> str:
    """The line saying whose figures these are, for which school year and with which min_n
    (published school figures have no answers to count: their own line)."""
    if public:
        return public_cluster.report_for(t, municipality, school_year)
    return t("common.report_for", municipality=municipality, school_year=school_year, min_n=min_n)


def municipality_title(report, report_name: str) -> tuple[str, str]:
    """The title and the facts line of a report on a whole municipality (leader summary,
    evaluation report): `report` has municipality, school_year, t and data.min_n."""
    t = report.t
    title = t(
        f"{report_name}.title", municipality=report.municipality, school_year=report.school_year
    )
    public = bool(getattr(report.data, "public", False))
    return title, report_for(t, report.municipality, report.school_year, report.data.min_n, public)


def cluster_links(data, municipality: str = "", skip: str = "") -> dict[str, str]:
    """Cluster name -> its report's file, for every cluster of the warehouse (of `municipality`
    when given) except `skip`, in Danish order. A cluster without a report in the run is
    unlinked by the run (evaluation.render.links)."""
    clusters = data.clusters
    if clusters is None or clusters.empty:
        return {}
    if municipality and "municipality" in clusters.columns:
        clusters = clusters[clusters["municipality"] == municipality]
    pairs = [
        (str(row.name), cluster_report_file(str(row.cluster_id)))
        for row in named_rows(clusters)
        if str(row.cluster_id) != skip
    ]
    return dict(sorted(pairs, key=lambda pair: danish_order(pair[0])))


def link_clusters(markup, data, municipality: str = "", skip: str = "") -> Html:
    """`markup` with every table cell or list item naming a cluster linked to its report."""
    return Html(link_names(str(markup), cluster_links(data, municipality, skip)))


def report_nav(t: Texts, report_name: str) -> str:
    """The links at the top of every report: the run's front page, the leader summary and the
    evaluation report (not the page itself)."""
    items = [link(INDEX_FILE, t("links2.index"))]
    items += [link(report_file(n), t(f"links2.{n}")) for n in NAV_REPORTS if n != report_name]
    markup = "".join(f'<li class="wb-nav-item">{item}</li>' for item in items)
    return f'<nav class="wb-nav" aria-label="{esc(t("links2.nav_label"))}"><ul>{markup}</ul></nav>'


def clusters_nav(t: Texts, clusters: dict[str, str]) -> str:
    """Links to the other clusters' reports (name -> file), as one labelled line."""
    if not clusters:
        return ""
    items = "".join(
        f'<li class="wb-nav-item">{link(href, name)}</li>' for name, href in clusters.items()
    )
    return (
        f'<nav class="wb-nav" aria-label="{esc(t("links2.clusters_label"))}"><ul>'
        f'<li class="wb-nav-group">{esc(t("links2.other_clusters"))} <ul>{items}</ul></li>'
        "</ul></nav>"
    )


def report_header(
    t: Texts,
    report_name: str,
    sections: tuple[tuple[str, str], ...],
    title: str,
    intro: str,
    compact: bool = False,
    extra_css: str = "",
) -> Html:
    """The top of a report: stylesheet, the links to the run's other reports, the one h1, the
    intro HTML and the table of contents that links the (anchor, section key) pairs of
    `sections`."""
    entries = [(anchor, section_title(t, report_name, key)) for anchor, key in sections]
    return Html(
        f"<style>\n{font_face_css()}</style>\n"
        + REPORT_CSS
        + extra_css
        + '<header class="wb-report">'
        + report_nav(t, report_name)
        + f"<h1>{esc(title)}</h1>"
        + intro
        + table_of_contents(t, entries, compact=compact)
        + "</header>"
    )
