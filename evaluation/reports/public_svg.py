"""Smaller SVG for the public report's charts: the school funnels draw the country's ~1,100 other
schools as grey context points, and Vega writes each as a full <path> with 15-digit
coordinates. That made a public report 2.1-2.2 MB against our own 1.5 MB limit (issue 16).

Two lossless-to-the-eye steps, on the SVG only (captions and tables are untouched):
- geometry (`d`, `transform`) rounded to 0.1 px, far below what a screen or printer shows;
- a point shape repeated many times is written once in <defs> and placed with <use>.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter

LONG_DECIMAL = re.compile(r"-?\d+\.\d{2,}")
GEOMETRY = re.compile(r'\b(d|transform)="([^"]*)"')
PATH_ELEMENT = re.compile(r"<path\b([^>]*?)\s*(?:/>|></path>)")
TRANSLATE = re.compile(r'\s*transform="translate\(([^)]*)\)"')
SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.S)
SVG_HEAD = re.compile(r"<svg\b[^>]*>(?:<title>.*?</title>)?", re.S)
MIN_REPEATS = 20  # below this, a <defs> entry saves too little to be worth it


def tenth(match: re.Match) -> str:
    """ "183.3333333" -> "183.3", "3.0" -> "3", "-0.04" -> "0"."""
    text = f"{round(float(match.group()), 1):.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def round_geometry(svg: str) -> str:
    """Coordinates in path data and transforms to one decimal of a pixel."""
    return GEOMETRY.sub(lambda m: f'{m.group(1)}="{LONG_DECIMAL.sub(tenth, m.group(2))}"', svg)


def placed(attributes: str) -> tuple[str, str | None]:
    """(the path's attributes without its translate, the translate) of one <path>."""
    found = TRANSLATE.search(attributes)
    if found is None:
        return attributes, None
    return attributes[: found.start()] + attributes[found.end() :], found.group(1)


def reuse_repeated_paths(svg: str, prefix: str) -> str:
    """Each path drawn MIN_REPEATS times or more (same shape and style, another place) becomes
    one <defs> entry and a <use> per place; ids start with `prefix` (unique per page)."""
    shapes = [placed(attributes) for attributes in PATH_ELEMENT.findall(svg)]
    counts = Counter(shape for shape, where in shapes if where is not None)
    repeated = [shape for shape, count in counts.items() if count >= MIN_REPEATS]
    ids = {shape: f"{prefix}-{i}" for i, shape in enumerate(repeated)}
    if not ids:
        return svg

    def place(match: re.Match) -> str:
        shape, where = placed(match.group(1))
        if where is None or shape not in ids:
            return match.group()
        return f'<use href="#{ids[shape]}" transform="translate({where})"/>'

    body = PATH_ELEMENT.sub(place, svg)
    defs = "".join(f'<path id="{i}"{shape}/>' for shape, i in ids.items())
    head = SVG_HEAD.search(body)  # after the <title>: it stays the SVG's first child
    return body[: head.end()] + f"<defs>{defs}</defs>" + body[head.end() :]


def compact_svgs(html: str, prefix: str) -> str:
    """Every inline SVG of a figure's HTML rounded and de-duplicated (see module docstring)."""
    short = hashlib.sha1(prefix.encode()).hexdigest()[:6]  # short: an id is repeated at every point
    blocks = itertools.count()
    return SVG_BLOCK.sub(
        lambda m: reuse_repeated_paths(round_geometry(m.group()), f"p{short}{next(blocks)}"),
        html,
    )
