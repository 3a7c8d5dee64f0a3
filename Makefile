# The two commands: `make run` (the service with its embedded default) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install install-test bench clean

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

## Runs the whole test suite on SQLite and PostgreSQL (127.0.0.1:5432 must be reachable).
test: install-test
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info var .pytest_cache
