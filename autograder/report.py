"""Reports for people (a table) and machines (JSON, CSV), written atomically."""

import csv
import io
import json
import os
import tempfile
from pathlib import Path

SYMBOLS = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
           "crashed": "CRASH", "not_implemented": "todo"}


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


def write_json(path, report):
    atomic_write(path, json.dumps(report, indent=2, sort_keys=False) + "\n")


def _points(x):
    return f"{x:g}"


def table(report, *, width=100):
    """The per-function table printed by ``grade``."""
    lines = [f"Submission: {report['submission']}"]
    for unit, data in report["units"].items():
        lines.append("")
        lines.append(f"{unit} ({data.get('title', '')}): {_points(data['score'])} / "
                     f"{_points(data['max'])}")
        for key, entry in data["functions"].items():
            status = SYMBOLS.get(entry["status"], entry["status"])
            lines.append(f"  {status:<8}{key:<44}{_points(entry['score']):>6} / "
                         f"{_points(entry['max']):<4}")
            if entry["status"] not in ("passed", "not_implemented"):
                lines.extend(_wrap("message: " + entry["message"], width, "          "))
                if entry.get("hint"):
                    lines.extend(_wrap("hint: " + entry["hint"], width, "          "))
    lines.append("")
    lines.append(f"Total: {_points(report['total'])} / {_points(report['max'])}")
    if report.get("containment"):
        lines.append(f"Containment: {report['containment']}")
    return "\n".join(lines)


def _wrap(text, width, indent):
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=True) or [indent]


def grades_csv(rows, units):
    """CSV text: student, total, max, one column per unit."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "total", "max", *units, "status"])
    for row in rows:
        writer.writerow([row["student"], _points(row["total"]), _points(row["max"]),
                         *[_points(row["units"].get(u, 0.0)) for u in units], row["status"]])
    return buffer.getvalue()
