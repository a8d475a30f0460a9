"""The class report: its counts against the results documents and the gradebook, its
similar pairs, and its page in a real headless browser.

The class is made of results documents that other self-tests already graded (the known
mcc submissions, `graded`): a student per known submission, some planted several times,
and a few students whose modules are there for the similarity check. Every other student's
results.json is Gradescope's rendering (as in an export of a class from Gradescope), which
carries the document. Nothing is graded here beyond what those tests grade.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import batch, class_page, class_report, gradebook
from grader.course.similarity import LARGEST, MARK_START, REFERENCE, similar_pairs
from grader.judging import reports
from grader.judging.results import Fault, SubmissionResult
from grader.tests.grading import checks, graded, variants
from solutions.similar import write_modules

# known submission -> students who handed it in: the mutants' counts all differ, so each
# check's most common known mistake is that of the most planted mutant that shows it
PLANTED = {"sign_flipped": 6, "no_zero_guard": 5, "fp_fn_swapped": 4, "calls_sklearn_mcc": 3,
           "int64_overflow": 2, "reference": 3, "stub": 2}
# student -> module, for the similarity check (their results are the reference's: their
# grades are not what is tested here)
COMPARED = {"pat": "loops", "pam": "loops_renamed", "ida": "matrix",
            "rex": "reference_recommented"}
GRADER_ERROR = "eve"
ABSENT = "zoe"  # on the roster, no folder
EMPTY = "kim"  # on the roster, a folder with no module (the batch says "missing")
BROKEN = "max"  # a results.json cut short

pytestmark = pytest.mark.xdist_group("mcc")  # where mcc's known submissions are graded


def known_results() -> dict[str, SubmissionResult]:
    """{known submission: its results document}: mutants, alternatives, hostile ones."""
    return {**graded("mcc"), **graded("mcc", ("HOSTILE",), timeout_scale=0.25)}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """(OUT of a class, {student: known submission}, roster)."""
    out = tmp_path_factory.mktemp("class") / "out"
    results = known_results()
    students: dict[str, str] = {}
    for name in sorted(results):
        for copy in range(PLANTED.get(name, 1)):
            students[f"{name}-{copy}"] = name
    students.update(dict.fromkeys(COMPARED, "reference"))
    students[GRADER_ERROR] = "reference"
    for seconds, (student, name) in enumerate(sorted(students.items()), start=1):
        folder = out / student
        folder.mkdir(parents=True)
        if seconds % 2:
            reports.save(results[name], folder / "results.json")
        else:  # a Gradescope export's
            reports.write_json(folder / "results.json", reports.gradescope(results[name]))
        error = student == GRADER_ERROR
        grading = batch.Grading(student, batch.GradingStatus.GRADER_ERROR if error
                                else batch.GradingStatus.GRADED,
                                "the grader exited with code 3" if error else "",
                                seconds=float(seconds))
        (folder / "grading.json").write_text(json.dumps(asdict(grading)))
    (out / BROKEN).mkdir()
    (out / BROKEN / "results.json").write_text('{"tests": [')  # cut short
    empty = batch.Grading(EMPTY, batch.GradingStatus.MISSING, "no exercise module found")
    (out / EMPTY).mkdir()
    (out / EMPTY / "grading.json").write_text(json.dumps(asdict(empty)))
    modules = write_modules(out.parent / "modules")
    for student, module in COMPARED.items():
        (out / student / "submission").mkdir()
        shutil.copy(modules[module], out / student / "submission" / "mcc.py")
    roster = out.parent / "roster.csv"
    roster.write_text("id\n" + "".join(f"{s}\n" for s in [*students, EMPTY, ABSENT]))
    (out / "gradebook.csv").write_text(
        gradebook.gradebook(gradebook.of_class(out, batch.read_roster(roster))))
    assert main(["report", str(out), "--roster", str(roster)]) == 0
    return out, students, roster


@pytest.fixture(scope="module")
def report(graded_class) -> class_report.ClassReport:
    out, _, roster = graded_class
    return class_report.build(*class_report.read_class(
        out, [s.id for s in batch.read_roster(roster)]))


def by_title(report: class_report.ClassReport) -> dict[str, class_report.CheckStats]:
    return {c.title: c for c in report.checks}


def test_failure_rates_and_scores_are_those_of_the_results_and_the_gradebook(graded_class,
                                                                             report):
    out, students, _ = graded_class
    results = known_results()
    counted = [s for s in students if s != GRADER_ERROR
               and results[students[s]].exercise("mcc").status != "not started"]
    failed: Counter[str] = Counter()
    ran: Counter[str] = Counter()  # the quick gradings leave the slow checks out
    for student in counted:
        for check in checks(results[students[student]]):
            if check.ran:
                ran[check.title] += 1
                failed[check.title] += check.score < check.max_score
    titled = by_title(report)
    assert set(titled) == {check.title for check in checks(results["reference"])}
    for name, stats in titled.items():
        assert (len(stats.failed), stats.students) == (failed[name], ran[name]), name
    rates = [c.failure_rate for c in report.checks]
    assert rates == sorted(rates, reverse=True) and rates[0] > 0
    book = [row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))
            if row["status"] == "graded"]
    (mcc,) = report.exercises
    scores = sorted(float(row["mcc"]) for row in book)
    assert sorted(mcc.scores) == scores
    assert mcc.full == sum(s == mcc.max_score for s in scores) > 0
    assert mcc.not_started == PLANTED["stub"]
    assert report.missing == [EMPTY, ABSENT]
    assert [s.id for s in report.grader_errors] == [GRADER_ERROR, BROKEN]
    assert "unreadable results" in report.grader_errors[1].grader_error
    assert mcc.grader_errors == [GRADER_ERROR]


def test_each_checks_most_common_mistake_is_the_most_planted_mutants(report):
    results = known_results()
    expects = {v.name: v.expect for v in variants("mcc", "MUTANTS")}
    titled = by_title(report)
    compared = 0
    for check in checks(results["reference"]):
        showing = [name for name in sorted(PLANTED, key=PLANTED.get, reverse=True)
                   if name in expects and check.title in checks_hinting(results[name],
                                                                        expects[name])]
        if not showing:
            continue
        hint, students = titled[check.title].hints.most_common(1)[0]
        assert expects[showing[0]].lower() in hint.lower(), (check.title, hint)
        assert students >= PLANTED[showing[0]]
        compared += 1
    assert compared >= 4


def checks_hinting(result: SubmissionResult, text: str) -> set[str]:
    """The checks whose failure names the known mistake `text` as their hint: in the
    feedback and as the typed fact the report counts."""
    return {c.title for c in checks(result) if text.lower() in c.output.lower()
            and any(text.lower() in run.hint.lower() for run in c.runs)}


def checks_whose_output_says(result: SubmissionResult, text: str) -> set[str]:
    return {c.title for c in checks(result) if text in c.output}


@pytest.mark.parametrize(("submission", "fault", "symptom"), [
    ("hangs", Fault.TIME_LIMIT, "timed out"),
    ("segfault", Fault.CRASH, "segmentation fault"),
    ("exhausts_memory", Fault.OUT_OF_MEMORY, "ran out of memory"),
])
def test_faults_are_listed_under_the_checks_they_hit(report, submission, fault, symptom):
    hit = checks_whose_output_says(known_results()[submission], symptom)
    listed = {c.title for c in report.checks if f"{submission}-0" in c.faults.get(fault, [])}
    assert hit and listed == hit


def test_by_hand_violations_are_listed_under_the_checks_they_broke(report):
    rule = "uses sklearn.metrics.matthews_corrcoef"
    hit = checks_whose_output_says(known_results()["calls_sklearn_mcc"], rule)
    listed = {c.title for c in report.checks if "calls_sklearn_mcc-0" in c.by_hand}
    assert hit and listed == hit
    assert all(len(by_title(report)[t].by_hand) == PLANTED["calls_sklearn_mcc"] for t in hit)


def test_near_copies_are_paired_and_independent_modules_are_not(report):
    pairs = {frozenset((p.first, p.second)) for p in report.pairs}
    assert pairs == {frozenset(("pat", "pam")), frozenset(("rex", REFERENCE))}
    near = next(p for p in report.pairs if {p.first, p.second} == {"pat", "pam"})
    assert min(near.similarity) >= 0.9 and all(MARK_START in m for m in near.marked)


def test_flags_name_checks_nobody_passes_or_nobody_fails():
    def stats(failed: int) -> class_report.CheckStats:
        return class_report.CheckStats("mcc", "c", "c", students=3,
                                       failed=[f"s{i}" for i in range(failed)])
    assert "broken" in stats(3).flag and "too weak" in stats(0).flag and not stats(1).flag


def test_the_summary_and_the_page_hold_every_table(graded_class, report):
    out = graded_class[0]
    summary, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    for stats in report.checks:
        assert stats.title in summary
    assert page.count("<img ") == len(report.exercises) + 1  # scores per exercise, times
    assert page.count("<table>") == summary.count("\n|---|") >= 5


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script nonce="probe">addEventListener("load", () => {
  const images = [...document.images];
  document.body.dataset.probe = JSON.stringify({
    tables: document.querySelectorAll("table").length, images: images.length,
    decoded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    overflow: document.documentElement.scrollWidth - innerWidth});
});</script>"""


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--v=0", "--window-size=390,844",
                           "--virtual-time-budget=5000", *args],
                          capture_output=True, text=True, timeout=120)


