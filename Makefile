# Two commands work on a fresh machine: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-packages kafka-jars test test-fast demo bench clean

# Debian packages that tests need (headless Chromium for the dashboard tests); no-op when present.
system-packages:
	@bash scripts/install-system-packages.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

kafka-jars: install
	$(BIN)/python -m crsmon.local_kafka fetch

test: system-packages install kafka-jars
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not kafka"

demo: install kafka-jars
	$(BIN)/crsmon demo

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
