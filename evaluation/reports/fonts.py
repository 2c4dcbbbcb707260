"""The reports' one font, Liberation Sans (SIL Open Font License; the metrics of Arial), used by
the chart converter to measure text and embedded in every page, so a chart's labels are laid
out with the widths they are drawn with on any machine (issue 13: on machines with only DejaVu,
legends overlapped and labels clipped).

The page carries a subset (fontTools' subsetter) of the characters the reports use, as a WOFF
data URL: the page stays offline and small. WOFF (zlib) rather than WOFF2, which would need the
brotli package; Chromium, Firefox and Safari read both.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path

FAMILY = "Liberation Sans"
# where Debian's fonts-liberation2 (and the older fonts-liberation) put the files; .ci/run
# installs fonts-liberation2
FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
FACES = {"normal": "LiberationSans-Regular.ttf", "bold": "LiberationSans-Bold.ttf"}
# Latin-1 (æ, ø, å, é, ...), the Greek letters of the evaluation's formulas (σ, τ, λ, Σ), the
# typography of Danish text (dashes, quotes, minus, spaces) and the symbols the reports print
# (verdicts, arrows, comparisons)
EMBEDDED_CHARACTERS = (
    "".join(chr(c) for c in range(0x20, 0x7F))
    + "".join(chr(c) for c in range(0xA0, 0x100))
    + "".join(chr(c) for c in range(0x391, 0x3CA) if c != 0x3A2)  # 0x3A2 is unassigned
    + "\u2009\u200a\u202f\u2010\u2012\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e"
    + "\u2022\u2026\u2030\u2032\u2033\u2039\u203a\u20ac\u2122\u2190\u2191\u2192\u2193\u2194"
    + "\u2212\u2248\u2260\u2264\u2265\u25b2\u25bc\u25cf\u25a0"
)


def font_directory() -> Path | None:
    """The folder holding Liberation Sans, or None where it is not installed."""
    for folder in FONT_DIRECTORIES:
        if (folder / FACES["normal"]).is_file():
            return folder
    return None


@cache
def subset_woff(font_path: Path, characters: str) -> bytes:
    """The font cut down to `characters` (those it has), as WOFF bytes."""
    from fontTools import subset  # why: fontTools loads only when a page is built
    from fontTools.ttLib import TTFont

    font = TTFont(font_path, recalcTimestamp=False)  # the same bytes every time
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["kern", "liga"]
    options.name_IDs = ["*"]  # keep the licence and copyright names (the OFL asks for them)
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: not needed, and not subsettable
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters])
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff"
    font.save(out)
    return out.getvalue()


def register_for_charts() -> None:
    """Let vl-convert measure and name chart text in the font (once per process)."""
    folder = font_directory()
    if folder is not None:
        _register(str(folder))


@cache
def _register(folder: str) -> None:
    import vl_convert as vlc  # why: only chart building needs the converter

    vlc.register_font_directory(folder)


@cache
def font_face_css(characters: str = EMBEDDED_CHARACTERS) -> str:
    """@font-face rules with the font's subset as data URLs, or "" without the font (the page
    then falls back to Arial or the browser's sans-serif)."""
    folder = font_directory()
    if folder is None:
        return ""
    rules = []
    for weight, file_name in FACES.items():
        data = base64.b64encode(subset_woff(folder / file_name, characters)).decode("ascii")
        rules.append(
            f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: {weight};'
            f' src: url(data:font/woff;base64,{data}) format("woff"); }}\n'
        )
    return "".join(rules)


def covered_characters(woff: bytes) -> set[str]:
    """The characters a font file maps to glyphs (its cmap)."""
    from fontTools.ttLib import TTFont  # why: fontTools loads only when asked

    return {chr(c) for c in TTFont(io.BytesIO(woff)).getBestCmap()}


@cache
def advance_widths() -> tuple[dict[str, float], float] | None:
    """Each character's advance width in Liberation Sans (regular) in em, and the widest one;
    None without the font. Lets a chart know without vl-convert that a label fits its limit."""
    folder = font_directory()
    if folder is None:
        return None
    from fontTools.ttLib import TTFont  # why: fontTools loads only when a chart is built

    font = TTFont(folder / FACES["normal"], lazy=True)
    em = font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    widths = {chr(code): metrics[glyph][0] / em for code, glyph in font.getBestCmap().items()}
    return widths, max(widths.values())


def text_width(text: str, size: float) -> float | None:
    """The width of `text` in pixels at font `size` from the advance widths (no kerning), a
    character the font lacks counted as the widest; None without the font."""
    found = advance_widths()
    if found is None:
        return None
    widths, widest = found
    return size * sum(widths.get(character, widest) for character in text)
