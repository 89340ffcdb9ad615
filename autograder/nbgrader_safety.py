"""What ``python -m autograder nbgrader autograde`` does around ``nbgrader autograde`` so that no
hand-in can harm the instructor or the class.

nbgrader runs as the instructor. Before it sees a hand-in, ``quarantine`` moves out of
``submitted/`` every entry that is not a plain file or folder (a symbolic link: nbgrader copies
what it points to, so a link to the hidden tests, the gradebook or /etc/shadow would land, as a
regular file, in the autograded and feedback folders; a FIFO or a link to /dev/zero, which a copy
never finishes) and every file over ``MAX_HANDIN_FILE_BYTES``. They are kept, not deleted, under
``quarantine/<student>/<assignment>/``.

Each student is then autograded by a process of its own (``limited``): at most
``AUTOGRADE_MEMORY_BYTES`` of memory (nbgrader keeps a notebook's outputs in memory: a cell that
prints without end would fill the machine) and ``AUTOGRADE_SECONDS`` of wall time (a notebook of
many slow cells), so that one hand-in costs only its own grade.

After grading, ``neutralize_html`` makes the autograded notebooks safe to render: the Formgrader
and ``generate_feedback`` show them as HTML on the instructor's Jupyter server, where a student's
script would act with the instructor's rights (it could change any grade through the
Formgrader's API, or write a configuration file that nbgrader then runs). Outputs keep only plain
text and PNG/JPEG images; markdown and raw cells that are not the course's own and hold HTML are
shown as text.
"""

import json
import os
import re
import resource
import signal
import stat
import subprocess
from pathlib import Path

MAX_HANDIN_FILE_BYTES = 64 * 1024 * 1024  # a hand-in's notebook with outputs stays well below
AUTOGRADE_MEMORY_BYTES = 4 * 1024 ** 3     # of the nbgrader process that grades one student
AUTOGRADE_SECONDS = 1800                   # one student's whole autograde
QUARANTINE = "quarantine"

# The output formats an instructor's page may render; anything else (HTML, JavaScript, SVG,
# markdown, LaTeX, widgets) is dropped from autograded notebooks.
SAFE_OUTPUT_TYPES = ("text/plain", "image/png", "image/jpeg")
# Markdown that can carry markup to a browser: a tag, an HTML comment or entity, a javascript: or
# data: link. The course's own cells are left alone.
_MARKUP = re.compile(r"<\s*[a-zA-Z!/?]|javascript\s*:|data\s*:|&#|&[a-zA-Z]+;", re.IGNORECASE)


# -------------------------------------------------------------------------------- quarantine

def _kind(mode):
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def _move(course_dir, path, student, assignment, rel):
    target = course_dir / QUARANTINE / student / assignment / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while os.path.lexists(target):
        target = target.with_name(f"{target.name}.{n}")
        n += 1
    os.rename(path, target)  # the entry itself (a link stays a link), never what it points to
    return target


def student_ids(course_dir):
    """The students of ``submitted/``: its folders, and its links (a link in place of a
    student's folder is one, to be quarantined); a plain file there (a README of an LMS
    download) is nobody."""
    submitted = Path(course_dir) / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(name for name in os.listdir(submitted)
                  if not stat.S_ISREG(os.lstat(submitted / name).st_mode))


def quarantine(course_dir, assignment, students=None, *, log=print):
    """Move out of ``submitted/<student>/<assignment>/`` everything nbgrader must not copy:
    entries that are not plain files or folders, and files over MAX_HANDIN_FILE_BYTES.
    ``students``: the ids to look at (default: every folder of ``submitted/``). Returns
    [(student, relative path, why)]."""
    course_dir = Path(course_dir)
    submitted = course_dir / "submitted"
    moved = []
    if not submitted.is_dir():
        return moved
    for student in sorted(students or student_ids(course_dir)):
        top = submitted / student
        for entry, rel in ((top, ""), (top / assignment, assignment)):
            mode = os.lstat(entry).st_mode if os.path.lexists(entry) else None
            if mode is not None and not stat.S_ISDIR(mode):
                target = _move(course_dir, entry, student, assignment, rel or "_")
                moved.append((student, rel or ".", _kind(mode)))
                log(f"quarantined submitted/{student}/{rel}: {_kind(mode)} (kept as "
                    f"{target.relative_to(course_dir)})")
                break
        else:
            folder = top / assignment
            if not folder.is_dir():
                continue
            for root, dirs, files in os.walk(folder, followlinks=False):
                for name in sorted(dirs + files):
                    path = Path(root) / name
                    info = os.lstat(path)
                    rel = str(path.relative_to(folder))
                    if stat.S_ISDIR(info.st_mode):
                        continue
                    if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_HANDIN_FILE_BYTES:
                        continue
                    why = (f"a file of {info.st_size:,} bytes (more than "
                           f"{MAX_HANDIN_FILE_BYTES:,})" if stat.S_ISREG(info.st_mode)
                           else _kind(info.st_mode))
                    target = _move(course_dir, path, student, assignment, rel)
                    moved.append((student, rel, why))
                    log(f"quarantined submitted/{student}/{assignment}/{rel}: {why} (kept as "
                        f"{target.relative_to(course_dir)})")
                dirs[:] = [d for d in dirs if os.path.isdir(Path(root) / d)
                           and not os.path.islink(Path(root) / d)]
    return moved


# -------------------------------------------------------------------------------- limits

def _limit(memory):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return apply


