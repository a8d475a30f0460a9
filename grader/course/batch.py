"""Grading a class: N students at a time, each slot in a warm grader of its own.

Each student's exercise modules are found (at the top of their folder, one folder down,
or in a zip), copied into a staging folder, and graded by the slot's warm grader
(`grader.course.warm`): one judging process and one preloaded fork server for all the students the
slot grades. Each student's workers are forked fresh, confined, and killed when that student
is done; a grader error is tried once more in a fresh warm grader. As soon as a student is
done, their reports are written atomically under `OUT/<id>/`:

    results.json   the results document (grader.judging.results), from the grader
    feedback.md    the table and every failing check's feedback, ready to send
    grading.json   how the grading went: status, seconds (wall and CPU), the exit code

so an interrupted batch resumes (`--resume`) where it stopped, and `grader.course.gradebook`
merges the folders into one CSV at any time (also after a cluster's array tasks). Every run
first writes `OUT/class.json`, the whole class's ids: a student it lists who has no
grading.json yet is `pending` in the gradebook, never `missing`.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import grader
from grader import ROOT
from grader.course.intake import stage
from grader.course.warm import WarmGrader, WarmGraderDied
from grader.exercises import exercise_names
from grader.judging import reports
from grader.judging.options import DEFAULTS, GradingOptions
from grader.judging.results import SubmissionResult


class GradingStatus(StrEnum):
    """How a student's grading went: the gradebook's status column."""

    PENDING = "pending"  # not graded yet
    GRADED = "graded"
    MISSING = "missing"  # nothing submitted
    PARTIAL = "partial"  # some exercise modules missing
    GRADER_ERROR = "grader error"  # never a zero: rerun with --resume


STUDENT_TIME_LIMIT = 1800.0  # seconds for one student's whole grade
CLASS_FILE = "class.json"  # in OUT: every student of the class, graded or not
GRADING_FOLDER = ".grading"  # in a student's folder: the grade's reports before _finish


@dataclass
class Student:
    id: str
    name: str = ""
    email: str = ""


@dataclass
class Grading:
    """How one student's grading went (grading.json); the points are in results.json."""

    id: str
    status: GradingStatus
    message: str = ""
    seconds: float = 0.0
    # The warm grader's CPU for this student: judge, fork server, workers (the first student a
    # warm grader grades is charged its start-up too, so the class's seconds add up).
    cpu_seconds: float = 0.0
    # A warm grader was started for this student: its cpu_seconds hold that start-up
    # (imports, the reference's first answers, drawing every check's cases).
    started_grader: bool = False
    exit_code: int | None = None
    finished_at: str = ""
    grader: str = grader.__version__


def read_roster(path: Path) -> list[Student]:
    """A CSV with a column `id` (the submission folder's name), optional `name`, `email`."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "id" not in rows[0]:
        raise ValueError(f"{path}: a roster needs a header with an 'id' column")
    return [Student(row["id"].strip(), (row.get("name") or "").strip(),
                    (row.get("email") or "").strip()) for row in rows if row["id"].strip()]


def students_of(submissions: Path, roster: list[Student] | None) -> list[Student]:
    """The roster's students in its order, then any folder it does not list, by name."""
    folders = sorted(p.name for p in submissions.iterdir()
                     if p.is_dir() and not p.name.startswith("."))
    listed = roster or []
    known = {s.id for s in listed}
    return [*listed, *(Student(name) for name in folders if name not in known)]


def finished(out: Path, student: Student) -> bool:
    """Graded before (a resumed batch skips them); a grader error is tried again."""
    path = out / student.id / "grading.json"
    if not path.is_file():
        return False
    return json.loads(path.read_text())["status"] != GradingStatus.GRADER_ERROR


def grade_class(*, submissions: Path, out: Path, roster: list[Student] | None = None,
                exercises: list[str] | None = None, jobs: int = 1,
                options: GradingOptions = DEFAULTS, resume: bool = False,
                only: tuple[int, int] | None = None,
                progress: Callable[[int, int, float], None] | None = None) -> list[Grading]:
    """Grade every student of `submissions` into `out`; return this run's gradings.

    jobs: students graded at once, each slot by a warm grader that grades its students one
    after another (`grader.course.warm`). only: (k, n) grades the k-th of n slices of the class (a
    cluster's array task). progress: called with (students done, students to do, seconds).
    """
    exercises = exercises or exercise_names()
    students = students_of(submissions, roster)
    out.mkdir(parents=True, exist_ok=True)
    # Every array task writes the same list, so a gradebook made before all are done
    # knows who is still to be graded.
    reports.write_atomic(out / CLASS_FILE,
                         json.dumps({"students": [s.id for s in students]}, indent=2) + "\n")
    if only is not None:
        k, n = only
        students = students[k::n]
    todo = [s for s in students if not (resume and finished(out, s))]
    slots = _Slots(submissions, out, exercises, options, deque(todo))
    stopping = []

    def stop(signum, frame):  # noqa: ARG001 - a signal handler's signature
        stopping.append(signum)
        slots.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    threads = [threading.Thread(target=slots.work, daemon=True) for _ in range(max(jobs, 1))]
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if progress is not None:
                progress(len(slots.done), len(todo), time.monotonic() - started)
            time.sleep(0.2)
        if progress is not None:
            progress(len(slots.done), len(todo), time.monotonic() - started)
    finally:
        slots.stop()  # interrupted: unfinished students leave no reports
        for thread in threads:
            thread.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopping:
        raise KeyboardInterrupt(f"stopped by signal {stopping[0]} after {len(slots.done)} "
                                "students")
    return slots.done


