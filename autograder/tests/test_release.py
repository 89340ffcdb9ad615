"""The student release: no solution, no hidden test, and the same verdicts on the public tests.

One release is built (with the command line, as an instructor would) and inspected; copies of it
are graded with the release's own autograder (cwd and PYTHONPATH set to the copy, so nothing of
the instructor's repository is used): the reference coursework gets full public marks, the stubs
get 0, and a mistaken function gets the same message and hint as in the instructor's repository.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import engine, release, stubs
from autograder.oracle import Oracle, load_recorded
from autograder.paths import HIDDEN_DIR, MISTAKES_DIR, REFERENCE_PACKAGE, REPO_ROOT, SOLUTIONS_DIR
from autograder.signatures import reference_signature
from autograder.units import UNITS, available_units, specs_of

from .submissions import make_submission

pytestmark = pytest.mark.xdist_group("release")

UNITS_AVAILABLE = available_units()
PUBLIC_MAX = sum(t.points for u in UNITS_AVAILABLE for s in specs_of(u) for t in s.tests.values())
MIN_CHARS = 16  # a solution line shorter than this ("loss = 0.0", "return dW") proves nothing


@pytest.fixture(scope="module")
def built(built_release):
    return built_release  # conftest: one release per test process, shared with the mistakes


def copy_of(built, tmp_path, coursework_from=None):
    """A copy of the release, optionally with the .py files of another coursework package."""
    repo = tmp_path / "student"
    shutil.copytree(built, repo)
    if coursework_from is not None:
        for path in Path(coursework_from).glob("*.py"):
            shutil.copy2(path, repo / "coursework" / path.name)
    return repo


def in_release(repo, *args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(repo)
    return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=timeout)


def grade_in_release(repo):
    result = in_release(repo, "-m", "autograder", "grade", "--json", "report.json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((repo / "report.json").read_text())
    assert report["submission"] == str(repo.resolve())
    return report


def solution_regions():
    """{stripped line: (where, region)} for the lines inside solution regions that are evidence
    of a leak: long enough, not comments, and not also outside every region (stub text)."""
    inside, outside = {}, set()
    for path in sorted(REFERENCE_PACKAGE.rglob("*.py")):
        region = None
        for number, line in enumerate(path.read_text().splitlines(), 1):
            text = line.strip()
            if text == stubs.BEGIN:
                region = f"{path.name}:{number}"
            elif text == stubs.END:
                region = None
            elif region:
                if len(text) >= MIN_CHARS and not text.startswith("#"):
                    inside[text] = (f"{path.name}:{number}", region)
            else:
                outside.add(text)
    return {t: w for t, w in inside.items() if t not in outside}


def release_texts(root):
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if b"\0" not in data[:4096]:
                text = data.decode("utf-8", errors="replace")
                if path.suffix == ".ipynb":  # cell sources are JSON strings: decode them
                    nb = json.loads(text)
                    text += "\n" + "\n".join(
                        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                        for c in nb["cells"])
                yield path, text


def test_no_solution_line_in_the_release(built):
    regions = solution_regions()
    assert regions, "no solution region found in solutions/coursework"
    leaks, in_specs = [], {}
    for path, text in release_texts(built):
        rel = path.relative_to(built)
        lines = {line.strip() for line in text.splitlines()}
        for solution, (where, region) in regions.items():
            # a whole line anywhere, or a long line even inside another one
            if solution in lines or (len(solution) >= 40 and solution in text):
                found = f"{rel}: {solution!r} ({where})"
                if rel.parts[:2] == ("autograder", "specs"):
                    in_specs.setdefault(region, []).append(found)
                else:
                    leaks.append(found)
    # A public test may compute what one line of a solution computes (an output size); two
    # lines of the same region in the public tests are a leak.
    leaks += [f for found in in_specs.values() if len(found) > 1 for f in found]
    assert not leaks, "\n".join(leaks)
    # the reference package is nowhere, under any name
    for path in built.rglob("*.py"):
        for ref in REFERENCE_PACKAGE.rglob("*.py"):
            if stubs.BEGIN in ref.read_text():
                assert path.read_text() != ref.read_text(), f"{path} is {ref}"


def test_no_hidden_test_in_the_release(built):
    grader = built / "autograder"
    for private in ("hidden", "mistakes", "release.py", "nbgrader_course.py", "testing.py",
                    "mutants.py"):
        assert not (grader / private).exists(), private
    assert not (built / "solutions").exists()
    # no text of a hidden test file or known mistake, and no label of a hidden case, unless
    # the same text is also in a public file of the instructor's repository
    public = release.public_lines()
    public_text = "\n".join(public)
    lines, labels = set(), set()
    for path in list(HIDDEN_DIR.glob("*.py")) + list(MISTAKES_DIR.glob("*.py")):
        source = path.read_text()
        lines |= {ln.strip() for ln in source.splitlines()
                  if len(ln.strip()) >= MIN_CHARS and not ln.strip().startswith(('"""', "#"))
                  and ln.strip() not in public}
        if path.parent == HIDDEN_DIR:
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Case" and \
                        node.args and isinstance(node.args[0], ast.Constant) and \
                        len(node.args[0].value) >= 12 and node.args[0].value not in public_text:
                    labels.add(node.args[0].value)
    assert lines and labels
    found = []
    for path, text in release_texts(built):
        stripped = {ln.strip() for ln in text.splitlines()}
        found += [f"{path.relative_to(built)}: {s!r}" for s in lines if s in stripped]
        found += [f"{path.relative_to(built)}: label {s!r}" for s in labels if s in text]
    assert not found, "\n".join(found)


