# Set-up and grading, shared by this repository's Makefile and the student release's.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The stamp is named after the pinned list's content: the environment is rebuilt when that
# content changes, not when the file is merely newer (a fresh clone, a checkout).
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
EX ?=
TARGET ?= exercises
CHECK ?=
JUDGES ?=
GRADE_ARGS = --target $(TARGET) $(if $(EX),$(foreach e,$(EX),--exercise $(e))) \
	$(if $(CHECK),$(foreach c,$(CHECK),--check '$(c)')) $(if $(JUDGES),--judges $(JUDGES))

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(wordlist 2,9,$(MAKEFILE_LIST)) $(firstword $(MAKEFILE_LIST)) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  variables: EX=<exercise> (e.g. EX=mcc), TARGET=exercises|<dir>, DEVICE=cpu|cuda|all,"
	@echo "             QUICK=1, CHECK=<part of a check's name> (e.g. CHECK=confusion_counts),"
	@echo "             JUDGES=1|2 (judging processes; default 2 for several exercises on 2 cores)"

$(STAMP):
	@if [ -d $(VENV) ]; then echo "requirements.txt changed since $(VENV) was made: rebuilding it"; \
	else echo "first use: creating $(VENV) with the pinned dependencies"; fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(STAMP) ## create .venv with the pinned dependencies (done on first use)

grade: $(STAMP) ## grade exercises/ (EX=mcc for one exercise, TARGET=<dir> for another folder, QUICK=1 without the slow checks, CHECK=<part of a check's name>)
	$(PY) -m grader grade $(GRADE_ARGS) --device $(or $(DEVICE),all) $(if $(QUICK),--quick)

checkoff: $(STAMP) ## in class: grade EX in seconds for a TA to sign off (receipt in checkoffs/)
	@test -n "$(EX)" || { echo "usage: make checkoff EX=<exercise>   (e.g. make checkoff EX=mcc)"; exit 2; }
	$(PY) -m grader checkoff --exercise $(EX) --target $(TARGET)

clean: ## remove build outputs (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache

.PHONY: help setup grade checkoff clean
