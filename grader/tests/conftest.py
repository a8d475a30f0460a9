"""Fixtures of the grader's own tests."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def shared_grading_cache(tmp_path_factory):
    """Where gradings are cached for the whole run: shared by xdist workers, and under
    pytest's temporary root, which keeps only the last few runs."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's basetemp is a child of the run's
    os.environ["GRADER_SELFTEST_CACHE"] = str(root / "gradings")
