"""How fast grading is: the reference graded unit by unit, and grade-many's throughput.

    python benchmarks/grading_benchmark.py [--students N] [--repeat R]

Prints the time to grade the reference solution for every unit that exists (and the whole course),
then the submissions per minute of ``grade-many`` at 1 and 2 workers on N copies of the reference.
Targets (design): the whole course graded in at most 30 s on 2 CPU cores, and grade-many's
throughput growing with workers. Numbers are printed, not asserted: a shared or busy machine
slows them down.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import engine  # noqa: E402
from autograder.grade_many import grade_many  # noqa: E402
from autograder.paths import REFERENCE_PACKAGE  # noqa: E402
from autograder.sandbox import bubblewrap_path  # noqa: E402
from autograder.units import available_units  # noqa: E402

COURSE_TARGET_SECONDS = 30.0


def time_grade(submission, units, repeat):
    times, report = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        report = engine.grade(submission, units)
        times.append(time.perf_counter() - started)
    return statistics.median(times), report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} CPU cores available, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; sandbox: "
          f"{'bubblewrap' if bubblewrap_path() else 'process limits only'}")
    units = available_units()
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        reference = Path(tmp) / "reference"
        shutil.copytree(REFERENCE_PACKAGE, reference / "coursework",
                        ignore=shutil.ignore_patterns("__pycache__"))
        engine.grade(reference, units[:1])  # warm caches (imports, the reference, bwrap probe)

        print(f"\nreference graded, median of {args.repeat}:")
        for unit in units:
            seconds, report = time_grade(reference, [unit], args.repeat)
            data = report["units"].get(unit, {"score": 0, "max": 0})
            print(f"  {unit:<12} {seconds:7.2f} s   {data['score']:g} / {data['max']:g} points")
        seconds, report = time_grade(reference, units, args.repeat)
        verdict = "within" if seconds <= COURSE_TARGET_SECONDS else "OVER"
        print(f"  {'whole course':<12} {seconds:7.2f} s   {report['total']:g} / "
              f"{report['max']:g} points ({verdict} the {COURSE_TARGET_SECONDS:g} s target)")

        root = Path(tmp) / "class"
        for i in range(args.students):
            shutil.copytree(reference, root / f"student{i:03d}")
        print(f"\ngrade-many on {args.students} copies of the reference, whole course:")
        rates = {}
        for workers in (1, 2):
            out = Path(tmp) / f"out{workers}"
            started = time.perf_counter()
            rows = grade_many(root, out, units=units, workers=workers, progress=False)
            elapsed = time.perf_counter() - started
            rates[workers] = len(rows) / elapsed * 60
            full = sum(r["total"] == r["max"] for r in rows)
            print(f"  {workers} worker{'s' if workers > 1 else ' '}  {elapsed:7.2f} s   "
                  f"{rates[workers]:6.1f} submissions/minute   ({full}/{len(rows)} full marks)")
        print(f"  speed-up at 2 workers: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
