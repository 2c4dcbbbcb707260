"""evaluation.config: where the project home, the warehouse, the reports and the package data live
(WORKBENCH_HOME, WORKBENCH_WAREHOUSE and WORKBENCH_REAL_DATA set to temporary folders)."""

from __future__ import annotations

from evaluation import config


def test_home_and_its_folders_follow_workbench_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    home = (tmp_path / "home").resolve()
    assert config.find_home() == home
    assert config.data_dir() == home / "data"
    assert config.raw_dir() == home / "data" / "raw"
    assert config.demo_raw_dir() == home / "data" / "raw" / "demo"
    assert config.reports_dir() == home / "reports"


def test_home_is_the_current_folder_without_workbench_home(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert config.find_home() == tmp_path.resolve()
    monkeypatch.setenv("WORKBENCH_HOME", "")  # set but empty counts as not set
    assert config.find_home() == tmp_path.resolve()


def test_warehouse_is_under_data_unless_workbench_warehouse_names_one(workbench_home, monkeypatch):
    home = workbench_home.resolve()
    assert config.warehouse_path() == home / "data" / "warehouse" / "workbench.duckdb"
    monkeypatch.setenv("WORKBENCH_WAREHOUSE", str(workbench_home / "elsewhere" / "w.duckdb"))
    assert config.warehouse_path() == home / "elsewhere" / "w.duckdb"


def test_real_data_from_the_variable_then_beside_the_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_REAL_DATA", str(tmp_path / "real"))
    assert config.real_data_dir() == (tmp_path / "real").resolve()

    monkeypatch.delenv("WORKBENCH_REAL_DATA")
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "project"))
    monkeypatch.setattr(config, "SOURCE_ROOT", tmp_path / "checkout")
    beside = tmp_path.resolve() / "shared" / "data" / "real"
    # neither beside the home nor beside the checkout: the place it would be, beside the home
    assert config.real_data_dir() == beside
    (tmp_path / "elsewhere" / "shared" / "data" / "real").mkdir(parents=True)
    monkeypatch.setattr(config, "SOURCE_ROOT", tmp_path / "elsewhere" / "checkout")
    assert config.real_data_dir() == tmp_path / "elsewhere" / "shared" / "data" / "real"
    beside.mkdir(parents=True)  # beside the home wins over beside the checkout
    assert config.real_data_dir() == beside


def test_package_data_and_the_privacy_floor():
    assert config.catalog_path() == config.PACKAGE_DIR / "catalog.yaml"
    assert config.catalog_path().is_file()
    assert (config.notebooks_dir() / "cluster_report.ipynb").is_file()
    assert config.notebooks_dir() == config.PACKAGE_DIR / "reports" / "notebooks"
    assert (config.MIN_N_DEFAULT, config.MIN_N_FLOOR) == (5, 3)
