# relsim: `make run` runs the main job, `make test` the checks; both set themselves up.
# A Python >= 3.12 is found by tools/find-python; override with `make test PYTHON=/path/to/python3.12`.

VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.relsim-installed
export MPLBACKEND := Agg
# relsim's arrays are small: BLAS threads only contend with the sweep's and the tests' worker
# processes (SALib's delta on an 8-point design ran 3x slower with OpenBLAS's default threads
# on two busy cores). Override on the command line if you know better.
OPENBLAS_NUM_THREADS ?= 1
OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS

.PHONY: all run demo test lint check format bench clean venv

all: test

$(BIN)/python:
	@py=$$(PYTHON="$(PYTHON)" tools/find-python) || exit 1; \
	echo "creating $(VENV) with $$py"; \
	"$$py" -m venv --clear $(VENV)

# Reinstall whenever the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || \
	  { echo "$(VENV) holds a Python older than 3.12; remove it and run make again" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,viz]'
	$(BIN)/python tools/fetch_web_assets.py
	@touch $@

venv: $(STAMP)

# The headline: hierarchical vs networked governance, with and without a compact (800 runs),
# then its report: one self-contained HTML file to open or forward.
HEADLINE := results/sweeps/governance_comparison
run: $(STAMP)
	$(BIN)/relsim sweep governance_comparison --out $(HEADLINE) --overwrite
	$(BIN)/relsim report $(HEADLINE)
	@echo "The report of the headline sweep: $(HEADLINE)/report.html"

demo: $(STAMP)
	$(BIN)/relsim demo

lint: $(STAMP)
	$(BIN)/ruff check relsim tests benchmarks tools
	$(BIN)/ruff format --check relsim tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# On every core: the suite's tests are independent (each in its own temporary directory).
test: lint
	$(BIN)/pytest -q -n auto

format: $(STAMP)
	$(BIN)/ruff format relsim tests benchmarks tools
	$(BIN)/ruff check --fix relsim tests benchmarks tools

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_dashboard.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_calibrate.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
