# The two commands of the quick start are `make demo` and `make test`; each sets up what is
# missing first (system packages when run as root, the virtualenv, the project).

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# test workers (pytest-xdist), whole files to one worker; 0 runs the suite in this process
PYTEST_WORKERS ?= 2

# the role of a terminal joining the running demo site (make demo-join ROLE=supervisor)
ROLE ?= packer

.PHONY: demo demo-join test check lint typecheck layers catalogues pytest setup clean

$(STAMP): pyproject.toml scripts/setup.sh
	./scripts/setup.sh

setup: $(STAMP)

## The living demo site: a private broker, the hub, this terminal's device and simulated
## colleagues (docs/demo.md); without Mosquitto, the device alone.
demo: $(STAMP)
	$(BIN)/floor-demo

## Another terminal joins the running demo site as a packer (or ROLE=picker, supervisor).
demo-join: $(STAMP)
	$(BIN)/floor-demo join --role $(ROLE)

## Lint, type-check, layering contracts, then the whole test suite.
test: check pytest

check: lint typecheck layers catalogues

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

# every key and rejection code the code names is in each catalogue, zh_CN translated
catalogues: $(STAMP)
	$(BIN)/python -m floor_app.ui.i18n.extract check

pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
