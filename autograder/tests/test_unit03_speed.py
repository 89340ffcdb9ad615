"""Unit 03: the fast-function rule of the conv spec (loops nested at most two deep), measured on
the code that runs (``autograder.rules``)."""

from autograder.rules import Program


def depth(source):
    return Program({"conv": source}).analyse("conv", "f").depth


def test_loop_depth_counts_nesting_not_loops():
    assert depth("def f():\n    for k in range(3):\n        for l in range(3):\n            pass\n"
                 "    for k in range(2):\n        pass\n") == 2
    assert depth("def f():\n    return sum(a for k in range(3) for l in range(3))\n") == 2
    naive = ("def f():\n    for n in range(2):\n        for f in range(2):\n"
             "            for i in range(2):\n                while True:\n"
             "                    break\n")
    assert depth(naive) == 4
    assert depth("def f():\n    return x @ y\n") == 0
