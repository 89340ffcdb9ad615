"""``check(...)`` as students use it: names it refuses, several names per call, the TODO text, and
a real kernel in which saved coursework is reloaded (no stale module after a PASS) and a function
not written yet stops a cell with one line."""

import os
import shutil
import subprocess
import sys

import pytest

from autograder.notebook_check import UnknownName, check, resolve
from autograder.paths import REFERENCE_PACKAGE, REPO_ROOT
from autograder.tests.kernel_cells import run_cell
from autograder.tests.submissions import stub_submission

FALSE_PASSES = {  # issue #10: each of these used to test nothing and print "All checks passed."
    "linear.svm_loss_vectorised": "linear.svm_loss_vectorized",
    "layers.relu": "layers.relu_forward",
    "linear.svm_loss": "linear.svm_loss_naive",
    "mlp.TwoLayerNet.loss": "mlp.TwoLayerNet",
}


@pytest.mark.parametrize("name,suggestion", FALSE_PASSES.items())
def test_a_name_that_is_not_graded_is_refused_with_close_matches(name, suggestion, tmp_path,
                                                                 capsys):
    with pytest.raises(UnknownName) as error:
        check(name, submission=stub_submission(tmp_path))
    assert f"{name!r} is not a graded function" in str(error.value)
    assert repr(suggestion) in str(error.value)
    assert "passed" not in capsys.readouterr().out


def test_names_that_are_graded_resolve():
    assert resolve("linear.svm_loss_naive") == ["linear.svm_loss_naive"]
    assert "linear.svm_loss_vectorized" in resolve("linear")
    assert resolve("01") == resolve("01_linear") == resolve("linear")
    assert "mlp.TwoLayerNet" in resolve("02") and "layers.relu_forward" in resolve("02")
    for bad in ("", "   ", None, "99", "nothing"):
        with pytest.raises(UnknownName):
            resolve(bad)


def test_a_function_class_or_module_given_itself_stands_for_its_name():
    """``check(linear.svm_loss_naive)`` without quotes, as a student writes after importing."""
    import types

    from coursework import layers, linear, mlp, rnn

    assert resolve(linear.svm_loss_naive) == ["linear.svm_loss_naive"]
    assert resolve(mlp.TwoLayerNet) == ["mlp.TwoLayerNet"]
    assert resolve(rnn.CharRNN.sample) == ["rnn.CharRNN.sample"]
    assert resolve(layers) == resolve("layers")
    # a method that is not graded on its own is refused as its name is, naming its class
    with pytest.raises(UnknownName, match="'mlp.TwoLayerNet.loss' is not a graded.*"
                                          "'mlp.TwoLayerNet'"):
        resolve(mlp.TwoLayerNet.loss)
    # anything that is not course code is refused, shown as given
    for bad in (print, np_module(), types.ModuleType("linear"), lambda: 0):
        with pytest.raises(UnknownName, match="give a function like"):
            resolve(bad)


def np_module():
    import numpy

    return numpy


def test_commas_separate_names_as_spaces_do(tmp_path, capsys):
    with pytest.raises(AssertionError):
        check("linear.svm_loss_naive,layers.relu_forward", " linear.softmax_loss_naive",
              submission=stub_submission(tmp_path, "linear"))
    lines = [line.split()[:2] for line in capsys.readouterr().out.splitlines()
             if not line.startswith(" ")]
    assert lines == [["PASS", "linear.svm_loss_naive"], ["TODO", "layers.relu_forward"],
                     ["PASS", "linear.softmax_loss_naive"]]


@pytest.mark.parametrize("name", list(FALSE_PASSES) + [""])
def test_make_check_refuses_the_same_names(name):
    command = ([sys.executable, "-m", "autograder.notebook_check", name] if name else
               [sys.executable, "-m", "autograder.notebook_check"])
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "passed" not in result.stdout
    if name:
        assert "did you mean" in result.stderr and FALSE_PASSES[name] in result.stderr
    if shutil.which("make"):
        dry = subprocess.run(["make", "-n", "check", f"F={name}"], cwd=REPO_ROOT,
                             capture_output=True, text=True)
        assert dry.returncode == 0 and "autograder.notebook_check" in dry.stdout, dry.stderr


