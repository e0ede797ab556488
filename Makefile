# PolicyFlow: `make run` serves the app, `make test` passes the tests (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
# The interpreter of .venv: the system's Python 3.11 where there is one (Debian's /usr/bin/python3.11
# is built with PGO and LTO and linked statically, as the production image's python:3.11-slim is
# optimised), else $(PYTHON). A Python first on PATH may be a plain build (pyenv's: a shared
# libpython, no PGO) that runs Django about a fifth slower (README, "Which Python").
APP_PYTHON ?= $(or $(wildcard /usr/bin/python3.11),$(PYTHON))
UV_VERSION := 0.13.8
UV := .uv/bin/uv
VENV := .venv
MANAGE := $(VENV)/bin/python manage.py
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install system-packages services messages lint format migrations-check test run worker bench bench-before-after screenshots clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV) system-packages ## Install the locked dependencies into .venv and compile translations
	$(UV) sync --locked --quiet --python $(APP_PYTHON)
	@$(MAKE) --no-print-directory messages

system-packages:
	@scripts/ensure-system-packages.sh chromium

messages:
	@DJANGO_SETTINGS_MODULE=policyflow.settings.base $(MANAGE) compilemessages --ignore=.venv --ignore=.uv -v0

services:
	@scripts/ensure-services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install
	DJANGO_SETTINGS_MODULE=policyflow.settings.base $(MANAGE) makemigrations --check --dry-run

test: lint services migrations-check ## Lint, then the whole suite against PostgreSQL, Redis and Celery
	$(VENV)/bin/pytest -n 2 --dist loadgroup

run: install ## Migrate the SQLite default, seed Kronoberg with demo data, serve with a Celery worker
	@mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_kronoberg --demo
	$(VENV)/bin/honcho -f Procfile.dev start

bench: install services ## Country-scale benchmark (not part of make test)
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

# The code before the audit core's redesign (issue #14: the 2026-11-25 evening run's revision).
BEFORE ?= a0ddd87
bench-before-after: install services ## Benchmark an earlier revision (BEFORE) and today's, side by side
	$(VENV)/bin/python -m bench.compare --before $(BEFORE) $(BENCH_ARGS)

screenshots: install services ## Run the browser tests, then copy their screenshots into docs/screenshots (the README's)
	rm -rf build/screenshots
	$(VENV)/bin/pytest -p no:cacheprovider -n 0 tests/browser
	mkdir -p docs/screenshots
	cp build/screenshots/*.png docs/screenshots/

clean:
	rm -rf $(VENV) .uv staticfiles build var/celery-*
