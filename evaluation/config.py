"""Where things live. Every path the workbench uses comes from here, never from literals elsewhere.

The project home is the folder holding `data/` and `reports/`: the environment variable
WORKBENCH_HOME, else the current working directory. Never the installed package: after
`pip install .` the package sits in site-packages, where no data belongs.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent

MIN_N_DEFAULT = 5  # smallest group shown (DESIGN.md, Privacy)
MIN_N_FLOOR = 3  # a min_n below this is refused


def find_home() -> Path:
    """Return the project home folder (see module docstring)."""
    env = os.environ.get("WORKBENCH_HOME")
    if env:
        return Path(env).resolve()
    return Path.cwd().resolve()


def data_dir() -> Path:
    return find_home() / "data"


def raw_dir() -> Path:
    return data_dir() / "raw"


def demo_raw_dir() -> Path:
    return raw_dir() / "demo"


def warehouse_path() -> Path:
    """The embedded DuckDB warehouse; WORKBENCH_WAREHOUSE overrides it."""
    env = os.environ.get("WORKBENCH_WAREHOUSE")
    if env:
        return Path(env).resolve()
    return data_dir() / "warehouse" / "workbench.duckdb"


def reports_dir() -> Path:
    return find_home() / "reports"


def notebooks_dir() -> Path:
    """Report notebooks: package data of evaluation.reports, so `pip install .` ships them."""
    return PACKAGE_DIR / "reports" / "notebooks"


def catalog_path() -> Path:
    """The indicator catalog (YAML) shipped with the package."""
    return PACKAGE_DIR / "catalog.yaml"


def real_data_dir() -> Path:
    """The ministry's public figures, when present (../shared/data/real beside the project home,
    or beside the source checkout)."""
    env = os.environ.get("WORKBENCH_REAL_DATA")
    if env:
        return Path(env).resolve()
    for root in (find_home(), SOURCE_ROOT):
        candidate = root.parent / "shared" / "data" / "real"
        if candidate.is_dir():
            return candidate
    return find_home().parent / "shared" / "data" / "real"
