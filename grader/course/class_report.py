"""The instructor's view of a graded class: one HTML page (plots embedded) and a Markdown summary.

Made from the per-student folders of a class run (`grade --submissions ... --out OUT`, a
Slurm run's merged OUT, or any folder with a subfolder per student holding its
results.json): per exercise the score distribution; per check the failure rate among the
students who started the exercise, the known mistake its failures matched most often, and
the time limits, crashes, by-hand violations and tampering it met; grading times; grader
errors; and the pairs of submitted modules that are suspiciously alike. Nothing here
changes a grade.
"""

from __future__ import annotations

import base64
import html
import io
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from grader import ROOT
from grader.course.batch import GradingStatus
from grader.course.similarity import REFERENCE, THRESHOLD, SimilarPair, similar_pairs
from grader.judging import reports
from grader.judging.results import ExerciseStatus, Fault, RunOutcome

SLOWEST = 10  # submissions listed by grading time
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


@dataclass
class ExerciseOutcome:
    name: str
    score: float
    max_score: float
    status: ExerciseStatus


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
    results = json.loads(found.read_text()) if found else {"tests": [], "extra_data": {}}
    exercises = {name: ExerciseOutcome(name, float(e["score"]), float(e["max_score"]),
                                       ExerciseStatus(e["status"]))
                 for name, e in results["extra_data"].get("exercises", {}).items()}
    checks = []
    for test in results["tests"]:
        devices = test["extra_data"]["devices"]
        facts = test["extra_data"].get("diagnosis", {}).values()
        checks.append(CheckOutcome(
            exercise=test["tags"][0], check=test["extra_data"]["check"],
            title=test["name"].split(": ", 1)[-1], max_score=float(test["max_score"]),
            score=float(test["score"]),
            ran=any(outcome != RunOutcome.NOT_RUN for outcome in devices.values()),
            grader_error=any(outcome == RunOutcome.ERROR for outcome in devices.values()),
            hints={f["hint"] for f in facts if f.get("hint")},
            faults={Fault(f["fault"]) for f in facts if f.get("fault")},
            by_hand=any(f.get("by_hand") for f in facts),
            tampering=any(f.get("tampering") for f in facts)))
    status = grading.get("status", "")
    seconds = grading.get("seconds", results.get("execution_time"))
    return StudentRecord(
        id=folder.name,
        grader_error=((grading.get("message") or status)
                      if status == GradingStatus.GRADER_ERROR else ""),
        seconds=None if seconds is None else float(seconds),
        exercises=exercises, checks=checks,
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


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _num(value: float) -> str:
    return f"{value:g}"


def _ids(ids: list[str], limit: int = 8) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" (+{len(ids) - limit})" if len(ids) > limit else "")


