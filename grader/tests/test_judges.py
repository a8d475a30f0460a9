"""Two judges for one grade (grader.judging.split): they share the fork server without
harming each other's workers, and a second judge that fails costs time, not points.
That two judges give the grade one gives: test_engine.test_same_submission_same_grade."""

from __future__ import annotations

import os
import subprocess
import sys

from grader import ROOT
from grader.isolation import forkserver
from grader.isolation.sandbox import Sandbox
from grader.judging import reports
from tests.probes import mcc as mcc_probes

CASE = {"y_true": [0, 1, 1, 0], "y_pred": [0, 1, 0, 0]}


def test_a_sweep_spares_the_workers_of_the_other_judge():
    """A judge that stops its workers sweeps every other process under the fork server
    (what a submission detached); a judge forked from it shares the server, and its worker
    must live on through that sweep."""
    forkserver.ensure_running(("mcc",))
    worker_ready, sweep_done = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:  # the second judge
        forkserver.share_with_fork()
        sandbox = Sandbox()
        first = sandbox.run(ROOT / "solutions", "mcc", mcc_probes.matthews_corrcoef, CASE,
                            "cpu", trusted=True)
        os.write(worker_ready[1], b"1")
        os.read(sweep_done[0], 1)
        again = sandbox.run(ROOT / "solutions", "mcc", mcc_probes.matthews_corrcoef, CASE,
                            "cpu", trusted=True)
        sandbox.stop_workers()
        os._exit(0 if first.ok and again.ok and again.kind is None else 1)
    os.read(worker_ready[0], 1)
    sandbox = Sandbox()
    try:
        assert sandbox.run(ROOT / "solutions", "mcc", mcc_probes.confusion_counts, CASE, "cpu",
                           trusted=True).ok
    finally:
        sandbox.close()  # kills its worker, then sweeps
        os.write(sweep_done[1], b"1")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the second judge's worker was killed"


# The second judge claims an exercise from the queue, then dies without a word.
DYING_SECOND_JUDGE = """
import os, sys
from grader.isolation import forkserver
forkserver.start_early(sys.argv[1:])
from grader.judging import split
def dies(session, by_exercise, order, reader, results_writer):
    os.read(reader, 1)
    os._exit(1)
split._second_judge = dies
from grader.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_first_judge_grades_what_the_second_did_not_send(tmp_path):
    process = subprocess.run(
        [sys.executable, "-c", DYING_SECOND_JUDGE, "grade", "--target", str(ROOT / "solutions"),
         "--exercise", "network_basics", "--exercise", "protein_features", "--device", "cpu",
         "--judges", "2", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    result = reports.load(tmp_path / "results.json")
    assert [(e.name, e.score, e.max_score) for e in result.exercises] == [
        ("network_basics", 20, 20), ("protein_features", 20, 20)]
