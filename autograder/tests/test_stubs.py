"""The stub generator follows design rule 2, and the committed stubs are in sync."""

import subprocess
import sys
from pathlib import Path

import pytest

from autograder import stubs
from autograder.paths import REFERENCE_PACKAGE, REPO_ROOT, STUBS_PACKAGE

SOURCE = '''import numpy as np


def f(x):
    """Docstring kept."""
    check(x)
    # BEGIN SOLUTION
    y = x * 2
    # END SOLUTION
    return y


class A:
    def g(self, n):
        if n:
            # BEGIN SOLUTION
            m = n
            # END SOLUTION
        return 0
'''


def test_regions_become_not_implemented_named_after_the_function():
    out = stubs.make_stub(SOURCE, module_path="coursework/demo.py")
    assert "y = x * 2" not in out and "m = n" not in out
    expected = 'raise NotImplementedError("f: not implemented yet; write it in coursework/demo.py")'
    assert f"\n    {expected}\n" in out
    assert '            raise NotImplementedError("A.g: not implemented yet' in out
    # Everything outside the regions is copied byte for byte.
    assert out.startswith(
        'import numpy as np\n\n\ndef f(x):\n    """Docstring kept."""\n    check(x)\n')
    assert out.endswith("        return 0\n")
    compile(out, "demo", "exec")


def test_crlf_is_kept():
    out = stubs.make_stub(SOURCE.replace("\n", "\r\n"))
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")


@pytest.mark.parametrize("text,words", [
    ("def f():\n    # BEGIN SOLUTION\n    pass\n", "never closed"),
    ("def f():\n    pass\n    # END SOLUTION\n", "without"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n", "nest"),
])
def test_unbalanced_or_nested_markers_fail_with_the_line(text, words):
    with pytest.raises(stubs.MarkerError, match=words) as info:
        stubs.make_stub(text, filename="bad.py")
    assert "bad.py:" in str(info.value)


def test_committed_stubs_are_in_sync():
    assert stubs.out_of_sync(REFERENCE_PACKAGE, STUBS_PACKAGE) == []


def test_check_names_the_stale_file_and_says_what_to_run(tmp_path):
    ref = tmp_path / "ref"
    out = tmp_path / "out"
    ref.mkdir()
    (ref / "m.py").write_text("def f():\n    # BEGIN SOLUTION\n    v = 1\n    # END SOLUTION\n"
                              "    return v\n")
    stubs.write_stubs(ref, out)
    assert stubs.out_of_sync(ref, out) == []
    (ref / "m.py").write_text("def f():\n    # BEGIN SOLUTION\n    v = 2\n    # END SOLUTION\n"
                              "    return v\n\n\ndef g():\n    pass\n")
    assert stubs.out_of_sync(ref, out) == ["m.py (differs from its solution)"]
    (out / "old.py").write_text("")
    assert "old.py (no such file in solutions/coursework)" in stubs.out_of_sync(ref, out)


def test_cli_check_fails_with_instructions_when_a_solution_changed(tmp_path):
    # A copy of the repository's layout where one solution was edited without regenerating.
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "autograder", root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copytree(REFERENCE_PACKAGE, root / "solutions" / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(STUBS_PACKAGE, root / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    linear = root / "solutions" / "coursework" / "linear.py"
    linear.write_text(linear.read_text().replace('"""Unit 01', '"""Unit 01 (edited)', 1))
    run = subprocess.run([sys.executable, "-m", "autograder", "stubs", "--check"], cwd=root,
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "coursework/linear.py (differs from its solution)" in run.stderr
    assert "python -m autograder stubs" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "autograder", "stubs"], cwd=root,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "wrote coursework/linear.py" in ok.stdout
    again = subprocess.run([sys.executable, "-m", "autograder", "stubs", "--check"], cwd=root,
                           capture_output=True, text=True)
    assert again.returncode == 0


def test_a_return_inside_a_region_is_refused_with_its_line():
    text = "def f(x):\n    # BEGIN SOLUTION\n    y = 2 * x\n    return y\n    # END SOLUTION\n"
    with pytest.raises(stubs.MarkerError, match="bad.py:4: 'return' inside the solution region "
                                                "opened at line 2"):
        stubs.make_stub(text, filename="bad.py")
    # A return of a function defined inside the region belongs to that function: allowed.
    inner = ("def f(x):\n    # BEGIN SOLUTION\n    def g(v):\n        return 2 * v\n"
             "    y = g(x)\n    # END SOLUTION\n    return y\n")
    assert "return 2 * v" not in stubs.make_stub(inner)


def test_every_reference_region_ends_before_the_return():
    # generated_files runs make_stub on every reference module: a return inside a region raises.
    assert stubs.generated_files(REFERENCE_PACKAGE)


def test_long_raise_lines_are_wrapped_to_100_columns():
    deep = "class Model:\n    def a_long_method_name(self):\n        if True:\n            " \
           "# BEGIN SOLUTION\n            pass\n            # END SOLUTION\n"
    for module_path in ("coursework/m.py", "coursework/" + "a" * 40 + ".py"):
        out = stubs.make_stub(deep, module_path=module_path)
        assert max(len(line) for line in out.splitlines()) <= stubs.MAX_LINE
        compile(out, "deep", "exec")
        namespace = {}
        exec(out, namespace)
        with pytest.raises(NotImplementedError, match="Model.a_long_method_name: not implemented "
                                                      f"yet; write it in {module_path}"):
            namespace["Model"]().a_long_method_name()
    for path, text in stubs.generated_files(REFERENCE_PACKAGE).items():
        long = [n for n, line in enumerate(text.splitlines(), 1) if len(line) > stubs.MAX_LINE]
        assert not long, f"{path}: lines {long} are longer than {stubs.MAX_LINE} characters"


def test_provided_modules_are_copied_unchanged():
    for name in ("checks.py", "backend.py"):
        source = (REFERENCE_PACKAGE / name).read_text()
        assert stubs.BEGIN not in source
        assert stubs.generated_files(REFERENCE_PACKAGE)[Path(name)] == source
