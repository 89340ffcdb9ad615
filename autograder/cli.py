"""``python -m autograder``: grade, grade-many, stubs (and the commands other modules add).

Exit status: 0 when the command did its job (whatever the scores), 2 with a one-line message for
unusable arguments, 1 only for a fault of the grader itself.
"""

import argparse
import os
import sys
from pathlib import Path

from . import engine, report, stubs
from .paths import REFERENCE_PACKAGE, STUBS_PACKAGE
from .sandbox import Limits
from .units import UnknownUnit


def _limits(args):
    limits = Limits()
    if getattr(args, "timeout", None) is not None:
        if args.timeout <= 0:
            raise engine.UsageError(f"--timeout must be positive, got {args.timeout}")
        limits.call_seconds = args.timeout
        limits.cpu_seconds = args.timeout
    if getattr(args, "memory", None) is not None:
        if args.memory < 256:
            raise engine.UsageError(f"--memory must be at least 256 (MB), got {args.memory}")
        limits.memory_mb = args.memory
    if getattr(args, "device", None) is not None:
        limits.device = _device(args.device, args.unit)
    return limits


def _device(name, units):
    """``--device``: cpu, cuda (fails with one line without a usable GPU) or auto."""
    from . import device

    try:
        return device.resolve(name, units)
    except ValueError as exc:  # DeviceUnavailable too: one line saying why
        raise engine.UsageError(str(exc)) from None


def cmd_grade(args):
    limits = _limits(args)
    try:
        result = engine.grade(args.submission, args.unit, limits=limits)
    except (engine.UsageError, UnknownUnit):
        raise
    except Exception as exc:  # a fault of the grader: the report still says so, then exit 1
        if args.json:
            report.write_json(args.json, {
                "submission": report.safe_text(str(args.submission)), "total": 0.0, "max": 0.0,
                "units": {}, "error": report.safe_text(
                    f"grader fault: {type(exc).__name__}: {exc}")[:2000]})
        raise
    # The report first (it is what counts), then the table; every string is made encodable.
    if args.json:
        report.write_json(args.json, result)
    if args.feedback:
        report.write_json(args.feedback, report.student_view(result))
    _print(report.table(result))
    if args.json:
        _print(f"JSON report written to {args.json}")
    if result.get("grader_faults"):
        # The scores of these functions are not trustworthy: a fault of the grader (exit 1).
        print(f"error: the grader itself failed on {', '.join(result['grader_faults'])}; "
              "please report it", file=sys.stderr)
        return 1
    return 0


