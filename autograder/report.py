"""Reports for people (a table) and machines (JSON, CSV), written atomically.

A report may carry an ``"instructor"`` part (the full verdicts of hidden cases, what the code
printed during them): ``student_view`` drops it, and ``table`` never shows it. Every string is
made encodable (``safe_strings``) before it is written, and every CSV cell is safe to open in a
spreadsheet (``csv_cell``).
"""

import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

SYMBOLS = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
           "crashed": "CRASH", "not_implemented": "todo"}
IMPORT_FAILED = "the module could not be imported"  # runner.IMPORT_FAILED (this module is light)


def atomic_write(path, text):
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def safe_text(text):
    """``text`` with lone surrogates (from undecodable file names or hostile messages) escaped,
    so that it can be printed and written as UTF-8."""
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_strings(value):
    """A copy of a report whose strings (keys included) are all ``safe_text``."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k): safe_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_strings(v) for v in value]
    return value


def student_view(report):
    """The report without its instructor-only part: what may be returned to a student."""
    return {k: v for k, v in report.items() if k != "instructor"}


def write_json(path, report):
    atomic_write(path, json.dumps(safe_strings(report), indent=2, sort_keys=False) + "\n")


def _points(x):
    return f"{x:g}"


def table(report, *, width=100):
    """The per-function table printed by ``grade``."""
    report = safe_strings(student_view(report))
    lines = [f"Submission: {report['submission']}"]
    for unit, data in report["units"].items():
        lines.append("")
        lines.append(f"{unit} ({data.get('title', '')}): {_points(data['score'])} / "
                     f"{_points(data['max'])}")
        shown = set()  # a module that could not be imported: its message once per unit
        for key, entry in data["functions"].items():
            status = SYMBOLS.get(entry["status"], entry["status"])
            lines.append(f"  {status:<8}{key:<44}{_points(entry['score']):>6} / "
                         f"{_points(entry['max']):<4}")
            if entry["status"] not in ("passed", "not_implemented"):
                message = entry["message"]
                if message.startswith(IMPORT_FAILED) and message in shown:
                    message = "the same as above (the module could not be imported)"
                shown.add(message)
                lines.extend(_wrap("message: " + message, width, "          "))
                if entry.get("hint"):
                    lines.extend(_wrap("hint: " + entry["hint"], width, "          "))
    lines.append("")
    lines.append(f"Total: {_points(report['total'])} / {_points(report['max'])}")
    if report.get("supplied"):
        lines.extend(_wrap("Provided modules missing from the submission, taken from the "
                           "course: " + ", ".join(report["supplied"]), width, ""))
    if report.get("containment"):
        lines.append(f"Containment: {report['containment']}")
    if report.get("device", "cpu") != "cpu":  # the CPU table stays as it was
        lines.append(f"Device: {report['device']} (inputs as GPU arrays, compared on the host)")
    return "\n".join(lines)


def _wrap(text, width, indent):
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=True) or [indent]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def csv_cell(text, limit=1000):
    """A cell safe for spreadsheets: control characters replaced, bounded, and a leading
    quote before anything a spreadsheet would read as a formula (=, +, -, @, tab, CR)."""
    text = _CONTROL.sub("?", safe_text(text))
    if len(text) > limit:
        text = text[:limit] + "..."
    if text[:1] in ("=", "+", "-", "@", "\t", "\r", "|", "%"):
        text = "'" + text
    return text


def csv_name(name):
    """A student's name as a spreadsheet-safe cell that no other name gives: a backslash, a
    control character and a leading quote are written as escapes (\\\\, \\n, \\x01, \\x27), and a
    name a spreadsheet would read as a formula gets a leading quote (the name's own leading
    quote being an escape, the two never meet). csv_cell's "?" would make "bob\\x01" and
    "bob\\x02" one row name."""
    text = safe_text(str(name).replace("\\", "\\\\"))  # before: its escapes stay single
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if text[:1] == "'":
        text = "\\x27" + text[1:]
    if text[:1] in ("=", "+", "-", "@", "|", "%"):
        text = "'" + text
    return text


def grades_csv(rows, units):
    """CSV text: student, total, max, one column per unit, status, report file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "total", "max", *units, "status", "report"])
    for row in rows:
        writer.writerow([csv_name(row["student"]), _points(row["total"]), _points(row["max"]),
                         *[_points(row["units"].get(u, 0.0)) for u in units],
                         csv_cell(row["status"]), csv_cell(row.get("report", ""))])
    return buffer.getvalue()


def functions_csv(rows):
    """CSV text, a row per student and graded function: student, unit, function, score, max,
    lost (max - score: sort by it), status, message, hint. The message and hint are those a
    student may see (the instructor-only details of hidden cases are only in the JSON report).
    Students who could not be graded have no rows here: grades.csv says why."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "unit", "function", "score", "max", "lost", "status", "message",
                     "hint"])
    for row in rows:
        for unit, key, entry in row.get("functions", ()):
            score, top = _number(entry.get("score")), _number(entry.get("max"))
            writer.writerow([csv_name(row["student"]), csv_cell(unit), csv_cell(key),
                             _points(score), _points(top), _points(max(top - score, 0.0)),
                             csv_cell(entry.get("status", "")),
                             csv_cell(entry.get("message") or ""),
                             csv_cell(entry.get("hint") or "")])
    return buffer.getvalue()


def _number(value):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else 0.0


def index_csv(rows):
    """CSV text: each student's name and the file of their report."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "report"])
    for row in rows:
        writer.writerow([csv_name(row["student"]), csv_cell(row.get("report", ""))])
    return buffer.getvalue()
