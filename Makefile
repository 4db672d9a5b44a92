# adstudio — every target does its own set-up; CI runs `make test` through .ci/run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# `make pytest` runs the suite in one process per core (pytest-xdist), at most
# PYTEST_MAX_WORKERS of them; PYTEST_WORKERS=0 runs it serially, in one process.
PYTEST_WORKERS     ?= auto
PYTEST_MAX_WORKERS ?= 2

.PHONY: setup run serve migrate test pytest lint format typecheck schema bench bench-peer clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: migrate serve

serve: setup
	$(BIN)/adstudio serve --host $(HOST) --port $(PORT)

migrate: setup
	$(BIN)/adstudio migrate

test: lint typecheck pytest

pytest: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses $(PYTEST_MAX_WORKERS) --durations=30

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: setup
	$(BIN)/mypy app migrations tests bench

schema: setup
	$(BIN)/adstudio export-schema --output schema.graphql

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .cache

bench: setup
	$(BIN)/python -m bench.dashboard --rounds 3 --profile

# adstudio against PostGraphile 5 (docs/benchmarks.md); needs ADSTUDIO_TEST_POSTGRES_URL and npm.
# Options through PEER_ARGS, e.g. PEER_ARGS='--adstudio-modes resolvers --cases dashboard'.
PEER_ARGS ?=
bench-peer: setup
	$(BIN)/python -m bench.peer $(PEER_ARGS)
