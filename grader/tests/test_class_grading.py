"""Grading a class: batches that survive odd submissions and interruptions, and Slurm.

The class is graded on the `mcc` exercise only (the fastest); each student's expected
total comes from grading the same module in this repository's own session. Gradescope and
GitHub Classroom: test_platforms.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from grader import ROOT
from grader.course.gradebook import gradebook, of_class
from grader.exercises import declared_points
from grader.judging import reports
from grader.tests.grading import graded, run_grader, variants

TIME_COLUMNS = ("seconds", "finished_at")


def module(name: str) -> str:
    """The text of a known mcc submission: reference, stub, or a variant by name."""
    if name == "reference":
        return (ROOT / "solutions" / "mcc.py").read_text()
    if name == "stub":
        return (ROOT / "exercises" / "mcc.py").read_text()
    every = [*variants("mcc", "MUTANTS"), *variants("mcc", "HOSTILE")]
    return next(v for v in every if v.name == name).source("mcc")


def expected_total(name: str) -> str:
    if name == "hangs":
        results = graded("mcc", ("HOSTILE",), timeout_scale=0.25)[name]
    else:
        results = graded("mcc")[name]
    return f"{results.score:g}"


# student id -> (known submission, how it is laid out): every layout and every status once
CLASS_OF_8 = {
    "ada": ("reference", "top"), "ben": ("reference", "nested"), "cai": ("reference", "zip"),
    "dee": ("stub", "top"), "gus": ("sign_flipped", "nested"), "jon": ("hangs", "top"),
    "kim": (None, "empty"), "lou": ("fp_fn_swapped", "stray zip"),
}


def make_class(folder: Path, students: dict) -> Path:
    for student, (name, layout) in students.items():
        home = folder / student
        home.mkdir(parents=True)
        if layout == "empty":
            continue
        if layout == "top" or layout == "stray zip":
            (home / "mcc.py").write_text(module(name))
        if layout == "stray zip":
            (home / "notes.zip").write_bytes(b"not a zip at all")
        if layout == "nested":
            (home / "hw3" / "exercises").mkdir(parents=True)
            (home / "hw3" / "exercises" / "mcc.py").write_text(module(name))
        if layout == "zip":
            with zipfile.ZipFile(home / "repo.zip", "w") as z:
                z.writestr("protein-ai-main/exercises/mcc.py", module(name))
                z.writestr("protein-ai-main/solutions/mcc.py", "raise SystemExit")
    roster = folder.parent / "roster.csv"
    roster.write_text("id,name,email\n" + "".join(f"{s},Student {s},{s}@uni.edu\n"
                                                  for s in [*students, "zoe"]))
    return roster


def rows(gradebook: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIME_COLUMNS}
            for row in csv.DictReader(io.StringIO(gradebook.read_text()))]


def batch(submissions: Path, out: Path, *args: str, nofile: int | None = None):
    command = [sys.executable, "-m", "grader", "grade", "--submissions", str(submissions),
               "--exercise", "mcc", "--device", "cpu", "--timeout-scale", "0.25",
               "--out", str(out), *args]
    def limit_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=limit_files if nofile else None)


def expect_gradebook(gradebook: Path, students: dict) -> None:
    """One row per student of the roster (zoe submitted nothing), each with the grade the
    same module got in this repository's own session."""
    book = rows(gradebook)
    assert [row["id"] for row in book] == [*students, "zoe"]
    for row in book:
        name, layout = students.get(row["id"], (None, "absent"))
        assert row["name"] == f"Student {row['id']}"
        if name is None:
            assert (row["status"], row["total"]) == ("missing", ""), row
        else:
            assert (row["status"], row["total"]) == ("graded", expected_total(name)), row
            assert row["max_score"] == f"{declared_points('mcc'):g}"


