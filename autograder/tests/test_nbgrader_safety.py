"""Hand-ins cannot harm the instructor (the hostile students against the nbgrader path).

``quarantine`` keeps links, pipes and huge files away from nbgrader, which copies as the
instructor (a link to the hidden tests or the gradebook came back as a regular file in the
student's feedback; a link to /dev/zero filled the disk). ``limited`` bounds one student's
autograde in memory and time (endless output grew nbgrader by 190 MB/s). ``neutralize_html``
makes autograded notebooks safe to render in the Formgrader, where a student's script changed
every grade and wrote a configuration file that nbgrader then ran as the instructor. The last test
runs the whole `python -m autograder nbgrader autograde` on such a class.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import nbgrader_safety
from autograder.nbgrader_safety import limited, neutralize_html, quarantine

BIN = Path(sys.executable).parent


def run(args, cwd):
    """Run a course command as the instructor does (this environment's programs first, no
    PYTHONPATH); its output, after asserting that it succeeded."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def unit01_course(tmp_path, name, cells):
    """A course of unit 01 whose one notebook ``name`` holds ``cells``, built and generated as
    the README says; its folder."""
    import nbformat

    course, notebooks = tmp_path / "course", tmp_path / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = cells
    nbformat.write(nb, notebooks / f"{name}.ipynb")
    run([sys.executable, "-m", "autograder", "nbgrader", "build", str(course), "--notebooks",
         str(notebooks), "--unit", "01"], Path(__file__).resolve().parents[2])
    run([BIN / "nbgrader", "generate_assignment", "01_linear"], course)
    return course


def handin(course, student, unit="01_linear"):
    folder = course / "submitted" / student / unit
    (folder / "coursework").mkdir(parents=True)
    (folder / "01_linear_classifier.ipynb").write_text("{}")
    (folder / "coursework" / "linear.py").write_text("x = 1\n")
    return folder


def test_links_pipes_devices_and_huge_files_are_moved_out_and_kept(tmp_path, monkeypatch):
    course = tmp_path / "course"
    secret = tmp_path / "gradebook.db"
    secret.write_text("every student's grade")
    honest = handin(course, "honest")
    bad = handin(course, "linker")
    (bad / "coursework" / "linear.py").unlink()
    (bad / "coursework" / "linear.py").symlink_to(secret)
    (bad / "zero").symlink_to("/dev/zero")
    (bad / "folder_link").symlink_to(tmp_path)
    os.mkfifo(bad / "pipe")
    monkeypatch.setattr(nbgrader_safety, "MAX_HANDIN_FILE_BYTES", 1000)
    (bad / "big.bin").write_bytes(b"\0" * 1001)
    (course / "submitted" / "whole_link").symlink_to(honest.parent)
    (course / "submitted" / "README.txt").write_text("exported from the LMS")  # nobody's
    assert nbgrader_safety.student_ids(course) == ["honest", "linker", "whole_link"]
    lines = []
    moved = quarantine(course, "01_linear", log=lines.append)
    assert sorted((s, r) for s, r, _ in moved) == [
        ("linker", "big.bin"), ("linker", "coursework/linear.py"), ("linker", "folder_link"),
        ("linker", "pipe"), ("linker", "zero"), ("whole_link", ".")]
    why = {r: w for _, r, w in moved}
    assert why["coursework/linear.py"] == "a symbolic link" and why["pipe"].startswith("a named")
    assert "1,001 bytes" in why["big.bin"]
    # nothing left that nbgrader would follow; the honest hand-in untouched; nothing lost
    assert sorted(p.name for p in bad.rglob("*")) == ["01_linear_classifier.ipynb", "coursework"]
    assert (honest / "coursework" / "linear.py").read_text() == "x = 1\n"
    kept = course / "quarantine" / "linker" / "01_linear"
    assert os.readlink(kept / "coursework" / "linear.py") == str(secret)
    assert (kept / "big.bin").stat().st_size == 1001
    assert secret.read_text() == "every student's grade"
    assert any("quarantined submitted/linker/01_linear/pipe: a named pipe" in line
               for line in lines), lines
    assert quarantine(course, "01_linear", log=lines.append) == []  # a second run: nothing


