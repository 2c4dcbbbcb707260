"""The project frame: dependency lists agree, notebooks carry no outputs, code is lint-clean."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def read_pyproject_requirements(path: Path) -> set[str]:
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    reqs = set(project["dependencies"])
    for extra in ("lab", "test"):
        reqs |= set(project["optional-dependencies"][extra])
    return {r.replace(" ", "") for r in reqs}


def read_environment_requirements(path: Path) -> set[str]:
    deps = yaml.safe_load(path.read_text(encoding="utf-8"))["dependencies"]
    reqs: set[str] = set()
    for dep in deps:
        if isinstance(dep, dict):
            reqs |= {d for d in dep["pip"] if not d.startswith("-")}
        elif not dep.startswith(("python=", "pip")) or dep.startswith("pip>"):
            reqs.add(dep)
    return {r.replace(" ", "") for r in reqs}


def find_dependency_drift(pyproject: Path, environment: Path) -> list[str]:
    """Requirements listed in one file but not the other (same name and version bound)."""
    a, b = read_pyproject_requirements(pyproject), read_environment_requirements(environment)
    return sorted(f"only in pyproject.toml: {r}" for r in a - b) + sorted(
        f"only in environment.yml: {r}" for r in b - a
    )


def find_notebook_outputs(folder: Path) -> list[str]:
    """Notebooks whose code cells carry outputs or execution counts."""
    found = []
    for nb_path in sorted(folder.glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                found.append(f"{nb_path.name}: cell {i} has outputs")
    return found


def test_environment_yml_matches_pyproject():
    drift = find_dependency_drift(ROOT / "pyproject.toml", ROOT / "environment.yml")
    assert not drift, "environment.yml and pyproject.toml disagree:\n" + "\n".join(drift)


def test_drift_check_catches_a_changed_bound(tmp_path):
    broken = tmp_path / "environment.yml"
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("pandas>=2.2", "pandas>=2.0"), encoding="utf-8")
    drift = find_dependency_drift(ROOT / "pyproject.toml", broken)
    assert "only in pyproject.toml: pandas>=2.2" in drift
    assert "only in environment.yml: pandas>=2.0" in drift


def test_committed_notebooks_have_no_outputs():
    assert not find_notebook_outputs(ROOT / "notebooks")


def test_output_check_catches_an_executed_notebook(tmp_path):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        pytest.skip("no notebooks yet")
    source = notebooks[0]
    nb = json.loads(source.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
    (tmp_path / source.name).write_text(json.dumps(nb), encoding="utf-8")
    assert find_notebook_outputs(tmp_path) == [
        f"{source.name}: cell {nb['cells'].index(code)} has outputs"
    ]


def test_code_is_lint_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workbench_help_lists_subcommands():
    result = subprocess.run(
        [sys.executable, "-m", "evaluation", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("demo", "demo-data", "ingest", "render", "verify"):
        assert command in result.stdout


@pytest.mark.parametrize("folder", ["notebooks", "evaluation", "data", "reports", "tests"])
def test_design_card_layout(folder):
    assert (ROOT / folder).exists()
