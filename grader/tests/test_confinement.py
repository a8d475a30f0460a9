"""Submissions that reach outside their worker (issues 11, 30): the kernel refuses, nothing
changes.

The breakouts and snoops (`grader.tests.breakouts`) are graded in a copy of this checkout,
so that a protection that failed harms only the copy. Then the copy grades the reference
and the stub again: full marks and 0, from files that are byte for byte what they were.

Each defence can be switched off in the copy, to see the tests that rely on it fail:
`CONFINEMENT_OFF=reads,network pytest grader/tests/test_confinement.py` (see `SWITCHES`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import site
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from grader import ROOT
from grader.isolation import confinement
from grader.isolation.wire import printable
from grader.judging.reports import load as read_results
from grader.judging.results import SubmissionResult
from grader.tests.breakouts import DAEMON_NAME, breakouts, snoop_source, snoops
from grader.tests.grading import (
    checks,
    copy_of_checkout,
    failing_checks,
    mcc_calls,
    run_grader,
)
from grader.tests.test_student_release import solution_lines

AVAILABLE = confinement.available()
CONFINED = pytest.mark.skipif(
    bool(AVAILABLE.missing()),
    reason=f"this machine cannot confine a worker fully (no {', '.join(AVAILABLE.missing())})")
# The copy's checks write no bytecode, so that any new file in it is a breakout's; the
# grader runs with a secret in its environment, as on a CI runner.
SECRET = "ghp_breakout0secret0token"
ENVIRONMENT = {"PYTHONDONTWRITEBYTECODE": "1", "GITHUB_TOKEN": SECRET}
# Defences switched off in the copy when CONFINEMENT_OFF names them: (file, text, stand-in).
# reads: the worker may read everything; network: seccomp lets sockets be made; cpuinfo:
# the allowlist lacks an entry a worker needs (the trace test must notice).
SWITCHES = {
    "reads": ("grader/isolation/worker.py", "readable=confinement.allowlist(ROOT, module)",
              "readable=[Path('/')]"),
    "network": ("grader/isolation/confinement.py", "for nr in (*network, *metadata)",
                "for nr in metadata"),
    "cpuinfo": ("grader/isolation/confinement.py", '"/proc/cpuinfo", ', ""),
}
# Planted where an instructor keeps files: beside the checkout, and in the home folder.
PLANTED_PIN = "pin-beside-the-checkout-5be1"
PLANTED_ROSTER = "roster-in-home-0c44"
KNOWN_SUBMISSIONS = "solutions/variants/mcc.py"  # mutants, alternatives, hostile code


def _snapshot(root: Path) -> dict[str, str]:
    """{file: sha256} of the checkout, but .hypothesis/, the judge's own cache (charmaps)."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).parts[0] != ".hypothesis"}


def _grade(checkout: Path, out: Path, targets: list[Path],
           env: dict[str, str] | None = None) -> dict[str, SubmissionResult]:
    process = run_grader("grade", "--exercise", "mcc", "--device", "cpu", "--quick",
                         "--out", str(out), *(f"--target={t}" for t in targets),
                         cwd=checkout, env={**ENVIRONMENT, **(env or {})})
    assert process.returncode == 0, process.stdout + process.stderr
    assert "\x1b" not in process.stdout + process.stderr
    return {target.name: read_results(out / target.name / "results.json")
            for target in targets}


def _daemons(checkout: Path) -> list[int]:
    """The breakout daemons of gradings in `checkout`: their command line is their fork
    server's, which names the checkout (a hostile submission graded at the same time by
    another self-test leaves daemons of its own, elsewhere, for its own grader to kill)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if (entry.isdigit()
                    and Path(f"/proc/{entry}/comm").read_text().strip() == DAEMON_NAME
                    and str(checkout).encode() in Path(f"/proc/{entry}/cmdline").read_bytes()):
                found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of this checkout, with the defences CONFINEMENT_OFF names switched off."""
    copy = copy_of_checkout(tmp_path_factory.mktemp("copy") / "checkout")
    for name in filter(None, os.environ.get("CONFINEMENT_OFF", "").split(",")):
        file, text, stand_in = SWITCHES[name]
        source = (copy / file).read_text()
        assert text in source, f"CONFINEMENT_OFF={name}: {text!r} is not in {file}"
        (copy / file).write_text(source.replace(text, stand_in))
    return copy


