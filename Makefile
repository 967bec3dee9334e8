# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
DEMO_DIR ?= demo

.PHONY: demo test lint bench templates clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/danhgia demo --dir $(DEMO_DIR)

test: $(STAMP_TEST)
	$(BIN)/ruff check danhgia_batch tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

lint: $(STAMP_TEST)
	$(BIN)/ruff check danhgia_batch tests benchmarks
	$(BIN)/ruff format --check danhgia_batch tests benchmarks
	$(BIN)/mypy

templates: $(STAMP_RUN)
	$(BIN)/danhgia templates --out templates_xlsx

bench: $(STAMP_RUN)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