def test_a_class_interrupted_and_resumed_gets_every_expected_grade(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    roster = make_class(submissions, CLASS_OF_8)
    first = batch(submissions, out, "--roster", str(roster), "--jobs", "2", nofile=128)
    while len(list(out.glob("*/grading.json"))) < 4 and first.poll() is None:
        time.sleep(0.5)
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    assert "--resume" in err
    done = {p.parent.name: p.read_text() for p in out.glob("*/grading.json")}
    assert len(done) >= 4
    # Who submitted but is not graded yet is pending, never missing (zoe too: not yet seen).
    status = {row["id"]: row["status"] for row in rows(out / "gradebook.csv")}
    assert status == {student: json.loads(done[student])["status"] if student in done
                      else "pending" for student in [*CLASS_OF_8, "zoe"]}
    second = batch(submissions, out, "--roster", str(roster), "--jobs", "2", "--resume",
                   nofile=128)
    stdout, err = second.communicate(timeout=900)
    assert second.returncode == 0, stdout + err
    for student, text in done.items():  # finished students were not graded again
        assert (out / student / "grading.json").read_text() == text
    expect_gradebook(out / "gradebook.csv", CLASS_OF_8)
    feedback = (out / "gus" / "feedback.md").read_text()
    assert "sign is flipped" in feedback
    assert not list(out.glob("*/.grading"))


# Grades a class in this process, made the subreaper of everything it starts: what a
# student's grading leaves behind when it exits comes back here, and is waited for, so this
# process's children's CPU time is the whole tree's.
GRADE_IN_A_SUBREAPER = """
import json, resource, sys
from pathlib import Path
from grader.course import batch
from grader.isolation import subreaper
from grader.judging.options import GradingOptions
batch.grade_class(submissions=Path(sys.argv[1]), out=Path(sys.argv[2]),
                  exercises=["mcc", "autograd_basics"],
                  options=GradingOptions(device="cpu", timeout_scale=0.02,
                                         check=("types",)))
subreaper.wait_for_children()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps(usage.ru_utime + usage.ru_stime))
"""


WAITS_A_SECOND = """

_counts = confusion_counts


def confusion_counts(y_true, y_pred):
    import time

    time.sleep(1.0)
    return _counts(y_true, y_pred)
"""


def test_a_partial_submission_graded_on_a_saturated_machine_gets_its_full_marks(tmp_path):
    """A CPU burner on every core, and limits so short (a fiftieth of the usual) that the
    student's calls run longer, in wall-clock time, than they may use CPU: the correct
    module still gets full marks (limits on wall time would time it out). The exercise it
    did not submit is one line of feedback, 'not submitted' in the gradebook; the CPU
    seconds grading.json records are the whole process tree's."""
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    (submissions / "pia").mkdir(parents=True)
    # Each call also waits a second without using CPU (as on a slow file system): longer in
    # wall-clock time than its CPU limit, whatever the machine's load.
    (submissions / "pia" / "mcc.py").write_text(module("reference") + WAITS_A_SECOND)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in os.sched_getaffinity(0)]
    try:
        graded_class = subprocess.run([sys.executable, "-c", GRADE_IN_A_SUBREAPER,
                                       str(submissions), str(out)], cwd=ROOT,
                                      capture_output=True, text=True, timeout=900)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert graded_class.returncode == 0, graded_class.stderr
    tree_cpu = json.loads(graded_class.stdout)
    grading = json.loads((out / "pia" / "grading.json").read_text())
    assert grading["status"] == "partial" and grading["started_grader"], grading
    assert abs(grading["cpu_seconds"] - tree_cpu) <= 0.1 * tree_cpu, (grading, tree_cpu)
    results = reports.load(out / "pia" / "results.json")
    mcc = results.exercise("mcc")
    assert mcc.score == mcc.max_score > 0, reports.table(results)
    calls = [run.longest_call for check in mcc.checks if check.passed for run in check.runs
             if run.device == "cpu"]
    assert any(call.wall_seconds > call.cpu_limit > call.cpu_seconds for call in calls), calls
    feedback = (out / "pia" / "feedback.md").read_text()
    assert [line for line in feedback.splitlines() if "autograd_basics" in line and
            "not submitted" not in line] == []
    assert len([line for line in feedback.splitlines()
                if line.startswith("autograd_basics: not submitted")]) == 1, feedback
    assert "FAIL" not in feedback
    row = next(csv.DictReader(io.StringIO(gradebook(of_class(out)))))
    assert (row["mcc"], row["autograd_basics"], row["status"]) == (
        f"{mcc.score:g}", "not submitted", "partial")