@dataclass
class _Slots:
    """The students still to grade, taken one at a time by each slot's thread."""

    submissions: Path
    out: Path
    exercises: list[str]
    options: GradingOptions
    queue: deque[Student]
    done: list[Grading] = field(default_factory=list)
    stopped: bool = False
    _graders: set[WarmGrader] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def work(self) -> None:
        warm: WarmGrader | None = None
        try:
            while True:
                with self._lock:
                    if self.stopped or not self.queue:
                        return
                    student = self.queue.popleft()
                grading, warm = self._grade(student, warm)
                with self._lock:
                    if self.stopped:
                        return
                    self.done.append(grading)
        finally:
            if warm is not None:
                self._release(warm)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            graders = list(self._graders)
        for warm in graders:
            warm.close()

    def _grade(self, student: Student, warm: WarmGrader | None,
               ) -> tuple[Grading, WarmGrader | None]:
        """Grade one student in `warm` (started if None); a grader error is tried once
        more in a fresh warm grader. Returns the grading and the warm grader to go on with."""
        folder = self.out / student.id
        staging = folder / "submission"
        found = stage(self.submissions / student.id, staging, self.exercises)
        if not found:
            where = self.submissions / student.id
            message = ("no submission folder" if not where.is_dir() else
                       f"no exercise module ({', '.join(f'{n}.py' for n in self.exercises)})"
                       " found")
            grading = Grading(student.id, GradingStatus.MISSING, message)
            _finish(self.out, grading, None)
            return grading, warm
        # The grade writes its results document there; _finish moves it beside grading.json.
        partial = folder / GRADING_FOLDER / "results.json"
        shutil.rmtree(partial.parent, ignore_errors=True)  # an interrupted run's
        # One judge per student: the class's jobs share the cores.
        argv = ["grade", "--target", str(staging), "--out", str(partial.parent), "--judges=1",
                *self.options.flags(),
                *(f"--exercise={name}" for name in self.exercises)]
        started, cpu, log, started_grader = time.monotonic(), 0.0, [], False
        for attempt in (1, 2):
            if warm is None or not warm.alive():
                warm, started_grader = self._start(), True
            try:
                reply = warm.run(argv, timeout=STUDENT_TIME_LIMIT)
            except subprocess.TimeoutExpired:
                self._release(warm)
                grading = Grading(student.id, GradingStatus.GRADER_ERROR,
                                  f"the grade took over {STUDENT_TIME_LIMIT:g} s and was stopped")
                warm, code = None, None
                break
            except WarmGraderDied as exc:
                self._release(warm)
                warm, code, message = None, None, str(exc)
            else:
                code, cpu = reply.returncode, cpu + reply.cpu_seconds
                log.append(reply.stdout + reply.stderr)
                tail = (reply.stdout + reply.stderr).strip().splitlines()[-3:]
                message = f"the grader exited with code {code}: {' / '.join(tail)}"
            if code in (0, 1):
                missing = sorted(set(self.exercises) - set(found))
                grading = Grading(student.id,
                                  GradingStatus.PARTIAL if missing else GradingStatus.GRADED,
                                  f"no module for {', '.join(missing)}" if missing else "")
                break
            grading = Grading(student.id, GradingStatus.GRADER_ERROR,
                              message + (" (the second try, in a fresh grader)"
                                         if attempt == 2 else ""))
            if warm is not None:  # the next try starts a fresh one
                self._release(warm)
                warm = None
        grading.seconds = round(time.monotonic() - started, 1)
        grading.cpu_seconds, grading.exit_code = round(cpu, 1), code
        grading.started_grader = started_grader
        (folder / "grader.log").write_text("\n".join(log))
        # Kept after a grader error too, for staff to read; the status says not to trust it.
        _finish(self.out, grading, partial if partial.is_file() else None)
        shutil.rmtree(partial.parent, ignore_errors=True)
        return grading, warm

    def _start(self) -> WarmGrader:
        warm = WarmGrader(ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
        with self._lock:
            self._graders.add(warm)
            stopped = self.stopped
        if stopped:
            warm.close()
        return warm

    def _release(self, warm: WarmGrader) -> None:
        warm.close()
        with self._lock:
            self._graders.discard(warm)


def _finish(out: Path, grading: Grading, results: Path | None) -> None:
    """Write a student's reports, results first: grading.json marks them complete."""
    folder = out / grading.id
    folder.mkdir(parents=True, exist_ok=True)
    grading.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    if results is not None:
        result = reports.load(results)
        os.replace(results, folder / "results.json")
        reports.write_atomic(folder / "feedback.md", feedback(grading.id, result))
    reports.write_atomic(folder / "grading.json", json.dumps(asdict(grading), indent=2) + "\n")


def feedback(student_id: str, result: SubmissionResult) -> str:
    """The message a student gets: their table and every failing check's feedback."""
    return (f"# Grade of {student_id}: {result.score:g}/{result.max_score:g}\n\n```\n"
            f"{reports.table(result)}\n```\n")
