"""grade-many locally and on a local Dask cluster: submissions per minute, and the overhead.

    python benchmarks/cluster_benchmark.py [--students 8] [--unit 01] [--machines 1,10,100]

Measured in one run on copies of the reference: submissions per minute of ``grade-many
--workers N`` and of a local Dask cluster of N worker processes (N = 1, 2; the cluster is started
and each worker warmed by grading one submission before the clock starts, as grade-many's forked
workers inherit a warm parent; the start-up is printed apart), then what the cluster adds per
submission: packing the archive (client), a round trip of the archive to a worker and back
without grading (transfer and scheduling), unpacking it (worker). Needs
``pip install -e '.[cluster]'``.

Projection (printed with the measured figures): one worker grades a submission in ``g`` seconds
(grade-many, 1 worker) and the cluster adds ``o`` (pack + round trip + unpack), so a worker does
``60 / (g + o)`` a minute and K machines of W workers about ``K * W * 60 / (g + o)``, until the
client saturates: it packs each archive and writes each report itself, at ``60 / c`` a minute
(``c`` = pack + write, measured). Numbers are printed, never asserted: a shared machine slows them.
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

from autograder import cluster, engine, report  # noqa: E402
from autograder.grade_many import grade_many  # noqa: E402
from autograder.paths import REFERENCE_PACKAGE  # noqa: E402
from autograder.sandbox import bubblewrap_path  # noqa: E402


def _echo(data):
    return len(data)


def _warm(data, units):
    """On every worker: grade one archive (imports, the reference's answers, the sandbox probe),
    as grade-many's forked workers inherit a parent that already did."""
    cluster.grade_archive(data, units, None)
    return True


def _per_minute(count, seconds):
    return 60.0 * count / seconds if seconds > 0 else float("inf")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--unit", default="01")
    parser.add_argument("--machines", default="1,10,100",
                        help="machine counts K to project (comma-separated)")
    parser.add_argument("--workers-per-machine", type=int, default=16)
    args = parser.parse_args(argv)
    distributed = cluster.import_distributed()
    import dask

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} CPU cores available, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; sandbox: "
          f"{'bubblewrap' if bubblewrap_path() else 'process limits only'}; "
          f"{args.students} copies of the reference, unit {args.unit}")
    units = [args.unit]
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp:
        root = Path(tmp) / "submissions"
        for i in range(args.students):
            shutil.copytree(REFERENCE_PACKAGE, root / f"s{i:03d}" / "coursework",
                            ignore=shutil.ignore_patterns("__pycache__"))
        engine.grade(root / "s000", units)  # warm caches (imports, the reference, bwrap probe)
        rate = {}
        print("\nsubmissions per minute:")
        for n in (1, 2):
            started = time.perf_counter()
            grade_many(root, Path(tmp) / f"local{n}", units=units, workers=n, progress=False)
            seconds = time.perf_counter() - started
            rate[("local", n)] = _per_minute(args.students, seconds)
            print(f"  grade-many --workers {n}:          {rate[('local', n)]:7.1f}  "
                  f"({seconds:.1f} s)")
            started = time.perf_counter()
            with dask.config.set({"distributed.worker.daemon": False,
                                  "distributed.scheduler.worker-saturation": 1.0}):
                local = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                                 processes=True, dashboard_address=":0",
                                                 memory_limit=0, silence_logs=50)
            startup = time.perf_counter() - started
            try:
                with distributed.Client(local.scheduler_address) as client:
                    client.run(_warm, cluster.pack(root / "s000"), units)
                startup = time.perf_counter() - started
                started = time.perf_counter()
                cluster.grade_many_dask(root, Path(tmp) / f"dask{n}", units=units,
                                        scheduler=local.scheduler_address, progress=False)
                seconds = time.perf_counter() - started
                rate[("dask", n)] = _per_minute(args.students, seconds)
                print(f"  Dask, local cluster of {n} worker{'s' if n > 1 else ' '}: "
                      f"{rate[('dask', n)]:7.1f}  ({seconds:.1f} s; cluster start-up "
                      f"{startup:.1f} s with warming, not counted)")
                if n == 1:
                    archives = []
                    started = time.perf_counter()
                    for s in sorted(root.iterdir()):
                        archives.append(cluster.pack(s))
                    pack_s = (time.perf_counter() - started) / len(archives)
                    with distributed.Client(local.scheduler_address) as client:
                        client.submit(_echo, b"", pure=False).result()  # connected, warm
                        started = time.perf_counter()
                        for data in archives:
                            client.submit(_echo, data, pure=False).result()
                        trip_s = (time.perf_counter() - started) / len(archives)
            finally:
                local.close()
        started = time.perf_counter()
        for i, data in enumerate(archives):
            into = Path(tmp) / f"unpack{i}"
            into.mkdir()
            cluster.unpack(data, into)
        unpack_s = (time.perf_counter() - started) / len(archives)
        sample = report.safe_strings(engine.grade(root / "s000", units))
        started = time.perf_counter()
        for i in range(len(archives)):
            report.write_json(Path(tmp) / "write" / f"{i}.json", sample)
        write_s = (time.perf_counter() - started) / len(archives)

    size = statistics.mean(len(a) for a in archives)
    grade_s = 60.0 / rate[("local", 1)]
    overhead = pack_s + trip_s + unpack_s
    print(f"\nper submission ({size / 1024:.0f} KiB archive): grading {grade_s * 1000:.0f} ms "
          f"(grade-many, 1 worker); cluster overhead {overhead * 1000:.1f} ms = pack "
          f"{pack_s * 1000:.1f} + round trip {trip_s * 1000:.1f} + unpack "
          f"{unpack_s * 1000:.1f}; client's write {write_s * 1000:.1f} ms")
    for n in (1, 2):
        print(f"  Dask / grade-many at {n} worker{'s' if n > 1 else ''}: "
              f"{rate[('dask', n)] / rate[('local', n)]:.2f}")
    per_worker = 60.0 / (grade_s + overhead)
    client_cap = 60.0 / (pack_s + write_s)
    w = args.workers_per_machine
    print(f"\nprojection: a worker grades {per_worker:.0f} a minute (60 / (grading + "
          f"overhead)); the client packs and writes at most {client_cap:.0f} a minute")
    for k in (int(x) for x in args.machines.split(",") if x.strip()):
        raw = k * w * per_worker
        print(f"  {k:4d} machine{'s' if k > 1 else ' '} x {w} workers: about "
              f"{min(raw, client_cap):9.0f} submissions a minute"
              f"{' (client-bound)' if raw > client_cap else ''}")
    print("(grading's own time dominates: the overhead is "
          f"{100 * overhead / (grade_s + overhead):.1f}% of a submission's time on a worker)")


if __name__ == "__main__":
    main()
