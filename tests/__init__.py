"""Grading suites: `test_<exercise>.py` (judges, in the grading process) and `probes/` (run in
the sandbox's worker on a submission or the reference)."""
