"""The one list of packages a report's numbers depend on, and their installed versions.

The render manifest records them (a change makes a stored report stale) and the evaluation report
shows them, so both name the same packages in the same order.
"""

from __future__ import annotations

import platform
from importlib import metadata

KEY_PACKAGES = (
    "evaluation",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "altair",
    "vl-convert-python",
    "duckdb",
    "pyarrow",
    "pandera",
    "papermill",
    "nbconvert",
    "nbformat",
    "nbclient",
    "ipykernel",
    "jupyter_client",
    "jsonschema",
    "jupyterlab",
)


def read_package_versions() -> dict[str, str]:
    """Python's version, then the installed version of each key package (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
