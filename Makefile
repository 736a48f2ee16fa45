# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv if missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.selfheal-installed

.PHONY: demo test lint typecheck pytest bench clean browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Run the whole pipeline on bundled sample data: no credentials, no network.
demo: $(STAMP)
	$(BIN)/selfheal demo

## Lint, format check, strict types, and every test (notebooks and browser checks included).
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## Headless Chromium for the report checks (Debian package; installed only when missing).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser checks"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/pull.py
	$(BIN)/python bench/normalize.py
	$(BIN)/python bench/report_size.py
	$(BIN)/python bench/triage.py
	$(BIN)/python bench/triage.py --corpus bench/corpus-holdout --no-samples
	$(BIN)/python bench/sources.py
	$(BIN)/python bench/cli_startup.py

clean:
	rm -rf out reports/*/ reports/index.html .pytest_cache .mypy_cache .ruff_cache
