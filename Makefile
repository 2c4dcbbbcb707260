# Thin wrappers around the `workbench` command; everything also works without make
# (see README: the conda route).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lab lint clean-reports

# The stamps make a second call reuse the environment unless pyproject/constraints changed.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(PIP) -e ".[test]"
	@touch $@

$(VENV)/.lab: $(VENV)/.runtime
	$(PIP) -e ".[lab]"
	@touch $@

demo: $(VENV)/.runtime
	$(BIN)/workbench demo

test: $(VENV)/.test
	$(BIN)/python -m pytest

# JupyterLab refuses to start as root unless told (root is common in containers and CI).
lab: $(VENV)/.lab
	$(BIN)/jupyter lab evaluation/reports/notebooks/ $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lint: $(VENV)/.test
	$(BIN)/ruff check .

clean-reports:
	rm -rf reports/*/
