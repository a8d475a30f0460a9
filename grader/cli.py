"""`python -m grader`: grade submissions, make stubs. A thin layer over keyword-only functions."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from functools import partial
from pathlib import Path

from grader import ROOT
from grader.course import batch, gradebook, release, warm
from grader.exercises import exercise_names
from grader.isolation import confinement
from grader.judging import environment, reports
from grader.judging.grading import (
    GraderError,
    UsageError,
    checked_exercises,
    checks_left_out,
    grade,
    record,
)
from grader.judging.options import DEVICE_CHOICES, GradingOptions, add_flags
from grader.judging.reference import RECORDINGS
from grader.judging.results import DocumentError

DEFAULT_OUT = ROOT / "build" / "grade"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("grade", help="grade exercise modules and print the table")
    g.add_argument("--target", action="append", type=Path, metavar="DIR",
                   help="directory holding exercise modules (default exercises/; repeatable)")
    g.add_argument("--exercise", action="append", metavar="NAME",
                   help=f"grade only this exercise (repeatable): {', '.join(exercise_names())}")
    add_flags(g.add_argument)
    g.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help=f"where reports go (default {DEFAULT_OUT.relative_to(ROOT)}): the "
                        "results document results.json, or with several targets one folder "
                        "each and gradebook.csv")
    g.add_argument("--json", type=Path, metavar="PATH",
                   help="also write Gradescope's results.json (single target; it carries the "
                        "results document)")
    g.add_argument("--junit", type=Path, metavar="PATH",
                   help="also write JUnit XML (single target; with several, OUT/<name>/junit.xml)")
    g.add_argument("--fail-under", type=float, metavar="SCORE",
                   help="exit 1 when a submission scores below SCORE")
    g.add_argument("-v", "--verbose", action="store_true", help="list passing checks too")
    g.add_argument("--judges", type=int, choices=(1, 2), metavar="N",
                   help="judging processes for the grade: 1 or 2 (default 2 on the CPU for "
                        "several exercises with two cores or more, else 1)")
    g.add_argument("--save-reference", type=Path, metavar="DIR",
                   help="also save every reference result this grading compared with, as "
                        "recordings in DIR (to check that a release holds them)")
    c = g.add_argument_group("a class", "grade every subfolder of DIR as one student, each in a "
                             "process of its own; reports in OUT/<id>/, OUT/gradebook.csv")
    c.add_argument("--submissions", type=Path, metavar="DIR",
                   help="one folder per student, named by student id")
    c.add_argument("--roster", type=Path, metavar="CSV",
                   help="columns id, name, email: the gradebook's order, and who submitted nothing")
    c.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="students graded at once (default 1; about one per core: a "
                        "student's grade keeps one busy; 1.3 GB of memory each)")
    c.add_argument("--resume", action="store_true",
                   help="skip students already graded in OUT (after an interruption)")
    c.add_argument("--slice", metavar="K/N",
                   help="grade only the K-th of N slices of the class (0-based; a cluster's "
                        "array task); merge with `python -m grader gradebook OUT`")
    z = commands.add_parser("gradescope", help="build Gradescope's autograder zip (recorded "
                            "reference, hidden checks included)")
    z.add_argument("--out", type=Path, metavar="ZIP",
                   help="where the zip goes (default build/gradescope/autograder.zip)")
    z.add_argument("--exercise", action="append", metavar="NAME",
                   help="an exercise of the assignment (repeatable; default: every exercise)")
    zr = commands.add_parser("gradescope-run", help="inside Gradescope: grade ROOT/submission "
                             "into ROOT/results/results.json (run_autograder calls it)")
    zr.add_argument("--root", type=Path, default=Path("/autograder"), metavar="ROOT")
    gh = commands.add_parser("classroom", help="print a results.json as GitHub Classroom "
                             "runner outputs (lines NAME=BASE64 for $GITHUB_OUTPUT)")
    gh.add_argument("results", type=Path, metavar="RESULTS_JSON")
    b = commands.add_parser("gradebook", help="merge the per-student reports in OUT into "
                            "OUT/gradebook.csv")
    b.add_argument("out", type=Path, metavar="OUT")
    b.add_argument("--roster", type=Path, metavar="CSV")
    rp = commands.add_parser("report", help="the class report of OUT: a page with plots "
                             "(OUT/report.html) and a Markdown summary beside it")
    rp.add_argument("out", type=Path, metavar="OUT",
                    help="a class run's folder: a subfolder per student with its results.json")
    rp.add_argument("--roster", type=Path, metavar="CSV",
                    help="the students' order, and who submitted nothing")
    rp.add_argument("--html", type=Path, metavar="PATH",
                    help="where the page goes (default OUT/report.html; the .md beside it)")
    rp.add_argument("--similarity-threshold", type=float, metavar="F",
                    help="list the pairs of modules sharing this share of either one's own "
                    "code or more (default 0.5; above 1: no comparison)")
    s = commands.add_parser("stubs", help="generate exercises/ from solutions/")
    s.add_argument("--check", action="store_true",
                   help="only report whether the committed stubs are up to date")
    r = commands.add_parser("release", help="build the student release (no solutions/) in DEST")
    r.add_argument("--dest", type=Path, required=True, metavar="DIR")
    r.add_argument("--replace", action="store_true",
                   help="update the release already in DIR (students' edited stubs are kept)")
    r.add_argument("--notes-url", metavar="URL",
                   help="where students read the course notes the handouts cite (README)")
    r.add_argument("--no-self-check", dest="self_check", action="store_false",
                   help="skip the release's own `make test` (self-tests run it themselves)")
    rec = commands.add_parser("record", help="grade the reference and save its results as "
                              "recordings (make release does this)")
    rec.add_argument("--reference", type=Path, default=ROOT / "solutions", metavar="DIR")
    rec.add_argument("--out", type=Path, default=RECORDINGS, metavar="DIR")
    rec.add_argument("--device", default="all", choices=DEVICE_CHOICES)
    c = commands.add_parser("checkoff", help="in class: grade one exercise fast for a TA to sign "
                            "off (writes checkoffs/NAME.json); `checkoff verify`: the instructor's")
    c.add_argument("--exercise", metavar="NAME", help="the exercise to check off")
    c.add_argument("--target", type=Path, default=ROOT / "exercises", metavar="DIR",
                   help="directory holding the exercise module (default exercises/)")
    c.add_argument("--student", metavar="ID", help="your id (default: git config user.email)")
    c.add_argument("--out", type=Path, metavar="DIR",
                   help="where the receipt goes (default checkoffs/)")
    c.add_argument("--ta", metavar="ID", help="the TA's id (default: the TA types it)")
    c.add_argument("--session", metavar="ID", help="the session (default: the TA types it)")
    v = c.add_subparsers(dest="action").add_parser(
        "verify", help="check receipts' signatures and regrade the files they name")
    v.add_argument("--receipts", type=Path, required=True, metavar="DIR",
                   help="a folder per submission holding its receipts (or its checkoffs/)")
    v.add_argument("--pins", type=Path, required=True, metavar="FILE",
                   help="the sessions' PINs and times (TOML, see README)")
    v.add_argument("--submissions", type=Path, required=True, metavar="DIR",
                   help="a folder per submission: the student's repository")
    v.add_argument("--csv", type=Path, default=Path("checkoffs.csv"), metavar="PATH",
                   help="where the verdicts go (default checkoffs.csv)")
    commands.add_parser("serve", help="run grader commands sent by a class batch or the "
                        "self-tests, one after another in this warm process (grader.course.warm)")
    args = parser.parse_args(argv)
    try:
        if args.command == "checkoff":
            return _checkoff_command(args)
        if args.command == "serve":
            return warm.serve(main)
        if args.command == "stubs":
            from grader.course import stubs

            return stubs.main(check=args.check)
        if args.command == "release":
            return _release_command(args)
        if args.command in ("gradescope", "gradescope-run"):
            return _gradescope_command(args)
        if args.command == "classroom":
            try:
                runners = reports.classroom(reports.load(args.results))
            except OSError as exc:
                raise UsageError(f"cannot read {args.results}: {exc.strerror or exc}") from None
            except DocumentError as exc:
                raise UsageError(str(exc)) from None
            for name, runner in runners.items():
                encoded = base64.b64encode(json.dumps(runner).encode()).decode()
                print(f"{name}={encoded}")
            return 0
        if args.command == "gradebook":
            path = _write_gradebook(args.out, _roster(args.roster))
            print(f"gradebook: {path}")
            return 0
        if args.command == "report":
            return _report_command(args)
        if args.command == "record":
            manifest = record(reference=args.reference, out=args.out, device=args.device)
            print(f"recorded {manifest['devices']} into {args.out}: {manifest['sha256'][:12]}")
            return 0
        return _grade_command(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (GraderError, release.ReleaseError, reports.ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except BrokenPipeError:  # e.g. `python -m grader grade | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _release_command(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    manifest = release.build(args.dest, replace=args.replace, check=args.self_check,
                             repository=True, notes_url=args.notes_url)
    print(f"built the student release in {args.dest} ({time.perf_counter() - started:.0f} s)\n"
          f"version {environment.release_version(manifest)}; reference results recorded on "
          f"{', '.join(manifest['devices'])}; "
          + ("it passes its own make test; " if args.self_check else "")
          + f"committed as the course in {args.dest}/.git")
    if not args.notes_url:
        print("no COURSE_NOTES_URL given: the README asks students to ask the staff where "
              "the course notes are")
    for name in manifest["kept"]:
        print(f"kept {name}: it differs from the stub of the previous release")
    return 0


def _gradescope_command(args: argparse.Namespace) -> int:
    from grader.course import gradescope

    if args.command == "gradescope-run":
        _warn_if_unconfined()
        data = gradescope.run_submission(args.root)
        print(data["output"])
        return 0
    path = args.out or gradescope.DEFAULT_ZIP
    manifest = gradescope.build_zip(path, args.exercise)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), release "
          f"{environment.release_version(manifest)}, grading {', '.join(manifest['exercises'])}; "
          "upload it as the autograder, base image "
          "Ubuntu 24.04 (see README)")
    return 0


def _roster(path: Path | None) -> list[batch.Student] | None:
    if path is None:
        return None
    try:
        return batch.read_roster(path)
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"cannot read the roster: {exc}") from exc


def _write_gradebook(out: Path, roster: list[batch.Student] | None) -> Path:
    if not out.is_dir():
        raise UsageError(f"{out} is not a directory of graded students")
    path = out / "gradebook.csv"
    try:
        reports.write_atomic(path, gradebook.gradebook(gradebook.of_class(out, roster)))
    except DocumentError as exc:
        raise GraderError(f"cannot make the gradebook: {exc}") from None
    waiting = gradebook.pending(out, roster)
    if waiting:
        shown = ", ".join(waiting[:10]) + (", ..." if len(waiting) > 10 else "")
        print(f"{len(waiting)} of {len(gradebook.class_of(out, roster))} students pending (not "
              f"graded yet): {shown}", file=sys.stderr)
    return path


def _report_command(args: argparse.Namespace) -> int:
    if not args.out.is_dir():
        raise UsageError(f"{args.out} is not a directory of graded students")
    from grader.course import class_page, similarity  # matplotlib and copydetect: only here

    roster = _roster(args.roster)
    threshold = args.similarity_threshold
    threshold = similarity.THRESHOLD if threshold is None else threshold
    started = time.perf_counter()
    page, summary = class_page.write(
        args.out, args.html, [s.id for s in roster] if roster else None,
        similarity=threshold <= 1, threshold=threshold)
    print(f"class report: {page} and {summary} ({time.perf_counter() - started:.1f} s)")
    return 0


def _slice(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--slice takes K/N, e.g. 0/4, not {text!r}") from None
    if not 0 <= k < n:
        raise UsageError(f"--slice {text}: K must be in [0, N)")
    return k, n


def _class_command(args: argparse.Namespace) -> int:
    if args.target or args.json or args.junit or args.check:
        raise UsageError("--submissions grades a class: it takes no --target, --json, --junit "
                         "or --check")
    if not args.submissions.is_dir():
        raise UsageError(f"{args.submissions} is not a directory")
    checked_exercises([], args.exercise)
    roster = _roster(args.roster)
    _warn_if_unconfined()
    try:
        gradings = batch.grade_class(
            submissions=args.submissions, out=args.out, roster=roster, exercises=args.exercise,
            jobs=max(1, args.jobs), options=GradingOptions.read(partial(getattr, args)),
            resume=args.resume, only=_slice(args.slice),
            progress=_progress_line(sys.stderr))
    except KeyboardInterrupt as exc:
        path = _write_gradebook(args.out, roster)
        print(f"\n{exc}: the finished students' reports are kept ({path}); "
              "continue with --resume", file=sys.stderr)
        return 130
    path = _write_gradebook(args.out, roster)
    errors = [g.id for g in gradings if g.status == batch.GradingStatus.GRADER_ERROR]
    print(f"graded {len(gradings)} students; gradebook: {path}")
    if errors:
        print(f"grader errors (not zeros: rerun with --resume): {', '.join(errors)}",
              file=sys.stderr)
        return 3
    return 0


def _warn_if_unconfined() -> None:
    """Where the instructor grades others' code: say what this machine cannot confine."""
    warning = confinement.available().warning()
    if warning:
        print(warning, file=sys.stderr)


