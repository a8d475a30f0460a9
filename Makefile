# The commands people type. `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The environment is rebuilt whenever the pinned dependency list changes.
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
EX ?=
TARGET ?= exercises
GRADE_ARGS = --target $(TARGET) $(if $(EX),$(foreach e,$(EX),--exercise $(e)))

.DEFAULT_GOAL := help
.PHONY: help setup grade test lint stubs data data-real benchmark clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  variables: EX=<exercise> (e.g. EX=mcc), TARGET=exercises|solutions|<dir>, DEVICE=cpu|cuda|all"

$(STAMP): requirements.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(STAMP) ## create .venv with the pinned dependencies (done on first use)

grade: $(STAMP) ## grade exercises/ (EX=mcc for one exercise, TARGET=solutions or a directory)
	$(PY) -m grader grade $(GRADE_ARGS) --device $(or $(DEVICE),all)

test: $(STAMP) ## run the repository's own tests (lint, stubs, engine, every exercise's mutants)
	$(PY) -m ruff check .
	$(PY) -m grader stubs --check
	$(PY) -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP) ## ruff
	$(PY) -m ruff check .

stubs: $(STAMP) ## regenerate exercises/ from the solution markers in solutions/
	$(PY) -m grader stubs

data: $(STAMP) ## regenerate the embedded datasets in data/ (deterministic)
	$(PY) -m data.generate

data-real: $(STAMP) ## download the real public datasets into DEST (default ~/protein-data)
	$(PY) -m data.download --dest $(or $(DEST),$(HOME)/protein-data)

benchmark: $(STAMP) ## grading times, sandbox round trip, baselines (DATA_DIR=... adds the real sets)
	$(PY) -m benchmarks

clean: ## remove build outputs (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache
