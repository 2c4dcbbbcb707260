"""Key figures: a report notebook's last cell records them; `workbench verify` compares them.

Imported inside report kernels, so its top level imports only the standard library.
"""

from __future__ import annotations

import json
import math
from typing import Any

KEY_FIGURES_MIME = "application/vnd.workbench.key-figures+json"
KEY_FIGURE_DECIMALS_MIME = "application/vnd.workbench.key-figure-decimals+json"


class Shown(float):
    """A figure rounded to the decimals the page prints it with, and those decimals.

    A key figure leaves the kernel (notebook output, run manifest) no more precisely than the
    page shows it: six decimals of a cluster mean would narrow down cells the tables hide
    (issue #18). It is a float, so code that compares figures keeps working.
    """

    decimals: int

    def __new__(cls, value, decimals: int):
        figure = super().__new__(cls, round(float(value), decimals))
        figure.decimals = int(decimals)
        return figure


def figure_decimals(figures: dict) -> dict[str, int]:
    """The recorded decimals of each top-level `Shown` figure (the rest have none)."""
    return {str(k): v.decimals for k, v in figures.items() if isinstance(v, Shown)}


def to_plain_json(value: Any) -> Any:
    """Turn numpy/pandas scalars, tuples and NaN into plain JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): to_plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain_json(v) for v in value]
    if isinstance(value, Shown):
        value = float(value)
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
    bundle = {KEY_FIGURES_MIME: plain, "text/plain": summary}
    decimals = figure_decimals(figures)
    if decimals:  # verify compares each figure at the precision recorded here
        bundle[KEY_FIGURE_DECIMALS_MIME] = decimals
    display(bundle, raw=True)