def test_every_function_named_gets_a_verdict_after_a_todo(tmp_path, capsys):
    """A TODO does not stop the check: later functions get their verdict, and the TODO names
    the file to edit."""
    submission = stub_submission(tmp_path, "linear")
    with pytest.raises(AssertionError) as error:
        check("layers.relu_forward", "linear.svm_loss_naive", "layers.relu_backward",
              submission=submission)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if not line.startswith(" ")]
    assert [line.split()[:2] for line in lines] == [
        ["TODO", "layers.relu_forward"], ["PASS", "linear.svm_loss_naive"],
        ["TODO", "layers.relu_backward"]]
    assert out.count("coursework/layers.py") == 2
    assert "relu_backward in coursework/layers.py" in out
    assert "2 of the 3 checked functions did not pass" in str(error.value)
    # in IPython the failure is one line, without the grader's frames
    assert error.value._render_traceback_() == [f"AssertionError: {error.value}"]


def test_all_pass(tmp_path, capsys):
    check(["linear.svm_loss_naive", "linear.softmax_loss_naive"],
          submission=stub_submission(tmp_path, "linear"))
    assert "All 2 checks passed." in capsys.readouterr().out


# ------------------------------------------------------------------------ a real kernel

SETUP = """\
%load_ext autoreload
%autoreload 2
%load_ext autograder
import numpy as np
from autograder import check
from coursework import layers
"""


def _run(client, nb, source):
    out, err, errors = run_cell(client, nb, source)
    return out + err, errors