def _progress_line(stream):
    """A progress callback: one line redrawn on a terminal, a line per student elsewhere."""
    shown = [-1]

    def progress(done: int, total: int, seconds: float) -> None:
        if done == shown[0] and not stream.isatty():
            return
        shown[0] = done
        left = f", about {seconds / done * (total - done):.0f} s left" if done else ""
        bar = "#" * (20 * done // max(total, 1))
        line = f"[{bar:<20}] {done}/{total} students, {seconds:.0f} s{left}"
        stream.write(f"\r{line}" if stream.isatty() else line + "\n")
        if stream.isatty() and done == total:
            stream.write("\n")
        stream.flush()

    return progress


def _checkoff_command(args: argparse.Namespace) -> int:
    from grader.course.checkoff import screen, verify
    if args.action == "verify":
        _warn_if_unconfined()
        verdicts = verify.verify(receipts=args.receipts, pins=args.pins,
                                   submissions=args.submissions)
        args.csv.write_text(verify.verdicts_csv(verdicts))
        print(f"{verify.verdicts_summary(verdicts)}\nwritten to {args.csv}")
        return 0
    if args.exercise is None:
        raise UsageError("which exercise? make checkoff EX=mcc (or --exercise mcc)")
    screen.check_off(exercise=args.exercise, target=args.target, out=args.out,
                       student=args.student, ta=args.ta, session=args.session)
    return 0


def _grade_command(args: argparse.Namespace) -> int:
    if args.submissions is not None:
        return _class_command(args)
    targets = args.target or [ROOT / "exercises"]
    several = len(targets) > 1
    if several and (args.json or args.junit):
        raise UsageError("--json and --junit take one target; with several, see --out")
    if several and len({t.resolve().name for t in targets}) < len(targets):
        raise UsageError("several targets share a folder name; their reports would collide")
    documents = [args.out / t.resolve().name / "results.json" for t in targets] if several \
        else [args.out / "results.json"]
    for path in (args.json, args.junit, *documents):
        if path is not None:  # found now, not after minutes of grading
            try:
                reports.refuse_directory(path)
            except reports.ReportError as exc:
                raise UsageError(str(exc)) from None
    results = grade(targets=targets, exercises=args.exercise,
                    options=GradingOptions.read(partial(getattr, args)),
                    save_reference=args.save_reference, judges=args.judges)
    for result in results:
        folder = args.out / Path(result.target).name if several else args.out
        if several:
            print(f"\n== {result.target}")
        print(reports.table(result, verbose=args.verbose))
        if args.json is None or args.json.resolve() != (folder / "results.json").resolve():
            reports.save(result, folder / "results.json")
        if args.json is not None:  # the rendering carries the document: it may replace it
            reports.write_json(args.json, reports.gradescope(result))
        junit_path = args.junit or (folder / "junit.xml" if several else None)
        if junit_path:
            reports.write_atomic(junit_path, reports.junit(result))
    if several:
        reports.write_atomic(args.out / "gradebook.csv",
                             gradebook.gradebook(gradebook.of_results(results)))
        print(f"\ngradebook: {args.out / 'gradebook.csv'}")
    if args.quick and checks_left_out(results):
        print("\nquick grade: the slow checks (training to a threshold, millions of samples)\n"
              "were left out, and the scores above are out of the other checks' points;\n"
              "`make grade` grades them all.")
    if args.check:
        print(f"\nonly the checks matching {' or '.join(map(repr, args.check))} were graded,\n"
              "and the scores above are out of their points.")
    if any(result.internal_errors for result in results):
        print("\nthe grader itself failed on some checks (see 'internal error' above)",
              file=sys.stderr)
        return 3
    if args.fail_under is not None and any(r.score < args.fail_under for r in results):
        return 1
    return 0