def console_messages(run: subprocess.CompletedProcess) -> list[str]:
    """What a page wrote to the browser's console (errors, policy violations)."""
    return re.findall(r":CONSOLE[^\]]*\] (.*)", run.stderr)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install "
                    "chromium): the page is checked in a headless browser")
def test_the_page_opens_in_a_headless_browser_on_a_phone(graded_class, report, tmp_path):
    page = graded_class[0] / "report.html"
    text = page.read_text()
    # The page, plus a script its policy lets run (by a nonce) that measures it, and one
    # that fails: the console watch must see that failure, or it cannot be trusted.
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace(class_page.POLICY, class_page.POLICY
                                  + "; script-src 'nonce-probe'").replace(
        "</body>", PROBE + '<script nonce="probe">planted_failure()</script></body>'))
    measured = chromium("--dump-dom", probe.as_uri())
    assert any("planted_failure" in m for m in console_messages(measured))
    found = json.loads(re.search(r'data-probe="([^"]*)"', measured.stdout).group(1)
                       .replace("&quot;", '"'))
    assert found["tables"] >= 5 and found["images"] == len(report.exercises) + 1
    assert found["decoded"] == found["images"]
    assert found["overflow"] <= 0, "the page is wider than a phone's screen"
    shot = graded_class[0] / "report-phone.png"
    opened = chromium(f"--screenshot={shot}", page.as_uri())
    assert console_messages(opened) == []
    assert shot.stat().st_size > 10_000


