# Two commands: `make run` serves the app on SQLite at http://127.0.0.1:5000, `make test` runs
# every test. Both set up .venv first and reinstall only when a requirements file changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test reliability lint format vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

HOST := 127.0.0.1
PORT := 5000

run: $(VENV)/.installed
	APP_ENV=development $(BIN)/flask db upgrade
	@echo "Formyard is at http://$(HOST):$(PORT)"
	APP_ENV=development $(BIN)/flask run --host $(HOST) --port $(PORT)

# Line coverage of app/ is measured in every worker (pytest-cov) and printed per package;
# `make test COVERAGE=0` skips it for a quicker look.
COVERAGE ?= 1
test: $(VENV)/.dev-installed
ifeq ($(COVERAGE),1)
	$(BIN)/pytest -n auto --cov=app --cov-report=
	$(BIN)/python scripts/coverage_by_package.py
else
	$(BIN)/pytest -n auto
endif

# Loads and faults against servers it starts itself (PostgreSQL 15 binaries and redis-server
# needed); a minute per scenario. RELIABILITY_SECONDS=10 for a quicker look; `make test` runs
# a short version.
reliability: $(VENV)/.dev-installed
	$(BIN)/python -m tests.reliability

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint .github/workflows/ci.yml

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh app/static/vendor/ from npm after changing package.json (needs Node; deploys do not).
vendor:
	npm ci --no-audit --no-fund
	npm run vendor

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage
