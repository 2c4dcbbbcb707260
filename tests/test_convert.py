"""evaluation.render.convert: the offline HTML of an executed notebook, and its key figures."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from offline_html import find_remote_references  # noqa: E402

from evaluation.render import convert  # noqa: E402
from evaluation.reports import key_figures  # noqa: E402

SVG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" role="img">'
    "<title>Søjle</title><rect width='10' height='10'/></svg>"
)


def make_executed_notebook() -> nbformat.NotebookNode:
    """A notebook as papermill leaves it: code with outputs, one SVG, key figures, a warning."""
    code = new_code_cell("display(SVG(svg))  # SECRET_CODE_MARKER", execution_count=3)
    code.outputs = [
        new_output("display_data", data={"image/svg+xml": SVG, "text/plain": "<SVG>"}),
        new_output("stream", name="stderr", text="FutureWarning: analyst only"),
    ]
    figures = new_code_cell("record_key_figures({'n': 12})", execution_count=4)
    figures.outputs = [
        new_output(
            "display_data",
            data={key_figures.KEY_FIGURES_MIME: {"n": 12}, "text/plain": "Key figures recorded"},
        )
    ]
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Klyngerapport K01\n\nSe [DST](https://www.dst.dk) for tal."),
            code,
            figures,
        ]
    )
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def test_offline_html_has_no_code_no_remote_resources_and_sets_lang():
    html = convert.convert_notebook_to_html(make_executed_notebook(), language="da")

    assert "<script src=" not in html.lower()
    assert find_remote_references(html) == []
    assert re.search(r'<html lang="da"', html)
    assert "<title>Klyngerapport K01</title>" in html
    assert "SECRET_CODE_MARKER" not in html, "code cell input leaked into the report"
    body = html.split("<body", 1)[1]
    assert "In&nbsp;[" not in body and "Out[" not in body and "jp-InputPrompt" not in body
    assert "<svg" in html and "<title>Søjle</title>" in html, "SVG must be inline, not base64"
    assert "<?xml" not in html
    assert "analyst only" not in html, "stderr warnings belong in the executed notebook only"
    assert key_figures.KEY_FIGURES_MIME not in html and "Key figures recorded" not in html
    assert "mathjax" not in html.lower() and "require.js" not in html.lower()
    assert len(html.encode("utf-8")) < 1_500_000


def test_offline_html_in_english_with_given_title():
    html = convert.convert_notebook_to_html(make_executed_notebook(), language="en", title="T & Q")
    assert '<html lang="en"' in html
    assert "<title>T &amp; Q</title>" in html


def test_find_remote_references_catches_a_cdn_script():
    assert find_remote_references('<script src="https://cdn.example/x.js"></script>') == [
        "https://cdn.example/x.js"
    ]
    assert find_remote_references('<a href="https://www.dst.dk">DST</a>') == []


def test_key_figures_round_trip_through_an_output():
    np = pytest.importorskip("numpy")
    plain = key_figures.to_plain_json(
        {"a": np.float64(0.5), "b": (1, np.int64(2)), "c": float("nan")}
    )
    assert plain == {"a": 0.5, "b": [1, 2], "c": None}
    nb = make_executed_notebook()
    assert convert.read_key_figures(nb) == {"n": 12}
    assert convert.read_key_figures(new_notebook()) == {}


def test_the_title_is_plain_text_so_it_is_escaped_once():
    import nbformat

    from evaluation.render.convert import find_title

    nb = nbformat.v4.new_notebook()
    heading = "<h1>Klynge A &amp; B &lt;Nord&gt; &#x27;Øst&#x27; &quot;Syd&quot;</h1>"
    nb.cells = [nbformat.v4.new_code_cell("x")]
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", {"text/html": heading})]
    assert find_title(nb) == "Klynge A & B <Nord> 'Øst' \"Syd\""
