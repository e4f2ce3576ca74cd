# One command to run, one to test; both build .venv from a bare Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench soak clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check tracker tests bench alembic
	$(BIN)/ruff format --check tracker tests bench alembic
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

run: $(STAMP)
	$(BIN)/tracker init
	$(BIN)/tracker countdown
	$(BIN)/tracker upcoming --within 90d

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