def sbatch_array(ids: range, script: Path, *args: str) -> None:
    """Run `script` as an array job of `ids` and wait for it: with the real `sbatch` where
    a cluster answers, else with `array_tasks`."""
    if shutil.which("sbatch") and subprocess.run(["sinfo"], capture_output=True).returncode == 0:
        subprocess.run(["sbatch", "--wait", f"--array={ids.start}-{ids[-1]}:{ids.step}",
                        str(script), *args], cwd=ROOT, check=True, capture_output=True,
                       timeout=900, env={**os.environ, "GRADER_PYTHON": sys.executable})
    else:
        array_tasks(ids, ids, script, *args)


def array_tasks(ids: range, tasks: Iterable[int], script: Path, *args: str,
                restart: int = 0) -> None:
    """Run the `tasks` of an array job of `ids` one after the other, as Slurm would: its
    variables (the CPUs its `#SBATCH --cpus-per-task` asks for among them), from the
    submission folder, the script copied out of the repository, its output where
    `#SBATCH --output` says."""
    directives = dict(line.removeprefix("#SBATCH ").split("=", 1)
                      for line in script.read_text().splitlines()
                      if line.startswith("#SBATCH --") and "=" in line)
    output, cpus = directives["--output"], directives["--cpus-per-task"]
    with tempfile.TemporaryDirectory() as spool:
        copy = Path(spool) / "slurm_script"
        shutil.copy(script, copy)
        for task in tasks:
            env = {**os.environ, "SLURM_ARRAY_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": str(task),
                   "SLURM_ARRAY_TASK_MIN": str(ids.start), "SLURM_ARRAY_TASK_MAX": str(ids[-1]),
                   "SLURM_ARRAY_TASK_STEP": str(ids.step), "SLURM_RESTART_COUNT": str(restart),
                   "SLURM_ARRAY_TASK_COUNT": str(len(ids)), "SLURM_SUBMIT_DIR": str(ROOT),
                   "SLURM_CPUS_PER_TASK": cpus, "GRADER_PYTHON": sys.executable}
            with open(output, "a") as log:
                subprocess.run(["bash", str(copy), *args], cwd=ROOT, env=env, check=True,
                               stdout=log, stderr=log, timeout=600)


# Sets what it can of the process's global state, and leaves a daemon that writes its pid to
# a file in /dev/shm (writable by every worker) every tenth of a second.
POLLUTES = """
import os, tempfile, time, torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(3)
os.environ["WARM_BATCH_POLLUTED"] = "1"
open(os.path.join(tempfile.gettempdir(), "warm-batch-polluted"), "w").close()
if os.fork() == 0:
    os.setsid()
    while True:
        with open("/dev/shm/warm-batch-polluter", "w") as mark:
            mark.write(str(os.getpid()))
        time.sleep(0.1)
"""

# Refuses to import if it sees any of it.
SEES_POLLUTION = """
import os, tempfile, time, torch

def _touched():
    try:
        return os.stat("/dev/shm/warm-batch-polluter").st_mtime_ns
    except OSError:
        return None

time.sleep(0.3)
_before = _touched()
time.sleep(0.5)
_seen = [name for name, polluted in (
    ("the default dtype", torch.get_default_dtype() != torch.float32),
    ("the thread count", torch.get_num_threads() == 3),
    ("the environment", "WARM_BATCH_POLLUTED" in os.environ),
    ("the temporary folder", os.path.exists(os.path.join(tempfile.gettempdir(),
                                                         "warm-batch-polluted"))),
    ("a live daemon", _before is not None and _touched() != _before)) if polluted]
if _seen:
    raise RuntimeError(f"saw the previous student's {', '.join(_seen)}")
"""


