# Duban: `make run` serves on http://127.0.0.1:5000, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Front-end libraries from npm (package-lock.json), copied into web/static/vendor/; never committed.
ASSETS := web/static/vendor/.built
# Browser tests drive Debian's chromium through Playwright's Python package (never `playwright install`).
CHROMIUM := /usr/bin/chromium
export DUBAN_VAR_DIR ?= var

# Tests talk to real services: PostgreSQL (database `test`) and Redis on this machine.
export DUBAN_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export DUBAN_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install assets browser run lint test test-unit test-workflow test-integration test-web bench lock clean

install: $(STAMP) $(ASSETS)

$(STAMP): setup.cfg constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

assets: $(ASSETS)

$(ASSETS): package.json package-lock.json tools/vendor_assets.py $(wildcard web/static/modeler/*)
	npm ci --no-audit --no-fund --ignore-scripts
	$(PYTHON) tools/vendor_assets.py
	touch $(ASSETS)

browser:
	@if [ -x $(CHROMIUM) ] && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "the browser tests need Debian's chromium and CJK fonts: sudo apt-get install chromium fonts-noto-cjk" >&2; \
	  exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y --no-install-recommends chromium fonts-noto-cjk || { apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk; }; \
	test -x $(CHROMIUM) || { echo "apt-get did not install $(CHROMIUM)" >&2; exit 1; }

run: install
	$(BIN)/duban db upgrade
	$(BIN)/duban deploy bpmn/*.bpmn bpmn/*.dmn
	$(BIN)/duban seed-demo
	$(BIN)/duban run --host 127.0.0.1 --port 5000

# Lint first, so CI fails on a lint error (configuration: pyproject.toml's [tool.ruff], eslint.config.js).
lint: install
	$(BIN)/ruff check .
	node_modules/.bin/eslint .

test: install browser lint
	$(BIN)/pytest -q

test-unit: install
	$(BIN)/pytest -q tests/unit

test-workflow: install
	$(BIN)/pytest -q tests/workflow

test-integration: install
	$(BIN)/pytest -q tests/integration

test-web: install browser
	$(BIN)/pytest -q tests/web

bench: install
	$(BIN)/python -m bench

# Re-resolve the pinned versions from setup.cfg's ranges (then commit constraints.txt).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[test]'
	.lockenv/bin/pip freeze --all --exclude-editable | grep -v -e '^-e' -e '^pip==' > constraints.txt
	rm -rf .lockenv

clean:
	rm -rf $(VENV) var .pytest_cache node_modules web/static/vendor
