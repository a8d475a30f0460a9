"""Grading a class: batches that survive odd submissions and interruptions, Gradescope, Slurm.

The class is graded on the `mcc` exercise only (the fastest); each student's expected
total comes from grading the same module in this repository's own session.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import jsonschema

from grader import ROOT
from grader.exercises import declared_points, exercise_files, exercise_names
from grader.tests.grading import graded, run_grader, variants

SCHEMA = json.loads((Path(__file__).parent / "gradescope_schema.json").read_text())
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
    return f"{results['score']:g}"


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
    second = batch(submissions, out, "--roster", str(roster), "--jobs", "2", "--resume",
                   nofile=128)
    stdout, err = second.communicate(timeout=900)
    assert second.returncode == 0, stdout + err
    for student, text in done.items():  # finished students were not graded again
        assert (out / student / "grading.json").read_text() == text
    expect_gradebook(out / "gradebook.csv", CLASS_OF_8)
    feedback = (out / "gus" / "feedback.md").read_text()
    assert "sign is flipped" in feedback
    assert not list(out.glob("*/.results.json.partial"))


def test_slurm_array_tasks_make_one_gradebook_with_every_expected_grade(tmp_path):
    """Three array tasks share the class; their results merge into one gradebook that holds
    what grading the class on one machine gives (the test above grades one)."""
    students = {"ada": ("reference", "top"), "dee": ("stub", "top"),
                "fay": ("int64_overflow", "top"), "kim": (None, "empty")}
    submissions = tmp_path / "submissions"
    roster = make_class(submissions, students)
    cluster = tmp_path / "cluster"
    for task in range(3):
        env = {**os.environ, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": "3",
               "SLURM_SUBMIT_DIR": str(ROOT), "GRADER_PYTHON": sys.executable}
        subprocess.run(["bash", "cluster/grade_array.sbatch", str(submissions), str(cluster),
                        "--roster", str(roster), "--exercise", "mcc", "--device", "cpu",
                        "--timeout-scale", "0.25"],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    merged = run_grader("gradebook", str(cluster), "--roster", str(roster))
    assert merged.returncode == 0, merged.stderr
    expect_gradebook(cluster / "gradebook.csv", students)


def test_gradescope_autograder_grades_a_submission(tmp_path):
    """An autograder for an assignment of one exercise (the whole course's is the same
    release with every exercise, which test_student_release grades)."""
    zip_path = tmp_path / "autograder.zip"
    built = run_grader("gradescope", "--exercise", "mcc", "--out", str(zip_path))
    assert built.returncode == 0, built.stdout + built.stderr
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        assert {"setup.sh", "run_autograder", "requirements.txt", "release.json"} <= set(names)
        assert not any(n.startswith("solutions/") for n in names)
        per_exercise = {n for n in names for e in exercise_names() if n in exercise_files(e)}
        assert per_exercise == {"exercises/mcc.py", "tests/probes/mcc.py", "tests/test_mcc.py"}
        assert json.loads(z.read("release.json"))["exercises"] == ["mcc"]
        root = tmp_path / "autograder"
        z.extractall(root / "source")
        mode = z.getinfo("run_autograder").external_attr >> 16
        assert mode & 0o111, "run_autograder must be executable"
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    for name in ("reference", "sign_flipped"):
        submission = root / "submission"
        shutil.rmtree(submission, ignore_errors=True)
        (submission / "hw").mkdir(parents=True)
        (submission / "hw" / "mcc.py").write_text(module(name))
        process = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                                 capture_output=True, text=True, timeout=600)
        assert process.returncode == 0, process.stdout + process.stderr
        results = json.loads((root / "results" / "results.json").read_text())
        jsonschema.validate(results, SCHEMA)
        mcc = results["extra_data"]["exercises"]["mcc"]
        assert f"{mcc['score']:g}" == expected_total(name), name
        assert results["extra_data"]["environment"]["release"]["recordings"]


def test_classroom_runners_carry_each_exercises_points(tmp_path):
    results = graded("mcc")["sign_flipped"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    process = run_grader("classroom", str(path))
    assert process.returncode == 0, process.stderr
    name, encoded = process.stdout.strip().split("=", 1)
    runner = json.loads(base64.b64decode(encoded))
    assert name == "mcc" and runner["max_score"] == declared_points("mcc")
    assert runner["status"] == "fail"
    assert sum(t["score"] for t in runner["tests"]) == results["score"] < declared_points("mcc")
    assert any("sign is flipped" in t["message"] for t in runner["tests"])
