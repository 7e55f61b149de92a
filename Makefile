# Everything a fresh machine needs: `make baseline` runs the baseline scenario, `make test` the tests.
# Both create the virtual environment (.venv, Python from .python-version) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: baseline test test-fast test-slow bench fonts browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

baseline: $(VENV)/.installed fonts
	$(BIN)/p2psim run scenarios/baseline.toml

# pytest-xdist: one process per core, each test file whole on one of them (its fixtures built once)
test: $(VENV)/.installed fonts browser
	$(BIN)/python -m pytest -m "not slow" -q -n auto --dist loadfile

# The fast tier, for every change: loans to the fen, the ledger, the kernels' mechanics, the schema
# and the bad-input corpus, the policies' contracts (about a minute on 2 cores, numba's cache warm).
FAST_TESTS := tests/test_loans.py tests/test_ledger.py tests/test_mechanics.py tests/test_macro.py \
	tests/test_agents.py tests/test_bad_input.py tests/test_policies.py \
	tests/test_policy_contracts.py tests/test_user_policy.py tests/test_style.py

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow" -q $(FAST_TESTS)

test-slow: $(VENV)/.installed  # pytest exits 5 when no test is marked slow: that is not a failure
	$(BIN)/python -m pytest -m slow -q -n auto --dist loadfile || [ $$? -eq 5 ]

fonts:  # a CJK font, so Chinese platform names draw in the charts (Debian's fonts-wqy-microhei)
	@if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && command -v apt-get >/dev/null \
		&& [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei \
		|| echo "no CJK font installed: Chinese names will draw as boxes"; \
	fi

browser:  # Debian's chromium for the browser tests (tests/test_browser.py skip without it)
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| echo "chromium not installed: the browser tests will be skipped"; \
	fi

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/engine.py
