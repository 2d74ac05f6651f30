# Two commands: `make run` serves the archive, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
WORKERS ?= 3
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/archive

.PHONY: venv run setup test test-sqlite test-postgres test-postgres-search lint format bench corpus-report clean screenshots reliability

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# Everything `run` needs before the server starts. The secret key is generated
# here (by the first manage.py call) so that every gunicorn worker shares it.
setup: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py import_transcript fixtures/interviews
	$(PY) manage.py index_worker --once

# gunicorn serves; beside it, the one consumer of the indexing queue keeps the
# search index current. Ctrl-C (or gunicorn exiting) stops both.
run: setup
	@echo "Serving the archive at http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	@$(PY) manage.py index_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn archive.wsgi --config gunicorn.conf.py --workers $(WORKERS) \
		--bind 127.0.0.1:$(PORT)

test: test-sqlite test-postgres test-postgres-search

test-sqlite: venv
	$(PY) -m pytest

# The same suite against a real PostgreSQL server when one answers (CI has
# one at 127.0.0.1:5432), with a read replica configured (a test mirror);
# skipped with a message otherwise. Then once more searching with the
# PostgreSQL engine (ARCHIVE_SEARCH_BACKEND=postgres) instead of Whoosh.
PG_UP = $(PY) -c "import psycopg; psycopg.connect('$(PG_TEST_URL:/archive=/postgres)', connect_timeout=3).close()" 2>/dev/null
PG_ENV = DATABASE_URL=$(PG_TEST_URL) DATABASE_REPLICA_URL=$(PG_TEST_URL)

test-postgres: venv
	@if $(PG_UP); then \
		echo "Running the suite against PostgreSQL ($(PG_TEST_URL)), searching with Whoosh"; \
		$(PG_ENV) $(PY) -m pytest -p no:cacheprovider; \
	else \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): PostgreSQL run skipped"; \
	fi

test-postgres-search: venv
	@if $(PG_UP); then \
		echo "Running the suite against PostgreSQL ($(PG_TEST_URL)), searching with PostgreSQL"; \
		$(PG_ENV) ARCHIVE_SEARCH_BACKEND=postgres $(PY) -m pytest -p no:cacheprovider; \
	else \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): run with the PostgreSQL engine skipped"; \
	fi

lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks, not tests: figures into docs/performance.md. bench/scale.py needs
# the shared corpus (../shared/corpus/securitynow.tar.xz); BENCH_ARGS=--quick
# measures the 10k-turn archive only.
bench: venv
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) bench/pages.py
	$(PY) bench/scale.py $(BENCH_ARGS)

# Load, concurrent writers and faults (docs/reliability.md): needs wrk, root
# (a tmpfs mount, restarting PostgreSQL) and the shared corpus for 255k turns.
reliability: venv
	$(PY) bench/reliability.py all $(RELIABILITY_ARGS)

# The README's screenshots, taken in Debian's Chromium (apt-get install chromium).
screenshots: venv
	$(PY) -m tests.screenshots

clean:
	rm -rf $(VENV) staticfiles

# Opt-in: dry-run imports every transcript of ../shared/corpus and measures
# how many turns come back from structured sources rendered as messy text.
corpus-report: venv
	$(PY) bench/corpus_report.py --dir ../shared/corpus
