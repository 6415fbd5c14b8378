# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

N ?= 5
SOAK_MINUTES ?= 10
FUZZ_CASES ?= 10000

.PHONY: venv run sim test test-repeat check lint format clean bench bench-full fuzz soak

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

venv: $(BIN)/.installed

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,dev,bench]'
	touch $@

## Serve the API against the embedded Nomad simulator, seeded with deploy/jobs.
run: venv
	$(BIN)/nomad-bridge serve --sim --host $(HOST) --port $(PORT)

## The simulator alone, as a Nomad HTTP API on :4646.
sim: venv
	$(BIN)/nomad-bridge sim --host $(HOST) --port 4646 --seed deploy/jobs

## Lint, format check, types, then the whole test suite.
test: check
	$(BIN)/python -m pytest

## The whole suite N times in a row, to hunt flakes: every failure with its run number, a
## summary, exit 1 if any run failed. REPEAT_ARGS: e.g. `--order shuffle` or `-- tests/bridge`.
test-repeat: venv
	$(BIN)/python -m tests.repeat --runs $(N) $(REPEAT_ARGS)

check: venv
	$(BIN)/ruff check nomad_bridge tests bench soak
	$(BIN)/ruff format --check nomad_bridge tests bench soak
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix nomad_bridge tests bench soak
	$(BIN)/ruff format nomad_bridge tests bench soak

## Benchmarks: side-by-side ratios, bench/results/latest.json, docs/performance.{md,png}.
bench: $(BIN)/.bench-installed
	$(BIN)/python -m bench --quick

bench-full: $(BIN)/.bench-installed
	$(BIN)/python -m bench --full

## 10,000 schemathesis cases against /openapi.json of a running bridge.
fuzz: venv
	$(BIN)/python -m tests.fuzz --cases $(FUZZ_CASES)

## Mixed load with periodic Nomad faults for SOAK_MINUTES; figures in docs/reliability.md.
soak: venv
	$(BIN)/python -m soak --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
