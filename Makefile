# Two set-up commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test fuzz lint templates screenshots bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/sheetsales demo reports/demo

# Both cores: test files are spread over two workers (pytest-xdist; a file's tests stay together).
TEST_WORKERS ?= 2
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The reader's fuzz test for as long as asked (FUZZ_EXAMPLES=n, random seeds); failing examples
# are kept in tests/fuzz_regressions/, which every test run replays.
FUZZ_EXAMPLES ?= 2000
fuzz: $(TEST_STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py -k "survives or ingest"

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

templates: $(STAMP)
	$(BIN)/sheetsales build-templates workbook_templates

screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py
	$(BIN)/python tools/screenshots.py --lang en

# Realistic workspaces (generated once per size, cached in reports/bench/<reps>), every workload timed
# as whole processes BENCH_RUNS times; prints median, spread, peak memory, the ratio against the
# straightforward pandas/openpyxl script and the growth between sizes. Never fails over timing.
# Full run: make bench BENCH_SIZES=50,500,2000
BENCH_SIZES ?= 50
BENCH_RUNS ?= 3
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --sizes $(BENCH_SIZES) --runs $(BENCH_RUNS)

clean:
	rm -rf $(VENV) reports/demo reports/bench reports/bench-ingest
