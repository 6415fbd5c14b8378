# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: venv run sim test check lint format clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

venv: $(BIN)/.installed

## Serve the API against the embedded Nomad simulator, seeded with deploy/jobs.
run: venv
	$(BIN)/nomad-bridge serve --sim --host $(HOST) --port $(PORT)

## The simulator alone, as a Nomad HTTP API on :4646.
sim: venv
	$(BIN)/nomad-bridge sim --host $(HOST) --port 4646 --seed deploy/jobs

## Lint, format check, types, then the whole test suite.
test: check
	$(BIN)/python -m pytest

check: venv
	$(BIN)/ruff check nomad_bridge tests
	$(BIN)/ruff format --check nomad_bridge tests
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix nomad_bridge tests
	$(BIN)/ruff format nomad_bridge tests

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
