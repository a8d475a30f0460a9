"""What a student reads about a failed call, made from the typed facts a worker and the sandbox
report (grader.judging.feedback), and those facts across the wire (grader.isolation.wire).

The known variants pin the sentences in context (solutions/variants, test_exercises.py,
test_engine.py); these pin each one from its facts alone, in milliseconds.
"""

from __future__ import annotations

import pytest

from grader.isolation import frame, wire
from grader.isolation.sandbox import Outcome
from grader.isolation.wire import (
    ByHandFinding,
    Crashed,
    ErrorKind,
    Raised,
    Reach,
    Reply,
    Tampering,
    TimedOut,
    TimeLimit,
    WorkerError,
)
from grader.judging import feedback
from grader.judging.results import Fault, RunOutcome

CASE = {"n": 2}
ADOPT = ByHandFinding("Adam", "torch.optim.Adam", 16, "write the update rule yourself",
                      through="_adam_class")
READS = Tampering(Reach.READS, "__globals__", 2)
CHANGED = Tampering(Reach.CHANGED, "tests.probes.mcc.confusion_counts")


@pytest.mark.parametrize(("error", "told"), [
    (WorkerError(ErrorKind.TIMEOUT, timed_out=TimedOut(TimeLimit.CPU, 20.0, 20.2)),
     "your code timed out: used over 20 s of CPU time on case {'n': 2}"),
    (WorkerError(ErrorKind.TIMEOUT, timed_out=TimedOut(TimeLimit.WAIT, 150.4, 0.1)),
     "your code timed out: waited over 150 s without running (a sleep, input(), a lock or a "
     "pipe that never comes) on case {'n': 2}"),
    (WorkerError(ErrorKind.TIMEOUT, timed_out=TimedOut(TimeLimit.WALL, 400.6, 3.25)),
     "your code timed out after 401 s of wall-clock time (using 3.2 s of CPU time) on case "
     "{'n': 2}"),
    (WorkerError(ErrorKind.CRASH, crashed=Crashed(signal="SIGSEGV")),
     "your code crashed with a segmentation fault (SIGSEGV) on case {'n': 2}"),
    (WorkerError(ErrorKind.CRASH, crashed=Crashed(signal="SIGKILL")),
     "your code was killed (SIGKILL), most likely for using too much memory on case {'n': 2}"),
    (WorkerError(ErrorKind.CRASH, crashed=Crashed(signal="SIGTERM")),
     "your code was killed by SIGTERM on case {'n': 2}"),
    (WorkerError(ErrorKind.CRASH, crashed=Crashed(exit_code=3)),
     "your code exited with code 3 (os._exit or a hard crash) on case {'n': 2}"),
    (WorkerError(ErrorKind.UNSENDABLE, Raised("TypeError", "a tensor of dtype qint8 cannot be "
                                                         "sent to the grader")),
     "your code returned what the grader cannot receive: TypeError: a tensor of dtype qint8 "
     "cannot be sent to the grader on case {'n': 2}"),
    (WorkerError(ErrorKind.UNSENDABLE, oversized=64 * 2**20),
     "your code returned over 64 MiB in one call, more than a reply may take: the checks ask "
     "for results of kilobytes on case {'n': 2}"),
    (WorkerError(ErrorKind.EXCEPTION, Raised("RuntimeError", "can't allocate memory"),
                 out_of_memory=True),
     "your code ran out of memory: RuntimeError: can't allocate memory on case {'n': 2}"),
    # was "raised called sys.exit(0)": the worker's sentence after the plugin's verb
    (WorkerError(ErrorKind.EXCEPTION, Raised("SystemExit", "0")),
     "your code called sys.exit(0) on case {'n': 2}"),
    (WorkerError(ErrorKind.EXCEPTION, Raised("TypeError", "bad"), "  mcc.py, line 3, in f: x",
                 raised_in=("f",), arguments="x float32 (2,) on cpu"),
     "your code raised TypeError: bad on case {'n': 2}\ntensor arguments: x float32 (2,) on "
     "cpu\n  mcc.py, line 3, in f: x"),
    (WorkerError(ErrorKind.BY_HAND, Raised("ByHandViolation"), by_hand=ADOPT),
     "your code raised ByHandViolation: line 16: Adam (through _adam_class) uses "
     "torch.optim.Adam; write the update rule yourself on case {'n': 2}"),
    (WorkerError(ErrorKind.IMPORT, Raised("SyntaxError", "invalid syntax", 4)),
     "could not import mcc.py: SyntaxError: invalid syntax (line 4)"),
    (WorkerError(ErrorKind.MISSING_MODULE), "no mcc.py in the graded directory"),
    (WorkerError(ErrorKind.MISSING_NAME, Raised("AttributeError", "no f")),
     "AttributeError: no f on case {'n': 2}: a required function or class is missing"),
    (WorkerError(ErrorKind.TAMPERING, tampering=(READS, CHANGED)),
     f"tampering, so no check of this exercise counts:\nline 2: reads __globals__; "
     f"{feedback.TAMPERING_ADVICE}\nyour code changed the grader's "
     f"tests.probes.mcc.confusion_counts; {feedback.TAMPERING_ADVICE}"),
    (WorkerError(ErrorKind.EXCEPTION), "your code sent the grader a reply it could not read "
                                       "on case {'n': 2}"),
])
def test_each_failure_is_worded_from_its_facts(error, told):
    assert feedback.explain(error, "mcc", CASE) == told


