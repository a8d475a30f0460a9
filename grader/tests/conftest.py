"""Fixtures of the grader's own tests, and the xdist groups they rely on."""

import os

import pytest
from _pytest.nodeid import coerce_node_id


@pytest.fixture(autouse=True, scope="session")
def shared_grading_cache(tmp_path_factory):
    """Where gradings are cached for the whole run: shared by xdist workers, and under
    pytest's temporary root, which keeps only the last few runs."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each worker's basetemp is a child of the run's
    os.environ["GRADER_SELFTEST_CACHE"] = str(root / "gradings")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """`--dist loadgroup` sends the tests of one `xdist_group` to one worker, where they share
    a grading (grading.graded) instead of one worker waiting on the other's lock. xdist 3.8
    names the group in `item._nodeid`, which pytest 9 no longer reads: without this, groups
    are silently ignored. Here the group goes into the node id pytest does read."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers only
        return
    for item in items:
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                         for mark in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = coerce_node_id(item.nodeid + suffix)
