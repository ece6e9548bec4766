# The two Quickstart commands:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
GT      = $(BIN)/gt
OUT    ?= out/quickstart

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.runtime

## demo: set up, then run the main job on the bundled sample delivery
demo: $(VENV)/.runtime
	GT=$(GT) OUT=$(OUT) sh examples/quickstart.sh

## test: set up (incl. headless Chromium where apt-get is available), then run every test
test: $(VENV)/.test
	sh .ci/system-deps.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## bench: the benchmark table (SCALE=1000000 for the issue's default scale)
bench: $(VENV)/.test
	$(BIN)/python bench/run.py $(if $(SCALE),--annotations $(SCALE),)

clean:
	rm -rf $(VENV) out