def test_kernel_sees_the_saved_file_and_a_missing_function_is_one_line(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    submission = stub_submission(tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    client = NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(submission)}})
    with client.setup_kernel():
        text, errors = _run(client, nb, SETUP + "print(layers.__file__)")
        assert not errors and str(submission / "coursework" / "layers.py") in text
        # a cell that needs a function not written yet: one line naming it and its file
        _, errors = _run(client, nb, "layers.relu_forward(np.array([-1.0, 2.0]))")
        assert len(errors) == 1 and errors[0]["ename"] == "NotImplementedError"
        assert len(errors[0]["traceback"]) == 1, errors[0]["traceback"]
        line = errors[0]["traceback"][0]
        assert "layers.relu_forward is not written yet" in line
        assert "coursework/layers.py" in line
        # a failed check: the verdicts, then one line without the grader's frames
        text, errors = _run(client, nb, 'check("layers.relu_forward")')
        assert "TODO" in text and "coursework/layers.py" in text
        assert len(errors) == 1 and len(errors[0]["traceback"]) == 1
        assert "notebook_check" not in errors[0]["traceback"][0]
        # the student writes the function and saves the file
        (submission / "coursework" / "layers.py").write_text(
            (REFERENCE_PACKAGE / "layers.py").read_text())
        text, errors = _run(client, nb, 'check("layers.relu_forward")')
        assert not errors and "PASS" in text, text
        # ... and the next cell sees what check saw, without a restart
        text, errors = _run(client, nb, "print(layers.relu_forward(np.array([-1.0, 2.0]))[0])")
        assert not errors, errors
        assert text.strip() == "[0. 2.]"
        # other exceptions keep their usual traceback
        _, errors = _run(client, nb, "def f():\n    raise NotImplementedError('mine')\nf()")
        assert errors and len(errors[0]["traceback"]) > 1
        # a name that a cell above should have defined (it stopped first): one line, what to run
        _, errors = _run(client, nb, "trained_net.predict(x)")
        assert len(errors) == 1 and errors[0]["ename"] == "NameError"
        assert len(errors[0]["traceback"]) == 1, errors[0]["traceback"]
        line = errors[0]["traceback"][0]
        assert "name 'trained_net' is not defined: a cell above defines it" in line
        assert "Run All Above Selected Cell" in line and "did you mean" not in line
        # a misspelt name of the notebook's own gets the name it is close to
        _, errors = _run(client, nb, "print(layer.relu_forward)")
        assert "(or did you mean 'layers'?)" in errors[0]["traceback"][0]
        # a NameError inside coursework/ is the student's bug there: its traceback is kept
        (submission / "coursework" / "layers.py").write_text(
            (REFERENCE_PACKAGE / "layers.py").read_text()
            + "\n\ndef broken():\n    return undefined_x\n")
        _, errors = _run(client, nb, "layers.broken()")
        assert errors[0]["ename"] == "NameError" and len(errors[0]["traceback"]) > 1
        assert "a cell above defines it" not in "".join(errors[0]["traceback"])
        # a result a cell above stores by key, missing because that cell stopped
        # (05's paths[name, rule]): one line, what to run; a KeyError inside coursework/ keeps
        # its traceback
        _, errors = _run(client, nb, "paths = {}\n[paths['saddle', r] for r in ['sgd']]")
        assert len(errors) == 1 and errors[0]["ename"] == "KeyError"
        assert len(errors[0]["traceback"]) == 1, errors[0]["traceback"]
        line = errors[0]["traceback"][0]
        assert "KeyError: ('saddle', 'sgd'): this cell reads a result that a cell above" in line
        assert "Run All Above Selected Cell" in line
        (submission / "coursework" / "layers.py").write_text(
            (REFERENCE_PACKAGE / "layers.py").read_text()
            + "\n\ndef broken():\n    return {}['w']\n")
        _, errors = _run(client, nb, "layers.broken()")
        assert errors[0]["ename"] == "KeyError" and len(errors[0]["traceback"]) > 1
        assert "a cell above" not in "".join(errors[0]["traceback"])
        # a notebook's guard in front of a result: its message alone; a RuntimeError from
        # elsewhere keeps its traceback
        _, errors = _run(client, nb, "if True:\n    raise RuntimeError(\"the cell above did not "
                                     "finish: run it again\")")
        assert errors[0]["traceback"] == ["RuntimeError: the cell above did not finish: run it "
                                          "again"], errors[0]["traceback"]
        _, errors = _run(client, nb, "import threading\nthreading.Thread().join()")
        assert errors[0]["ename"] == "RuntimeError" and len(errors[0]["traceback"]) > 1


# ------------------------------------------------------------------ nbgrader and make

