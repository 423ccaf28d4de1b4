# The two commands of the quick start are `make demo` and `make test`; each sets up what is
# missing first (system packages when run as root, the virtualenv, the project).

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# test workers (pytest-xdist), whole files to one worker; 0 runs the suite in this process
PYTEST_WORKERS ?= 2

.PHONY: demo test check lint typecheck layers pytest setup clean

$(STAMP): pyproject.toml scripts/setup.sh
	./scripts/setup.sh

setup: $(STAMP)

## Start the app on demo data: no broker, no hardware.
demo: $(STAMP)
	$(BIN)/floor-app --demo

## Lint, type-check, layering contracts, then the whole test suite.
test: check pytest

check: lint typecheck layers

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
