"""Staging: only regular files of the course's modules (and flat helper modules) are copied, read
without following links and with bounds; everything else is refused with the reason."""

import os
import socket
import time

import pytest

from autograder import staging

COURSE = ["__init__.py", "linear.py", "layers.py"]


@pytest.fixture
def pristine(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    for name in COURSE:  # exercise modules: something in each to write
        (folder / name).write_text(f'raise NotImplementedError("f: not implemented yet; write it '
                                   f'in coursework/{name}")\n')
    (folder / "weights.txt").write_text("provided data\n")
    (folder / "assets").mkdir()
    (folder / "assets" / "table.csv").write_text("a,b\n")
    return folder


@pytest.fixture
def submission(tmp_path):
    cw = tmp_path / "student" / "coursework"
    cw.mkdir(parents=True)
    for name in COURSE:
        (cw / name).write_text(f"STUDENT = {name!r}\n")
    return cw.parent


def stage(submission, pristine, tmp_path):
    return staging.stage(submission, into=tmp_path / "staged", course=COURSE + ["weights.txt"],
                         pristine=pristine)


def test_regular_files_are_staged_and_provided_material_comes_from_the_course(
        submission, pristine, tmp_path):
    cw = submission / "coursework"
    (cw / "helpers.py").write_text("HELP = 1\n")
    (cw / "weights.txt").write_text("the student's own data\n")
    (cw / "assets").mkdir()
    (cw / "assets" / "table.csv").write_text("forged\n")
    staged = stage(submission, pristine, tmp_path)
    out = staged.path / "coursework"
    assert sorted(p.name for p in out.iterdir()) == sorted(COURSE + ["helpers.py", "weights.txt",
                                                                      "assets"])
    assert (out / "linear.py").read_text() == "STUDENT = 'linear.py'\n"
    assert (out / "helpers.py").read_text() == "HELP = 1\n"
    assert (out / "weights.txt").read_text() == "provided data\n"
    assert (out / "assets" / "table.csv").read_text() == "a,b\n"
    assert staged.refused == {}


@pytest.mark.parametrize("kind", ["fifo", "socket", "device-link", "reference-link", "folder",
                                  "too-large"])
def test_a_module_that_is_not_a_small_regular_file_is_refused(submission, pristine, tmp_path,
                                                              kind):
    target = submission / "coursework" / "linear.py"
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
    elif kind == "device-link":
        os.symlink("/dev/zero", target)
    elif kind == "reference-link":
        os.symlink(pristine / "linear.py", target)
    elif kind == "folder":
        target.mkdir()
    else:
        target.write_bytes(b"")
        os.truncate(target, staging.MAX_FILE_BYTES + 1)
    started = time.monotonic()
    staged = stage(submission, pristine, tmp_path)
    assert time.monotonic() - started < 5
    why = staged.refused["coursework/linear.py"]
    expected = {"fifo": "FIFO", "socket": "socket", "device-link": "symbolic link",
                "reference-link": "symbolic link", "folder": "folder", "too-large": "larger"}
    assert expected[kind] in why, why
    text = (staged.path / "coursework" / "linear.py").read_text()
    assert text.startswith("raise ImportError(") and "was not graded" in text
    assert "layers.py" in os.listdir(staged.path / "coursework")  # the others are staged


@pytest.mark.parametrize("kind", ["link-to-reference", "file", "missing", "init-link"])
def test_a_submission_without_a_usable_package_is_refused(submission, pristine, tmp_path, kind):
    cw = submission / "coursework"
    if kind == "init-link":
        (cw / "__init__.py").unlink()
        os.symlink(pristine / "__init__.py", cw / "__init__.py")
    else:
        for p in cw.iterdir():
            p.unlink()
        cw.rmdir()
        if kind == "link-to-reference":
            os.symlink(pristine, cw)
        elif kind == "file":
            cw.write_text("")
    with pytest.raises(staging.Refused) as info:
        stage(submission, pristine, tmp_path)
    words = {"link-to-reference": "symbolic link", "file": "not a folder",
             "missing": "no coursework package", "init-link": "symbolic link"}
    assert words[kind] in str(info.value)
    assert not (tmp_path / "staged" / "coursework" / "linear.py").exists()


def test_a_package_next_to_its_module_and_bytecode_are_not_staged(submission, pristine, tmp_path):
    cw = submission / "coursework"
    (cw / "linear").mkdir()
    (cw / "linear" / "__init__.py").write_text("GARBAGE = 1\n")
    (cw / "layers.py").unlink()
    (cw / "__pycache__").mkdir()
    (cw / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"\0" * 16)
    staged = stage(submission, pristine, tmp_path)
    out = staged.path / "coursework"
    assert (out / "linear.py").read_text() == "STUDENT = 'linear.py'\n"
    assert not (out / "linear").exists() and not (out / "__pycache__").exists()
    assert "coursework/linear/" in staged.refused
    assert "compiled bytecode is never run" in staged.refused["coursework/layers.py"]


def test_helper_modules_and_entries_are_bounded(submission, pristine, tmp_path):
    cw = submission / "coursework"
    for i in range(staging.MAX_EXTRA_MODULES + 20):
        (cw / f"helper{i:03d}.py").write_text("")
    (cw / "not-a-module.py").write_text("")
    os.symlink(pristine / "linear.py", cw / "linked_helper.py")
    staged = stage(submission, pristine, tmp_path)
    names = os.listdir(staged.path / "coursework")
    helpers = [n for n in names if n.startswith("helper")]
    assert len(helpers) <= staging.MAX_EXTRA_MODULES
    assert "not-a-module.py" not in names
    if "linked_helper.py" in names:  # never the link's target: the reason it was not graded
        text = (staged.path / "coursework" / "linked_helper.py").read_text()
        assert text.startswith("raise ImportError(") and "symbolic link" in text, text


def test_a_helper_module_that_is_a_link_says_why_it_was_not_graded(submission, pristine,
                                                                     tmp_path):
    """A helper module handed in as a link was dropped: the student's `from .helpers import f`
    failed with "No module named 'coursework.helpers'" beside a helpers.py they can see."""
    cw = submission / "coursework"
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("SECRET = 1\n")
    os.symlink(elsewhere, cw / "helpers.py")
    os.mkfifo(cw / "piped.py")
    staged = stage(submission, pristine, tmp_path)
    assert staged.refused["coursework/helpers.py"] == "it is a symbolic link (not followed)"
    assert "coursework/piped.py" in staged.refused
    for name in ("helpers.py", "piped.py"):
        text = (staged.path / "coursework" / name).read_text()
        assert text.startswith("raise ImportError('coursework/" + name + " was not graded: "), \
            text
        assert "SECRET" not in text


def test_thousands_of_folders_cost_nothing(submission, pristine, tmp_path):
    cw = submission / "coursework"
    for i in range(5000):
        (cw / f"d{i}").mkdir()
    path = cw / "deep"
    for i in range(200):
        path = path / "x"
    os.makedirs(path)
    started = time.monotonic()
    staged = stage(submission, pristine, tmp_path)
    assert time.monotonic() - started < 2.0
    assert sorted(os.listdir(staged.path / "coursework")) == sorted(COURSE + ["weights.txt",
                                                                             "assets"])


def test_a_missing_provided_module_comes_from_the_course_and_a_missing_exercise_does_not(
        submission, pristine, tmp_path):
    """A hand-in of the edited modules alone (before: rnn.py without backend.py scored 0 in
    grade-many, full marks through nbgrader) is graded with the course's provided modules; a
    module with something to write is the student's or nothing."""
    (pristine / "linear.py").write_text(  # the stub's words over two lines, as stubs.py
        'def f():\n    raise NotImplementedError(\n        "f: not implemented yet; "\n'
        '        "write it in coursework/linear.py")\n')
    (pristine / "layers.py").write_text("def helper():\n    return 1\n")
    for name in ("linear.py", "layers.py"):
        (submission / "coursework" / name).unlink()
    staged = stage(submission, pristine, tmp_path)
    out = staged.path / "coursework"
    assert (out / "layers.py").read_text() == "def helper():\n    return 1\n"
    assert staged.supplied == ["coursework/layers.py"]
    assert staged.refused == {"coursework/linear.py": "it is missing"}
    assert (out / "linear.py").read_text().startswith("raise ImportError(")