@pytest.fixture(scope="module")
def snooping(checkout, tmp_path_factory) -> Iterator[dict]:
    """The snoops' folders (graded with the breakouts, in one grading), the classmate whose
    module the copier looks for, secrets in the home folder and beside the checkout, and a
    UDP listener on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("snoops")
    (tmp / "home").mkdir()
    (tmp / "home" / "roster.csv").write_text(f"id,name\n{PLANTED_ROSTER},x\n")
    (checkout.parent / "pins.toml").write_text(f'[lab3]\npin = "{PLANTED_PIN}"\n')
    submissions = tmp / "submissions"
    (submissions / "classmate").mkdir(parents=True)
    shutil.copy2(checkout / "solutions" / "mcc.py", submissions / "classmate" / "mcc.py")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        values = {"SEARCHED": [str(submissions)],
                  "PLANTED": [str(checkout.parent / "pins.toml")],
                  "UDP_PORT": listener.getsockname()[1],
                  "KNOWN_SUBMISSIONS": [str(checkout / KNOWN_SUBMISSIONS)]}
        stub = (checkout / "exercises" / "mcc.py").read_text()
        targets = [submissions / "classmate"]
        for name in snoops():
            folder = submissions / "copier" if name == "copies_classmate" else tmp / name
            folder.mkdir(parents=True)
            (folder / "mcc.py").write_text(snoop_source(name, values, stub))
            targets.append(folder)
        yield {"tmp": tmp, "submissions": submissions, "targets": targets,
               "listener": listener, "env": {"HOME": str(tmp / "home")}}


@pytest.fixture(scope="module")
def graded_breakouts(checkout, snooping, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("breakouts")
    targets = []
    for breakout in breakouts():
        (tmp / breakout.name).mkdir()
        (tmp / breakout.name / "mcc.py").write_text(breakout.for_checkout(checkout))
        targets.append(tmp / breakout.name)
    targets += snooping["targets"]
    sites = [Path(p) for p in site.getsitepackages()]
    before = _snapshot(checkout)
    results = _grade(checkout, tmp / "out", targets, snooping["env"])
    time.sleep(1)  # a detached process that survived would rewrite the reports meanwhile
    reports = {t.name: read_results(tmp / "out" / t.name / "results.json") for t in targets}
    daemons = _daemons(checkout)
    after = _snapshot(checkout)
    planted = [p for s in sites for p in (s / "breakout.pth", s / "sitecustomize.py")
               if p.exists()] + [p for p in [Path(torch.__file__).parent / "_breakout.py"]
                                 if p.exists()]
    shutil.copytree(checkout / "solutions", tmp / "reference")
    again = _grade(checkout, tmp / "again", [tmp / "reference", checkout / "exercises"])
    return {"results": results, "reports": reports, "daemons": daemons, "before": before,
            "after": after, "planted": planted, "again": again}


@CONFINED
@pytest.mark.parametrize("breakout", breakouts(), ids=lambda b: b.name)
def test_breakout_scores_only_its_honest_work(graded_breakouts, breakout):
    results = graded_breakouts["results"][breakout.name]
    full = sum(check.max_score for check in checks(results))
    expected = full if breakout.honest else 0
    assert results.score == expected, (breakout.description,
                                       failing_checks(results) or results.score)


@CONFINED
def test_no_breakout_changes_the_checkout_or_site_packages(graded_breakouts):
    before, after = graded_breakouts["before"], graded_breakouts["after"]
    changed = sorted(name for name in before.keys() | after.keys()
                     if before.get(name) != after.get(name))
    assert changed == []
    assert graded_breakouts["planted"] == []


@CONFINED
def test_after_the_breakouts_the_reference_gets_full_marks_and_the_stub_zero(graded_breakouts):
    again = graded_breakouts["again"]
    assert again["reference"].score == sum(c.max_score for c in checks(again["reference"]))
    assert again["exercises"].score == 0


@CONFINED
def test_no_detached_process_outlives_the_grader(graded_breakouts):
    assert graded_breakouts["daemons"] == []
    assert graded_breakouts["reports"] == graded_breakouts["results"]


@CONFINED
def test_two_judges_kill_the_daemons_and_spare_each_other(checkout, tmp_path):
    """One grade, two judges (grader.judging.split): the mcc module detaches daemons, the
    network_basics module is the reference's. Both exercises get full marks (the vandal does
    the reference's work besides) and no daemon outlives the grade. The daemons die twice
    over (the sweep, then the fork server's exit), so switching the sweep off makes this
    grade a minute slower, not wrong; that a sweep spares the other judge's workers is
    proven in test_judges, where a registry that is not shared fails."""
    student = tmp_path / "student"
    student.mkdir()
    vandal = next(b for b in breakouts() if b.name == "leaves_daemons")
    (student / "mcc.py").write_text(vandal.for_checkout(checkout))
    shutil.copy(checkout / "solutions" / "network_basics.py", student)
    process = run_grader("grade", "--target", str(student), "--exercise", "mcc",
                         "--exercise", "network_basics", "--device", "cpu", "--quick",
                         "--judges", "2", "--out", str(tmp_path / "out"), cwd=checkout,
                         env=ENVIRONMENT)
    assert process.returncode == 0, process.stdout + process.stderr
    time.sleep(1)  # a daemon that survived would rewrite the report meanwhile
    result = read_results(tmp_path / "out" / "results.json")
    assert [(e.name, e.score) for e in result.exercises] == [
        (e.name, e.max_score) for e in result.exercises], result.exercises
    assert _daemons(checkout) == []


@CONFINED
def test_feedback_shows_neither_the_reference_nor_the_suite(graded_breakouts):
    feedback = "\n".join(failing_checks(graded_breakouts["results"]["prints_reference"]).values())
    stub = set((ROOT / "exercises" / "mcc.py").read_text().splitlines())
    secret = [line for name in ("solutions/mcc.py", "tests/test_mcc.py")
              for line in (ROOT / name).read_text().splitlines()
              if len(line.strip()) > 20 and line not in stub]
    assert not [line for line in secret if line in feedback]
    assert "Permission denied" in feedback


@CONFINED
def test_no_secret_of_the_graders_environment_reaches_a_submission(graded_breakouts):
    feedback = "\n".join(failing_checks(graded_breakouts["results"]["prints_environment"])
                         .values())
    assert "PATH" in feedback and SECRET not in feedback


@CONFINED
def test_forged_output_is_marked_and_stripped(graded_breakouts):
    results = graded_breakouts["results"]["forges_output"]
    text = json.dumps(results.to_dict(), ensure_ascii=False)
    assert "\x1b" not in text and "\u202e" not in text
    feedback = "\n".join(failing_checks(results).values())
    assert "| total              20/20" in feedback
    assert not [line for line in feedback.splitlines() if line.startswith("total")]


def test_printable_strips_escape_sequences_and_control_characters():
    assert printable("a\x1b[2Jb\x1b]0;title\x07c\rd\x00e\u202ef\tg\nh") == "abcdef\tg\nh"


def test_a_directory_at_the_report_path_is_a_clear_error(tmp_path):
    (tmp_path / "results.json").mkdir()
    process = run_grader("grade", "--exercise", "mcc", "--json",
                         str(tmp_path / "results.json"))
    assert process.returncode == 2
    assert "cannot write the report" in process.stderr and "Traceback" not in process.stderr


@CONFINED
def test_results_say_how_workers_were_confined(graded_breakouts):
    results = graded_breakouts["results"]["writes_checkout"]
    assert results.environment["confinement"] == asdict(AVAILABLE)


@pytest.fixture(scope="module")
def graded_snoops(checkout, snooping, graded_breakouts) -> dict:
    """The snoops graded twice: as targets of one grading (`--target A --target B`, with
    the breakouts), the copier beside its classmate; and the copier and its classmate as a
    class (`--submissions`)."""
    out = snooping["tmp"] / "class"
    process = run_grader("grade", "--submissions", str(snooping["submissions"]),
                         "--exercise", "mcc", "--device", "cpu", "--quick", "--jobs", "2",
                         "--out", str(out), cwd=checkout, env={**ENVIRONMENT, **snooping["env"]})
    assert process.returncode == 0, process.stdout + process.stderr
    snooping["listener"].setblocking(False)
    datagrams = []
    with contextlib.suppress(BlockingIOError):
        while True:
            datagrams.append(snooping["listener"].recv(4096))
    return {"targets": graded_breakouts["results"], "datagrams": datagrams,
            "class": {student: read_results(out / student / "results.json")
                      for student in ("copier", "classmate")},
            "known": checkout / KNOWN_SUBMISSIONS}


def _feedback(results: SubmissionResult) -> str:
    return "\n".join(failing_checks(results).values())


@CONFINED
@pytest.mark.parametrize("grading", ["targets", "class"])
def test_a_copier_gets_nothing_of_its_classmate(graded_snoops, grading):
    results = graded_snoops[grading]
    full = sum(check.max_score for check in checks(results["classmate"]))
    assert results["classmate"].score == full, failing_checks(results["classmate"])
    assert results["copier"].score == 0, failing_checks(results["copier"])


@CONFINED
def test_files_beside_the_checkout_and_in_home_are_absent(graded_snoops):
    results = graded_snoops["targets"]["prints_planted_files"]
    text = json.dumps(results.to_dict())
    assert PLANTED_PIN not in text and PLANTED_ROSTER not in text
    assert _feedback(results).count("Permission denied") == 2


@CONFINED
def test_no_datagram_leaves_a_worker(graded_snoops):
    assert graded_snoops["datagrams"] == []
    assert "Operation not permitted" in _feedback(graded_snoops["targets"]["sends_udp"])


@CONFINED
def test_the_known_submissions_are_absent(graded_snoops):
    feedback = _feedback(graded_snoops["targets"]["reads_known_submissions"])
    stub = set((ROOT / "exercises" / "mcc.py").read_text().splitlines())
    lines = [line for line in graded_snoops["known"].read_text().splitlines()
             if len(line.strip()) > 20 and line not in stub]
    assert not [line for line in lines if line in feedback]
    assert "Permission denied" in feedback


@CONFINED
def test_the_judges_command_line_is_refused(graded_snoops):
    feedback = _feedback(graded_snoops["targets"]["reads_judge_cmdline"])
    assert "--out" not in feedback and "Permission denied" in feedback


@CONFINED
def test_results_say_reads_are_allowlisted_and_every_socket_refused(graded_snoops):
    confined = graded_snoops["targets"]["classmate"].environment["confinement"]
    assert confined["reads_allowlisted"] and confined["network_blocked"]


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    return subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"],
                          capture_output=True).returncode == 0


@CONFINED
@pytest.mark.slow
@pytest.mark.skipif(not _strace_works(), reason="strace is missing or may not trace here")
def test_a_correct_submission_opens_nothing_outside_the_allowlist(checkout, tmp_path):
    """The allowlist is measured: every file a worker opens or runs after it locks itself in,
    while it grades the reference of every exercise (a copy, so untrusted), was granted.
    Landlock refuses the rest, and a probe may swallow the refusal: strace sees it."""
    (tmp_path / "reference").mkdir()
    for module in (checkout / "solutions").glob("*.py"):
        if module.name != "__init__.py":
            shutil.copy2(module, tmp_path / "reference")
    trace = tmp_path / "trace"
    process = subprocess.run(
        ["strace", "--seccomp-bpf", "-f", "-qq", "-o", str(trace),
         "-e", "trace=open,openat,openat2,execve,execveat,landlock_restrict_self",
         sys.executable, "-m", "grader", "grade", "--target", str(tmp_path / "reference"),
         "--device", "cpu", "--quick", "--out", str(tmp_path / "out"), "--timeout-scale", "3"],
        cwd=checkout, capture_output=True, text=True, timeout=1200,
        env={**os.environ, **ENVIRONMENT})
    assert process.returncode == 0, process.stdout + process.stderr
    locked, refused, unfinished = set(), set(), {}
    for line in trace.read_text().splitlines():
        pid, _, call = line.partition(" ")
        call = call.lstrip()
        if call.endswith("<unfinished ...>"):  # another process's call came in between
            unfinished[pid] = call.removesuffix("<unfinished ...>")
            continue
        if call.startswith("<..."):
            call = unfinished.pop(pid, "") + call.partition("resumed>")[2]
        if call.startswith("landlock_restrict_self(") and call.endswith("= 0"):
            locked.add(pid)
        elif pid in locked and re.search(r"= -1 E(ACCES|PERM) ", call):
            refused.add(re.search(r'"([^"]*)"', call).group(1))
    assert len(locked) >= len(list((tmp_path / "reference").glob("*.py")))
    # Python's path finder lists the checkout's root, which stays hidden (see the fork
    # server's PRELOAD).
    assert refused - {str(checkout.resolve())} == set()
    results = read_results(tmp_path / "out" / "results.json")
    assert results.score == sum(check.max_score for check in checks(results)), \
        failing_checks(results)


def test_no_file_a_worker_may_read_holds_a_line_of_a_solution():
    """What the allowlist shows of the checkout (grader/ but its tests, data/, the probes)
    holds no line of a solution region: the known submissions live in solutions/variants."""
    root, venv = ROOT.resolve(), Path(sys.prefix).resolve()  # a venv inside the checkout:
    shown = [path for path in confinement.allowlist(root, None)  # Python's, not the course's
             if (path == root or root in path.parents) and venv not in (path, *path.parents)]
    files = [file for path in shown for file in ([path] if path.is_file() else path.rglob("*"))
             if file.is_file() and file.suffix not in {".pyc", ".pt", ".png"}]
    assert root / "grader" / "isolation" / "worker.py" in files
    assert root / "tests" / "probes" / "mcc.py" in files
    secret = solution_lines()
    leaks = [f"{file.relative_to(root)}: {line.strip()}" for file in files
             for line in file.read_text(errors="replace").splitlines() if line.strip() in secret]
    assert leaks == []


LISTS_ITS_DESCRIPTORS = '''
import os
import stat

def confusion_counts(y_true, y_pred):
    kinds = {}
    for fd in range(1024):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        kinds[fd] = ("pipe" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
                     else "file" if stat.S_ISREG(mode) else "device")
    return kinds
'''


def test_a_worker_holds_only_its_channel_its_output_and_dev_null(tmp_path):
    """multiprocessing hands each worker the write ends of the fork server's liveness pipe
    and of the resource tracker's pipe: a byte in the first stops the server and every
    worker under it, the other judge's included. A worker closes all it inherits but its
    channel (one socket) and its output file; stdin is /dev/null."""
    [held] = mcc_calls(tmp_path, LISTS_ITS_DESCRIPTORS, {"y_true": [0, 1], "y_pred": [0, 1]})
    assert held.ok, held.error
    kinds = held.value
    assert kinds[0] == "device" and kinds[1] == kinds[2] == "file", kinds
    assert sorted(kind for fd, kind in kinds.items() if fd > 2) == ["file", "socket"], kinds
