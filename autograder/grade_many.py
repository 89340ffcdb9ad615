"""Grade every entry of a folder as one student's submission, in parallel.

Every entry of the folder gets a row in ``OUT/grades.csv``: a folder is graded (or refused with
the reason when it holds no ``coursework`` package), anything else (a file, a link, a device) is
refused with the reason; names that start with a dot are entries like any other. Each student's
full report is ``OUT/reports/<digest>.json`` (written atomically), where the digest is computed
from the bytes of the folder name: report file names never depend on the length or the characters
of a name. ``OUT/index.csv`` maps every student to their report, and the ``report`` column of
``grades.csv`` names it too; ``OUT/feedback/<digest>.json`` is what may be returned to the
student (no instructor-only details of hidden cases). Every cell of both CSV files is safe to open
in a spreadsheet (no cell starts a formula).

Students whose report already exists for the same units (and device), the same files (the
report's ``fingerprint`` of the staged submission) and the same grader (its ``grader`` digest of
the grader's code, hidden cases and reference) are skipped unless ``force``: an interrupted run
resumes where it stopped, even one started with ``force``; a report of other units, of files
since changed (a resubmission) or of another grader (a hidden case fixed since) is graded again.
"""

import hashlib
import json
import multiprocessing
import os
import stat
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm import tqdm

from . import engine, report, staging
from .paths import HIDDEN_DIR, MISTAKES_DIR, PACKAGE_DIR, RECORDED_DIR, REFERENCE_PACKAGE
from .units import resolve_units

REPORTS = "reports"
FEEDBACK = "feedback"


_GRADER = []


def grader_digest():
    """SHA-256 of what decides a grade: the grader's code (its modules, specs, hidden cases,
    known mistakes, recorded reference outputs) and the reference package. A report written by
    another grader (a hidden case fixed since) is graded again, as a resubmission is."""
    if not _GRADER:
        digest = hashlib.sha256()
        roots = [(PACKAGE_DIR, False), (PACKAGE_DIR / "specs", True), (HIDDEN_DIR, True),
                 (MISTAKES_DIR, True), (RECORDED_DIR, True), (REFERENCE_PACKAGE, True)]
        for root, deep in roots:
            if not root.is_dir():
                continue
            paths = root.rglob("*") if deep else root.glob("*.py")
            for path in sorted(p for p in paths if p.is_file() and "__pycache__" not in p.parts):
                rel = path.relative_to(PACKAGE_DIR.parent).as_posix().encode()
                data = path.read_bytes()
                digest.update(len(rel).to_bytes(8, "big") + rel +
                              len(data).to_bytes(8, "big") + data)
        _GRADER.append(digest.hexdigest()[:32])
    return _GRADER[0]


def report_name(name):
    """The file name of a student's report: a digest of the name's bytes, whatever they are."""
    raw = os.fsencode(name) if isinstance(name, str) else bytes(name)
    return hashlib.sha256(raw).hexdigest()[:24] + ".json"


def _entries(submissions):
    """(name, path, reason) for every entry; reason is None for a folder to grade."""
    out = []
    with os.scandir(submissions) as it:
        for entry in it:
            try:
                mode = os.lstat(entry.path).st_mode
            except OSError as exc:
                out.append((entry.name, Path(entry.path), f"cannot be read ({exc.strerror})"))
                continue
            if stat.S_ISLNK(mode):
                reason = "a symbolic link, not a folder (links are never followed)"
            elif not stat.S_ISDIR(mode):
                reason = "not a folder"
            else:
                reason = None
            out.append((entry.name, Path(entry.path), reason))
    return sorted(out, key=lambda e: os.fsencode(e[0]))


def _empty_report(student_dir, reason, units):
    """The report of a student who could not be graded: 0 of the points of ``units`` (so the
    row's max is the course's, like everyone else's), and why."""
    return {"submission": report.safe_text(str(student_dir)), "total": 0.0,
            "max": engine.max_points(units), "error": report.safe_text(reason), "units": {}}


def grade_one(student_dir, out_dir, units, limits, hidden, reason=None):
    """Grade one student (or record why not) and write their reports; return (name, report).
    Never raises for a student's sake: a failure to grade or to write is in the result."""
    student_dir = Path(student_dir)
    if reason is not None:
        result = _empty_report(student_dir, reason, units)
    else:
        try:
            result = engine.grade(student_dir, units, limits=limits, hidden=hidden)
        except engine.UsageError as exc:
            result = _empty_report(student_dir, str(exc), units)
        except Exception as exc:  # noqa: BLE001 - one submission must not stop the batch
            result = _empty_report(student_dir,
                                   f"grader fault: {type(exc).__name__}: {exc}"[:500], units)
    return student_dir.name, write_reports(out_dir, student_dir.name, result)


