# The commands people type. `make help` lists them.
include common.mk

.PHONY: test lint stubs release gradescope data data-real benchmark report

test: $(STAMP) ## run the repository's own tests (lint, stubs, engine, every exercise's mutants)
	$(PY) -m ruff check .
	$(PY) -m grader stubs --check
	$(PY) -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP) ## ruff
	$(PY) -m ruff check .

stubs: $(STAMP) ## regenerate exercises/ from the solution markers in solutions/
	$(PY) -m grader stubs

release: $(STAMP) ## build the student release in DEST, a git repository that passes its own make test (REPLACE=1 updates one; COURSE_NOTES_URL=<url> for its README)
	@test -n "$(DEST)" || { echo "usage: make release DEST=<folder> [REPLACE=1] [COURSE_NOTES_URL=<url>]"; exit 2; }
	$(PY) -m grader release --dest $(DEST) $(if $(REPLACE),--replace) $(if $(COURSE_NOTES_URL),--notes-url '$(COURSE_NOTES_URL)')

data: $(STAMP) ## regenerate the embedded datasets in data/ (deterministic)
	$(PY) -m data.generate

data-real: $(STAMP) ## download the real public datasets into DEST (default ~/protein-data)
	$(PY) -m data.download --dest $(or $(DEST),$(HOME)/protein-data)

benchmark: $(STAMP) ## grading, checkoff and class times (CPU beside wall), baselines; DATA_DIR=... adds the real sets, SUITE=1 make test's own time
	SUITE=$(SUITE) $(PY) -m benchmarks

gradescope: $(STAMP) ## build build/gradescope/autograder.zip for Gradescope (EX=mcc: that assignment only)
	$(PY) -m grader gradescope $(if $(EX),$(foreach e,$(EX),--exercise $(e)) --out build/gradescope/autograder-$(subst $() ,-,$(EX)).zip)

report: $(STAMP) ## the class report of a class run OUT: OUT/report.html (plots) and OUT/report.md (ROSTER=roster.csv)
	@test -n "$(OUT)" || { echo "usage: make report OUT=<class run folder> [ROSTER=roster.csv]"; exit 2; }
	$(PY) -m grader report $(OUT) $(if $(ROSTER),--roster $(ROSTER))
