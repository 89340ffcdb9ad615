"""How fast grading is: the reference graded unit by unit, and grade-many's throughput.

    python benchmarks/grading_benchmark.py [--students N] [--repeat R] [--baseline REV]
                                           [--compare-only]

Prints the time to grade the reference solution for every unit that exists (and the whole course),
then the submissions per minute of ``grade-many`` at 1 and 2 workers on N copies of the reference.
Targets (design): the whole course graded in at most 30 s on 2 CPU cores, and grade-many's
throughput growing with workers. Numbers are printed, not asserted: a shared or busy machine
slows them down.

Before and after the hardening of issue #11: the engine of ``--baseline`` (default 311883a, the
last commit before it; ``--baseline none`` skips this) is checked out into a temporary ``git
worktree`` and both engines grade the same honest submission (this checkout's reference) on the
graded functions they have in common, in alternating fresh processes, ``--repeat`` processes
each, in one run; each process grades three times: the first grading is cold (what one `grade`
costs), the later ones warm (what each student costs grade-many's pool processes). The ratios of
the medians and of the best runs of wall time and of CPU time (the judge and its workers) are
printed, cold and warm; the target is at most 1.20. The large convolution of the speed tests
varies by a factor of several from run to run on a shared virtual machine (the first touch of its
memory), in both engines: use ``--repeat 10`` or more. ``--compare-only`` runs just this part.
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
rounds = int(sys.argv[5])
engine.grade(submission, units[:1], keys=keys)  # warm: imports, the reference, the sandbox probe
def cpu():
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
seconds, cpus = [], []
for _ in range(rounds):
    started, cpu_started = time.perf_counter(), cpu()
    report = engine.grade(submission, units, keys=keys)
    seconds.append(time.perf_counter() - started)
    cpus.append(cpu() - cpu_started)
print(json.dumps({"seconds": seconds, "cpu": cpus, "total": report["total"],
                  "max": report["max"]}))
"""
ROUNDS = 3  # gradings per process: the first is cold (a single `grade`), the others warm


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
              f"units {', '.join(units)} in common, {repeat} alternating processes each, "
              f"grading {ROUNDS} times in each process:")
        data = {(engine_, kind, measure): [] for engine_ in ("before", "after")
                for kind in ("cold", "warm") for measure in ("seconds", "cpu")}
        for _ in range(repeat):
            line = []
            for name, root in (("before", old), ("after", ROOT)):
                result = _run(_TIME, root, submission, json.dumps(units), json.dumps(keys),
                              ROUNDS)
                for measure in ("seconds", "cpu"):
                    data[name, "cold", measure].append(result[measure][0])
                    data[name, "warm", measure].append(statistics.median(result[measure][1:]))
                scores = f"{result['total']:g} / {result['max']:g}"
                line.append(f"{name} cold {result['seconds'][0]:5.2f} s, warm "
                            f"{data[name, 'warm', 'seconds'][-1]:5.2f} s")
            print(f"  run: {'   '.join(line)}   ({scores} points)")
        print("  (cold: the first grading in a fresh process, like one `grade`; warm: the later "
              "ones, like grade-many's pool processes; CPU: the judge and its workers)")
        for kind in ("cold", "warm"):
            for measure, label in (("seconds", "wall"), ("cpu", "CPU")):
                for stat, f in (("median", statistics.median), ("best", min)):
                    before = f(data["before", kind, measure])
                    after = f(data["after", kind, measure])
                    verdict = "within" if after <= 1.2 * before else "OVER"
                    print(f"  {kind} {stat} {label}: before {before:.2f} s, after {after:.2f} s, "
                          f"ratio {after / before:.2f} ({verdict} the 1.20 target)")
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
    parser.add_argument("--compare-only", action="store_true",
                        help="only the before/after comparison with --baseline")
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
        if args.compare_only:
            before_and_after(reference, args.baseline, args.repeat, tmp)
            return
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
