"""The one list of key packages: what the run manifest records and the evaluation report shows."""

from __future__ import annotations

import platform
from importlib import metadata

from evaluation import versions


def test_python_comes_first_then_the_installed_key_packages_in_list_order():
    found = versions.read_package_versions()
    assert next(iter(found)) == "python"
    assert found["python"] == platform.python_version()
    assert found["pandas"] == metadata.version("pandas")
    assert list(found)[1:] == [p for p in versions.KEY_PACKAGES if p in found]


def test_a_package_that_is_not_installed_is_left_out(monkeypatch):
    monkeypatch.setattr(versions, "KEY_PACKAGES", ("pandas", "no-such-package-wb"))
    assert list(versions.read_package_versions()) == ["python", "pandas"]


def test_the_list_keeps_every_package_the_manifest_recorded_before():
    recorded_before = {
        "evaluation", "pandas", "numpy", "scipy", "statsmodels", "altair", "vl-convert-python",
        "duckdb", "pyarrow", "pandera", "papermill", "nbconvert", "nbformat", "nbclient",
        "ipykernel", "jupyter_client", "jsonschema", "jupyterlab",
    }  # fmt: skip
    assert recorded_before <= set(versions.KEY_PACKAGES)
    assert len(set(versions.KEY_PACKAGES)) == len(versions.KEY_PACKAGES)


def test_read_git_commit_in_a_git_worktree(tmp_path):
    # a worktree's .git is a file "gitdir: <main>/.git/worktrees/<name>"; its HEAD names a branch
    # whose ref lives in the main repository (the worktree's commondir file says where)
    main = tmp_path / "main" / ".git"
    own = main / "worktrees" / "wt"
    (main / "refs" / "heads").mkdir(parents=True)
    own.mkdir(parents=True)
    (main / "refs" / "heads" / "topic").write_text("d" * 40 + "\n", encoding="utf-8")
    (own / "HEAD").write_text("ref: refs/heads/topic\n", encoding="utf-8")
    (own / "commondir").write_text("../..\n", encoding="utf-8")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {own}\n", encoding="utf-8")
    assert versions.read_git_commit(checkout) == "d" * 40
