"""Where a full grade's time goes: `python -m benchmarks.profile_grade [--grades N]
[--exercise NAME ...] [--profile FILE]`.

Grades a copy of the reference N times in this one process, as a warm grader does student
after student, and prints per grade its wall time, the judge's CPU seconds (this process)
and the workers' (the fork server's tree), then the submission's calls per exercise: their
count and CPU seconds. With --profile, the last grade runs under cProfile on CPU time and
the stats go to FILE (read them with `python -m pstats FILE`); cProfile inflates pure-Python
code, so compare CPU seconds only between runs without it.
"""

from __future__ import annotations

import argparse
import cProfile
import resource
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from grader import ROOT
from grader.isolation import forkserver, processes


def _judge_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _workers_cpu() -> float:
    """The fork server's CPU and that of the workers it has reaped."""
    server = forkserver.server_pid()
    return processes.cpu_seconds(server) if server else 0.0


def main() -> None:
    # Imported here, not at the top: every worker the fork server starts imports this module
    # again (multiprocessing re-imports a `python -m` main module not named __main__), and the
    # judging side (pytest, the suites) would add about 0.15 CPU-s to each worker measured.
    from grader.judging import grading
    from grader.judging.options import GradingOptions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grades", type=int, default=3)
    parser.add_argument("--exercise", action="append", help="default: all")
    parser.add_argument("--profile", type=Path, help="cProfile the last grade into FILE")
    args = parser.parse_args()
    student = Path(tempfile.mkdtemp(prefix="profile-grade-")) / "student"
    shutil.copytree(ROOT / "solutions", student,
                    ignore=shutil.ignore_patterns("variants", "similar", "__pycache__"))
    options = GradingOptions(device="cpu")
    for grade in range(1, args.grades + 1):
        profile = (cProfile.Profile(time.process_time)
                   if args.profile and grade == args.grades else None)
        judge, workers, wall = _judge_cpu(), _workers_cpu(), time.perf_counter()
        if profile:
            profile.enable()
        [result] = grading.grade(targets=[student], exercises=args.exercise, options=options)
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        wall = time.perf_counter() - wall
        time.sleep(1)  # the workers of this grade are killed at its end: let the server reap them
        print(f"grade {grade}: {result.score:g}/{result.max_score:g} in {wall:.1f} s wall; "
              f"CPU: judge {_judge_cpu() - judge:.2f} s, workers {_workers_cpu() - workers:.2f} s")
    calls, cpu = Counter(), Counter()
    for exercise in result.exercises:
        for check in exercise.checks:
            for run in check.runs:
                cpu[exercise.name] += run.cpu_seconds
                calls[exercise.name] += 1
    print("the submission's calls in the last grade (CPU seconds, checks):")
    for name in sorted(cpu):
        print(f"  {name:22s} {cpu[name]:6.2f} s  {calls[name]:3d}")
    shutil.rmtree(student.parent)


if __name__ == "__main__":
    main()
