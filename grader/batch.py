"""Grading a class: every student in a process of their own, N at a time.

Each student's exercise modules are found (at the top of their folder, one folder down,
or in a zip), copied into a staging folder, and graded by `python -m grader grade` in a
child process, which releases every worker of that student when it ends. As soon as a
student is done, their reports are written atomically under `OUT/<id>/`:

    results.json   Gradescope's format, from the child
    feedback.md    the table and every failing check's feedback, ready to send
    grading.json   how the grading went: status, seconds (wall and CPU), the exit code

so an interrupted batch resumes (`--resume`) where it stopped, and `gradebook` merges
the folders into one CSV at any time (also after a cluster's array tasks). Every run
first writes `OUT/class.json`, the whole class's ids: a student it lists who has no
grading.json yet is `pending` in the gradebook, never `missing`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import grader
from grader import ROOT, reports
from grader.exercises import exercise_names
from grader.options import DEFAULTS, GradingOptions
from grader.results import ExerciseStatus


class GradingStatus(StrEnum):
    """How a student's grading went: the gradebook's status column."""

    PENDING = "pending"  # not graded yet
    GRADED = "graded"
    MISSING = "missing"  # nothing submitted
    PARTIAL = "partial"  # some exercise modules missing
    GRADER_ERROR = "grader error"  # never a zero: rerun with --resume


STUDENT_TIME_LIMIT = 1800.0  # seconds for one student's whole grade
CLASS_FILE = "class.json"  # in OUT: every student of the class, graded or not
NOT_SUBMITTED = "not submitted"  # the gradebook's cell for an exercise without a module
ZIP_MEMBER_LIMIT = 2 * 2**20  # bytes: a module larger than this in a zip is not unpacked
SEARCH_DEPTH = 3  # folders below a student's folder searched for their modules


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
    cpu_seconds: float = 0.0  # the grading process tree's: judge, fork server, workers
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


def stage(folder: Path, staging: Path, exercises: list[str]) -> list[str]:
    """Copy a student's exercise modules into `staging`; return the exercises found.

    Modules are looked for at the top of `folder`, then in its subfolders (the shallowest
    copy wins), then inside zip files, so a zipped repository or an extra folder level
    still grades. Only `<exercise>.py` files are ever copied: nothing else of a
    submission reaches the grader.
    """
    staging.mkdir(parents=True, exist_ok=True)
    wanted = {f"{name}.py" for name in exercises}
    found: dict[str, bytes] = {}
    if folder.is_dir():
        for depth in range(SEARCH_DEPTH + 1):
            candidates = folder.glob("/".join(["*"] * (depth + 1)))
            for path in sorted(candidates, key=_preference):
                if path.name in wanted and path.name not in found and path.is_file() \
                        and not path.is_symlink():
                    found[path.name] = path.read_bytes()
        for archive in sorted(folder.rglob("*.zip")):
            found.update({k: v for k, v in _zip_modules(archive, wanted).items()
                          if k not in found})
    for name, data in found.items():
        (staging / name).write_bytes(data)
    return sorted(Path(name).stem for name in found)


def _preference(path: Path) -> tuple[bool, str]:
    """Among copies at the same depth, the one in a folder named `exercises` first."""
    return path.parent.name != "exercises", str(path)


def _zip_modules(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(archive) as z:
            members = sorted((m for m in z.infolist() if Path(m.filename).name in wanted
                              and "__MACOSX" not in m.filename
                              and m.file_size <= ZIP_MEMBER_LIMIT),
                             key=lambda m: (m.filename.count("/"), _preference(
                                 Path(m.filename))))
            found: dict[str, bytes] = {}
            for member in members:
                found.setdefault(Path(member.filename).name, z.read(member))
            return found
    except (zipfile.BadZipFile, OSError):
        return {}


def finished(out: Path, student: Student) -> bool:
    """Graded before (a resumed batch skips them); a grader error is tried again."""
    path = out / student.id / "grading.json"
    if not path.is_file():
        return False
    return json.loads(path.read_text())["status"] != GradingStatus.GRADER_ERROR


@dataclass
class _Running:
    student: Student
    process: subprocess.Popen
    started: float
    found: list[str]


def grade_class(*, submissions: Path, out: Path, roster: list[Student] | None = None,
                exercises: list[str] | None = None, jobs: int = 1,
                options: GradingOptions = DEFAULTS, resume: bool = False,
                only: tuple[int, int] | None = None,
                progress: Callable[[int, int, float], None] | None = None) -> list[Grading]:
    """Grade every student of `submissions` into `out`; return this run's gradings.

    only: (k, n) grades the k-th of n slices of the class (a cluster's array task).
    progress: called with (students done, students to do, seconds elapsed).
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
    done: list[Grading] = []
    running: list[_Running] = []
    stopping = []

    def stop(signum, frame):  # noqa: ARG001 - a signal handler's signature
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        queue = list(todo)
        while (queue or running) and not stopping:
            while queue and len(running) < jobs:
                student = queue.pop(0)
                launched = _launch(student, submissions, out, exercises, options)
                if isinstance(launched, Grading):
                    _finish(out, launched, None)
                    done.append(launched)
                else:
                    running.append(launched)
            for entry in list(running):
                grading = _poll(entry, out, exercises)
                if grading is not None:
                    running.remove(entry)
                    done.append(grading)
            if progress is not None:
                progress(len(done), len(todo), time.monotonic() - started)
            time.sleep(0.2)
    finally:
        for entry in running:  # interrupted: unfinished students leave no reports
            _kill(entry.process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopping:
        raise KeyboardInterrupt(f"stopped by signal {stopping[0]} after {len(done)} students")
    return done


def _launch(student: Student, submissions: Path, out: Path, exercises: list[str],
            options: GradingOptions) -> _Running | Grading:
    folder = out / student.id
    staging = folder / "submission"
    found = stage(submissions / student.id, staging, exercises)
    if not found:
        where = submissions / student.id
        message = ("no submission folder" if not where.is_dir() else
                   f"no exercise module ({', '.join(f'{n}.py' for n in exercises)}) found")
        return Grading(student.id, GradingStatus.MISSING, message)
    partial = folder / ".results.json.partial"
    command = [sys.executable, "-m", "grader", "grade", "--target", str(staging),
               "--json", str(partial), "--out", str(folder / "build"), *options.flags(),
               *(f"--exercise={name}" for name in exercises)]
    log = open(folder / "grader.log", "w")  # noqa: SIM115 - closed when the child is polled
    # A session of its own: the whole tree of the child is killed on a stop.
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    log.close()
    return _Running(student, process, time.monotonic(), found)


def _poll(entry: _Running, out: Path, exercises: list[str]) -> Grading | None:
    seconds = time.monotonic() - entry.started
    code, cpu = _reap(entry.process)
    if code is None and seconds < STUDENT_TIME_LIMIT:
        return None
    folder = out / entry.student.id
    if code is None:
        _kill(entry.process)
        grading = Grading(entry.student.id, GradingStatus.GRADER_ERROR,
                          f"the grade took over {STUDENT_TIME_LIMIT:g} s and was stopped")
    elif code in (0, 1):
        missing = sorted(set(exercises) - set(entry.found))
        grading = Grading(entry.student.id,
                          GradingStatus.PARTIAL if missing else GradingStatus.GRADED,
                          f"no module for {', '.join(missing)}" if missing else "")
    else:
        tail = (folder / "grader.log").read_text(errors="replace").strip().splitlines()[-3:]
        grading = Grading(entry.student.id, GradingStatus.GRADER_ERROR,
                          f"the grader exited with code {code}: {' / '.join(tail)}")
    grading.seconds, grading.cpu_seconds, grading.exit_code = round(seconds, 1), round(cpu, 1), code
    results = folder / ".results.json.partial"
    # Kept after a grader error too, for staff to read; the status says not to trust it.
    _finish(out, grading, results if results.is_file() else None)
    return grading


def _finish(out: Path, grading: Grading, results: Path | None) -> None:
    """Write a student's reports, results first: grading.json marks them complete."""
    folder = out / grading.id
    folder.mkdir(parents=True, exist_ok=True)
    grading.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    if results is not None:
        data = json.loads(results.read_text())
        os.replace(results, folder / "results.json")
        reports.write_atomic(folder / "feedback.md", feedback(grading.id, data))
    reports.write_atomic(folder / "grading.json", json.dumps(asdict(grading), indent=2) + "\n")


def _reap(process: subprocess.Popen) -> tuple[int | None, float]:
    """(exit code, CPU seconds of its whole tree) once the child has ended; (None, 0) before.

    The CPU seconds are those of every descendant it waited for: the judge waits for its
    fork server, which waits for its workers (and for what they detached).
    """
    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    if pid == 0:
        return None, 0.0
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def _kill(process: subprocess.Popen) -> None:
    """Kill a child and every process of its session (its workers are in groups of their own)."""
    for pid in session_members(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def session_members(session: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session:
                    members.append(int(entry.name))
            except OSError:
                continue
    return members or [session]


def feedback(student_id: str, results: dict) -> str:
    """The message a student gets: their table and every failing check's feedback."""
    score = f"{results['score']:g}"
    maximum = sum(e["max_score"] for e in results["extra_data"]["exercises"].values())
    return (f"# Grade of {student_id}: {score}/{maximum:g}\n\n```\n{results['output']}\n```\n")


def gradebook(out: Path, roster: list[Student] | None = None) -> str:
    """One CSV row per student (roster order, then the rest by id) from the folders in `out`."""
    names = exercise_names()
    students = class_of(out, roster)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "email", *names, "total", "max_score", "status",
                     "seconds", "cpu_seconds", "grader", "release", "finished_at", "message"])
    for student in students:
        writer.writerow([student.id, student.name, student.email, *_row(out / student.id,
                                                                         names)])
    return buffer.getvalue()


def class_of(out: Path, roster: list[Student] | None = None) -> list[Student]:
    """The roster's students, then the rest of the class that `out` knows of, by id."""
    listed = {s.id for s in roster or []}
    known = json.loads((out / CLASS_FILE).read_text())["students"] \
        if (out / CLASS_FILE).is_file() else []
    ids = sorted({*known, *(p.name for p in out.iterdir() if (p / "grading.json").is_file())})
    return [*(roster or []), *(Student(i) for i in ids if i not in listed)]


def pending(out: Path, roster: list[Student] | None = None) -> list[str]:
    """The students of the class not graded yet (a run still going, or stopped)."""
    return [s.id for s in class_of(out, roster) if not (out / s.id / "grading.json").is_file()]


def _row(folder: Path, names: list[str]) -> list[str]:
    path = folder / "grading.json"
    if not path.is_file():  # a student with nothing to grade has a grading.json saying so
        return [*[""] * len(names), "", "", GradingStatus.PENDING, "", "", "", "", "", ""]
    grading = json.loads(path.read_text())
    results_path = folder / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else None
    if results is None:
        points, total, maximum, release = [""] * len(names), "", "", ""
    else:
        exercises = results["extra_data"]["exercises"]
        points = [_points(exercises[n]) if n in exercises else "" for n in names]
        total = f"{results['score']:g}"
        maximum = f"{sum(e['max_score'] for e in exercises.values()):g}"
        built = results["extra_data"]["environment"].get("release")
        release = built["version"] if built else results["extra_data"]["environment"].get(
            "commit") or ""
    return [*points, total, maximum, grading["status"], f"{grading['seconds']:g}",
            f"{grading.get('cpu_seconds', 0):g}", grading["grader"], release,
            grading["finished_at"], grading["message"]]


def _points(exercise: dict) -> str:
    if exercise["status"] == ExerciseStatus.NOT_SUBMITTED:
        return NOT_SUBMITTED
    return f"{exercise['score']:g}"
