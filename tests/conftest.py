"""Shared test fixtures: the browser, a project home, and the fixtures several test files use
(their data and helpers are modules in tests/fixtures/).

Browser tests use Debian's chromium. Where it is missing they are skipped with a message saying
how to install it; with WORKBENCH_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


# --- fixtures several test files share (their data and helpers live in tests/fixtures/) ---------

FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES))  # the helper modules below, as the test files import them


@pytest.fixture
def tiny(tmp_path):
    """The tiny hand-made catalog of fixtures/hand_values.py (test_scores, test_aggregate)."""
    from hand_values import TINY_CATALOG, write_catalog

    from evaluation.catalog import load_catalog

    return load_catalog(write_catalog(tmp_path, TINY_CATALOG))


@pytest.fixture
def warehouse(tmp_path):
    """The hand-made warehouse of fixtures/hand_values.py (test_aggregate, test_load).

    test_cluster_report.py overrides this name with its own module fixture (the report warehouse
    of fixtures/tiny_warehouse.py)."""
    from hand_values import build_hand_warehouse

    return build_hand_warehouse(tmp_path)


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory) -> Path:
    """The public fixture files plus the Frederiksberg cluster map, ingested once
    (fixtures/public_data.py; test_public_ingest, test_published, test_run). Read only."""
    from public_data import MAP, fixture_public_files

    from evaluation.data import ingest

    target = tmp_path_factory.mktemp("public_cluster") / "w.duckdb"
    ingest.ingest_paths([*fixture_public_files(), MAP], target)
    return target


@pytest.fixture
def project(workbench_home, monkeypatch):
    """A project home with a tiny warehouse and the fixture reports registered
    (fixtures/render_project.py; test_run, test_verify, test_workers, test_kernels)."""
    from render_project import make_registry, make_warehouse

    from evaluation.render import registry

    warehouse = make_warehouse(workbench_home / "data")
    monkeypatch.setenv("WORKBENCH_WAREHOUSE", str(warehouse))
    monkeypatch.setattr(
        registry, "REPORTS", make_registry(("ok", "cluster"), ("fail", "municipality"))
    )
    return workbench_home
