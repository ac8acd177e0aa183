# Two commands for a new machine: `make demo` (installs, then runs the demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tieout demo tieout-demo

# The whole suite, slow tests included (what CI runs).
test: $(STAMP)
	$(BIN)/pytest -q -n 2

# Skip the suites marked slow.
test-fast: $(STAMP)
	$(BIN)/pytest -q -n 2 -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/tieout

bench: $(STAMP)
	$(BIN)/python bench/run_day.py --companies 100000

clean:
	rm -rf $(VENV) tieout-demo .pytest_cache
