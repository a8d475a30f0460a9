"""The gradebook: one CSV row per submission, for a class run and a grade of several targets.

One layout, whoever writes it (`python -m grader grade --submissions ...`, `python -m grader
gradebook OUT`, and `grade` with several `--target`):

    id, name, email   the student (the roster's columns; a target's folder name as id)
    <exercise> ...    one column per exercise of the course, in the course's order: its
                      points, `not submitted` where the module is missing, empty where it
                      was not graded (not asked for, or the student not graded yet)
    total, max_score  the points of the exercises graded
    status            graded, partial (some modules missing), missing (nothing submitted),
                      pending (not graded yet), grader error (never a zero: grade again)
    seconds, cpu_seconds   the student's grading, wall and CPU (a class run); empty for the
                      targets of one grade, which share one session
    grader, release   the grader's version; the release graded against (or the commit of
                      the instructor's checkout)
    finished_at, message   when the student's grading finished; why it is partial or failed

Points and versions come from each submission's results document; status, time and message
from the class run's grading.json.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from grader.course.batch import CLASS_FILE, GradingStatus, Student
from grader.exercises import exercise_names
from grader.judging import reports
from grader.judging.results import ExerciseStatus, SubmissionResult

NOT_SUBMITTED = "not submitted"  # the cell of an exercise without a module
COLUMNS = ("total", "max_score", "status", "seconds", "cpu_seconds", "grader", "release",
           "finished_at", "message")


@dataclass
class Row:
    """One submission's row: its result (None when it was not graded) and how it went."""

    student: Student
    status: GradingStatus
    result: SubmissionResult | None = None
    seconds: float | None = None
    cpu_seconds: float | None = None
    grader: str = ""
    finished_at: str = ""
    message: str = ""


def gradebook(rows: list[Row]) -> str:
    """The CSV text of `rows`, in their order (the layout above)."""
    names = exercise_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "email", *names, *COLUMNS])
    for row in rows:
        result = row.result
        points = {} if result is None else {e.name: _points(e.status, e.score)
                                             for e in result.exercises}
        writer.writerow([
            row.student.id, row.student.name, row.student.email,
            *(points.get(name, "") for name in names),
            "" if result is None else _num(result.score),
            "" if result is None else _num(result.max_score),
            row.status, _num(row.seconds), _num(row.cpu_seconds), row.grader,
            "" if result is None else _release(result), row.finished_at, row.message])
    return buffer.getvalue()


def of_results(results: list[SubmissionResult]) -> list[Row]:
    """The rows of a grade of several targets, each named by its folder."""
    rows = []
    for result in results:
        missing = [e.name for e in result.exercises if e.status == ExerciseStatus.NOT_SUBMITTED]
        status = (GradingStatus.GRADER_ERROR if result.internal_errors else
                  GradingStatus.PARTIAL if missing else GradingStatus.GRADED)
        rows.append(Row(Student(Path(result.target).name), status, result,
                        grader=result.environment.get("grader", ""),
                        message="the grader failed on some checks" if result.internal_errors
                        else f"no module for {', '.join(missing)}" if missing else ""))
    return rows


def of_class(out: Path, roster: list[Student] | None = None) -> list[Row]:
    """The rows of a class run's folder `out`: the roster's students, then the rest by id."""
    rows = []
    for student in class_of(out, roster):
        folder = out / student.id
        if not (folder / "grading.json").is_file():  # nothing to grade writes one too
            rows.append(Row(student, GradingStatus.PENDING))
            continue
        grading = json.loads((folder / "grading.json").read_text())
        documented = folder / "results.json"
        rows.append(Row(student, GradingStatus(grading["status"]),
                        reports.load(documented) if documented.is_file() else None,
                        grading["seconds"], grading.get("cpu_seconds", 0.0),
                        grading["grader"], grading["finished_at"], grading["message"]))
    return rows


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


def _points(status: ExerciseStatus, score: float) -> str:
    return NOT_SUBMITTED if status == ExerciseStatus.NOT_SUBMITTED else _num(score)


def _release(result: SubmissionResult) -> str:
    built = result.environment.get("release")
    return built["version"] if built else result.environment.get("commit") or ""


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
