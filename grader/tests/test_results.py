"""The results document: a graded result reads back exactly as it was, and anything else
(another version, Gradescope's report of another autograder, not JSON) is refused with a
message that says what it is. The gradebook of several targets, made from their results,
has the layout of a class's.

The results are those of gradings the suite already does (mcc's known submissions).
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from grader.course import gradebook
from grader.exercises import declared_points, exercise_names
from grader.judging import reports
from grader.judging.results import (
    VERSION,
    CallTime,
    DocumentError,
    ExerciseResult,
    ExerciseStatus,
    Fault,
    RunOutcome,
    SubmissionResult,
)
from grader.tests.grading import checks, graded, graded_documents

pytestmark = pytest.mark.xdist_group("mcc")  # where mcc's known submissions are graded


def known_documents() -> dict[str, dict]:
    """{known mcc submission: the results document the grader wrote}: mutants (hints, a
    by-hand rule), alternatives, hostile ones (faults, long calls)."""
    return {**graded_documents("mcc"),
            **graded_documents("mcc", ("HOSTILE",), timeout_scale=0.25)}


def test_a_graded_result_reads_back_exactly_from_its_document(tmp_path):
    runs = []
    for name, document in known_documents().items():
        result = SubmissionResult.from_dict(document)
        assert json.loads(json.dumps(result.to_dict())) == document, name
        again = SubmissionResult.from_dict(json.loads(json.dumps(result.to_dict())))
        assert again == result, name
        reports.save(result, tmp_path / "results.json")
        assert reports.load(tmp_path / "results.json") == result, name
        reports.write_json(tmp_path / "gradescope.json", reports.gradescope(result))
        assert reports.load(tmp_path / "gradescope.json") == result, name
        assert all(isinstance(e.status, ExerciseStatus) for e in again.exercises)
        runs += [run for check in checks(again) for run in check.runs]
    # Every kind of value the document holds came through, typed again.
    assert all(isinstance(run.outcome, RunOutcome) for run in runs)
    assert {run.fault for run in runs} >= {Fault.TIME_LIMIT, Fault.CRASH, Fault.EXCEPTION}
    assert all(isinstance(run.longest_call, CallTime) for run in runs if run.longest_call)
    assert any(run.longest_call for run in runs)
    assert any(run.hint for run in runs) and any(run.by_hand for run in runs)


def test_a_document_of_another_version_or_none_is_refused_with_what_it_is(tmp_path):
    document = graded_documents("mcc")["reference"]
    newer = {**document, "version": VERSION + 1}
    with pytest.raises(DocumentError, match=f"version {VERSION + 1}; this grader reads "
                                            f"version {VERSION}"):
        SubmissionResult.from_dict(newer)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(newer))
    with pytest.raises(DocumentError, match=re.escape(f"{path}: a results document of v")):
        reports.load(path)
    refused = {
        "another autograder's": ({"score": 3, "tests": []}, "a Gradescope results.json "
                                 "without a results document"),
        "not an object": ([1, 2], "not a results document .* found an array"),
        "another format": ({"score": 3}, "not a results document .* found an object with "
                           "keys score"),
        "a check cut out": ({**document, "exercises": [{"name": "mcc"}]},
                            "an exercise in the results document has no max_score"),
    }
    for data, message in refused.values():
        path.write_text(json.dumps(data))
        with pytest.raises(DocumentError, match=message):
            reports.load(path)
    path.write_text('{"format": ')
    with pytest.raises(DocumentError, match="not JSON"):
        reports.load(path)


def test_a_grade_of_several_targets_has_the_gradebook_layout_of_a_class():
    known = graded("mcc")
    partial = SubmissionResult("/submissions/half", [
        known["reference"].exercise("mcc"),
        ExerciseResult("optimizers", declared_points("optimizers"), submitted=False)],
        known["reference"].environment, "", 0.0)
    text = gradebook.gradebook(gradebook.of_results([known["reference"], known["stub"],
                                                     partial]))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["id", "name", "email", *exercise_names(), *gradebook.COLUMNS]
    full = f"{declared_points('mcc'):g}"
    assert [(r["id"], r["mcc"], r["optimizers"], r["total"], r["status"], r["message"])
            for r in rows] == [
        ("solutions", full, "", full, "graded", ""),
        ("exercises", "0", "", "0", "graded", ""),
        ("half", full, "not submitted", full, "partial", "no module for optimizers")]
