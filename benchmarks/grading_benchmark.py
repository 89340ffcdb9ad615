"""How fast grading is: the reference graded unit by unit, and grade-many's throughput.

    python benchmarks/grading_benchmark.py [--students N] [--repeat R] [--baseline REV]

Prints the time to grade the reference solution for every unit that exists (and the whole course),
then the submissions per minute of ``grade-many`` at 1 and 2 workers on N copies of the reference.
Targets (design): the whole course graded in at most 30 s on 2 CPU cores, and grade-many's
throughput growing with workers. Numbers are printed, not asserted: a shared or busy machine
slows them down.

Before and after the hardening of issue #11: the engine of ``--baseline`` (default 311883a, the
last commit before it; ``--baseline none`` skips this) is checked out into a temporary ``git
worktree`` and both engines grade the same honest submission (this checkout's reference) on the
graded functions they have in common, in alternating fresh processes, ``--repeat`` times each,
in one run. The ratios of the medians of wall time and of the judge process's CPU time (its
workers are not counted; steadier than wall time on a busy machine) are printed; the target is
at most 1.20.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
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
BASELINE = "311883a"
ROOT = Path(__file__).resolve().parent.parent

_KEYS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from autograder.units import available_units, specs_of
print(json.dumps({u: [k for s in specs_of(u) for k in s.tests] for u in available_units()}))
"""
_TIME = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from autograder import engine
submission, units, keys = sys.argv[2], json.loads(sys.argv[3]), set(json.loads(sys.argv[4]))
engine.grade(submission, units[:1], keys=keys)  # warm: imports, the reference, the sandbox probe
def cpu():
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
started, cpu_started = time.perf_counter(), cpu()
report = engine.grade(submission, units, keys=keys)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu() - cpu_started,
                  "total": report["total"], "max": report["max"]}))
"""


def _run(code, root, *args):
    out = subprocess.run([sys.executable, "-c", code, str(root), *map(str, args)],
                         capture_output=True, text=True, cwd=root, timeout=1800)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def before_and_after(submission, baseline, repeat, tmp):
    """Grade ``submission`` with the baseline's engine and this one, alternating."""
    old = Path(tmp) / "baseline"
    made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old),
                           baseline], capture_output=True, text=True)
    if made.returncode:
        print(f"\nbefore/after: cannot check out {baseline} ({made.stderr.strip()[:200]})")
        return
    try:
        old_keys, new_keys = _run(_KEYS, old), _run(_KEYS, ROOT)
        units = [u for u in new_keys if u in old_keys]
        keys = sorted({k for u in units for k in new_keys[u]} & {k for u in units
                                                                 for k in old_keys[u]})
        print(f"\nbefore ({baseline}) and after the hardening, {len(keys)} graded functions of "
              f"units {', '.join(units)} in common, {repeat} alternating runs each:")
        times = {"before": [], "after": []}
        cpu = {"before": [], "after": []}
        for _ in range(repeat):
            for name, root in (("before", old), ("after", ROOT)):
                result = _run(_TIME, root, submission, json.dumps(units), json.dumps(keys))
                times[name].append(result["seconds"])
                cpu[name].append(result["cpu"])
                scores = f"{result['total']:g} / {result['max']:g}"
            print(f"  run: before {times['before'][-1]:6.2f} s ({cpu['before'][-1]:5.2f} s CPU)"
                  f"   after {times['after'][-1]:6.2f} s ({cpu['after'][-1]:5.2f} s CPU)   "
                  f"({scores} points)")
        for what, data in (("wall", times), ("CPU of the judge process", cpu)):
            before, after = (statistics.median(data[k]) for k in ("before", "after"))
            verdict = "within" if after <= 1.2 * before else "OVER"
            print(f"  median {what}: before {before:.2f} s, after {after:.2f} s, ratio "
                  f"{after / before:.2f} ({verdict} the 1.20 target)")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                       capture_output=True)


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
    parser.add_argument("--baseline", default=BASELINE,
                        help="git revision graded for comparison ('none' to skip)")
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

        if args.baseline != "none":
            before_and_after(reference, args.baseline, args.repeat, tmp)


if __name__ == "__main__":
    main()