def write_reports(out_dir, name, result):
    """Write a student's report and feedback (atomically); return the report as written (a
    failure to write is in its error)."""
    result = dict(report.safe_strings(result), grader=grader_digest())
    digest = report_name(name)
    try:
        report.write_json(Path(out_dir) / REPORTS / digest, result)
        report.write_json(Path(out_dir) / FEEDBACK / digest, report.student_view(result))
    except OSError as exc:  # the row still says what happened
        result = dict(result, error=f"the report could not be written: {exc.strerror}")
    return result


def reusable_report(path, unit_names, device="cpu", submission=None):
    """The report at ``path`` when an earlier run of this grader (``grader_digest``) left it
    for exactly these units on this device and, when ``submission`` (its folder) is given, for
    the files it holds now (a resumed run skips that student), else None: a report of other
    units is graded again, never summed into this run's columns, and a resubmission, or a
    report of a grader since changed, is graded again."""
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or not isinstance(result.get("units"), dict):
        return None
    if set(result["units"]) != set(unit_names) or result.get("device", "cpu") != device:
        return None
    if result.get("grader") != grader_digest():
        return None
    if submission is not None and (
            result.get("fingerprint") is None
            or result["fingerprint"] != staging.submission_fingerprint(submission)):
        return None
    return result


def _row(name, result, reason=None, resumed=False):
    if reason is not None:
        status = "refused: " + reason
    elif result.get("error"):
        status = "ungradable: " + result["error"]
    else:
        status = "graded"
    return {"student": name, "total": result.get("total", 0.0), "max": result.get("max", 0.0),
            "units": {u: d.get("score", 0.0) for u, d in result.get("units", {}).items()
                      if isinstance(d, dict)},
            "status": status, "report": f"{REPORTS}/{report_name(name)}",
            "resumed": resumed,  # its report is an earlier run's, over the same files
            "functions": _function_rows(result)}


def _function_rows(result):
    """(unit, key, entry) per graded function of a report: functions.csv's rows of a student.
    Only the verdicts a student may see (the entries' own message and hint): the instructor-only
    details of hidden cases stay in the JSON report."""
    out = []
    for unit, data in result.get("units", {}).items():
        functions = data.get("functions") if isinstance(data, dict) else None
        for key, entry in (functions or {}).items():
            if isinstance(entry, dict):
                out.append((unit, key, entry))
    return out


def grade_many(submissions, out, *, units=None, workers=2, force=False, limits=None,
               progress=True):
    """Grade all students; return the list of CSV rows. Raises UsageError for bad arguments.

    With ``workers`` > 1 the students are graded by a pool of fresh Python processes ("spawn",
    never forks: a fork of a process that has run PyTorch deadlocks). As with any such pool, a
    script that calls this must do so under ``if __name__ == "__main__":``.
    """
    if workers < 1:
        raise engine.UsageError(f"--workers must be at least 1, got {workers}")
    submissions = submissions_folder(submissions)
    unit_names = resolve_units(units)
    out = output_folder(out, submissions)
    out_real = out.resolve()
    entries = []
    for name, path, reason in _entries(submissions):
        if reason is None and path.resolve() == out_real:
            reason = "the output folder of this run"
        entries.append((name, path, reason))
    done = {}
    todo = []
    device = getattr(limits, "device", "cpu") if limits is not None else "cpu"
    for name, path, reason in entries:
        existing = out / REPORTS / report_name(name)
        if reason is None and not force and existing.is_file():
            earlier = reusable_report(existing, unit_names, device, path)
            if earlier is not None:
                done[name] = earlier
                continue
        todo.append((name, path, reason))
    hidden = [str(out_real), str(submissions.resolve())]
    results = dict(done)
    with tqdm(total=len(entries), initial=len(entries) - len(todo), unit="student",
              disable=not progress, desc="grading") as bar:
        if workers == 1:
            for name, path, reason in todo:
                results[name] = grade_one(path, out, unit_names, limits, hidden, reason)[1]
                bar.update(1)
        else:
            _pooled(todo, workers, out, unit_names, limits, hidden, results, bar)
    rows = [_row(name, results.get(name) or _empty_report(path, "no report", unit_names),
                 reason, resumed=name in done)
            for name, path, reason in entries]
    write_tables(out, rows, unit_names)
    return rows


def write_tables(out, rows, unit_names):
    """grades.csv (a row per student), functions.csv (a row per student and graded function)
    and index.csv (each student's report file), each written atomically."""
    report.atomic_write(out / "grades.csv", report.grades_csv(rows, unit_names))
    report.atomic_write(out / "functions.csv", report.functions_csv(rows))
    report.atomic_write(out / "index.csv", report.index_csv(rows))


RUN_FILES = (REPORTS, FEEDBACK, "grades.csv", "functions.csv", "index.csv")


