"""`make benchmark`: every `benchmarks/bench_*.py` module's `run()` rows, as one table.

Speed and memory are measured here, never asserted in tests: machines are shared
and noisy. Set DATA_DIR to add the rows that need the real datasets.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main() -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    only = sys.argv[1:]
    for name in names:
        if only and not any(word in name for word in only):
            continue
        started = time.perf_counter()
        rows = importlib.import_module(f"benchmarks.{name}").run()
        width = max((len(label) for label, _ in rows), default=0)
        print(f"\n## {name.removeprefix('bench_')} ({time.perf_counter() - started:.1f} s)")
        for label, value in rows:
            print(f"  {label.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
