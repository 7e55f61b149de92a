# Everything a fresh machine needs: `make baseline` runs the baseline scenario, `make test` the tests.
# Both create the virtual environment (.venv, Python from .python-version) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: baseline test test-slow bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

baseline: $(VENV)/.installed
	$(BIN)/p2psim run scenarios/baseline.toml

test: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: $(VENV)/.installed  # pytest exits 5 when no test is marked slow: that is not a failure
	$(BIN)/python -m pytest -m slow -q || [ $$? -eq 5 ]

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/engine.py
