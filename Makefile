# The front door: `make run` starts the platform embedded, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: env run run-regions test test-unit fuzz lint typecheck bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

$(BIN)/.synced: $(UV) pyproject.toml libs/common/pyproject.toml services/*/pyproject.toml tools/cli/pyproject.toml $(wildcard uv.lock)
	$(UV) sync --all-packages --python $(PYTHON) --quiet
	@touch $@

env: $(BIN)/.synced

run: env
	$(BIN)/nzr run

run-regions: env
	$(BIN)/nzr run-regions

# Three pytest-xdist workers (NZR_TEST_WORKERS): most tests wait on NATS, databases and
# service processes, so three share two cores well; each worker starts its own NATS server.
test: env
	$(BIN)/pytest -q -n $${NZR_TEST_WORKERS:-3} --dist worksteal

# Fast tests of pure rules (no I/O): every tests/unit under libs/common and services/*.
test-unit: env
	$(BIN)/pytest -q $(wildcard libs/common/tests/unit services/*/tests/unit)

# A longer schemathesis run than the bounded one in `make test`: more examples per operation
# (NZR_FUZZ_EXAMPLES, default 100) with a fixed seed (NZR_FUZZ_SEED to pick another).
fuzz: env
	NZR_FUZZ_EXAMPLES=$${NZR_FUZZ_EXAMPLES:-100} $(BIN)/pytest tests/fuzz -q --timeout=3600

lint: env
	$(BIN)/ruff check libs services tools tests bench
	$(BIN)/ruff format --check libs services tools tests bench
	$(BIN)/mypy

# mypy over the sources of libs, services and tools (configured in pyproject.toml).
typecheck: env
	$(BIN)/mypy

# Every benchmark in bench/, one after another; each prints our figure, its baseline and the ratio.
bench: env
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS) .var .var-regions