def _started(pid):
    """The start time of process ``pid`` (to tell it from a later process of the same id), or
    None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _family(pid):
    """{descendant pid: start time} of ``pid`` now (Linux; empty elsewhere). Kernels that
    nbgrader starts run in sessions of their own, out of reach of its process group."""
    children = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return {}
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    family, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            started = _started(child)
            if started is not None:
                family[child] = started
                todo.append(child)
    return family


def limited(command, *, cwd, env, seconds=AUTOGRADE_SECONDS, memory=AUTOGRADE_MEMORY_BYTES,
            poll=2.0):
    """Run ``command`` in a session of its own with at most ``memory`` bytes of address space
    and ``seconds`` of wall time; returns its exit status, or None when it ran out of time.
    Every process it started (a notebook kernel runs in a session of its own) is killed when
    it ends: a kernel left behind by a killed or crashed nbgrader would run on for ever."""
    import time

    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True,
                               preexec_fn=_limit(memory))
    deadline, seen, status = time.monotonic() + seconds, {}, None
    while True:
        seen.update(_family(process.pid))
        try:
            status = process.wait(timeout=max(0.05, min(poll, deadline - time.monotonic())))
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() < deadline:
                continue
            seen.update(_family(process.pid))
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            break
    killed = []
    for pid, started in seen.items():
        if _started(pid) == started:  # still that process, not a later one of the same id
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, started))
            except (ProcessLookupError, PermissionError):
                pass
    for _ in range(100):  # a signal is delivered a moment later: wait until they are gone
        if all(_started(pid) != started for pid, started in killed):
            break
        time.sleep(0.02)
    return status


# -------------------------------------------------------------------------------- HTML

_FENCED = re.compile(r"\*\(a (?:markdown|raw) cell, shown as text by the course's sync: it held "
                     r"HTML\)\*\n\n(`{4,})text\n(.*)\n\1", re.DOTALL)


def _fenced(source):
    """Whether ``source`` is all one code block as ``_as_text`` writes it (inert as it is)."""
    found = _FENCED.fullmatch(source)
    return bool(found) and found.group(1) not in found.group(2)


def _as_text(cell, what):
    fence = "````"
    while fence in cell.get("source", ""):
        fence += "`"
    return {"cell_type": "markdown", "metadata": {}, "id": cell.get("id"),
            "source": f"*({what}, shown as text by the course's sync: it held HTML)*\n\n"
                      f"{fence}text\n{cell.get('source', '')}\n{fence}"}


def neutralize_html(path, course_cells):
    """Make the autograded notebook at ``path`` safe to render as HTML (``neutralize``), written
    back only when something changed; returns the number of changes."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    changes = neutralize(nb, course_cells)
    if changes:
        tmp = Path(path).with_name(Path(path).name + ".tmp")
        tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    return changes


def neutralize(nb, course_cells):
    """Make the notebook ``nb`` (a dict, changed in place) safe to render as HTML: outputs keep
    only SAFE_OUTPUT_TYPES (and streams, errors); a markdown or raw cell that is not one of the
    course's own (``course_cells``: their sources) and holds markup is replaced by a markdown
    cell showing its text in a code block; notebook-level widget state is removed. Returns the
    number of changes. Used by ``sync`` and, inside ``nbgrader autograde`` (the Formgrader's
    button too), by ``nbgrader_html.NeutralizeHTML``."""
    changes = 0
    cells = nb.get("cells", [])
    for k, cell in enumerate(cells):
        kind = cell.get("cell_type")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
            cell["source"] = source
        if kind in ("markdown", "raw"):
            if source not in course_cells and not _fenced(source) and (
                    kind == "raw" or _MARKUP.search(source)):
                cells[k] = _as_text(cell, f"a {kind} cell")
                if cells[k]["id"] is None:
                    del cells[k]["id"]
                changes += 1
            elif cell.get("attachments"):
                cell.pop("attachments")
                changes += 1
            continue
        for output in cell.get("outputs", []):
            data = output.get("data")
            if isinstance(data, dict):
                unsafe = [m for m in data if m not in SAFE_OUTPUT_TYPES]
                for mime in unsafe:
                    del data[mime]
                if unsafe and not data:
                    data["text/plain"] = f"[output of type {', '.join(unsafe)} removed]"
                changes += bool(unsafe)
            if output.get("metadata"):
                output["metadata"] = {}
    if nb.get("metadata", {}).pop("widgets", None) is not None:
        changes += 1
    return changes


def course_cells(notebook_path):
    """The sources of the markdown and raw cells of the course's own notebook."""
    try:
        nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {"".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source", "")
            for c in nb.get("cells", []) if c.get("cell_type") in ("markdown", "raw")}


def _check_cell_sources(notebook_path):
    """{grade_id: source} of the graded cells of a notebook ({} when it cannot be read)."""
    try:
        nb = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and meta.get("grade") and isinstance(meta.get("grade_id"), str):
            source = cell.get("source", "")
            out[meta["grade_id"]] = "".join(source) if isinstance(source, list) else str(source)
    return out


def changed_check_cells(source_notebook, submitted_notebook, grade_ids):
    """The graded check cells (of ``grade_ids``) that a hand-in changed or removed, compared
    with the course's notebook: nbgrader puts the course's locked cells back with no more than
    a warning lost in its log, so the instructor is told here who edited a test cell."""
    if not Path(submitted_notebook).is_file():
        return []
    ours = _check_cell_sources(source_notebook)
    theirs = _check_cell_sources(submitted_notebook)
    return [g for g in grade_ids if g in ours and theirs.get(g, "").strip() != ours[g].strip()]
