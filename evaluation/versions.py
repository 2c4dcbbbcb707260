"""The one list of packages a report's numbers depend on, their installed versions, and the git
commit of the code.

The render manifest records them (a change makes a stored report stale) and the evaluation report
shows them, so both name the same packages in the same order and the same commit.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from evaluation import config

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


def find_git_dir(root: Path) -> tuple[Path, Path]:
    """(the checkout's git directory, the directory holding its refs): both root/.git in a plain
    clone; in a `git worktree` .git is a file naming its own directory, whose commondir file
    points at the main repository's."""
    git = root / ".git"
    if not git.is_file():
        return git, git
    git_dir = Path(git.read_text(encoding="utf-8").split(":", 1)[1].strip())
    common = git_dir / "commondir"
    if common.is_file():
        return git_dir, (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
    return git_dir, git_dir


def read_git_commit(root: Path | None = None) -> str:
    """The checked-out commit read from .git directly (no git program needed), or "unknown"."""
    try:
        git_dir, refs_dir = find_git_dir(root or config.SOURCE_ROOT)
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        for folder in (git_dir, refs_dir):
            if (folder / ref).is_file():
                return (folder / ref).read_text(encoding="utf-8").strip()
        for line in (refs_dir / "packed-refs").read_text(encoding="utf-8").splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    except (OSError, IndexError):
        pass
    return "unknown"
