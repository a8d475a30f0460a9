"""Reports made from the results model: the terminal table, Gradescope JSON, JUnit XML,
Classroom's runners; the results document written and read."""

from __future__ import annotations

import json
import os
import re
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.judging.results import (
    DocumentError,
    ExerciseStatus,
    RunOutcome,
    SubmissionResult,
)

STATUS_WIDTH = 12
WIDTH = 80  # columns of the terminal the table must fit without wrapping
# A leading label ("hint: ", "got:      ", "[cpu] failed: "): wrapped text hangs under its end.
LABEL = re.compile(r"\[[^\]]+\] [a-z ]+: |[a-z][a-z ]{0,15}: +")


def table(result: SubmissionResult, *, verbose: bool = False) -> str:
    """What a student sees: one row per exercise, then why the failing checks failed."""
    rows = [("exercise", "score", "status", "first failing check")]
    for exercise in result.exercises:
        first = exercise.first_failure
        rows.append((
            exercise.name,
            f"{_num(exercise.score)}/{_num(exercise.max_score)}",
            exercise.status,
            "" if first is None or not exercise.submitted else first.title,
        ))
    rows.append(("total", f"{_num(result.score)}/{_num(result.max_score)}", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    title_column = sum(widths) + 6
    lines = []
    for i, row in enumerate(rows):
        if i == len(rows) - 1:
            lines.append("-" * min(WIDTH, title_column + len(rows[0][3])))
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        # One line per exercise: the check's full title is in the details below.
        title = textwrap.shorten(row[3], max(WIDTH - title_column, 20), placeholder=" ...",
                                 break_on_hyphens=False)
        lines.append("  ".join([*cells, title]).rstrip())
    details = []
    for exercise in result.exercises:
        if exercise.hidden_points:
            details += _folded(f"{exercise.name}: {_num(exercise.hidden_points)} more points are "
                               "graded after you submit (checks not in this repository)")
    not_started = [e.name for e in result.exercises if e.status == ExerciseStatus.NOT_STARTED]
    if not_started:
        details += _folded(f"not started: {', '.join(not_started)}. Fill in the parts that "
                           "raise NotImplementedError, then run `make grade EX=<name>`.")
    for exercise in result.exercises:
        if exercise.status == ExerciseStatus.NOT_STARTED:
            continue
        if exercise.status == ExerciseStatus.NOT_SUBMITTED:
            details += _folded(f"{exercise.name}: not submitted (no {exercise.name}.py), "
                               f"0/{_num(exercise.max_score)}")
            continue
        if exercise.status == ExerciseStatus.NOT_RUN:
            reason = exercise.checks[0].runs[0].message if exercise.checks else ""
            details += _folded(f"{exercise.name}: not run: {reason}")
            continue
        for check in exercise.checks:
            if check.passed and not verbose:
                continue
            mark = "ok  " if check.passed else "FAIL"
            details += _folded(f"{mark} {exercise.name}: {check.title} "
                               f"[{_num(check.score)}/{_num(check.max_score)}]", hang=5)
            for run in check.runs:
                if run.outcome not in (RunOutcome.PASSED, RunOutcome.NOT_RUN):
                    text = f"[{run.device}] {run.outcome}: {run.message}"
                    for line in text.splitlines():
                        details += _folded(line, indent=5)
    if details:
        lines += ["", *details]
    return "\n".join(lines)


def _folded(line: str, *, indent: int = 0, hang: int | None = None) -> list[str]:
    """`line`, indented, folded to WIDTH columns. Continuation lines hang `hang` columns in
    (default: under the text after a leading label such as 'hint: '), so a hint stays
    readable on an 80-column terminal instead of wrapping at random."""
    if hang is None:
        label = LABEL.match(line)
        hang = indent + (len(label.group(0)) if label else 0)
    return textwrap.wrap(line, WIDTH, initial_indent=" " * indent,
                         subsequent_indent=" " * hang, break_on_hyphens=False) or [""]


def _num(value: float) -> str:
    return f"{value:g}"


def gradescope(result: SubmissionResult) -> dict:
    """Gradescope's results.json: top-level score, and one entry per check. Its extra_data is
    the results document itself, so that `load` reads a Gradescope export of a class."""
    tests = []
    for exercise in result.exercises:
        for check in exercise.checks:
            tests.append({
                "name": f"{exercise.name}: {check.title}",
                "score": check.score,
                "max_score": check.max_score,
                "status": "passed" if check.passed else "failed",
                "output": check.output,
                "tags": [exercise.name],
                "visibility": "after_published" if check.hidden else "visible",
            })
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": table(result),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": result.to_dict(),
    }


def junit(result: SubmissionResult) -> str:
    """JUnit XML: a test suite per exercise, a test case per check and device."""
    suites = ET.Element("testsuites", name="grade", tests="0", failures="0")
    total = failures = 0
    for exercise in result.exercises:
        suite = ET.SubElement(suites, "testsuite", name=exercise.name)
        counts = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
        for check in exercise.checks:
            for run in check.runs:
                counts["tests"] += 1
                case = ET.SubElement(suite, "testcase", classname=exercise.name,
                                     name=f"{check.name}[{run.device}]",
                                     time=f"{run.seconds:.3f}")
                if run.outcome == RunOutcome.NOT_RUN:
                    counts["skipped"] += 1
                    ET.SubElement(case, "skipped", message=run.message)
                elif run.outcome == RunOutcome.ERROR:
                    counts["errors"] += 1
                    ET.SubElement(case, "error", message=run.message[:200]).text = run.message
                elif run.outcome != RunOutcome.PASSED:
                    counts["failures"] += 1
                    ET.SubElement(case, "failure", message=run.message.splitlines()[0]
                                  if run.message else run.outcome).text = run.message
        for key, value in counts.items():
            suite.set(key, str(value))
        total += counts["tests"]
        failures += counts["failures"]
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


class ReportError(Exception):
    """A report could not be written where it was asked for; the message says why."""


def refuse_directory(path: Path) -> None:
    """A report cannot replace a directory: say so (before grading, where it can)."""
    if path.is_dir():
        raise ReportError(f"cannot write the report {path}: a directory is there")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old file or the new one, never half."""
    refuse_directory(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide a report from the rest of the course
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(partial, path)
    except OSError as exc:
        raise ReportError(f"cannot write the report {path}: {exc.strerror or exc}") from exc


def save(result: SubmissionResult, path: Path) -> None:
    """Write the results document of `result` to `path` (atomically), format and version
    first."""
    write_atomic(path, json.dumps(result.to_dict(), indent=2) + "\n")


def load(path: Path) -> SubmissionResult:
    """The result in the results document at `path`, or in a Gradescope results.json this
    grader rendered (its extra_data is the document). A DocumentError, naming the file and
    what it holds, for anything else; an OSError when it cannot be read."""
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: not a results document: not JSON ({exc})") from None
    if isinstance(data, dict) and "format" not in data and "tests" in data:
        data = data.get("extra_data")
        if not (isinstance(data, dict) and "format" in data):
            raise DocumentError(f"{path}: a Gradescope results.json without a results "
                                "document in its extra_data (written by another autograder, "
                                "or by a grader before the document existed)")
    try:
        return SubmissionResult.from_dict(data)
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from None


def classroom(result: SubmissionResult) -> dict[str, dict]:
    """GitHub Classroom's autograding reporter format, one runner per exercise.

    Made from a results document so that a workflow step can convert the report of a grade
    that already ran. Each runner: {version, status, max_score, tests}.
    """
    runners: dict[str, dict] = {}
    for exercise in (e for e in result.exercises if e.checks):
        runner = runners[exercise.name] = {"version": 1, "status": "pass", "max_score": 0,
                                           "tests": []}
        for check in exercise.checks:
            runner["max_score"] += check.max_score
            runner["tests"].append({"name": f"{exercise.name}: {check.title}",
                                    "status": "pass" if check.passed else "fail",
                                    "score": check.score, "message": check.output})
            if not check.passed:
                runner["status"] = "fail"
    return runners
