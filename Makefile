# Pipeline: `make run` sets everything up and serves the app; `make test` runs every check.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := PIPELINE_ENV=$${PIPELINE_ENV:-development} $(VENV)/bin/flask --app wsgi
PYTHON ?= python3

.PHONY: run test lint format install assets db browser-deps clean

run: install assets db
	$(FLASK) run --host 127.0.0.1 --port 5000

# Installs only when the pinned requirements change (a stamp file records the last install).
install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

# GOV.UK Frontend from npm (pinned in frontend/package-lock.json), built into static/build.
assets: static/build/VERSION

static/build/VERSION: frontend/package.json frontend/package-lock.json frontend/main.scss frontend/build.mjs
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	cd frontend && node build.mjs

db: install
	$(FLASK) db upgrade
	$(FLASK) load-reference-data

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install assets lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) static/build frontend/node_modules instance/*.db