def test_one_autograde_is_bounded_in_memory_and_time(tmp_path):
    hog = [sys.executable, "-c", "x = bytearray(2 * 1024 ** 3)"]
    assert limited(hog, cwd=tmp_path, env=dict(os.environ), memory=512 * 1024 ** 2) != 0
    assert limited([sys.executable, "-c", "pass"], cwd=tmp_path, env=dict(os.environ)) == 0
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    assert limited(sleeper, cwd=tmp_path, env=dict(os.environ), seconds=1) is None


@pytest.mark.parametrize("parent", ["exits", "runs out of time"])
def test_processes_it_started_in_sessions_of_their_own_die_with_it(tmp_path, parent):
    """The replay: a flooding student's nbgrader was stopped at its time limit, and its
    notebook kernel (which nbgrader starts in a session of its own) ran on at full speed for 40
    minutes. Whether nbgrader exits or is killed, what it started is killed too."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find the processes a command started")
    pidfile = tmp_path / "grandchild.pid"
    code = ("import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
            " start_new_session=True)\n"
            f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
            f"time.sleep({1 if parent == 'exits' else 120})\n")
    status = limited([sys.executable, "-c", code], cwd=tmp_path, env=dict(os.environ),
                     seconds=4, poll=0.2)
    assert (status == 0) if parent == "exits" else (status is None)
    grandchild = int(pidfile.read_text())
    assert nbgrader_safety._started(grandchild) is None, "the kernel-like grandchild survived"


def notebook(cells):
    return {"cells": cells, "metadata": {"widgets": {"state": {}}}, "nbformat": 4,
            "nbformat_minor": 5}


def test_autograded_notebooks_render_no_student_markup(tmp_path):
    course_text = "# Unit 01\n\nThe <b>course's</b> own text, $a < b$."
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": course_text},
        {"cell_type": "markdown", "metadata": {}, "source": "<script>steal()</script>"},
        {"cell_type": "markdown", "metadata": {}, "source": "[x](javascript:steal())"},
        {"cell_type": "markdown", "metadata": {}, "source": "my answer: the loss falls"},
        {"cell_type": "raw", "metadata": {"format": "text/html"}, "source": "<img src=x>"},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "show()",
         "outputs": [{"output_type": "display_data", "metadata": {"isolated": True},
                      "data": {"text/html": "<script>steal()</script>",
                               "application/javascript": "steal()",
                               "text/plain": "<IPython.core.display.HTML object>"}},
                     {"output_type": "display_data", "metadata": {},
                      "data": {"image/svg+xml": "<svg onload=steal()>"}},
                     {"output_type": "stream", "name": "stdout", "text": "<b>as text</b>"},
                     {"output_type": "display_data", "metadata": {},
                      "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}]},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook(cells)))
    assert neutralize_html(path, {course_text}) > 0
    nb = json.loads(path.read_text())
    text = json.dumps(nb)
    assert nb["cells"][0]["source"] == course_text  # the course's own cells are left alone
    for k in (1, 2, 4):  # student markup shown as text, in a code block
        assert nb["cells"][k]["cell_type"] == "markdown"
        assert "```" in nb["cells"][k]["source"] and "shown as text" in nb["cells"][k]["source"]
    assert nb["cells"][3]["source"] == "my answer: the loss falls"
    outputs = nb["cells"][5]["outputs"]
    assert [sorted(o.get("data", {})) for o in outputs] == [
        ["text/plain"], ["text/plain"], [], ["image/png", "text/plain"]]
    assert "image/svg+xml removed" in outputs[1]["data"]["text/plain"]
    assert outputs[2]["text"] == "<b>as text</b>"  # a stream is rendered escaped
    assert "text/html" not in text and "javascript\"" not in text and "widgets" not in text
    assert neutralize_html(path, {course_text}) == 0  # nothing left to change


@pytest.mark.xdist_group("nbgrader")
@pytest.mark.skipif(shutil.which("nbgrader", path=str(BIN)) is None,
                    reason="nbgrader is not installed in this environment")
def test_a_hostile_class_through_the_documented_autograde(tmp_path):
    """The README's command on a class of three: the honest student gets full marks; the one
    whose hand-in links to a file outside gets nothing of it in the autograded or feedback
    folders; the one whose notebook carries a script gets its markup shown as text."""
    from autograder.sandbox import bubblewrap_path

    if bubblewrap_path() is None:
        pytest.skip("no bubblewrap: the contained autograde refuses (documented); sync alone "
                    "reads hand-ins without following links (test_nbgrader_e2e)")
    import nbformat

    course = unit01_course(tmp_path, "01_e2e", [
        nbformat.v4.new_markdown_cell("# Linear classifiers"),
        nbformat.v4.new_code_cell('from autograder import check\ncheck("linear.svm_loss_naive")')])
    repo = Path(__file__).resolve().parents[2]
    secret = tmp_path / "instructor_secret.txt"
    secret.write_text("THE-INSTRUCTORS-SECRET")
    for student in ("honest", "linker", "scripter"):
        folder = course / "submitted" / student / "01_linear"
        shutil.copytree(course / "release" / "01_linear", folder)
        (folder / "coursework" / "linear.py").write_text(
            (repo / "solutions" / "coursework" / "linear.py").read_text())
    (course / "submitted" / "linker" / "01_linear" / "notes.txt").symlink_to(secret)
    handed = course / "submitted" / "scripter" / "01_linear" / "01_e2e.ipynb"
    nb = nbformat.read(handed, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("<img src=x onerror=steal()>"))
    nbformat.write(nb, handed)
    output = run([sys.executable, "-m", "autograder", "nbgrader", "autograde", str(course),
                  "01_linear"], repo)
    assert "quarantined submitted/linker/01_linear/notes.txt: a symbolic link" in output
    assert "01_linear  honest" in output and "held HTML or script" in output, output
    for folder in ("autograded", "feedback"):
        for path in (course / folder).rglob("*"):
            if path.is_file():
                assert b"THE-INSTRUCTORS-SECRET" not in path.read_bytes(), path
    graded = json.loads((course / "autograded" / "scripter" / "01_linear" /
                         "01_e2e.ipynb").read_text())
    sources = ["".join(c["source"]) for c in graded["cells"]]
    assert not any(s.startswith("<img") for s in sources)
    assert any("shown as text" in s and "onerror" in s for s in sources)
    run([BIN / "nbgrader", "generate_feedback", "01_linear"], course)
    page = next((course / "feedback" / "scripter" / "01_linear").glob("*.html")).read_text()
    assert "<img src=x onerror" not in page


@pytest.mark.xdist_group("nbgrader")
@pytest.mark.skipif(shutil.which("nbgrader", path=str(BIN)) is None,
                    reason="nbgrader is not installed in this environment")
def test_nbgrader_autograde_alone_neutralizes_markup(tmp_path):
    """The Formgrader's own "autograde" button runs nbgrader without our wrapper or sync: the
    course's configuration appends ``nbgrader_html.NeutralizeHTML`` to nbgrader's autograde,
    so a student's markdown holding HTML and an HTML output are inert there too, while the
    course's own markdown (HTML included) is kept as written."""
    import nbformat

    course_markup = "# Linear classifiers\n\n<b>the course's own bold</b>"
    course = unit01_course(tmp_path, "01_plain", [nbformat.v4.new_markdown_cell(course_markup),
                                                  nbformat.v4.new_code_cell("x = 1")])
    folder = course / "submitted" / "scripter" / "01_linear"
    shutil.copytree(course / "release" / "01_linear", folder)
    handed = folder / "01_plain.ipynb"
    nb = nbformat.read(handed, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("<img src=x onerror=steal()>"))
    nb.cells.append(nbformat.v4.new_code_cell(
        'from IPython.display import HTML\nHTML("<script>steal()</script>")'))
    nbformat.write(nb, handed)
    # nbgrader alone, as the Formgrader runs it (its own kernel: no contained one needed here)
    output = run([BIN / "nbgrader", "autograde", "01_linear", "--Execute.kernel_name=python3"],
                 course)
    assert "held HTML or script outside the course's own cells" in output, output
    graded = json.loads((course / "autograded" / "scripter" / "01_linear" /
                         "01_plain.ipynb").read_text())
    sources = ["".join(c["source"]) for c in graded["cells"]]
    assert course_markup in sources  # the course's own markdown is left as written
    assert not any(s.startswith("<img") for s in sources)
    assert any("shown as text" in s and "onerror" in s for s in sources)
    kinds = [mime for c in graded["cells"] for o in c.get("outputs", [])
             for mime in o.get("data", {})]
    assert "text/plain" in kinds and "text/html" not in kinds, kinds