def submissions_folder(submissions):
    """``submissions`` as a Path; UsageError saying what to do when it is not a folder of
    students: missing, or one student's submission (it holds ``coursework/`` itself, and its
    files would each be refused as a "student")."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise engine.UsageError(f"submissions folder {str(submissions)!r} is not a directory")
    package = submissions / "coursework"
    if package.is_dir() and not package.is_symlink():
        raise engine.UsageError(
            f"submissions folder {str(submissions)!r} holds a coursework package itself: it is "
            "one student's submission (grade it with `grade --submission`); grade-many wants "
            "the folder that holds one such folder per student")
    return submissions


def output_folder(out, submissions):
    """``out``, created if missing; UsageError saying what to do when it cannot hold this run's
    reports: a file, the submissions folder itself (its reports would be students next time),
    or a folder that already holds other things than an earlier run's output (whose
    grades.csv would be overwritten)."""
    out = Path(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise engine.UsageError(f"--out {str(out)!r} exists and is not a folder: choose a new "
                                "folder (it is created) or an earlier run's output folder")
    if out.is_dir() and out.resolve() == submissions.resolve():
        raise engine.UsageError(f"--out {str(out)!r} is the submissions folder: its reports "
                                "would be taken for students; choose another folder")
    if out.is_dir():
        names = sorted(os.listdir(out))
        if names and not set(names) & set(RUN_FILES):
            shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
            raise engine.UsageError(
                f"--out {str(out)!r} already holds other files ({shown}) and no earlier "
                f"grade-many output ({', '.join(RUN_FILES)}), which it would write there: "
                "choose a new or empty folder, or an earlier run's output folder to resume it")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise engine.UsageError(f"--out {str(out)!r} cannot be created ({exc.strerror})") from None
    return out


DIED = ("grader fault: the grading process died while grading this submission (out of memory, "
        "or killed)")


def _pooled(todo, workers, out, unit_names, limits, hidden, results, bar, grade=grade_one):
    """Grade ``todo`` in a pool of ``workers`` fresh processes. A process that dies (the
    out-of-memory killer, a signal) breaks the whole pool and every student it had not finished:
    those are graded again in a new pool, and if that one breaks too, one at a time, each in a
    process of its own, so that only the student whose grading kills its process is left with a
    grader fault."""
    rounds = [workers, workers]
    while todo:
        size = rounds.pop(0) if rounds else 1
        batches = [todo] if size > 1 else [[entry] for entry in todo]
        todo = []
        for batch in batches:
            broken = _pool_round(batch, size, out, unit_names, limits, hidden, results, bar,
                                 grade)
            if broken and size == 1:  # alone, and its process died: this student's grading
                name, path, _ = broken[0]
                results[name] = write_reports(out, name, _empty_report(path, DIED, unit_names))
                bar.update(1)
            else:
                todo += broken


def _pool_round(batch, size, out, unit_names, limits, hidden, results, bar, grade):
    """One pool over ``batch`` (``grade``: grade_one, or a stand-in of a test); return the
    entries a dead process left ungraded."""
    broken = []
    # Fresh interpreters, not forks: a fork of a judge that has already run PyTorch (its
    # OpenMP threads) deadlocks at the child's first parallel operation.
    with ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_end_with_parent, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(grade, path, out, unit_names, limits, hidden, reason):
                   (name, path, reason) for name, path, reason in batch}
        try:
            for future in as_completed(futures):
                name, path, reason = futures[future]
                try:
                    results[name] = future.result()[1]
                except BrokenProcessPool:
                    broken.append((name, path, reason))
                    continue
                except Exception as exc:  # noqa: BLE001 - a result that could not come back
                    results[name] = _empty_report(path, f"grader fault: {type(exc).__name__}",
                                                  unit_names)
                bar.update(1)
        except KeyboardInterrupt:
            # Ctrl-C: the students not started yet are dropped at once (the finished reports
            # stay; the same command resumes), not graded before stopping. Each future is
            # cancelled here: shutdown(cancel_futures=True) alone is undone by the shutdown
            # that leaving the ``with`` block runs (it resets the executor's flag before its
            # manager thread has read it), and the pool then graded every queued student
            # before the process could exit, minutes after saying "interrupted".
            for future in futures:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return sorted(broken, key=lambda e: os.fsencode(e[0]))


ORPHAN_GRACE_SECONDS = 5


def _end_with_parent(parent, poll=1.0, grace=ORPHAN_GRACE_SECONDS):
    """In each pool process: end it when the grade-many process that started it is gone (kill -9,
    a closed terminal, the out-of-memory killer). A pool process outlives its parent otherwise,
    waiting for work that never comes, with the terminal's or a pipe's end open (``| tee`` or a
    CI job then never finishes). The student being graded is interrupted as by Ctrl-C (its
    sandbox is taken down, no report is written: a rerun grades it), then the process exits."""
    import _thread
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(poll)
        _thread.interrupt_main()  # unwinds the grading, whose sandbox cleans up behind it
        time.sleep(grace)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def grader_faults(rows):
    """The students whose row says the grader itself failed on them."""
    return [row["student"] for row in rows if row["status"].startswith("ungradable: grader fault")]


def default_workers():
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1), 8))
