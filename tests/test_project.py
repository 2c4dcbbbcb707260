"""The project frame: dependency lists agree, notebooks carry no outputs, code is lint-clean."""

from __future__ import annotations

import ast
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
    assert not find_notebook_outputs(ROOT / "evaluation" / "reports" / "notebooks")


def test_output_check_catches_an_executed_notebook(tmp_path):
    notebooks = sorted((ROOT / "evaluation" / "reports" / "notebooks").glob("*.ipynb"))
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


# --- the house: stages, downhill imports, sizes --------------------------------------------------

# Each stage may import the base and the stages before it, never one after it
# (docs/architecture.md).
# stats is pure (numpy/scipy/statsmodels on plain frames) and sits right above the base, so the
# data stage may use it (the public ingest fits the national spread).
STAGE_ORDER = ("base", "stats", "data", "values", "reports", "render", "cli")
TOP_LEVEL = {"cli": "cli", "__main__": "cli"}  # flat modules that are not base


def stage_of(module: str) -> str:
    """`evaluation.values.privacy` -> values; `evaluation.config` -> base; `.cli` -> cli."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in STAGE_ORDER:
        return parts[1]
    return TOP_LEVEL.get(parts[-1], "base")


def module_of(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, package: Path) -> list[tuple[str, int]]:
    """Every package-internal import, at any depth (inside functions too), as (module, line)."""
    found = []
    root = package.parent
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: use absolute imports (evaluation....)")
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == package.name:
            for alias in node.names:  # `from evaluation.data import ingest` imports a module
                full = f"{node.module}.{alias.name}"
                is_module = (root / (full.replace(".", "/") + ".py")).is_file() or (
                    root / full.replace(".", "/")
                ).is_dir()
                found.append((full if is_module else node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [
                (a.name, node.lineno) for a in node.names if a.name.split(".")[0] == package.name
            ]
    return found


def find_house_violations(package: Path) -> list[str]:
    """Imports that go uphill or sideways between stages, and import cycles between modules."""
    rank = {stage: i for i, stage in enumerate(STAGE_ORDER)}
    graph: dict[str, set[str]] = {}
    problems = []
    for path in sorted(package.rglob("*.py")):
        module = module_of(path, package)
        graph.setdefault(module, set())
        for target, line in imports_of(path, package):
            if target == package.name:
                continue
            graph[module].add(target)
            here, there = stage_of(module), stage_of(target)
            sideways = rank[here] == rank[there] and here != there
            if rank[there] > rank[here] or sideways:
                problems.append(f"{module}:{line} imports {target} ({here} -> {there})")
    problems += [" -> ".join(cycle) for cycle in find_cycles(graph)]
    return problems


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles (each reported once, from its smallest module)."""
    cycles, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycle = path[path.index(nxt) :]
                start = cycle.index(min(cycle))
                key = tuple(cycle[start:] + cycle[:start])
                if key not in done:
                    done.add(key)
                    cycles.append([*key, key[0]])
            elif nxt in graph:
                visit(nxt, [*path, nxt])

    for node in sorted(graph):
        visit(node, [node])
    return cycles


def test_imports_run_downhill_without_cycles():
    assert find_house_violations(ROOT / "evaluation") == []


def test_house_check_catches_a_circle_and_an_uphill_import(tmp_path):
    package = tmp_path / "evaluation"
    for folder in ("values", "reports"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "catalog.py").write_text(
        "def load():\n    from evaluation.values import privacy\n", encoding="utf-8"
    )
    (package / "values" / "privacy.py").write_text(
        "from evaluation import catalog\nfrom evaluation.reports import charts\n", encoding="utf-8"
    )
    (package / "reports" / "charts.py").write_text("", encoding="utf-8")
    problems = find_house_violations(package)
    assert "evaluation.catalog:2 imports evaluation.values.privacy (base -> values)" in problems
    assert "evaluation.values.privacy:2 imports evaluation.reports.charts (values -> reports)" in (
        problems
    )
    assert "evaluation.catalog -> evaluation.values.privacy -> evaluation.catalog" in problems


@pytest.mark.slow
def test_wheel_ships_notebooks_templates_catalog_and_texts(tmp_path):
    """`pip install .` (not editable) must find everything it needs inside the package."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    import zipfile

    (wheel,) = tmp_path.glob("evaluation-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for notebook in (ROOT / "evaluation" / "reports" / "notebooks").glob("*.ipynb"):
        assert f"evaluation/reports/notebooks/{notebook.name}" in names
    for needed in (
        "evaluation/catalog.yaml",
        "evaluation/stats/effect_validation.yaml",
        "evaluation/texts/da.yaml",
        "evaluation/texts/en.yaml",
        "evaluation/render/templates/offline/index.html.j2",
        "evaluation/render/templates/offline/conf.json",
    ):
        assert needed in names


def test_project_home_is_never_the_installed_package(tmp_path, monkeypatch):
    from evaluation import config

    monkeypatch.delenv("WORKBENCH_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert config.find_home() == tmp_path.resolve()
    assert config.data_dir() == tmp_path.resolve() / "data"
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "elsewhere"))
    assert config.reports_dir() == (tmp_path / "elsewhere").resolve() / "reports"


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def find_oversized(package: Path) -> list[str]:
    """Modules over MAX_MODULE_LINES lines and functions over MAX_FUNCTION_LINES lines."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(package.parent).as_posix()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            found.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_module_over_500_lines_and_no_function_over_80():
    assert find_oversized(ROOT / "evaluation") == []


def test_size_check_catches_an_oversized_copy(tmp_path):
    package = tmp_path / "evaluation"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(85))
    (package / "big.py").write_text(f"def long():\n{body}\n" + "\n" * 420, encoding="utf-8")
    assert find_oversized(package) == [
        "evaluation/big.py: 506 lines",
        "evaluation/big.py:1 long: 86 lines",
    ]


def test_one_home_for_the_privacy_floor():
    """check_min_n is defined once (values.privacy) and every other module calls that one."""
    homes = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "evaluation").rglob("*.py")
        if "def check_min_n(" in path.read_text(encoding="utf-8")
    ]
    assert homes == ["evaluation/values/privacy.py"]


# Imported only with their extra (pip install .[dask]), inside the functions that need them.
OPTIONAL_IMPORTS = {"distributed"}


def test_every_library_the_package_imports_comes_with_its_runtime_dependencies():
    # `make demo` installs only [project] dependencies: fontTools came only through the test
    # extras (matplotlib), and every report failed on a fresh machine (session 7)
    from importlib import metadata

    from packaging.requirements import Requirement

    def name(text: str) -> str:
        return text.lower().replace("_", "-").replace(".", "-")

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [Requirement(r).name for r in declared["dependencies"]]
    installed_with_it: set[str] = set()
    while todo:
        dist = name(todo.pop())
        if dist in installed_with_it:
            continue
        installed_with_it.add(dist)
        for text in metadata.requires(dist) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    imported = set()
    for source in (ROOT / "evaluation").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.partition(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"evaluation", *OPTIONAL_IMPORTS}
    owners = metadata.packages_distributions()
    missing = [
        module
        for module in sorted(third_party)
        if not {name(d) for d in owners.get(module, [module])} & installed_with_it
    ]
    assert missing == [], "declare them in pyproject.toml and environment.yml"