def test_by_hand_rules_read_as_the_handout_says():
    assert feedback.by_hand_rule(ByHandFinding("SGDMomentum", "torch.optim.SGD", None,
                                               "write the update rule yourself",
                                               subclasses=True)) == (
        "line ?: SGDMomentum subclasses torch.optim.SGD; write the update rule yourself")
    assert feedback.by_hand_rule(ByHandFinding("gradient_descent", "torch.autograd.grad", 7,
                                               "no autograd", on_path=True)) == (
        "line 7: gradient_descent on its by-hand path uses torch.autograd.grad; no autograd")


def test_a_failed_run_keeps_the_facts_staff_count():
    outcome = Outcome(error=WorkerError(ErrorKind.BY_HAND, Raised("ByHandViolation"),
                                        by_hand=ADOPT), output="hi\n")
    run = feedback.failed_run(feedback.StudentError(outcome, "optimizers", None), "cpu", 1.0,
                              "")
    assert (run.outcome, run.fault, run.tampering) == (RunOutcome.FAILED, None, "")
    assert run.by_hand == feedback.by_hand_rule(ADOPT)
    assert run.message.endswith("\nyour code printed (lines marked |):\n| hi")
    hung = Outcome(error=WorkerError(ErrorKind.TIMEOUT,
                                     timed_out=TimedOut(TimeLimit.CPU, 1.0, 1.1)))
    assert feedback.failed_run(feedback.StudentError(hung, "mcc", None), "cpu", 1.0,
                               "").fault == Fault.TIME_LIMIT


def test_facts_cross_the_wire_and_forged_ones_do_not():
    sent = WorkerError(ErrorKind.TAMPERING, Raised("ValueError", "x"), tampering=(READS,
                                                                                   CHANGED))
    assert wire.load_reply(wire.dump_reply(Reply(error=sent))).error == sent
    by_hand = WorkerError(ErrorKind.BY_HAND, Raised("ByHandViolation"), by_hand=ADOPT)
    assert wire.load_reply(wire.dump_reply(Reply(error=by_hand))).error == by_hand
    # The sandbox's findings, a by-hand kind without its rule, a fact of the wrong type:
    # a submission's forgery is an exception of its own, its facts dropped.
    for forged in ({"kind": "timeout"}, {"kind": "by_hand"},
                   {"kind": "by_hand", "by_hand": {**vars(ADOPT), "line": "16"}},
                   {"kind": "tampering", "tampering": [{"reach": "owns", "name": "x"}]}):
        error = wire.load_reply(frame.pack({"error": forged})).error
        assert (error.kind, error.by_hand, error.tampering) == (ErrorKind.EXCEPTION, None, ())