def test_students_files_reach_the_page_as_text_and_never_break_the_report(tmp_path):
    """Ids and code are the students': on the page they are text, never markup; a module
    that is not UTF-8 is compared, and one too large to tokenize quickly is left out."""
    hostile = "</pre><script>steal()</script><pre>"
    code = ("def confusion_counts(y_true, y_pred):\n"
            f"    note = {hostile!r}\n"
            "    total = sum(int(a == b) for a, b in zip(y_true, y_pred, strict=True))\n"
            "    return [total, len(y_true) - total, note, [x for x in y_true if x]]\n")
    modules = {}
    for student in ("<b>ann</b>", "bob"):
        modules[student] = tmp_path / student.strip("<>/b") / "mcc.py"
        modules[student].parent.mkdir()
        modules[student].write_text(code)
    garbled = tmp_path / "cat" / "mcc.py"  # not UTF-8: compared, never a crash
    garbled.parent.mkdir()
    garbled.write_bytes(b"\xff\xfe" + code.encode() + b"\x80\x81")
    huge = tmp_path / "dan" / "mcc.py"  # a copy, padded past what is tokenized: left out
    huge.parent.mkdir()
    huge.write_text(code + "#" * LARGEST)
    pairs = similar_pairs("mcc", {**modules, "cat": garbled, "dan": huge}, None)
    assert len(pairs) == 3 and not any("dan" in (p.first, p.second) for p in pairs)
    report = class_report.ClassReport([], [], [], [], pairs[:1], 0.5)
    page = class_page.page(report)
    assert "<script>" not in page and "<b>ann</b>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;ann&lt;/b&gt;" in page
