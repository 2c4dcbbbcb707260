"""Small HTML pieces shared by the reports and the index page (stdlib only: cheap to import)."""

from __future__ import annotations

import html
import re


def scroll_region(inner_html: str, label: str) -> str:
    """A box that may scroll sideways (a wide table on a phone), reachable and named.

    Keyboard users can only scroll what they can focus (WCAG 2.1.1), so every box that can
    overflow gets tabindex, a region role and the table's caption as its name, whatever the layout.
    """
    return (
        f'<div class="wb-table-wrap" tabindex="0" role="region" '
        f'aria-label="{html.escape(label, quote=True)}">{inner_html}</div>'
    )


# The style of the scroll boxes above, for pages that do not carry the reports' stylesheet.
# A box that can scroll shows a shadow at the edge with more to see (background-attachment
# `local` covers the shadow once scrolled to that edge), a cue that needs no script.
SCROLL_REGION_CSS = (
    ".wb-table-wrap { overflow-x: auto; margin: 0.6rem 0 1.2rem 0; max-width: 100%;\n"
    "  position: relative;\n"
    "  background: linear-gradient(to right, #fff 40%, rgba(255,255,255,0)) left / 2rem 100%"
    " no-repeat local,\n"
    "  linear-gradient(to left, #fff 40%, rgba(255,255,255,0)) right / 2rem 100% no-repeat local,\n"
    "  radial-gradient(farthest-side at 0 50%, rgba(0,0,0,0.3), rgba(0,0,0,0)) left / 0.9rem 100%"
    " no-repeat scroll,\n"
    "  radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,0.3), rgba(0,0,0,0)) right / 0.9rem"
    " 100% no-repeat scroll; }\n"
    ".wb-table-wrap:focus-visible { outline: 3px solid #0b4f8a; outline-offset: 2px; }\n"
    # a wide chart that shrinks only so far (LEAST_SCALE, chart_box) scrolls sideways on a phone
    ".wb-chart-wide { overflow-x: auto; max-width: 100%; }\n"
    ".wb-chart-wide:focus-visible { outline: 3px solid #0b4f8a; outline-offset: 2px; }\n"
)

# Print (A4, what a browser prints) for every page: no scroll boxes or clipped wrappers (nbconvert's
# output areas keep overflow auto/hidden), tables that wrap and repeat their header row, charts
# and rows kept whole, headings kept with what follows; `.wb-screen-only` is left out of print.
PRINT_CSS = """
@page { size: A4; margin: 12mm 11mm; }
@page wide { size: A4 landscape; margin: 12mm 11mm; }
@media print {
  /* a grid of ten or more columns outside the cluster report's meeting view (which reads on
     in portrait), and the evaluation's table of actions per cluster and year, print on landscape
     pages (CSS named pages): portrait squeezes them to a word a line */
  .wb-section:not(.wb-meeting) .wb-table-wrap:has(> table > thead th:nth-child(10)),
  .wb-print-wide, section[aria-labelledby="handlinger"] { page: wide; }
  html, body, body.jp-Notebook, main { width: auto !important; max-width: none !important;
    margin: 0 !important; padding: 0 !important; overflow: visible !important; }
  .jp-Notebook, .jp-Cell, .jp-Cell-outputWrapper, .jp-Cell-outputArea, .jp-OutputArea,
  .jp-OutputArea-child, .jp-OutputArea-output, .jp-RenderedHTMLCommon, .wb-table-wrap,
  .wb-chart-wide {
    overflow: visible !important; max-height: none !important; display: block !important;
    min-width: 0 !important; max-width: 100% !important; padding: 0 !important;
    box-shadow: none !important; background: none !important; }
  .wb-toc, .wb-nav, .wb-screen-only { display: none !important; }
  .wb-section, .jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea, .jp-OutputArea-child,
  .jp-OutputArea-output { break-inside: auto !important; }
  .wb-section { margin-top: 1rem; }
  h1, h2, h3, caption, .wb-legend { break-after: avoid; }
  figure, .wb-figure, .wb-chart, svg, tr, li { break-inside: avoid; }
  thead { display: table-header-group; }
  table { max-width: 100% !important; font-size: 8pt !important; }
  th, td { white-space: normal !important; max-width: none !important; overflow-wrap: break-word;
    padding: 0.1rem 0.3rem !important; }
  svg { max-width: 100% !important; height: auto !important; }
  a, a:link, a:visited { color: #000 !important; text-decoration: none !important; }
  body { font-size: 10pt; }
}
"""


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


_INNER_ARIA = re.compile(r'\s(?:role|aria-[a-z]+)="[^"]*"')
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")


# On a narrow screen a chart shrinks with the page, but a wide one (trend panels, funnels) only
# down to this share of its width, so its 12 px words stay readable (~9.6 px); the rest scrolls
# sideways in a focusable box (chart_box). Wider screens and print show it as before.
LEAST_SCALE = 0.8
PHONE_PAGE_WIDTH = 364  # a 390 px phone less the page's side margins


