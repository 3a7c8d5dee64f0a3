# The two commands: `make run` (the service with its embedded default) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# `make check`: ruff over CHECK_PATHS, mypy over CHECK_PACKAGES (configuration: pyproject.toml).
CHECK_PATHS ?= criteria geo channels alertsvc tests bench scripts
CHECK_PACKAGES ?= criteria geo channels alertsvc

.PHONY: run test check install install-test bench clean assets translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	bash scripts/test-setup.sh

## Runs the service on http://127.0.0.1:8000: SQLite at var/alertsvc.db, file channel var/outbox.jsonl, demo data.
run: install
	$(BIN)/alertsvc db upgrade
	$(BIN)/alertsvc demo --if-empty
	$(BIN)/alertsvc serve

## The checkers: ruff (lint) and mypy (types; strict on criteria, geo and channels). A few seconds.
check: install-test
	$(BIN)/ruff check $(CHECK_PATHS)
	$(BIN)/mypy $(CHECK_PACKAGES)

## The checkers, then the whole test suite on SQLite and PostgreSQL (127.0.0.1:5432 must be reachable).
test: check
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

## Rebuilds alertsvc/static from the pinned npm packages of assets/ (committed; needs Node.js and npm).
assets:
	bash scripts/build-assets.sh

## Adds new page texts to the catalogues, writes out sr_Cyrl and en from sr_Latn, compiles all three.
translations: install-test
	$(BIN)/python scripts/i18n.py update

bench: install-test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info var .pytest_cache