def _notebook(path, cells):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": ({"nbgrader": {"grade": True, "grade_id": gid,
                                                         "locked": True, "points": 2.0}}
                                           if gid else {}),
         "source": source, "outputs": [], "execution_count": None}
        for gid, source in cells]}
    path.write_text(json.dumps(nb))
    return path


def test_a_changed_or_removed_check_cell_is_named(tmp_path):
    """A hand-in whose locked check cell printed a fake PASS was put back by nbgrader with only
    a warning among hundreds of log lines: sync names the cells a hand-in changed or removed."""
    ids = ["check-a", "check-b", "check-c"]
    source = _notebook(tmp_path / "source.ipynb", [
        ("check-a", 'check("m.a")'), (None, "x = 1"), ("check-b", 'check("m.b")\n'),
        ("check-c", ['check(', '"m.c")'])])
    honest = _notebook(tmp_path / "honest.ipynb", [
        ("check-a", ['check("m.a")', "\n"]), (None, "x = 2  # their own cell"),
        ("check-b", 'check("m.b")'), ("check-c", 'check("m.c")')])
    edited = _notebook(tmp_path / "edited.ipynb", [
        ("check-a", "print('PASS m.a (2/2)')"), ("check-c", 'check("m.c")'),
        (None, 'check("m.b")')])  # check-b's metadata stripped: removed as a check cell
    assert nbgrader_safety.changed_check_cells(source, honest, ids) == []
    assert nbgrader_safety.changed_check_cells(source, edited, ids) == ["check-a", "check-b"]
    assert nbgrader_safety.changed_check_cells(source, tmp_path / "absent.ipynb", ids) == []


