"""A coursework file that compiles but raises while ``%autoreload`` reloads it (a name not
defined at module level, a test call left at the bottom of the file): the notebook says so in
one line before the cell runs, with the file, the line, the error and what to do, instead of
IPython's two long tracebacks through importlib. A module outside coursework/ keeps IPython's
output. ``check`` and ``make grade`` say it as "the module could not be imported"."""


import pytest

from autograder.notebook_check import check
from autograder.tests.kernel_cells import run_cell, student_kernel
from autograder.tests.submissions import stub_submission

SETUP = """\
%load_ext autoreload
%autoreload 2
%load_ext autograder
import numpy as np
import helper
from coursework import layers
"""


def append(path, text):
    """Append ``text`` to ``path``; the line number of its first line."""
    old = path.read_text().rstrip("\n") + "\n\n\n"
    path.write_text(old + text)
    return old.count("\n") + 1


def test_check_says_the_module_could_not_be_imported(tmp_path, capsys):
    submission = stub_submission(tmp_path, "linear")
    line = append(submission / "coursework" / "linear.py", "LIMIT = undefined_name + 1\n")
    with pytest.raises(AssertionError):
        check("linear.svm_loss_naive", submission=submission)
    said = capsys.readouterr().out
    assert ("the module could not be imported: NameError: name 'undefined_name' is not defined "
            f"(at coursework/linear.py, line {line})") in said, said


def test_the_notebook_says_it_in_one_line_before_the_next_cell(tmp_path):
    pytest.importorskip("nbclient")
    submission = stub_submission(tmp_path, "layers")
    layers = submission / "coursework" / "layers.py"
    good = layers.read_text()
    helper = submission / "helper.py"
    helper.write_text("VALUE = 1\n")
    with student_kernel(submission) as (client, nb):
        out, err, errors = run_cell(client, nb, SETUP + "print(layers.__file__)")
        assert not errors and not err and out.strip() == str(layers), (out, err, errors)
        # a name not defined at module level: one line, and the cell runs the code loaded before
        line = append(layers, "LIMIT = undefined_name + 1\n")
        out, err, errors = run_cell(client, nb, "print(layers.relu_forward(-np.ones(1))[0])")
        assert not errors and out.strip() == "[0.]"
        assert err.strip() == (
            f"coursework/layers.py raised when reloaded, at line {line}: NameError: name "
            f"'undefined_name' is not defined; fix line {line} of coursework/layers.py and save "
            f"it; until then the cells still run the layers.py loaded before"), err
        # once per saved version
        assert run_cell(client, nb, "print(1)")[1] == ""
        # a test call left at the bottom, which raises inside NumPy: the student's line is named
        layers.write_text(good)
        line = append(layers, "import numpy as np\nprint(np.zeros(3).reshape(2, 2))\n") + 1
        err = run_cell(client, nb, "print(2)")[1]
        assert err.startswith(f"coursework/layers.py raised when reloaded, at line {line}: "
                              "ValueError: cannot reshape array of size 3"), err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        # fixed: silent, and the cells run the new code
        layers.write_text(good + "\n\ndef extra(x):\n    return 7\n")
        out, err, errors = run_cell(client, nb, "print(layers.extra(0))")
        assert (out.strip(), err, errors) == ("7", "", [])
        # a module of the student's own, outside coursework/, keeps IPython's traceback
        helper.write_text("VALUE = undefined_too\n")
        err = run_cell(client, nb, "print(3)")[1]
        assert "[autoreload of helper failed: Traceback" in err, err
        assert "NameError: name 'undefined_too' is not defined" in err
