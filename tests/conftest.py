"""Shared test fixtures.

Browser tests use Debian's chromium. Where it is missing they are skipped with a message saying
how to install it; with WORKBENCH_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess

import pytest

CHROMIUM_HINT = "Debian's chromium is not installed: run `sudo apt-get install chromium`"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browser_versions() -> str:
    """Chromium, Playwright and axe-core as this run has them: layouts depend on the build."""
    parts = []
    path = find_chromium()
    if path:
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
            parts.append(out.stdout.strip() or "chromium (version unknown)")
        except (OSError, subprocess.SubprocessError) as exc:
            parts.append(f"chromium (version unknown: {exc})")
    else:
        parts.append("chromium not installed")
    for package in ("playwright", "axe-playwright-python"):
        try:
            parts.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{package} not installed")
    try:
        import axe_playwright_python

        script = os.path.join(os.path.dirname(axe_playwright_python.__file__), "axe.min.js")
        with open(script, encoding="utf-8") as handle:
            found = re.search(r"axe v(\S+)", handle.read(200))
        parts.append(f"axe-core {found.group(1) if found else 'unknown'}")
    except (ImportError, OSError):
        parts.append("axe-core not installed")
    return "browser tests: " + ", ".join(parts)


def pytest_report_header(config):
    return browser_versions()


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