def test_the_contained_kernel_prints_no_ctrl_c_note(tmp_path):
    """nbgrader autograde printed ipykernel's eight-line "NOTE: When using the `ipython kernel`
    entry point, Ctrl-C will not work" once per student notebook: 300 students, 2400 lines of
    noise around the warnings that matter. The kernel's environment names a parent that
    ipykernel neither polls nor prints that note for; the kernel runs on."""
    import time

    from autograder.contained_kernel import kernel_command

    connection = tmp_path / "connection.json"
    connection.write_text(json.dumps({"transport": "ipc", "ip": str(tmp_path / "k"),
                                      "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                                      "control_port": 4, "hb_port": 5, "key": "",
                                      "signature_scheme": "hmac-sha256"}))
    _, env = kernel_command(sys.executable, connection, tmp_path, tmp_path / "sockets",
                            tmp_path / "shim", ("ipykernel",))
    kernel = subprocess.Popen(
        [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection)], cwd=tmp_path,
        env=dict(os.environ, JPY_PARENT_PID=env["JPY_PARENT_PID"]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(5)
        assert kernel.poll() is None, kernel.communicate()[0]  # started, and still running
    finally:
        kernel.kill()
    output = kernel.communicate()[0]
    assert "Ctrl-C will not work" not in output, output
