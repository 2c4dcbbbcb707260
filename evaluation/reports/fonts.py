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
import contextlib
import hashlib
import io
import os
import tempfile
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
    """The font cut down to `characters` (those it has), as WOFF bytes. Cut once a machine, not
    in every process of a run (the parent and each kernel: ~0.3 s of CPU a face; issue 17): kept
    in a private temporary folder under a name from the font, the characters and this module."""
    cached = subset_cache_path(font_path, characters)
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    font = subset_font(font_path, characters)
    out = io.BytesIO()
    font.flavor = "woff"
    font.save(out)
    if cached is not None:
        keep_subset(cached, out.getvalue())
    return out.getvalue()


def keep_subset(cached: Path, data: bytes) -> None:
    """Write a subset whole or not at all, other processes may read it at once; a folder we
    cannot write to only costs speed. Not files.write_atomically: a module the warm kernel keeps
    across reports imports nothing of evaluation/ (render.kernels.KEPT_MODULES)."""
    partial = cached.with_name(f".{cached.name}.{os.getpid()}")
    try:
        partial.write_bytes(data)
        os.replace(partial, cached)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def subset_cache_path(font_path: Path, characters: str) -> Path | None:
    """Where subset_woff keeps this subset; None where no folder of our own can be had."""
    import fontTools  # why: fontTools loads only when a page is built

    if not hasattr(os, "getuid"):
        return None
    folder = Path(tempfile.gettempdir()) / f"workbench-font-subsets-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        mine = folder.stat().st_uid == os.getuid() and not folder.stat().st_mode & 0o077
    except OSError:  # no temporary folder to write to: cut the font in this process
        return None
    if not mine:
        return None  # not ours alone: cut the font in this process
    key = hashlib.sha256(font_path.read_bytes() + Path(__file__).read_bytes())
    key.update(f"{characters}\n{fontTools.version}".encode())
    return folder / f"{key.hexdigest()[:32]}.woff"


def subset_font(font_path: Path, characters: str):
    """The font (a fontTools TTFont) cut down to `characters`: outlines, metrics, kerning and
    the licence names kept."""
    from fontTools import subset  # why: fontTools loads only when a page is built
    from fontTools.ttLib import TTFont

    font = TTFont(font_path, recalcTimestamp=False)  # the same bytes every time
    options = subset.Options()
    options.layout_features = ["kern", "liga"]
    options.name_IDs = ["*"]  # keep the licence and copyright names (the OFL asks for them)
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: not needed, and not subsettable
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters])
    subsetter.subset(font)
    return font


def register_for_charts() -> bool:
    """Let vl-convert measure and name chart text in the font (once per process); False
    without the font."""
    folder = font_directory()
    if folder is None:
        return False
    _register(str(folder))
    return True


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