def _tables(report: ClassReport) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) of every table, shared by the Markdown and the page."""
    graded = len(report.students)
    exercise_rows = [[e.name, str(len(e.scores)), _num(round(e.mean, 2)), _num(e.median),
                      _num(e.max_score), str(e.full), str(e.partial), str(e.zero),
                      str(e.not_started), str(len(e.grader_errors))]
                     for e in report.exercises]
    check_rows = []
    for c in report.checks:
        hint, matched = (c.hints.most_common(1) or [("", 0)])[0]
        check_rows.append([c.exercise, c.title, f"{len(c.failed)}/{c.students}",
                           _pct(c.failure_rate), hint, str(matched) if hint else "", c.flag])
    incident_rows = [[c.exercise, c.title,
                      *(_ids(c.faults.get(f, [])) for f in Fault),
                      _ids(c.by_hand), _ids(c.tampering), _ids(c.grader_errors)]
                     for c in report.checks if c.incidents]
    error_rows = [[s.id, s.grader_error] for s in report.grader_errors]
    slow_rows = [[sid, f"{seconds:.1f}"] for sid, seconds in report.timed[:SLOWEST]]
    pair_rows = [[p.exercise, p.first, p.second, _pct(p.similarity[0]), _pct(p.similarity[1]),
                  str(p.shared_tokens)] for p in report.pairs]
    return [
        ("Exercises", ["exercise", "graded", "mean", "median", "max", "full marks", "partial",
                       "zero", "not started", "grader errors"], exercise_rows,
         f"{graded} students with results, {len(report.missing)} without"
         + (f" ({_ids(report.missing)})" if report.missing else "")
         + "; grader errors are left out of the scores."),
        ("Checks", ["exercise", "check", "failed", "rate", "most common known mistake",
                    "students", "flag"], check_rows,
         "Failure rate among the students who started the exercise, highest first."),
        ("Time limits, crashes, rules", ["exercise", "check", *(str(f) for f in Fault),
                                         "by hand", "tampering", "grader error"],
         incident_rows, "Students per check whose code met each fault."),
        ("Grader errors", ["student", "message"], error_rows,
         "Never a zero: rerun these students with --resume."),
        ("Slowest gradings", ["student", "seconds"], slow_rows,
         "Whole grade of one student, start-up included."),
        ("Similar submissions", ["exercise", "first", "second", "of first", "of second",
                                 "shared tokens"], pair_rows,
         f"Share of each module's own code (stub left out) found in the other, "
         f"{_pct(report.threshold)} or more. This never changes a grade."),
    ]


def markdown(report: ClassReport) -> str:
    """The summary beside the page: the same tables, no plots."""
    lines = ["# Class report", ""]
    for title, header, rows, note in _tables(report):
        lines += [f"## {title}", "", note, ""]
        if not rows:
            lines += ["None.", ""]
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ")
                                    for cell in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;padding:0 .8rem;max-width:64rem;
line-height:1.4}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top;
min-width:4rem}
th{background:#f3f3f3}img{max-width:100%;height:auto}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.5rem}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:.5rem}
pre{overflow:auto;max-height:30rem;font-size:.75rem;background:#fafafa;padding:.4rem;
border:1px solid #ddd}mark{background:#ffd36b}
"""
# The page runs no script and loads nothing: student ids and code are shown in it.
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def page(report: ClassReport) -> str:
    """One self-contained HTML page: the tables, the plots as PNG data, the pairs' code."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>Class report</title><style>{STYLE}</style></head><body>",
             "<h1>Class report</h1>"]
    plots = [_image(_histogram(e.scores, e.max_score, f"{e.name}: score",
                               discrete=True), f"{e.name}: scores")
             for e in report.exercises if e.scores]
    for title, header, rows, note in _tables(report):
        parts.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(note)}</p>")
        if title == "Exercises" and plots:
            parts.append(f'<div class="plots">{"".join(plots)}</div>')
        if title == "Slowest gradings" and report.timed:
            seconds = [s for _, s in report.timed]
            parts.append(_image(_histogram(seconds, max(seconds), "seconds per student"),
                                "grading time per student"))
        if not rows:
            parts.append("<p>None.</p>")
            continue
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                       + "</tr>" for row in rows)
        parts.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table></div>")
    for pair in report.pairs:
        parts.append(f"<h3>{html.escape(pair.exercise)}: {html.escape(pair.first)} and "
                     f"{html.escape(pair.second)}</h3><div class=\"pair\">"
                     + "".join(f"<pre>{code}</pre>" for code in pair.marked) + "</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _histogram(values: list[float], maximum: float, label: str, *,
               discrete: bool = False) -> Figure:
    figure = Figure(figsize=(4, 2.4), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    if discrete and maximum <= 40:
        bins = [x - 0.5 for x in range(int(maximum) + 2)]
    else:
        bins = 20
    axes.hist(values, bins=bins, color="#4477aa")
    axes.set_xlabel(label)
    axes.set_ylabel("students")
    return figure


def _image(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def write(out: Path, html_path: Path | None = None, roster_ids: list[str] | None = None, *,
          similarity: bool = True, threshold: float = THRESHOLD) -> tuple[Path, Path]:
    """Write the page (default OUT/report.html) and the Markdown beside it; return both."""
    students, missing = read_class(out, roster_ids)
    report = build(students, missing, similarity=similarity, threshold=threshold)
    html_path = html_path or out / "report.html"
    markdown_path = html_path.with_suffix(".md")
    reports.write_atomic(html_path, page(report))
    reports.write_atomic(markdown_path, markdown(report))
    return html_path, markdown_path
