# The two commands in README.md: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test test-unit test-integration test-system bench-quick demo demo-serve lint screenshots clean help

help:
	@echo "make run   - set up, create the SQLite database, start Linkline (dry-run channels)"
	@echo "make test  - install the development tools, ruff, mypy, then every test (what CI runs)"
	@echo "make test-unit        - the pure tests: no database, socket or process (seconds)"
	@echo "make test-integration - a real database, loopback fakes, the pages over ASGI"
	@echo "make test-system      - processes, workers, the browser and the demo"
	@echo "make bench-quick - every benchmark with small counts: fails on a lost, duplicated or unstored message, never on speed"
	@echo "make demo  - three simulated weeks with six sample experts, in under a minute"
	@echo "make demo-serve - look around the demo's data in the staff pages (sign-ins printed)"
	@echo "make lint  - ruff (check and format), the import-layer contracts and mypy"
	@echo "make screenshots - walk the staff pages in Chromium and save docs/screenshots/*.png"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Linkline needs Python 3.11 or newer: run make with PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@$(BIN)/python -c 'import weasyprint' 2>/dev/null || { echo "Letters need Pango: run 'apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core' (or your system's equivalent)"; exit 1; }
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -c 'import weasyprint' 2>/dev/null || { echo "Letters need Pango: run 'apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core' (or your system's equivalent)"; exit 1; }
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/linkline db upgrade
	@echo "Dry-run messages are written under var/outbox/. Try 'make demo' to see the whole loop."
	$(BIN)/linkline run

demo: $(VENV)/.installed
	$(BIN)/linkline demo

demo-serve: $(VENV)/.installed
	$(BIN)/linkline demo-serve

# Two processes; worksteal so one long file (the workers) does not make the tail. The 15
# slowest tests are printed at the end, to see what to make faster next.
PYTEST := $(BIN)/python -m pytest -n 2 --dist worksteal --durations=15

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(PYTEST)

test-unit: $(VENV)/.installed-dev
	$(PYTEST) tests/unit

test-integration: $(VENV)/.installed-dev
	$(PYTEST) tests/integration

test-system: $(VENV)/.installed-dev
	$(PYTEST) tests/system

bench-quick: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/dispatch.py --quick
	$(BIN)/python benchmarks/dispatch.py --quick --lag
	$(BIN)/python benchmarks/webhooks.py --requests 40 --experts 20 --concurrency 4 --json
	$(BIN)/python benchmarks/plan.py --experts 300

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

screenshots: $(VENV)/.installed-dev
	LINKLINE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q tests/system/bot/web/admin/test_in_browser.py tests/system/bot/web/admin/test_in_browser_newcomer.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
