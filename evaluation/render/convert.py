"""Executed notebooks to offline HTML, and the key figures a notebook recorded for verify.

nbconvert is imported where used, so importing this module stays cheap.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import re
from pathlib import Path

from evaluation.reports.key_figures import KEY_FIGURE_DECIMALS_MIME, KEY_FIGURES_MIME

TEMPLATE_NAME = "offline"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def read_key_figures(executed_nb, mime: str = KEY_FIGURES_MIME) -> dict:
    """The key figures an executed notebook recorded ({} if none); the last record wins.
    With `mime=KEY_FIGURE_DECIMALS_MIME`: the decimals each figure was recorded with."""
    found: dict = {}
    for cell in executed_nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if KEY_FIGURES_MIME in data:
                value = data.get(mime, {})
                found = json.loads(value) if isinstance(value, str) else dict(value)
    return found


def read_key_figure_decimals(executed_nb) -> dict:
    """The printed decimals of each key figure (evaluation.reports.key_figures.Shown)."""
    return read_key_figures(executed_nb, KEY_FIGURE_DECIMALS_MIME)


# --- HTML conversion with the offline template ---------------------------------------------------


@functools.lru_cache(maxsize=4)
def build_html_exporter(language: str):
    """One HTMLExporter per language and process: building it loads every template file."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.language_code = language
    return exporter


def find_title(nb) -> str | None:
    """The first level-1 heading in the notebook's markdown cells or markdown/HTML outputs, as
    plain text (tags dropped, entities such as &amp; turned back into characters)."""
    for cell in nb.get("cells", []):
        texts = [cell.get("source", "")] if cell.get("cell_type") == "markdown" else []
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            texts += [data.get("text/markdown", ""), data.get("text/html", "")]
        for text in texts:
            text = "".join(text) if isinstance(text, list) else text
            match = re.search(r"^#\s+(.+)$", text, re.M) or re.search(
                r"<h1[^>]*>(.*?)</h1>", text, re.S | re.I
            )
            if match:  # plain text: the page title and the index escape it once, themselves
                return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
    return None


def convert_notebook_to_html(notebook_node, language: str = "da", title: str | None = None) -> str:
    """An executed notebook as one offline HTML page: no code, no outside requests, `lang` set."""
    nb = copy.deepcopy(notebook_node)
    nb.metadata.pop("widgets", None)  # widget state would need a CDN script
    nb.metadata["title"] = title or nb.metadata.get("title") or find_title(nb) or "Rapport"
    body, _resources = build_html_exporter(language).from_notebook_node(nb)
    return body