def svg_width(svg: str) -> float | None:
    """The width an SVG document gives itself (pixels), None when it gives none."""
    match = _SVG_OPEN.search(svg)
    width = re.search(r'\swidth="([0-9.]+)"', match.group(1)) if match else None
    return float(width.group(1)) if width else None


def least_width(svg: str) -> int | None:
    """How narrow a wide chart may shrink (LEAST_SCALE), None for one that fits a phone."""
    width = svg_width(svg)
    if width is None or width * LEAST_SCALE <= PHONE_PAGE_WIDTH:
        return None
    return round(width * LEAST_SCALE)


def label_svg(svg: str, name: str, least: int | None = None) -> str:
    """Give an SVG one accessible name (role="img", aria-label, <title>) and no inner roles;
    with `least`, it shrinks with the page no narrower than that many pixels."""
    svg = re.sub(r"<\?xml[^>]*>\s*", "", svg)
    svg = _INNER_ARIA.sub("", svg)
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise ValueError("not an SVG document")
    attrs = re.sub(r'\s(?:width|height)="[^"]*"', "", match.group(1))
    width = re.search(r'\swidth="([^"]*)"', match.group(1))
    widest = f"max(100%,{least}px)" if least else "100%"
    style = f' style="max-width:{widest};height:auto;width:{width.group(1)}px"' if width else ""
    safe = html.escape(name, quote=True)
    opening = f'<svg{attrs} role="img" aria-label="{safe}" focusable="false"{style}>'
    return svg[: match.start()] + opening + f"<title>{safe}</title>" + svg[match.end() :]


def chart_box(svg: str, title: str) -> str:
    """A chart's SVG named `title` (label_svg) in its box. A wide chart shrinks on a narrow
    screen only down to LEAST_SCALE and scrolls sideways beyond: then its box is a scroll region
    keyboard users can reach (tabindex, role, name), as a wide table's (scroll_region)."""
    least = least_width(svg)
    svg = label_svg(svg, title, least)
    if least is None:
        return f'<div class="wb-chart">{svg}</div>'
    named = html.escape(title, quote=True)
    return (
        f'<div class="wb-chart wb-chart-wide" tabindex="0" role="region" aria-label="{named}">'
        f"{svg}</div>"
    )


def bullets(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def section(anchor: str, title: str, body: str) -> Html:
    """An h2 section with an id the table of contents links to."""
    return Html(
        f'<section class="wb-section wb-report" aria-labelledby="{anchor}">'
        f'<h2 id="{anchor}">{esc(title)}</h2>{body}</section>'
    )


# --- links between the reports of one run (issue 14) ---------------------------------------------
# Every report of a run lies in the same folder, so links are bare file names (the folder still
# works when copied or zipped). A run that leaves a report out (one cluster asked for, a failed
# report) unlinks them afterwards: evaluation.render.links.

INDEX_FILE = "index.html"


def report_file(name: str, key: str = "") -> str:
    """The HTML file of a report in a run: evaluation.render.registry.make_report_id (the report
    name, plus "-<cluster>" with the same character rule for per-cluster reports) plus ".html"."""
    if not key:
        return f"{name}.html"
    return f"{name}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', str(key))}.html"


def cluster_report_file(cluster_id: str, anchor: str = "") -> str:
    """The cluster report's file beside this one, with a section anchor when given."""
    return report_file("cluster_report", cluster_id) + (f"#{anchor}" if anchor else "")


def link(href: str, text: str) -> str:
    """A link to another report of the run; `text` is escaped here."""
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def link_names(markup: str, hrefs: dict[str, str]) -> str:
    """Link every table cell and list item whose whole text is one of the names in `hrefs`
    (name -> file#anchor), or a list of them ("Nord, Syd og Åbyen"), so a cluster named in a
    table leads to its report. Text inside sentences, headings and charts is left as it is."""
    if not hrefs:
        return markup
    by_escaped = {esc(name): href for name, href in hrefs.items()}

    def linked(match: re.Match) -> str:
        parts = NAME_LIST_SEPARATOR.split(match.group(2))
        if not all(part in by_escaped for part in parts[::2]):
            return match.group(0)
        inner = "".join(
            f'<a href="{esc(by_escaped[part])}">{part}</a>' if i % 2 == 0 else part
            for i, part in enumerate(parts)
        )
        return match.group(1) + inner + match.group(3)

    return NAMED_CELL.sub(linked, markup)


NAME_LIST_SEPARATOR = re.compile(r"(, | og | and )")
NAMED_CELL = re.compile(r"(<(?:td|th|li)\b[^>]*>)([^<>]+)(</(?:td|th|li)>)")