def test_a_check_cell_naming_several_functions_is_worth_all_their_points():
    nbformat = pytest.importorskip("nbformat")
    from autograder.nbgrader_course import check_names, course_notebook, unit_keys

    assert check_names('check("a.b", "c.d")\ncheck(name="e")') == ["a.b", "c.d", "e"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        'check("layers.relu_forward", "layers.relu_backward",\n      "losses.svm_loss")')]
    graded = course_notebook(nb, "02_mlp")
    first = next(iter(graded.values()))
    assert first == ["layers.relu_forward", "layers.relu_backward", "losses.svm_loss"]
    points = unit_keys("02_mlp")
    assert nb.cells[0].metadata["nbgrader"]["points"] == sum(points[k] for k in first)


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_lab_and_formgrader_need_nothing_activated():
    import os

    result = subprocess.run(["make", "-n", "lab", "formgrader", "COURSE=/tmp/course-x"],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lab = [line for line in result.stdout.splitlines() if " lab " in line + " "]
    assert len(lab) == 2, result.stdout
    for line in lab:
        assert f'PATH="{REPO_ROOT}/.venv/bin:' in line
        assert ("--allow-root" in line) == (os.geteuid() == 0)
    assert 'fetchNews="false"' in result.stdout  # the news popup is turned off


STEP_BACKWARD = "    dc = dc_next + dh_next * o * (1.0 - tanh_c * tanh_c)  # both paths into c_next"


def rnn_submission(tmp_path, new_line):
    shutil.copytree(REFERENCE_PACKAGE, tmp_path / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "coursework" / "rnn.py"
    assert STEP_BACKWARD in path.read_text()
    path.write_text(path.read_text().replace(STEP_BACKWARD, new_line))
    return tmp_path


def first_lines(submission, def_line, code):
    """Put ``code`` first in the body of the function of rnn.py that ``def_line`` starts."""
    path = submission / "coursework" / "rnn.py"
    assert def_line in path.read_text()
    path.write_text(path.read_text().replace(def_line, def_line + code, 1))


def test_a_failure_that_comes_from_a_function_it_calls_says_so(tmp_path, capsys):
    submission = rnn_submission(tmp_path, "    dc = dc_next")
    with pytest.raises(AssertionError):
        check("rnn.lstm_backward", submission=submission)
    out = capsys.readouterr().out
    assert "FAIL    rnn.lstm_backward" in out
    assert "hint: this function calls your lstm_step_backward, which fails its own test" in out
    assert "rnn.lstm_step_backward  (" not in out  # graded for the note, not shown


def test_a_todo_that_comes_from_a_function_it_calls_names_that_function(tmp_path, capsys):
    submission = rnn_submission(tmp_path, "    raise NotImplementedError")
    with pytest.raises(AssertionError):
        check("rnn.lstm_backward", submission=submission)
    out = capsys.readouterr().out
    assert "TODO    rnn.lstm_backward" in out
    assert "not implemented yet: it calls your lstm_step_backward, which does not pass yet: " \
           "write or fix that first" in out


def test_a_todo_of_its_own_with_a_failing_callee_says_to_write_it(tmp_path, capsys):
    """A student with lstm_backward still a stub and lstm_step_backward written but
    wrong was told to write lstm_step_backward first, then lstm_backward "if its own raise is
    still there": its own raise is what stopped it."""
    submission = rnn_submission(tmp_path, "    dc = dc_next")
    first_lines(submission, "def lstm_backward(dh, cache):\n",
                "    raise NotImplementedError(\"lstm_backward: not implemented yet; write it in "
                "coursework/rnn.py\")\n")
    with pytest.raises(AssertionError):
        check("rnn.lstm_backward", submission=submission)
    out = " ".join(capsys.readouterr().out.split())
    assert "TODO rnn.lstm_backward" in out
    assert "not implemented yet: replace the `raise NotImplementedError` of lstm_backward in " \
           "coursework/rnn.py with your code; it calls your lstm_step_backward, which does not " \
           "pass yet: fix that too" in out, out


def test_whose_stub_raised_is_read_from_the_stubs_words():
    from autograder.engine import OWN_STUB, _not_implemented_message

    own = "lstm_backward: not implemented yet; write it in coursework/rnn.py"
    assert _not_implemented_message(own, "lstm_backward") == "not implemented yet " + OWN_STUB
    other = "lstm_forward: not implemented yet; write it in coursework/rnn.py"
    assert _not_implemented_message(other, "lstm_backward") == (
        "not implemented yet: lstm_forward in coursework/rnn.py, which this one needs, still "
        "has its `raise NotImplementedError`")
    method = "CharRNN.__init__: not implemented yet; write it in coursework/rnn.py"
    assert _not_implemented_message(method, "CharRNN").endswith(OWN_STUB)
    assert "CharRNN.__init__ in coursework/rnn.py, which this one needs" in \
        _not_implemented_message(method, "CharRNN.sample")
    assert _not_implemented_message("", "x") == \
        "not implemented yet (it raises NotImplementedError)"


def test_the_line_of_a_function_not_written_yet_is_read_from_the_saved_file(tmp_path):
    """The kernel's code is what it loaded (autoreload keeps old line numbers); a
    student who wrote the function above saw "line 72" for a raise now at line 89. The line
    comes from the file as saved, from the last definition (Python uses that one), and a
    function the saved file no longer stubs says the kernel runs an older version."""
    from autograder.notebook_check import not_written_message

    folder = tmp_path / "coursework"
    folder.mkdir()
    path = folder / "linear.py"
    path.write_text("def f():\n    raise NotImplementedError('f')\n")
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # the kernel's copy

    def message():
        try:
            namespace["f"]()
        except NotImplementedError as error:
            return not_written_message(error.__traceback__)

    assert "(coursework/linear.py, line 2)" in message()
    path.write_text("import math\n\n\ndef g():\n    return 1\n\n\n"
                    "def f():\n    raise NotImplementedError('f')\n")
    assert "(coursework/linear.py, line 9)" in message()  # saved, the kernel not reloaded
    path.write_text("def f():\n    return 1\n\n\ndef f():\n    x = 1\n"
                    "    raise NotImplementedError('again')\n")
    assert "(coursework/linear.py, line 7)" in message()  # defined twice: the last one
    path.write_text("def f():\n    return 1\n")
    assert "no longer does: this kernel still runs an older version" in message()


def test_a_deleted_coursework_init_is_named(tmp_path):
    """Without coursework/__init__.py, check printed the grader's traceback ending in
    "the coursework package cannot be found; start JupyterLab with make lab"."""
    shutil.copytree(REFERENCE_PACKAGE, tmp_path / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "coursework" / "__init__.py").unlink()
    (tmp_path / "autograder").symlink_to(REPO_ROOT / "autograder")  # as in a student's clone
    done = subprocess.run([sys.executable, "-m", "autograder.notebook_check",
                           "linear.svm_loss_naive"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "coursework/__init__.py is missing; restore it" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_deleted_coursework_init_is_named_from_the_notebooks_folder(tmp_path, monkeypatch):
    """From notebooks/, where the course is on the path through an installed finder
    that finds nothing without the __init__.py, the student was told to start JupyterLab with
    make lab."""
    import importlib.util

    from autograder import notebook_check

    (tmp_path / "coursework").mkdir()
    (tmp_path / "coursework" / "linear.py").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "coursework" else real(name, *a))
    with pytest.raises(notebook_check.SetupError) as error:
        notebook_check._submission()
    assert "coursework/__init__.py is missing; restore it" in str(error.value)
    (tmp_path / "coursework" / "linear.py").unlink()
    (tmp_path / "coursework").rmdir()  # no course folder here at all: the setup is to blame
    with pytest.raises(notebook_check.SetupError) as error:
        notebook_check._submission()
    assert "make lab" in str(error.value)


def test_a_wrong_device_is_named_where_it_was_set(tmp_path, monkeypatch):
    """COURSE_DEVICE=gpu is the environment variable's mistake, not a --device option's."""
    submission = stub_submission(tmp_path, "linear")
    monkeypatch.setenv("COURSE_DEVICE", "gpu")
    with pytest.raises(ValueError, match="the environment variable COURSE_DEVICE must be one of "
                                         "cpu, cuda, auto, got 'gpu'"):
        check("linear.svm_loss_naive", submission=submission)
    with pytest.raises(ValueError, match=r"check\(\.\.\., device=\.\.\.\) must be one of .*'tpu'"):
        check("linear.svm_loss_naive", submission=submission, device="tpu")


def test_a_failed_check_shows_the_end_of_what_the_code_printed(tmp_path, capsys):
    """Prints run in the grader's worker, so a student debugging with print saw
    nothing of them in the check cell."""
    submission = rnn_submission(tmp_path, "    dc = dc_next")
    first_lines(submission, "def lstm_step_backward(dh_next, dc_next, cache):\n",
                "    for i in range(20):\n        print('debug line', i)\n")
    with pytest.raises(AssertionError):
        check("rnn.lstm_step_backward", submission=submission)
    out = capsys.readouterr().out
    assert "What your code printed while it was checked (its last 15 lines):" in out
    assert "    debug line 19\n" in out and "debug line 4\n" not in out
