# bookwise — the two commands that matter are `make run` and `make test`.
#
# Everything runs from .venv/bin; nothing needs an activated virtualenv. The dependencies are
# installed from the locks in requirements/ (exact versions, with hashes: pip refuses anything
# else), and the install steps leave stamp files in .venv so that `pip install` runs again only
# when a lock or pyproject.toml changes. `make lock` writes the locks from pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
DEMO_ACCOUNTS ?= 2000
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?=

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck layers pytest lock bench bench-quick bench-demo bench-concurrency bench-cli clean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

# --- the virtualenv -------------------------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bookwise needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + " (set PYTHON=python3.11 or newer)")'
	$(PYTHON) -m venv $(VENV)

PIP := $(BIN)/python -m pip --disable-pip-version-check
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV := requirements/dev.txt

# Install a lock (pip refuses a package that is not pinned there with a hash), then bookwise
# itself without dependencies, then check that the lock holds everything pyproject.toml asks for.
define install_from_lock
	$(PIP) install --quiet --require-hashes -r $(1)
	$(PIP) install --quiet --no-deps -e .
	@$(PIP) check >/dev/null || { $(PIP) check; \
		echo "$(1) misses what pyproject.toml asks for: run make lock" >&2; exit 1; }
endef

$(VENV)/.installed: pyproject.toml $(LOCK_RUNTIME) | $(BIN)/python
	$(call install_from_lock,$(LOCK_RUNTIME))
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK_RUNTIME) $(LOCK_DEV) | $(BIN)/python
	$(call install_from_lock,$(LOCK_DEV))
	@touch $@ $(VENV)/.installed

# --- run ------------------------------------------------------------------------------------

define HOW_TO_USE

bookwise is ready. Its database is ./bookwise.db unless BOOKWISE_DATABASE_URL says otherwise.
The CLI is .venv/bin/bookwise and every command has --help. Below, EMAIL and OTHER are CSM
emails from the table above, REF is an account's external id or id (see `accounts list`),
and ID is an operation id (see `operations list`):

  .venv/bin/bookwise accounts list --assigned-to EMAIL --sort=-mrr --limit 10
  .venv/bin/bookwise accounts list --not-assigned-to EMAIL --who no-one --count
  .venv/bin/bookwise accounts list --where 'tier = 1 and health_score < 50' --sort=-mrr
  .venv/bin/bookwise rules check 'is_child and parent.csm = "EMAIL"'
  .venv/bin/bookwise assign REF REF --to EMAIL --dry-run
  .venv/bin/bookwise transfer --from EMAIL --to OTHER --dry-run
  .venv/bin/bookwise history REF
  .venv/bin/bookwise operations list
  .venv/bin/bookwise operations undo ID
  .venv/bin/bookwise tokens create admin@example.com --name my-script   # for /api/v1

The full tour is in README.md; the model and its decisions in docs/concepts.md; rules in
docs/rule-language.md.

The web app starts now. Sign in with the demo admin below, and stop it with Ctrl-C.

endef
export HOW_TO_USE

run: $(VENV)/.installed  ## Create/upgrade ./bookwise.db, demo data if empty, demo admin; start the web app (WORKERS=N).
	$(BIN)/bookwise init
	$(BIN)/bookwise demo --accounts $(DEMO_ACCOUNTS) --if-empty
	$(BIN)/bookwise csms
	@echo "$$HOW_TO_USE"
	$(BIN)/bookwise demo-admin
	$(BIN)/bookwise serve --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

# --- checks ---------------------------------------------------------------------------------

lint: $(VENV)/.installed-dev  ## ruff check and ruff format --check.
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev  ## mypy (strict on src/, configured in pyproject.toml).
	$(BIN)/mypy

layers: $(VENV)/.installed-dev  ## import-linter: domains import only downward.
	$(BIN)/lint-imports --no-cache --no-logo

pytest: $(VENV)/.installed-dev  ## pytest only; PYTEST_ARGS='-k undo -x' passes arguments on.
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck layers pytest  ## Everything CI runs: lint, types, layers, the test suite.

# --- the dependency locks (docs/deploying.md, "Upgrading dependencies") ----------------------

# `make lock` keeps every pin it can and only adds or moves what pyproject.toml now asks for.
# UPGRADE=all moves every package to its newest version in pyproject.toml's ranges;
# UPGRADE='fastapi uvicorn' moves those packages only. The dev lock is resolved first and the
# runtime lock keeps its pins, so `make run` and `make test` share their versions. The locks are
# made for Python LOCK_PYTHON (the oldest bookwise supports) on this platform; uv is pinned in
# the dev lock itself (the first lock ever made installs the newest uv).
LOCK_PYTHON ?= 3.11
UPGRADE ?=
LOCK_UPGRADE = $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))
UV_COMPILE = $(BIN)/uv pip compile --no-config --quiet --generate-hashes \
	--python-version $(LOCK_PYTHON) --custom-compile-command 'make lock' pyproject.toml

lock: | $(BIN)/python  ## Re-pin requirements/*.txt from pyproject.toml; UPGRADE=all or UPGRADE='pkg …'.
	$(PIP) install --quiet $(if $(wildcard $(LOCK_DEV)),--require-hashes -r $(LOCK_DEV),uv)
	$(UV_COMPILE) --extra dev $(LOCK_UPGRADE) -o $(LOCK_DEV)
	cp $(LOCK_DEV) $(LOCK_RUNTIME)  # its pins are the preferences of the runtime resolution
	$(UV_COMPILE) -o $(LOCK_RUNTIME)

# --- benchmarks (not tests: nothing here asserts a time; see docs/performance.md) -----------

bench-quick: $(VENV)/.installed-dev  ## 100k accounts on SQLite beside hand-written SQL (~3 min).
	$(BIN)/python -m bench.run --engine sqlite --accounts 100000 --quick

bench: $(VENV)/.installed-dev  ## 100k and 1M on SQLite and PostgreSQL; rewrites docs/performance.md.
	$(BIN)/python -m bench.run --engine sqlite --accounts 100000 1000000
	$(BIN)/python -m bench.run --engine postgresql --accounts 100000 1000000
	$(BIN)/python -m bench.report

bench-concurrency: $(VENV)/.installed-dev  ## Concurrent writers on PostgreSQL (127.0.0.1:5432): throughput, p99, deadlocks.
	$(BIN)/python -m bench.concurrency --clients 1 8 32 --seconds 20

bench-cli: $(VENV)/.installed-dev  ## CLI start-up: bookwise --help and csms, median of 11 runs, import offenders.
	$(BIN)/python -m bench.cli_startup --runs 11

BENCH_DEMO_URL ?= sqlite:///bench-demo.db
BENCH_DEMO_ACCOUNTS ?= 1000000

bench-demo: $(VENV)/.installed  ## Time demo generation (BENCH_DEMO_ACCOUNTS=1000000 into bench-demo.db).
	$(BIN)/python bench/demo_generation.py $(BENCH_DEMO_URL) --accounts $(BENCH_DEMO_ACCOUNTS) --benchmark --fresh

clean:  ## Remove .venv, ./bookwise.db, ./bench-demo.db (with -wal and -shm) and bench/data.
	rm -rf $(VENV) bookwise.db bookwise.db-wal bookwise.db-shm bench-demo.db bench-demo.db-wal bench-demo.db-shm bench/data
