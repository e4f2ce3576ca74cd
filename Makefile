# One command to run, one to test; both build .venv from a bare Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint bench soak clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The full suite: end-to-end processes (marked slow) and PostgreSQL when configured.
test: lint
	$(BIN)/pytest

# Lint and the unit tests, under a minute: no end-to-end processes, no PostgreSQL.
check: lint
	$(BIN)/pytest -q -m "not slow and not postgres"

# A demo subscriber, so a new user sees in var/outbox/ the digests the tracker would send.
DEMO := you@example.org

run: $(STAMP)
	$(BIN)/tracker init
	$(BIN)/tracker subscriber show $(DEMO) >/dev/null 2>&1 || \
	  $(BIN)/tracker subscriber add $(DEMO) --name "You (demo)" --digest weekly --immediate
	$(BIN)/tracker feed build
	$(BIN)/tracker digest --send
	$(BIN)/tracker countdown
	$(BIN)/tracker upcoming --within 90d
	@echo "Feeds and the board: http://127.0.0.1:8040/ (var/feed/), digests: var/outbox/"
	$(BIN)/tracker daemon --serve

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Benchmarks against floors measured in the same run (issue 6); writes bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m bench.run

# The long fault run: 200 kill -9 cycles of the real daemon; prints planned, delivered,
# duplicated and lost (which must be 0). `make test` runs a few of these cycles.
SOAK_CYCLES ?= 200
soak: $(STAMP)
	TRACKER_KILL_CYCLES=$(SOAK_CYCLES) $(BIN)/pytest -q -s tests/faults/test_kill.py
