"""The instructor's view of a graded class: what the class report says, read from the class.

Made from the per-student folders of a class run (`grade --submissions ... --out OUT`, a
Slurm run's merged OUT, or any folder with a subfolder per student holding its
results.json, a results document or a Gradescope results.json that carries one): per
exercise the score distribution; per check the failure rate among the students who started
the exercise, the known mistake its failures matched most often, and the time limits,
crashes, by-hand violations and tampering it met; grading times; grader errors; and the
pairs of submitted modules that are suspiciously alike. Nothing here changes a grade;
`grader.course.class_page` renders it.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader import ROOT
from grader.course.batch import GradingStatus
from grader.course.similarity import REFERENCE, THRESHOLD, SimilarPair, similar_pairs
from grader.judging import reports
from grader.judging.results import CheckResult, ExerciseResult, ExerciseStatus, Fault, RunOutcome

SEARCH_DEPTH = 2  # folders below a student's folder searched for results.json (exports)


@dataclass
class CheckOutcome:
    """One student's result on one check, as the results document states it."""

    exercise: str
    check: str
    title: str
    max_score: float
    score: float
    ran: bool  # on some device (not every run "not run")
    grader_error: bool  # a run failed by the grader's fault: not the student's
    hints: set[str] = field(default_factory=set)
    faults: set[Fault] = field(default_factory=set)
    by_hand: bool = False
    tampering: bool = False

    @property
    def failed(self) -> bool:
        return self.ran and self.score < self.max_score

    @classmethod
    def of(cls, check: CheckResult) -> CheckOutcome:
        return cls(check.exercise, check.name, check.title, check.max_score, check.score,
                   ran=bool(check.ran),
                   grader_error=any(run.outcome == RunOutcome.ERROR for run in check.runs),
                   hints={run.hint for run in check.runs if run.hint},
                   faults={run.fault for run in check.runs if run.fault},
                   by_hand=any(run.by_hand for run in check.runs),
                   tampering=any(run.tampering for run in check.runs))


@dataclass
class ExerciseOutcome:
    """One student's result on one exercise, its derived values computed once."""

    name: str
    score: float
    max_score: float
    status: ExerciseStatus

    @classmethod
    def of(cls, exercise: ExerciseResult) -> ExerciseOutcome:
        return cls(exercise.name, exercise.score, exercise.max_score, exercise.status)


@dataclass
class StudentRecord:
    """What the report reads of one student's folder."""

    id: str
    grader_error: str  # why the batch says not to trust this grading; "" when it completed
    seconds: float | None
    exercises: dict[str, ExerciseOutcome]
    checks: list[CheckOutcome]
    modules: dict[str, Path]  # exercise -> the module that was graded


def read_student(folder: Path) -> StudentRecord | None:
    """A student's results document (and the batch's grading.json, where there is one).

    The one reader of the results documents: the report needs nothing else of them.
    None when the student submitted nothing.
    """
    grading_path = folder / "grading.json"
    grading = json.loads(grading_path.read_text()) if grading_path.is_file() else {}
    found = _results_path(folder)
    if found is None and grading.get("status") != GradingStatus.GRADER_ERROR:
        return None  # nothing submitted: the batch says "missing", or no folder of results
    result = reports.load(found) if found else None
    if result is not None and all(not e.submitted for e in result.exercises):
        return None  # nothing submitted (Gradescope's document of an empty submission)
    graded = [] if result is None else result.exercises
    exercises = {e.name: ExerciseOutcome.of(e) for e in graded}
    status = grading.get("status", "")
    seconds = grading.get("seconds", result and result.seconds)
    return StudentRecord(
        id=folder.name,
        grader_error=((grading.get("message") or status)
                      if status == GradingStatus.GRADER_ERROR else ""),
        seconds=None if seconds is None else float(seconds),
        exercises=exercises,
        checks=[CheckOutcome.of(c) for e in graded for c in e.checks],
        modules={name: path for name in exercises if (path := _module(folder, name))})


def _results_path(folder: Path) -> Path | None:
    for depth in range(SEARCH_DEPTH + 1):
        found = sorted(folder.glob("/".join(["*"] * depth + ["results.json"])))
        if found:
            return found[0]
    return None


def _module(folder: Path, exercise: str) -> Path | None:
    """The graded module: where a class run staged it, else the shallowest copy (exports)."""
    staged = folder / "submission" / f"{exercise}.py"
    if staged.is_file():
        return staged
    copies = sorted(folder.rglob(f"{exercise}.py"), key=lambda p: (len(p.parts), str(p)))
    return copies[0] if copies else None


def read_class(out: Path, roster_ids: list[str] | None = None,
               ) -> tuple[list[StudentRecord], list[str]]:
    """(the students with results, in roster order then by id; the ids with none)."""
    folders = {p.name: p for p in sorted(out.iterdir()) if p.is_dir()
               and not p.name.startswith(".")}
    order = [*(roster_ids or []), *(name for name in folders if name not in (roster_ids or []))]
    records, missing = [], []
    for student in order:
        try:
            record = read_student(folders[student]) if student in folders else None
        except (OSError, ValueError, KeyError, TypeError) as exc:  # never the whole report
            record = StudentRecord(student, f"unreadable results: {type(exc).__name__}: {exc}",
                                   None, {}, [], {})
        if record is None:
            missing.append(student)
        else:
            records.append(record)
    return records, missing


