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