def test_recorded_data_holds_no_hidden_case(built):
    """The reference outputs of hidden cases are not recorded: record everything the full tests
    ask for, take away what the public tests ask for; none of the rest is in the release."""
    for unit in UNITS_AVAILABLE:
        for spec in specs_of(unit):
            full = Oracle()
            full.recording = {"outputs": {}, "mistakes": {}}
            with release._eager_mistakes():
                engine.grade(SOLUTIONS_DIR, [unit], keys=set(spec.tests), oracle=full)
            shipped = json.loads((built / "autograder" / "recorded" / f"{spec.module}.json")
                                 .read_text())
            assert set(shipped["outputs"]) <= set(full.recording["outputs"])
            hidden_only = set(full.recording["outputs"]) - set(shipped["outputs"])
            # (a module graded by properties alone, like augmentation, asks the reference for
            # nothing but its documented defaults, which no case has: its hidden cases are
            # proven used in test_unit04_grading.py)
            defaults = Oracle()
            defaults.recording = {"outputs": {}, "mistakes": {}}
            for key in spec.tests:
                defaults.run(reference_signature, key)
            asked = set(full.recording["outputs"]) - set(defaults.recording["outputs"])
            if (HIDDEN_DIR / f"{spec.module}.py").exists() and asked:
                assert hidden_only, f"{spec.module}: hidden cases recorded nothing?"


def test_reference_gets_full_public_marks(built, tmp_path):
    report = grade_in_release(copy_of(built, tmp_path, REFERENCE_PACKAGE))
    assert report["max"] == PUBLIC_MAX
    bad = {k: e["message"] for u in report["units"].values() for k, e in u["functions"].items()
           if e["status"] != "passed"}
    assert not bad and report["total"] == PUBLIC_MAX


def test_stubs_get_zero(built, tmp_path):
    report = grade_in_release(copy_of(built, tmp_path))
    assert report["total"] == 0 and report["max"] == PUBLIC_MAX
    assert {e["status"] for u in report["units"].values() for e in u["functions"].values()} == \
        {"not_implemented"}


def test_release_make_test_and_check(built, tmp_path):
    """`make test` runs pytest on autograder/tests of the release; check() works there."""
    stub_repo = copy_of(built, tmp_path / "a")
    result = in_release(stub_repo, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "autograder/tests")
    assert result.returncode == 1 and " failed" in result.stdout
    ref_repo = copy_of(built, tmp_path / "b", REFERENCE_PACKAGE)
    result = in_release(ref_repo, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "autograder/tests")
    assert result.returncode == 0, result.stdout + result.stderr
    key = next(iter(specs_of(UNITS_AVAILABLE[0])[0].tests))
    # imported again after a first call (as in the next notebook cell), check still works
    code = (f"from autograder import check\ncheck({key!r})\n"
            f"from autograder import check\ncheck({key!r})")
    result = in_release(ref_repo, "-c", code)
    assert result.returncode == 0 and result.stdout.count("PASS") == 2, \
        result.stdout + result.stderr
    result = in_release(stub_repo, "-c", code)
    assert result.returncode == 1 and "AssertionError" in result.stderr
    assert "TODO" in result.stdout
    # the release is a project of its own: its pyproject declares the licence the LICENSE holds
    assert 'license = "MIT"' in (built / "pyproject.toml").read_text()
    assert (built / "LICENSE").read_text().startswith("MIT License")
    makefile = (built / "Makefile").read_text()
    for target in ("grade:", "test:", "lab:", "$(VENV)/.installed:"):
        assert f"\n{target}" in makefile
    if shutil.which("make"):
        dry = subprocess.run(["make", "-n", "grade", "test", "lab"], cwd=built,
                             capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr


def test_same_verdict_and_hint_as_the_instructors(built, tmp_path):
    """A known mistake gets the same message and hint from the recorded data."""
    source = (REFERENCE_PACKAGE / "linear.py").read_text()
    wrong = "dW = dW / num_train + 2 * reg * W"
    if "01_linear" not in UNITS_AVAILABLE or wrong not in source:
        pytest.skip("the mutated line is not in the reference any more")
    repo = copy_of(built, tmp_path, REFERENCE_PACKAGE)
    (repo / "coursework" / "linear.py").write_text(
        source.replace(wrong, "dW = dW / num_train + reg * W", 1))
    in_release_report = grade_in_release(repo)["units"]["01_linear"]["functions"]
    instructor = engine.grade(repo, ["01_linear"], public_only=True)["units"]["01_linear"]
    entry = in_release_report["linear.svm_loss_naive"]
    assert entry["status"] == "failed" and entry["hint"]
    assert "factor 2" in entry["hint"]
    for key, expected in instructor["functions"].items():
        got = in_release_report[key]
        assert (got["status"], got["message"], got["hint"]) == \
            (expected["status"], expected["message"], expected["hint"])


def test_notebooks_are_cleared_and_stripped():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\ny = secret_answer(x)\n"
                                  "### END SOLUTION\nprint(x)", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="1\n")]),
        nbformat.v4.new_markdown_cell("Answer:\n### BEGIN SOLUTION\nthe secret\n"
                                      "### END SOLUTION"),
        nbformat.v4.new_code_cell("assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(7) == 8\n"
                                  "### END HIDDEN TESTS"),
        nbformat.v4.new_code_cell("instructor_only()", metadata={"tags": ["instructor"]}),
    ]
    out = release.student_notebook(nb)
    text = json.dumps(out)
    for secret in ("secret_answer", "the secret", "f(7)", "instructor_only"):
        assert secret not in text
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None
    assert "raise NotImplementedError()" in out.cells[0].source
    assert len(out.cells) == 3
    with pytest.raises(release.ReleaseError):
        release.strip_regions("### BEGIN SOLUTION\nx = 1\n")


