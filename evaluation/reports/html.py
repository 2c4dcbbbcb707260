"""Small HTML pieces shared by the reports and the index page (stdlib only: cheap to import)."""

from __future__ import annotations

import html


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
SCROLL_REGION_CSS = (
    ".wb-table-wrap { overflow-x: auto; margin: 0.6rem 0 1.2rem 0; }\n"
    ".wb-table-wrap:focus-visible { outline: 3px solid #0b4f8a; outline-offset: 2px; }\n"
)


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
