"""Grade every subdirectory of a folder as one student's submission, in parallel.

Each student gets ``OUT/<student>.json`` (written atomically); ``OUT/grades.csv`` holds the totals.
Students whose report already exists are skipped unless ``force``: an interrupted run resumes
where it stopped. A submission that cannot be graded at all (no ``coursework`` package) still gets
a report saying why, with zero points.
"""

import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from . import engine, report
from .units import resolve_units


def _student_dirs(submissions):
    return sorted(p for p in Path(submissions).iterdir() if p.is_dir()
                  and not p.name.startswith("."))


def _empty_report(student_dir, units, reason):
    return {"submission": str(student_dir), "total": 0.0, "max": 0.0, "error": reason,
            "units": {}}


def grade_one(student_dir, out_dir, units, limits, hidden):
    """Grade one student and write their report; return (name, report)."""
    student_dir = Path(student_dir)
    try:
        result = engine.grade(student_dir, units, limits=limits, hidden=hidden)
    except engine.UsageError as exc:
        result = _empty_report(student_dir, units, str(exc))
    except Exception as exc:  # noqa: BLE001 - one submission must not stop the batch
        result = _empty_report(student_dir, units,
                               f"grader fault: {type(exc).__name__}: {exc}"[:500])
    report.write_json(Path(out_dir) / f"{student_dir.name}.json", result)
    return student_dir.name, result


def _row(name, result, units):
    row = {"student": name, "total": result.get("total", 0.0), "max": result.get("max", 0.0),
           "units": {u: d["score"] for u, d in result.get("units", {}).items()},
           "status": "ungradable: " + result["error"] if result.get("error") else "graded"}
    return row


def grade_many(submissions, out, *, units=None, workers=2, force=False, limits=None,
               progress=True):
    """Grade all students; return the list of CSV rows. Raises UsageError for bad arguments."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise engine.UsageError(f"submissions folder {str(submissions)!r} is not a directory")
    unit_names = resolve_units(units)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    students = _student_dirs(submissions)
    if workers < 1:
        raise engine.UsageError(f"--workers must be at least 1, got {workers}")
    todo = [s for s in students if force or not (out / f"{s.name}.json").exists()]
    hidden = [str(out.resolve()), str(submissions.resolve())]
    with tqdm(total=len(students), initial=len(students) - len(todo), unit="student",
              disable=not progress, desc="grading") as bar:
        if workers == 1:
            for s in todo:
                grade_one(s, out, unit_names, limits, hidden)
                bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(grade_one, s, out, unit_names, limits, hidden)
                           for s in todo]
                for future in as_completed(futures):
                    try:
                        future.result()
                    except Exception:  # noqa: BLE001 - a pool process died: no report, a row
                        pass
                    bar.update(1)
    rows = []
    for s in students:
        path = out / f"{s.name}.json"
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            result = _empty_report(s, unit_names, "no readable report")
        rows.append(_row(s.name, result, unit_names))
    report.atomic_write(out / "grades.csv", report.grades_csv(rows, unit_names))
    return rows


def default_workers():
    return max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1), 8))
