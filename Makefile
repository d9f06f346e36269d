# Two commands for a new machine: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINTED := $(wildcard src tests scripts bench)
# The compiled strict reader of claim tables (src/bhyt/claims/_flat.c); Python falls back to lxml without it.
FLAT := src/bhyt/claims/_flat$(shell $(PYTHON) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
PYINCLUDE := $(shell $(PYTHON) -c "import sysconfig; print(sysconfig.get_paths()['include'])")

.PHONY: setup demo test lint imports typecheck pytest lock clean

setup: $(STAMP) $(FLAT)

$(FLAT): src/bhyt/claims/_flat.c
	$(CC) -O2 -shared -fPIC -Wall -Wextra -Werror -I$(PYINCLUDE) -o $@ $<

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/bhyt demo

test: setup lint imports typecheck pytest

lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

# The layer contracts in pyproject.toml: a back arrow between layers fails the build.
imports: setup
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy src

pytest: setup
	$(BIN)/pytest -q

# Re-resolve the pinned versions: a clean venv with the newest allowed releases, then freeze.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[dev]'
	.lockenv/bin/pip freeze --exclude-editable > constraints.txt
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(FLAT)
