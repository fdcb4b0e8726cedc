# `make run` brings the whole registry up on this machine; `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run demo test bench clean

setup: $(STAMP) node_modules/.package-lock.json clients/js/node_modules/.package-lock.json

$(STAMP): requirements.txt requirements-dev.txt requirements-client.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

clients/js/node_modules/.package-lock.json: clients/js/package.json clients/js/package-lock.json
	npm ci --prefix clients/js --no-audit --no-fund

run: setup
	$(PY) -m devstack run

demo: setup
	$(PY) -m devstack demo

test: setup
	$(PY) -m pytest

clean:
	rm -rf $(VENV) node_modules clients/js/node_modules .pytest_cache
