# Two commands: `make run` starts the whole dashboard on embedded defaults; `make test` tests it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SIM_PORT ?= 8776
# LIVE_PORT=8001 also serves the dashboard on uvicorn there, with changes pushed to open tabs.
LIVE_PORT ?= 0
PYTEST_ARGS ?=

.PHONY: help install install-sim install-dev run test lint format migrate sync realcloud bench load vendor browser-deps check-deploy clean

help:
	@echo "make run        install and start the dashboard, worker and demo cloud on http://127.0.0.1:$(PORT)"
	@echo "make test       install and run the test suite (lint included)"
	@echo "make realcloud  run the integration suites against a real Cinder 29 + Keystone 30"
	@echo "make bench      run the benchmarks under bench/"
	@echo "make load       Locust against the production shape with 100,000 snapshots (LOAD_ARGS=--quick)"

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The simulator's own requirements (Werkzeug): for `make run`, the tests and the benchmarks only.
$(VENV)/.installed-sim: $(VENV)/.installed cloudsim/requirements.txt
	$(PY) -m pip install --quiet -r cloudsim/requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-sim requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-sim: $(VENV)/.installed-sim

install-dev: $(VENV)/.installed-dev

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

# Chromium for the browser tests comes from Debian (never a browser download).
browser-deps: node_modules/.installed
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium first: sudo apt-get install chromium"; exit 1; fi; }

run: install-sim
	$(PY) scripts/stack.py --port $(PORT) --sim-port $(SIM_PORT) --live-port $(LIVE_PORT)

migrate: install
	$(PY) manage.py migrate --noinput

sync: install
	$(PY) manage.py sync_snapshots

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install-dev browser-deps lint
	$(PY) -m pytest -m "not realcloud and not redis and not postgres and not production and not faults" $(PYTEST_ARGS)

check-deploy: install
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) SECURE_SSL_REDIRECT=1 ALLOWED_HOSTS=dashboard.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

realcloud: install-dev
	bash tests/realcloud/run.sh

bench: install-dev
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

LOAD_ARGS ?=
load: install-dev
	$(PY) bench/load/run.py $(LOAD_ARGS)

vendor: node_modules/.installed
	bash scripts/vendor.sh

clean:
	rm -rf $(VENV) node_modules var staticfiles

include tests/realcloud/Makefile.inc
