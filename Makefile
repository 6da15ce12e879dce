# Two commands work on a fresh machine: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock lint system-packages kafka-jars test test-fast demo bench clean

# Debian packages that tests need (headless Chromium for the dashboard tests); no-op when present.
system-packages:
	@bash scripts/install-system-packages.sh

# Exactly the versions of requirements.lock (the ones the suite passed with).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint requirements.lock -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# Resolve requirements.lock again from pyproject.toml (then run the whole suite).
lock: install
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra=test --strip-extras --output-file=requirements.lock pyproject.toml

kafka-jars: install
	$(BIN)/python -m crsmon.local_kafka fetch

# ruff first: pyflakes and flake8-self over the whole tree (pyproject.toml, [tool.ruff]);
# then mypy over the packages ([tool.mypy]).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: system-packages install kafka-jars lint
	$(BIN)/python -m pytest

test-fast: install lint
	$(BIN)/python -m pytest -m "not kafka"

demo: install kafka-jars
	$(BIN)/crsmon demo

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .mypy_cache
