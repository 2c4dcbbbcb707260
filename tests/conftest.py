"""Shared test fixtures.

Browser tests use Debian's chromium. Where it is missing they are skipped with a message saying
how to install it; with WORKBENCH_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_HINT = "Debian's chromium is not installed: run `sudo apt-get install chromium`"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(CHROMIUM_HINT + " (required here: WORKBENCH_REQUIRE_BROWSER=1)")
        pytest.skip(CHROMIUM_HINT)
    return path


@pytest.fixture
def workbench_home(tmp_path, monkeypatch):
    """A fresh project home: data/, reports/ and the warehouse live under tmp_path."""
    (tmp_path / "data").mkdir()
    (tmp_path / "reports").mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("WORKBENCH_WAREHOUSE", raising=False)
    return tmp_path
