# Two entry points for a fresh clone: `make demo` and `make test`. Each bootstraps .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The example books describe a business as of this date; pinning it keeps the demo's states as documented.
DEMO_DATE ?= 2026-11-23

.PHONY: demo test lint install clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/notifier check
	$(BIN)/notifier status --as-of $(DEMO_DATE)

lint: $(BIN)/.installed
	$(BIN)/ruff check notifier tests
	$(BIN)/ruff format --check notifier tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) public .pytest_cache .mypy_cache .ruff_cache .hypothesis