def test_release_notebooks_have_no_outputs(built):
    import nbformat

    for path in (built / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            assert not cell.get("outputs") and cell.get("execution_count") is None, path


def test_recorded_data_answers_whatever_def_line_a_student_writes(tmp_path):
    """The reference's signature is recorded for every function, not only for those whose
    student has defaults: a default the reference lacks (``reg=0.0``) is graded from a release's
    data (it stopped the whole check with "recorded data is out of date"), and a def line that
    does not fit the grader's call is told the stub's, from the same data."""
    release.record(tmp_path / "recorded", units=["01_linear"])
    recorded = load_recorded(["linear"], tmp_path / "recorded")
    sub = make_submission(tmp_path, append={"linear.py": '''
        _svm = svm_loss_naive
        def svm_loss_naive(W, X, y, reg=0.0):
            return _svm(W, X, y, reg)

        _vectorized = svm_loss_vectorized
        def svm_loss_vectorized(W, X, y):
            return _vectorized(W, X, y, 0.0)
    '''})
    report = engine.grade(sub, ["01_linear"], public_only=True,
                          keys={"linear.svm_loss_naive", "linear.svm_loss_vectorized"},
                          oracle=Oracle(recorded=recorded))
    entries = report["units"]["01_linear"]["functions"]
    assert entries["linear.svm_loss_naive"]["status"] == "passed", entries
    short = entries["linear.svm_loss_vectorized"]
    assert short["status"] == "error" and "`def svm_loss_vectorized(W, X, y, reg)`" in \
        short["hint"], short
    # An answer the data lacks costs that function only, as a fault of the release.
    empty = Oracle(recorded={"outputs": {}, "mistakes": {}, "provided": []})
    report = engine.grade(REFERENCE_PACKAGE.parent, ["01_linear"], public_only=True,
                          keys={"linear.svm_loss_naive", "linear.softmax_loss_naive"},
                          oracle=empty)
    for entry in report["units"]["01_linear"]["functions"].values():
        assert entry["grader_fault"] and "fault of the course's release" in entry["message"], \
            entry


def test_release_refuses_to_overwrite(built, tmp_path):
    target = tmp_path / "notes"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    result = subprocess.run([sys.executable, "-m", "autograder", "release", str(target),
                             "--force"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and (target / "mine.txt").exists()
    assert "does not look like a previous release" in result.stderr
    readme = (built / "README.md").read_text()
    assert "@UNITS@" not in readme
    for unit in UNITS_AVAILABLE:
        for module in UNITS[unit][1]:
            assert f"coursework/{module}.py" in readme


def test_a_release_says_when_a_failure_comes_from_a_function_it_calls(built, tmp_path):
    """The release has no reference source to read the calls from: it ships the call graph."""
    graph = json.loads((built / "autograder" / "recorded" / "calls.json").read_text())
    # a backward also "calls" its forward, whose cache its test hands it
    assert graph["rnn.lstm_backward"] == ["rnn.lstm_forward", "rnn.lstm_step_backward"]
    repo = copy_of(built, tmp_path, REFERENCE_PACKAGE)
    path = repo / "coursework" / "rnn.py"
    text = path.read_text()
    wrong = "    dc = dc_next + dh_next * o * (1.0 - tanh_c * tanh_c)  # both paths into c_next"
    assert wrong in text
    path.write_text(text.replace(wrong, "    dc = dc_next"))
    result = in_release(repo, "-c", "from autograder import check; check('rnn.lstm_backward')")
    assert result.returncode != 0
    assert ("hint: this function calls your lstm_step_backward, which fails its own test: fix "
            "that first") in result.stdout, result.stdout + result.stderr