@dataclass
class ExerciseStats:
    name: str
    max_score: float
    scores: list[float]  # of the students whose grading completed
    full: int
    partial: int
    zero: int
    not_started: int
    grader_errors: list[str]  # students with a grader error on a check of it, or in all

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.scores else 0.0


@dataclass
class CheckStats:
    """A check over the students who started its exercise and whose grading completed."""

    exercise: str
    check: str
    title: str
    students: int = 0
    failed: list[str] = field(default_factory=list)
    hints: Counter[str] = field(default_factory=Counter)  # known mistake -> students
    faults: dict[Fault, list[str]] = field(default_factory=dict)
    by_hand: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    grader_errors: list[str] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        return len(self.failed) / self.students if self.students else 0.0

    @property
    def flag(self) -> str:
        """Nobody passes: maybe broken; nobody fails: maybe too weak (with 2+ students)."""
        if self.students < 2:
            return ""
        if len(self.failed) == self.students:
            return "nobody passes: is the check broken?"
        return "" if self.failed else "nobody fails: is the check too weak?"

    @property
    def incidents(self) -> bool:
        return bool(self.faults or self.by_hand or self.tampering or self.grader_errors)


@dataclass
class ClassReport:
    students: list[StudentRecord]
    missing: list[str]
    exercises: list[ExerciseStats]
    checks: list[CheckStats]  # highest failure rate first
    pairs: list[SimilarPair]
    threshold: float

    @property
    def grader_errors(self) -> list[StudentRecord]:
        return [s for s in self.students if s.grader_error]

    @property
    def timed(self) -> list[tuple[str, float]]:
        """(student, grading seconds), slowest first."""
        return sorted(((s.id, s.seconds) for s in self.students if s.seconds is not None),
                      key=lambda item: (-item[1], item[0]))


def build(students: list[StudentRecord], missing: list[str], *, similarity: bool = True,
          threshold: float = THRESHOLD) -> ClassReport:
    """The statistics of a class; similarity compares the graded modules of each exercise
    with one another and with the reference (when this checkout has it)."""
    trusted = [s for s in students if not s.grader_error]
    names = sorted({name for s in students for name in s.exercises})
    exercises = []
    for name in names:
        outcomes = [s.exercises[name] for s in trusted if name in s.exercises]
        maximum = max((o.max_score for o in outcomes), default=0.0)
        errors = [s.id for s in students if (s.grader_error and name in s.exercises)
                  or any(c.grader_error for c in s.checks if c.exercise == name)]
        exercises.append(ExerciseStats(
            name, maximum, [o.score for o in outcomes],
            full=sum(o.score >= o.max_score > 0 for o in outcomes),
            partial=sum(0 < o.score < o.max_score for o in outcomes),
            zero=sum(o.score == 0 and o.status != ExerciseStatus.NOT_STARTED
                     for o in outcomes),
            not_started=sum(o.status == ExerciseStatus.NOT_STARTED for o in outcomes),
            grader_errors=errors))
    checks: dict[tuple[str, str], CheckStats] = {}
    for student in trusted:
        for outcome in student.checks:
            started = student.exercises.get(outcome.exercise)
            if started is None or started.status in (ExerciseStatus.NOT_STARTED,
                                                     ExerciseStatus.NOT_RUN):
                continue
            stats = checks.setdefault((outcome.exercise, outcome.check), CheckStats(
                outcome.exercise, outcome.check, outcome.title))
            if outcome.grader_error:  # the grader's fault, not the student's failure
                stats.grader_errors.append(student.id)
                continue
            if not outcome.ran:
                continue
            stats.students += 1
            if outcome.failed:
                stats.failed.append(student.id)
                stats.hints.update(outcome.hints)
            for fault in outcome.faults:
                stats.faults.setdefault(fault, []).append(student.id)
            if outcome.by_hand:
                stats.by_hand.append(student.id)
            if outcome.tampering:
                stats.tampering.append(student.id)
    ordered = sorted(checks.values(), key=lambda c: (-c.failure_rate, c.exercise, c.check))
    pairs = []
    if similarity:
        for name in names:
            # A module not started is the stub: nothing of it counts.
            modules = {s.id: s.modules[name] for s in students if name in s.modules
                       and s.exercises[name].status != ExerciseStatus.NOT_STARTED}
            reference = ROOT / "solutions" / f"{name}.py"
            if reference.is_file():
                modules[REFERENCE] = reference
            if len(modules) > 1:
                pairs += similar_pairs(name, modules, ROOT / "exercises" / f"{name}.py",
                                       threshold)
    return ClassReport(students, missing, exercises, ordered, pairs, threshold)