def test_a_warm_grader_passes_nothing_from_one_student_to_the_next(tmp_path):
    """One slot grades a student who sets global state (torch defaults, the environment, a
    file in its temporary folder, a detached daemon), then a correct one in the same warm
    grader: the second gets full marks, and its module would refuse to import had it seen
    any of it."""
    from grader.course.batch import grade_class
    from grader.judging.options import GradingOptions

    submissions, out = tmp_path / "submissions", tmp_path / "out"
    for student, extra in (("a_polluter", POLLUTES), ("b_canary", SEES_POLLUTION)):
        (submissions / student).mkdir(parents=True)
        (submissions / student / "mcc.py").write_text(module("reference") + extra)
    mark = Path("/dev/shm/warm-batch-polluter")
    mark.unlink(missing_ok=True)
    try:
        gradings = grade_class(submissions=submissions, out=out, exercises=["mcc"], jobs=1,
                               options=GradingOptions(device="cpu", quick=True))
        assert mark.exists(), "the polluter's daemon never ran: the test proves nothing"
    finally:
        mark.unlink(missing_ok=True)
    assert [g.id for g in gradings] == ["a_polluter", "b_canary"]
    # One warm grader for both: a fresh one for the canary would prove nothing.
    assert [g.started_grader for g in gradings] == [True, False]
    canary = reports.load(out / "b_canary" / "results.json")
    mcc = canary.exercise("mcc")
    assert mcc.score == mcc.max_score > 0, reports.table(canary)
    # Without the walls between students (both modules in one process) the canary sees it all.
    # (Its stderr in a file: the daemon keeps a pipe open.)
    with open(tmp_path / "together.txt", "w+") as stderr:
        subprocess.run([sys.executable, "-c", POLLUTES + SEES_POLLUTION], stderr=stderr,
                       stdout=subprocess.DEVNULL, timeout=60,
                       env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        assert ("saw the previous student's the default dtype, the thread count, the "
                "environment, the temporary folder, a live daemon") in (
                    tmp_path / "together.txt").read_text()
    finally:
        os.kill(int(mark.read_text()), signal.SIGKILL)
        mark.unlink(missing_ok=True)


def test_slurm_array_tasks_make_one_gradebook_with_every_expected_grade(tmp_path):
    """An array whose ids start at 1 shares the class; its tasks' results merge into one
    gradebook that holds what grading the class on one machine gives (the test above grades
    one). A gradebook made while tasks are still to run lists their students as pending; a
    requeued task logs its second attempt beside the first."""
    students = {"ada": ("reference", "top"), "dee": ("stub", "top"),
                "fay": ("int64_overflow", "top"), "kim": (None, "empty")}
    submissions = tmp_path / "submissions"
    roster = make_class(submissions, students)
    cluster = tmp_path / "cluster"
    script = ROOT / "cluster" / "grade_array.sbatch"
    options = ("--roster", str(roster), "--exercise", "mcc", "--device", "cpu",
               "--timeout-scale", "0.25")
    array, paths = range(1, 4), (str(submissions), str(cluster))
    array_tasks(array, [1], script, *paths, *options)
    early = run_grader("gradebook", str(cluster), "--roster", str(roster))
    assert "3 of 5 students pending" in early.stderr, early.stderr
    status = {row["id"]: row["status"] for row in rows(cluster / "gradebook.csv")}
    # The first of three slices: ada and kim (the roster's order, every third).
    assert status == {"ada": "graded", "kim": "missing", "dee": "pending", "fay": "pending",
                      "zoe": "pending"}
    sbatch_array(array, script, *paths, *options)
    array_tasks(array, [2], script, *paths, *options, restart=1)  # requeued: resumes
    merged = run_grader("gradebook", str(cluster), "--roster", str(roster))
    assert merged.returncode == 0, merged.stderr
    assert "pending" not in merged.stderr
    expect_gradebook(cluster / "gradebook.csv", students)
    # grade-<job>_<task>-attempt<n>.log: a real sbatch's job differs from the stand-in's.
    logs = {p.name.split("_", 1)[1] for p in (cluster / "logs").iterdir()}
    assert logs == {"1-attempt0.log", "2-attempt0.log", "2-attempt1.log", "3-attempt0.log"}
    assert not list(ROOT.glob("slurm-*.out"))
