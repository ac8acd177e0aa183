# Two commands for a new machine: `make demo` (installs, then runs the demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install install-spark demo test test-fast lint bench clean

# The web interface's end-to-end tests drive Debian's Chromium (never a browser download). Installed once, when
# missing; TIEOUT_SKIP_BROWSER=1 skips both the install and those tests.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BROWSER := $(if $(filter 1,$(TIEOUT_SKIP_BROWSER)),,$(CHROMIUM))

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Apache Spark (the `spark` extra, pinned): only the tests install it, so `make demo` stays lean.
SPARK_STAMP := $(VENV)/.spark-installed
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/pip install --quiet -r requirements-spark.lock
	touch $(SPARK_STAMP)

install-spark: $(SPARK_STAMP)

$(CHROMIUM):
	$(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

demo: $(STAMP)
	$(BIN)/tieout demo tieout-demo

# The whole suite, slow tests included (what CI runs).
test: $(STAMP) $(SPARK_STAMP) $(BROWSER)
	$(BIN)/pytest -q -n 2 --dist loadgroup

# Skip the suites marked slow.
test-fast: $(STAMP) $(SPARK_STAMP) $(BROWSER)
	$(BIN)/pytest -q -n 2 --dist loadgroup -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/tieout

bench: $(STAMP)
	$(BIN)/python bench/run_day.py --companies 100000

clean:
	rm -rf $(VENV) tieout-demo .pytest_cache
