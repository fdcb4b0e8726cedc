# `make run` brings the whole registry up on this machine; `make test` runs the test suite (what .ci/run runs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST := $(PY) -m pytest

.PHONY: setup run demo test test-unit test-integration test-e2e test-infra lint mutation bench clean

setup: $(STAMP) node_modules/.package-lock.json clients/js/node_modules/.package-lock.json

# requirements.txt is the hashed lock of what ships to Lambda (compiled from requirements.in): installed first with
# its hashes checked, then the development tools, then the lock again (a tool that moved a locked package moves it
# back) and `pip check` (which then names a tool that cannot live with the lock): the tests run what Lambda runs.
$(STAMP): requirements.in requirements.txt requirements-dev.txt requirements-client.txt packages/dmtp-protocol/pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.txt
	$(PY) -m pip check
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

clients/js/node_modules/.package-lock.json: clients/js/package.json clients/js/package-lock.json
	npm ci --prefix clients/js --no-audit --no-fund

run: setup
	$(PY) -m devstack run

demo: setup
	$(PY) -m devstack demo

# The tiers (tests/README.md). `make test` runs every tier; each target below runs one.
test: setup
	$(PYTEST)

test-unit: setup
	$(PYTEST) tests/unit

test-integration: setup
	$(PYTEST) tests/integration

test-e2e: setup
	$(PYTEST) tests/e2e

test-infra: setup
	$(PYTEST) tests/infra

# ruff (lint and format check), mypy (strict for the protocol package and chalicelib), import-linter (the layers).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Mutation testing of the pure modules with the unit tier alone: the score per module (tests/README.md).
mutation: setup
	$(PY) -m tests.mutation

clean:
	rm -rf $(VENV) node_modules clients/js/node_modules .pytest_cache mutants
