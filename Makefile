# Kern — the two commands: `make run` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
KERN := $(BIN)/kern
HOST ?= 127.0.0.1
PORT ?= 8000
CATALOGS := $(wildcard web/locale/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test install lock lint types imports pytest messages compile-messages clean compose-check help bench soak bench-video

help:
	@echo "make run    install, migrate, load sample data, serve on http://$(HOST):$(PORT)"
	@echo "make test   install, lint, type-check, check the imports and run the whole test suite"
	@echo "make lock   renew the pinned versions in requirements/ (LOCK_ARGS=--upgrade for newer)"
	@echo "make bench  load benchmark, empty and with 100,000 learners (~12 min; bench/README.md)"
	@echo "make bench-video  video conversion time per minute and segment sizes (~1 min)"

# Every install takes the versions the suite passed with, checked against their hashes
# (requirements/dev.txt, made by `make lock`); then Kern itself, without resolving again.
# pip installs uv (pinned with its hashes in requirements/uv.txt) and uv the rest: the same
# files, a fresh install in 7 s instead of pip's 23 s (with a warm cache, on the 2-core machine).
# The stamp is rebuilt when the lock or pyproject.toml changes, so a second run does not reinstall.
UV_INSTALL := $(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode
$(BIN)/.installed: pyproject.toml requirements/dev.txt requirements/uv.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/uv.txt
	$(UV_INSTALL) --require-hashes -r requirements/dev.txt
	$(UV_INSTALL) --no-deps -e .
	touch $@

# Renew the pinned versions after changing the dependencies in pyproject.toml (then `make test`).
# requirements/main.txt is what the image installs; dev.txt adds the tools of `make test`, and
# uv.txt pins the installer itself.
LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --no-header --annotation-style line --quiet
lock: install
	$(BIN)/uv pip compile pyproject.toml $(LOCK_OPTIONS) $(LOCK_ARGS) -o requirements/main.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_OPTIONS) $(LOCK_ARGS) -o requirements/dev.txt
	grep -o '^uv==[^ ]*' requirements/dev.txt | $(BIN)/uv pip compile - $(LOCK_OPTIONS) -o requirements/uv.txt

install: $(BIN)/.installed

web/locale/%/LC_MESSAGES/messages.mo: web/locale/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d web/locale -D messages -l $* --statistics 2>&1 | tail -1

compile-messages: $(COMPILED)

# Extract new texts from code and templates into the catalogs (then translate the .po files).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k N_ -k ngettext:1,2 -o web/locale/messages.pot --no-location --sort-output --width 100 .
	$(BIN)/pybabel update -i web/locale/messages.pot -d web/locale -D messages --no-fuzzy-matching --width 100

run: install compile-messages
	$(KERN) db upgrade
	$(KERN) seed
	$(KERN) serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

# The boundaries between packages: the contracts in pyproject.toml (README, "Layout").
imports: install
	$(BIN)/lint-imports --no-logo

# The suite runs on every core (pytest-xdist; each worker has its own databases, servers and
# browser). The slow tests come first (tests/conftest.py) and are handed out a few at a time,
# so the workers finish together. `make pytest PYTEST_WORKERS=0` runs it in one process;
# PYTEST_ARGS="-m 'not slow'" leaves out the tests that start servers and browsers.
PYTEST_WORKERS ?= auto
pytest: install compile-messages
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist load --maxschedchunk 4 $(PYTEST_ARGS)

# The type check runs beside the suite (it takes one core for ~25 s on a fresh clone, while the
# suite's workers wait on browsers and databases part of the time).
test: lint imports
	$(MAKE) --no-print-directory -j2 types pytest

# Benchmarks, not part of `make test` (bench/README.md). `make bench SOAK=1` adds the 10-minute
# soak; `make bench LEARNERS=2000 DURATION=3` is a quick look (results then go to bench/results/tmp).
LEARNERS ?= 100000
DURATION ?= 10
bench: install compile-messages
	$(BIN)/python -m bench.run --learners $(LEARNERS) --duration $(DURATION) $(if $(SOAK),--soak) $(BENCH_ARGS)

# Converting a minute of 1080p video into its adaptive stream: time and segment sizes.
bench-video: install
	$(BIN)/python -m bench.transcode $(BENCH_ARGS)

# Only the soak: seed, then 10 minutes at concurrency 32 (no errors, memory growth under 10 %).
soak: install compile-messages
	$(BIN)/python -m bench.run --soak-only --learners $(LEARNERS) $(BENCH_ARGS)

# No Docker engine runs on the development machines; this still validates the file. It needs
# Docker Compose 2.23 or later (the `docker compose` plugin): the file writes its nginx and
# SeaweedFS configs inline (`configs: … content:`), which the old standalone docker-compose 1.x
# (Debian's package) refuses and the compose spec allows.
compose-check:
	@export POSTGRES_PASSWORD=check SECRET_KEY=check VAPID_PRIVATE_KEY=check MEDIA_S3_SECRET_KEY=check; \
	if docker compose version >/dev/null 2>&1; then docker compose config --quiet; \
	else echo "compose-check needs Docker Compose 2.23 or later (docker compose)" >&2; exit 1; \
	fi && echo "docker-compose.yml is valid"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
