"""Executed notebooks to offline HTML, and the key figures a notebook records for verify.

Imported inside report kernels too (for `record_key_figures`), so its top level imports only the
standard library; nbconvert is imported where used.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from typing import Any

from evaluation import config

KEY_FIGURES_MIME = "application/vnd.workbench.key-figures+json"
TEMPLATE_NAME = "offline"
TEMPLATES_DIR = config.PACKAGE_DIR / "templates"


# --- key figures: written by a notebook's last cell, read back by the renderer -------------------


def to_plain_json(value: Any) -> Any:
    """Turn numpy/pandas scalars, tuples and NaN into plain JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): to_plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"key figure {value!r} is not a number, text, list or dict")


def record_key_figures(figures: dict) -> None:
    """Display `figures` as machine-readable output so `workbench verify` can compare runs.

    Call it in a notebook's last cell. The offline HTML template does not show this output.
    """
    from IPython.display import display

    plain = to_plain_json(figures)
    # text/plain is what JupyterLab shows the analyst; the template hides the whole output.
    summary = "Key figures recorded for workbench verify: " + json.dumps(plain, ensure_ascii=False)
    display({KEY_FIGURES_MIME: plain, "text/plain": summary}, raw=True)


def read_key_figures(executed_nb) -> dict:
    """The key figures an executed notebook recorded ({} if none); the last record wins."""
    found: dict = {}
    for cell in executed_nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if KEY_FIGURES_MIME in data:
                value = data[KEY_FIGURES_MIME]
                found = json.loads(value) if isinstance(value, str) else dict(value)
    return found


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
    """The first level-1 heading in the notebook's markdown cells or markdown/HTML outputs."""
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
            if match:
                return re.sub(r"<[^>]+>", "", match.group(1)).strip()
    return None


def convert_notebook_to_html(notebook_node, language: str = "da", title: str | None = None) -> str:
    """An executed notebook as one offline HTML page: no code, no outside requests, `lang` set."""
    nb = copy.deepcopy(notebook_node)
    nb.metadata.pop("widgets", None)  # widget state would need a CDN script
    nb.metadata["title"] = title or nb.metadata.get("title") or find_title(nb) or "Rapport"
    body, _resources = build_html_exporter(language).from_notebook_node(nb)
    return body
