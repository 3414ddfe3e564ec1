# plnorg — the commands. `make run` for a demo, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# Test configuration: the machine's PostgreSQL and Redis (own Redis databases
# and key prefix, so cache entries and rate limits never leak into other runs).
PLNORG_TEST_DB ?= plnorg
TEST_REDIS_DB ?= 14
TEST_CACHE_DB ?= 15
TEST_REDIS_PORT ?= 6379
TEST_ENV = DEBUG=0 \
	SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(PLNORG_TEST_DB) \
	REDIS_URL=redis://127.0.0.1:$(TEST_REDIS_PORT)/$(TEST_REDIS_DB) \
	CACHE_URL=redis://127.0.0.1:$(TEST_REDIS_PORT)/$(TEST_CACHE_DB) \
	CACHE_KEY_PREFIX=plnorg-test \
	CELERY_QUEUE=plnorg-test-$(PLNORG_TEST_DB) \
	ALLOWED_HOSTS='*' STATIC_MANIFEST=0 SESSION_COOKIE_SECURE=0 \
	PYTHONDONTWRITEBYTECODE=1
PROD_CHECK_ENV = DEBUG=0 \
	SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/plnorg \
	REDIS_URL=redis://127.0.0.1:6379/0 CACHE_URL=redis://127.0.0.1:6379/1 \
	ALLOWED_HOSTS=plnorg.example.com SECURE_HSTS_SECONDS=31536000
PYTEST_ARGS ?=

.PHONY: help run test pytest multihost lint fmt fuzz bench services test-deps check-deploy compose-config clean prod-local prod-stop backup restore load

help:
	@echo "make run    - install, migrate, seed the demo and serve http://$(HOST):$(PORT) with a Celery worker"
	@echo "make test   - install test tools, check services, lint, checks and the whole pytest suite"
	@echo "make bench  - run the benchmarks in bench/ (prints figures)"
	@echo "make fuzz   - many more sanitizer and feed-parser fuzzing examples (random seeds)"
	@echo "make fmt    - format the code with ruff;  make lint - ruff check"

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

# --- Embedded mode: SQLite + filesystem broker, no services needed ----------
run: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	@echo "Starting the Celery worker (with beat) and the web server; Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	DEBUG=1 $(VENV)/bin/celery -A plnorg worker -B --concurrency=2 --loglevel=INFO \
		--schedule var/celerybeat-schedule >var/worker.log 2>&1 & \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

# --- Tests --------------------------------------------------------------------
test-deps: $(VENV)/.installed-dev
	@if [ ! -x /usr/bin/chromium ] || ! command -v docker-compose >/dev/null || ! command -v ip >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian's chromium, docker-compose and iproute2..."; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium docker-compose iproute2 >/dev/null; \
		else \
			echo "chromium, docker-compose or ip is missing; install them (apt-get install chromium docker-compose iproute2)."; exit 1; \
		fi; \
	fi

services:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		echo "PostgreSQL is not answering on 127.0.0.1:5432; starting the machine's cluster..."; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start 2>/dev/null || true; \
		for i in $$(seq 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done; \
		pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not available on 127.0.0.1:5432. Install and start it (see README)."; exit 1; }; \
	fi
	@if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
		echo "Redis is not answering on 127.0.0.1:6379; starting it..."; \
		mkdir -p /var/lib/redis /var/log/redis; \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true; \
		for i in $$(seq 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done; \
		redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis is not available on 127.0.0.1:6379. Install and start it (see README)."; exit 1; }; \
	fi

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: $(VENV)/.installed
	$(PROD_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING

compose-config:
	docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml is valid"

test: test-deps services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory check-deploy
	$(MAKE) --no-print-directory compose-config
	$(TEST_ENV) $(VENV)/bin/pytest --durations=20 $(PYTEST_ARGS)

# Just pytest, for working on one area: make pytest PYTEST_ARGS="tests/feeds -x"
# Each invocation gets its own test database (and queue), so several can run at once.
pytest: PLNORG_TEST_DB = plnorg_p$(shell echo $$PPID)
pytest: $(VENV)/.installed-dev services
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

# Celery workers on two "machines" (network namespaces; needs root), one killed
# mid-batch: make multihost MULTIHOST_FEEDS=300
MULTIHOST_FEEDS ?= 30
multihost: PLNORG_TEST_DB = plnorg_p$(shell echo $$PPID)
multihost: $(VENV)/.installed-dev services
	$(TEST_ENV) MULTIHOST_FEEDS=$(MULTIHOST_FEEDS) $(VENV)/bin/pytest tests/faults/test_multihost.py -s $(PYTEST_ARGS)

# Many more Hypothesis examples (random seeds) for the sanitizer and parser fuzzing.
fuzz: $(VENV)/.installed-dev services
	$(TEST_ENV) HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest tests/faults/test_sanitizer_properties.py \
		tests/faults/test_parser_fuzz.py $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev services
	@for b in $(filter-out bench/__init__.py bench/load.py bench/scale.py,$(wildcard bench/*.py)); do \
		echo "== $$b"; $(TEST_ENV) FETCH_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8 $(PY) $$b || exit 1; done

# Load the production setup (make prod-local; started here if not running).
LOAD_ARGS ?=
load: $(VENV)/.installed-dev services
	$(PY) bench/load.py $(LOAD_ARGS)

# --- Production configuration on this machine (no Docker) -------------------
prod-local: $(VENV)/.installed services
	bin/prod-local

prod-stop:
	bin/prod-local stop

backup: $(VENV)/.installed
	set -a; eval "$$(bin/prod-local env)"; $(PY) manage.py backup --output var/prod/backups

restore: $(VENV)/.installed
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/prod/backups/plnorg-..."; exit 1; }
	set -a; eval "$$(bin/prod-local env)"; $(PY) manage.py restore $(BACKUP)

clean:
	rm -rf var/plnorg.sqlite3* var/celery var/celerybeat-schedule* tests/e2e/artifacts/*
