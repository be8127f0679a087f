# CareBridge — `make run` and `make test` set up everything on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ASSETS := web/static/vendor/.stamp
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST   ?= 127.0.0.1
PORT   ?= 5000
WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help setup run test test-sqlite test-postgres lint audit-deps format bench bench-quick clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || (echo "Python 3.11+ is required" && exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

$(ASSETS): web/package.json web/package-lock.json scripts/build_assets.sh
	@bash scripts/build_assets.sh

setup: $(STAMP) $(ASSETS) ## create .venv, install packages and static assets

run: setup ## set up, create the schema, deploy diagrams, seed demo data and serve (gunicorn) on http://127.0.0.1:5000
	$(BIN)/carebridge init --demo
	CAREBRIDGE_SECURE_COOKIES=0 $(BIN)/carebridge serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: setup lint ## set up and run the whole suite on SQLite, then on PostgreSQL when it answers
	CAREBRIDGE_TEST_DATABASE=sqlite $(BIN)/pytest
	@echo "== engine and process tests with every workflow restored (live-workflow cache off) =="
	CAREBRIDGE_TEST_DATABASE=sqlite $(BIN)/pytest tests/engine tests/processes -q -p no:cacheprovider --live-workflows=off
	@if [ -n "$$CAREBRIDGE_TEST_POSTGRES_URL" ] || $(BIN)/python scripts/pg_ready.py "$(PG_URL)"; then \
		echo "== PostgreSQL =="; \
		CAREBRIDGE_TEST_DATABASE=postgresql CAREBRIDGE_TEST_POSTGRES_URL=$${CAREBRIDGE_TEST_POSTGRES_URL:-$(PG_URL)} $(BIN)/pytest -m "not e2e"; \
	else echo "PostgreSQL not reachable: skipped the PostgreSQL pass"; fi

lint: $(STAMP) ## ruff, mypy, import-linter contracts, models vs. migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_migrations.py

audit-deps: $(STAMP) ## known vulnerabilities in the pinned packages (fails on one; warns when offline)
	$(BIN)/python scripts/audit_deps.py

format: $(STAMP) ## apply ruff formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## full benchmarks (writes bench/results/latest.json)
	$(BIN)/python -m bench.run --full

bench-quick: setup ## quick benchmarks, under 3 minutes
	$(BIN)/python -m bench.run --quick

clean: ## remove the virtualenv, node_modules, built assets and var/
	rm -rf $(VENV) web/node_modules web/static/vendor var
