# Two entry points for a fresh machine: `make demo` and `make test`. Both use .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/pip install --disable-pip-version-check -q

.PHONY: demo test lint typecheck install install-dev clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip

# torch==2.13.0 first: it is the local CPU build; any other spec would pull CUDA wheels.
$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) torch==2.13.0
	$(PIP) -e ".[distill]"
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(PIP) -e ".[distill,dev]"
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

## demo: install, build the default embedding model (once), index this repo, run two searches,
## and pack a context window for a task into a token budget
demo: install
	$(BIN)/contextos index .
	$(BIN)/contextos search "where are files skipped as secrets or binaries" --k 5
	$(BIN)/contextos search "reciprocal rank fusion of rankings" --files --k 5
	$(BIN)/contextos context "how does incremental indexing stay crash-safe" --budget 4000 -p .

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install-dev
	$(BIN)/mypy

## test: lint, type check, and the test suite
test: lint typecheck
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) build dist src/*.egg-info
