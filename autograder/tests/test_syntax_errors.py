"""A coursework file saved with a syntax error (an IndentationError, a TabError), everywhere the
student meets it: the notebook (autoreload used to print a long "[autoreload of coursework.X
failed: Traceback ...]" and run the old code without a word), ``check``, ``make grade`` and
``make check``. Each says in one line which file, which line and column, Python's words and what
to do."""

import os
import subprocess
import sys

import pytest

from autograder.notebook_check import check
from autograder.paths import REPO_ROOT
from autograder.tests.kernel_cells import run_cell, student_kernel
from autograder.tests.submissions import stub_submission


def break_file(path, broken):
    """Append ``broken`` (a function with a slip) to ``path``; the line of its first line."""
    text = path.read_text().rstrip("\n") + "\n\n\n"
    line = text.count("\n") + 1
    path.write_text(text + broken)
    return line


MISSING_COLON = "def extra(x)\n    return x\n"  # Python: expected ':' after column 12
BAD_DEDENT = "def extra(x):\n        y = x\n    return y\n"  # unindent does not match


def test_check_names_file_line_column_and_what_to_do(tmp_path, capsys):
    submission = stub_submission(tmp_path, "linear")
    line = break_file(submission / "coursework" / "linear.py", MISSING_COLON)
    with pytest.raises(AssertionError):
        check("linear.svm_loss_naive", "linear.softmax_loss_naive", submission=submission)
    out = capsys.readouterr().out
    verdicts = [text for text in out.splitlines() if text.startswith("        ")]
    assert len(verdicts) == 2 and verdicts[0] == verdicts[1], out  # no input to blame
    said = verdicts[0].strip()
    assert f"SyntaxError: expected ':' (coursework/linear.py, line {line}, column 13)" in said
    assert f"fix line {line} of coursework/linear.py and save it" in said
    assert "N=8" not in said and "(at coursework" not in said  # no case, no second place


def test_a_module_importing_the_broken_one_names_the_broken_file(tmp_path, capsys):
    submission = stub_submission(tmp_path, "layers", "losses", "mlp")
    line = break_file(submission / "coursework" / "layers.py", BAD_DEDENT)
    with pytest.raises(AssertionError):
        check("mlp.TwoLayerNet", submission=submission)
    said = capsys.readouterr().out
    assert (f"IndentationError: unindent does not match any outer indentation level "
            f"(coursework/layers.py, line {line + 2}, column ") in said
    assert f"fix line {line + 2} of coursework/layers.py and save it" in said


def test_grade_says_it_once_per_unit(tmp_path):
    submission = stub_submission(tmp_path, "linear")
    line = break_file(submission / "coursework" / "linear.py", MISSING_COLON)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submission",
                           str(submission), "--unit", "01"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    text = " ".join(done.stdout.split())  # the table wraps its messages
    assert text.count(f"(coursework/linear.py, line {line}, column 13)") == 1, done.stdout
    assert f"fix line {line} of coursework/linear.py and save it" in text
    # the other four functions of linear.py point up to it
    assert text.count("message: the same as above (the module could not be imported)") == 4
    assert "Total: 0 / 12" in text


def test_make_check_says_it_too(tmp_path):
    submission = stub_submission(tmp_path, "linear")
    (submission / "autograder").symlink_to(REPO_ROOT / "autograder")  # as in a student's clone
    line = break_file(submission / "coursework" / "linear.py", "def extra(x):\n\treturn x\n"
                      "        return x\n")
    done = subprocess.run([sys.executable, "-m", "autograder.notebook_check",
                           "linear.svm_loss_naive"], cwd=submission, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(submission)},
                          timeout=300)
    assert done.returncode == 1, done.stderr
    assert (f"TabError: inconsistent use of tabs and spaces in indentation "
            f"(coursework/linear.py, line {line + 2}") in done.stdout
    assert f"fix line {line + 2} of coursework/linear.py and save it" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


# ------------------------------------------------------------------------ the notebook

SETUP = """\
%load_ext autoreload
%autoreload 2
%load_ext autograder
import numpy as np
from coursework import layers
"""


def _run(client, nb, source):
    return run_cell(client, nb, source)


def test_the_notebook_says_it_in_one_line_before_the_next_cell(tmp_path):
    pytest.importorskip("nbclient")
    submission = stub_submission(tmp_path, "layers")
    layers = submission / "coursework" / "layers.py"
    good = layers.read_text()
    with student_kernel(submission) as (client, nb):
        out, err, errors = _run(client, nb, SETUP + "print(layers.__file__)")
        assert not errors and not err and out.strip() == str(layers), (out, err, errors)
        # saved with a slip: one line, before the cell, which still runs the code loaded before
        line = break_file(layers, MISSING_COLON)
        out, err, errors = _run(client, nb, "print(layers.relu_forward(-np.ones(1))[0])")
        assert not errors and out.strip() == "[0.]"
        assert err.strip() == (
            f"coursework/layers.py does not compile: line {line}, column 13: expected ':' "
            f"(SyntaxError); fix line {line} of coursework/layers.py and save it; until then "
            f"the cells still run the layers.py loaded before"), err
        # once per saved version: the next cell is silent, and so is a save of the same text
        assert _run(client, nb, "print(1)")[1] == ""
        layers.write_text(layers.read_text())
        assert _run(client, nb, "print(2)")[1] == ""
        # a new slip gets its own line; a TabError and an IndentationError alike
        layers.write_text(good.rstrip("\n") + "\n\n\ndef extra(x):\n    y = x\n\treturn y\n")
        err = _run(client, nb, "print(3)")[1]
        assert err.startswith(f"coursework/layers.py does not compile: line {line + 2}, "), err
        assert "(TabError); fix line" in err and len(err.strip().splitlines()) == 1
        # fixed: silent, and the cells run the new code
        layers.write_text(good + "\n\ndef extra(x):\n    return 7\n")
        out, err, errors = _run(client, nb, "print(layers.extra(0))")
        assert (out.strip(), err, errors) == ("7", "", [])
        # a module not imported yet: the cell importing it stops with one line
        linear = submission / "coursework" / "linear.py"
        line = break_file(linear, BAD_DEDENT)
        out, err, errors = _run(client, nb, "from coursework import linear")
        assert err == "" and len(errors) == 1 and errors[0]["ename"] == "IndentationError"
        assert errors[0]["traceback"] == [
            f"IndentationError: coursework/linear.py does not compile: line {line + 2}, column "
            f"13: unindent does not match any outer indentation level; fix line {line + 2} of "
            f"coursework/linear.py and save it; then run this cell again"], errors
        # a syntax error of the notebook's own code keeps IPython's display
        _, _, errors = _run(client, nb, "exec('x y')")
        assert errors and errors[0]["ename"] == "SyntaxError"
        assert "does not compile" not in "".join(errors[0]["traceback"])
