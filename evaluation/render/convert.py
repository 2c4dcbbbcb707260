"""Executed notebooks to offline HTML, and the key figures a notebook recorded for verify.

nbconvert is imported where used, so importing this module stays cheap.
"""

from __future__ import annotations

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
    """One exporter per language and process: building it loads every template file."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class OfflineHTMLExporter(HTMLExporter):
        """nbconvert 7's HTMLExporter.from_notebook_node without its BeautifulSoup pass (0.5 s
        of CPU a report, issue 17). That pass re-serialises the page, gives <img> without alt a
        placeholder alt and every .jp-Cell-inputWrapper / .jp-OutputArea-output tabindex="0".
        Our pages need none of it: the offline template shows no inputs and draws charts as
        inline SVG (no <img>), its stylesheet lets no output wrapper scroll, and the reports'
        own scrolling boxes carry their tabindex (reports/html.py, reports/cluster_followup.py).
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    exporter = OfflineHTMLExporter(
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
    # a shallow copy with its own metadata: the exporter deep-copies the notebook itself
    nb = type(notebook_node)(
        {**notebook_node, "metadata": type(notebook_node)(notebook_node.metadata)}
    )
    nb.metadata.pop("widgets", None)  # widget state would need a CDN script
    nb.metadata["title"] = title or nb.metadata.get("title") or find_title(nb) or "Rapport"
    body, _resources = build_html_exporter(language).from_notebook_node(nb)
    return body