def _print(text):
    """Print whatever the terminal's encoding: what it cannot show is escaped."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))


def cmd_grade_many(args):
    from .grade_many import grade_many

    try:
        if args.scheduler:
            from .cluster import grade_many_dask

            rows = grade_many_dask(args.submissions, args.out, scheduler=args.scheduler,
                                   units=args.unit, force=args.force, limits=_limits(args),
                                   progress=not args.quiet)
        else:
            rows = grade_many(args.submissions, args.out, units=args.unit, workers=args.workers,
                              force=args.force, limits=_limits(args), progress=not args.quiet)
    except KeyboardInterrupt:
        again = " without --force" if args.force else ""
        print(f"interrupted: the finished reports are in {args.out}; run the same command "
              f"again{again} to resume", file=sys.stderr)
        return 130
    resumed = sum(1 for row in rows if row.get("resumed"))
    print(f"{len(rows)} students; reports in {args.out}, totals in "
          f"{Path(args.out) / 'grades.csv'}")
    if resumed:
        print(f"{resumed} of them not graded again: their reports are from an earlier run of "
              "this grader over the same files and units (--force grades everyone again)")
    from .grade_many import grader_faults

    faults = grader_faults(rows)
    if faults:
        shown = ", ".join(repr(report.safe_text(name)) for name in faults[:10])
        print(f"error: the grader itself failed on {len(faults)} student(s) ({shown}"
              f"{', ...' if len(faults) > 10 else ''}): see their rows in grades.csv; run the "
              "same command again to grade them again", file=sys.stderr)
        return 1
    return 0


def cmd_stubs(args):
    if args.check:
        problems = stubs.out_of_sync(REFERENCE_PACKAGE, STUBS_PACKAGE)
        if problems:
            print("coursework/ is out of sync with solutions/coursework/:", file=sys.stderr)
            for p in problems:
                print(f"  coursework/{p}", file=sys.stderr)
            print("Run `python -m autograder stubs` (or `make stubs`) to regenerate the stubs, "
                  "then commit them.", file=sys.stderr)
            return 1
        print("coursework/ is in sync with solutions/coursework/")
        return 0
    changed = stubs.write_stubs(REFERENCE_PACKAGE, STUBS_PACKAGE)
    for rel in changed:
        print(f"wrote coursework/{rel.as_posix()}")
    if not changed:
        print("coursework/ already up to date")
    return 0


UNIT_HELP = ("units to grade: 01 (or 1), 01_linear or linear; several as --unit 01 02, "
             "--unit 01,02 or --unit 01 --unit 02 (default: all)")


class _Parser(argparse.ArgumentParser):
    """Unusable arguments end with one line and exit status 2 (argparse prints the usage too)."""

    words = ()  # the command line being parsed (set by main)

    def error(self, message):
        advice = _folder_advice(message, self.words)
        self.exit(2, f"error: {message}{advice} (see `{self.prog} --help`)\n")


# the option that takes a folder, for each command that grades one or many
_FOLDER_OPTIONS = {"grade": "--submission", "grade-many": "--submissions"}


def _folder_advice(message, words):
    """For a folder given without its option (``grade submissions/alice``): the option to use."""
    command = next((w for w in words if w in _FOLDER_OPTIONS), None)
    if command is None:
        return ""
    if message.startswith("unrecognized arguments: "):
        candidates = message.split(": ", 1)[1].split()
    elif message.endswith(f"required: {_FOLDER_OPTIONS[command]}"):
        after = list(words)[list(words).index(command) + 1:]
        candidates = [w for i, w in enumerate(after)
                      if not w.startswith("-") and (i == 0 or not after[i - 1].startswith("-"))]
    else:
        return ""
    folders = [w for w in candidates if os.path.isdir(w)]
    if not folders:
        return ""
    return f"; a folder is given by its option: {command} {_FOLDER_OPTIONS[command]} {folders[0]}"


def build_parser():
    from .grade_many import default_workers

    parser = _Parser(prog="python -m autograder",
                     description="Grade coursework submissions safely.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("grade", help="grade one submission and print a per-function table")
    p.add_argument("--submission", default=".", help="folder holding a coursework package "
                   "(default: this checkout)")
    p.add_argument("--unit", action="extend", nargs="+", help=UNIT_HELP)
    p.add_argument("--json", help="also write the JSON report here (with its instructor-only "
                   "part: the full verdicts of hidden cases)")
    p.add_argument("--feedback", help="also write the report a student may see here (without "
                   "the instructor-only part)")
    p.add_argument("--timeout", type=float, help="seconds per call (default 10)")
    p.add_argument("--memory", type=int, help="memory cap of the worker in MB (default 2048)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda (inputs as CuPy arrays "
                   "or CUDA tensors; fails saying why without a GPU) or auto (cuda when usable)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("grade-many", help="grade every subfolder of a folder, in parallel")
    p.add_argument("--submissions", required=True, help="folder with one subfolder per student")
    p.add_argument("--out", required=True, help="folder for the reports and grades.csv")
    p.add_argument("--workers", type=int, default=default_workers(),
                   help=f"students graded at once (default here: {default_workers()}, the "
                   "cores, at most 8)")
    p.add_argument("--force", action="store_true", help="regrade students already graded")
    p.add_argument("--unit", action="extend", nargs="+", help=UNIT_HELP)
    p.add_argument("--timeout", type=float, help="seconds per call (default 10)")
    p.add_argument("--memory", type=int, help="memory cap of the worker in MB (default 2048)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (as for grade)")
    p.add_argument("--scheduler", help="grade on Dask: a scheduler's address (tcp://host:8786) "
                   "or local:N for N local worker processes (needs pip install -e '.[cluster]')")
    p.set_defaults(func=cmd_grade_many)

    p = sub.add_parser("stubs", help="write coursework/ from solutions/coursework/")
    p.add_argument("--check", action="store_true",
                   help="only check; exit 1 naming every out-of-sync file")
    p.set_defaults(func=cmd_stubs)

    for register in _extensions():
        register(sub)
    return parser


def _extensions():
    """Subcommands added by optional modules (release, nbgrader), when present."""
    out = []
    for name in ("release", "nbgrader_course", "mutants"):
        try:
            module = __import__(f"autograder.{name}", fromlist=["register"])
        except ImportError:
            continue
        if hasattr(module, "register"):
            out.append(module.register)
    return out


def main(argv=None):
    parser = build_parser()
    _Parser.words = list(sys.argv[1:] if argv is None else argv)  # subparsers read it too
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (engine.UsageError, UnknownUnit) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except stubs.MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
