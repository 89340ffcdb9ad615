"""The docs name only what exists: every file, module attribute, make target and command-line
option that README.md and docs/ put in backticks is there in the repository.

Over many changes the docs kept naming test files that had been renamed, functions that had been
replaced and attributes that had moved. Each test below extracts one kind of token from the docs
(inline code spans outside fenced blocks; for commands, the command lines of fenced blocks too)
and checks it against the repository; a failure names the doc, the line and the token.

What is checked, and what is left alone (stated as rules, not as a list of tokens):

- **Paths**: a token with a ``/`` that ends in .py/.md/.ipynb/.yml/.toml/.cfg, or has no dot
  (a folder: ``autograder/tests``, ``specs/``), whose first part is a folder of the repository
  or one the docs use relative to it (``tests/``, ``specs/``, ``mistakes/``, ``hidden/``). It
  resolves from the root, under ``autograder/`` (``tests/x``, ``specs/x``) or under
  ``solutions/``. A placeholder (``<module>``, ``NN``, ``*``, an all-capitals name such as ``M``)
  makes it a pattern that must match a file. Other first parts (``course/``, ``OUT/``,
  ``submitted/``, ``/proc``) are outputs, submissions or the machine's, and left alone. A bare
  ``name.py`` or ``test_topic_*`` must be a file of the repository (the few generated or
  third-party files the docs name are listed below with their reason).
- **Dotted names** ``module.attr`` / ``module.Class.attr`` whose first part is a module of
  ``autograder/`` (top level, ``specs/``, ``mistakes/``, ``hidden/``) or of ``coursework/``, or a
  class defined in one of them (``Trial.explaining_errors``; ``t.`` is the Trial a check function
  gets, as in the specs); also ``specs/m.name``. They resolve by import and getattr, or else each
  part is defined in that module's source (``def name``, ``class name``, ``name =``, ``self.name
  =``: helpers inside functions, attributes set at run time; the last part of ``t.ref.run``, after
  such an attribute, in any of our modules). A first part that is no such module or class
  (``np``, ``torch``, ``x``, a student's ``_me`` in hostile code) is someone else's name and left
  alone, as is any token with a space, ``(``, ``=`` or ``[`` (code, not a name).
- **make**: ``make <target>`` names a target of the Makefile.
- **Links**: a relative link ``[text](target)`` names a file or folder next to the doc.
- **CLI**: ``python -m autograder <command> ...`` names a command, and each ``--option`` after it
  is an option of that command (read from ``autograder.cli.build_parser``). A token that is just
  an option (``--workers 2``) is an option of some command, of a benchmark script, or one of the
  few options of other programs listed below with their reason.
"""

import argparse
import glob
import importlib
import re
from functools import lru_cache

import pytest

from autograder.paths import REPO_ROOT

DOCS = ("README.md", "docs/design.md", "docs/architecture.md", "docs/grading-containment.md",
        "docs/mutants.md", "docs/syllabus.md", "docs/benchmarks-unit03.md")

PATH_SUFFIXES = (".py", ".md", ".ipynb", ".yml", ".toml", ".cfg")
# first parts of a path that are folders of the repository, or of autograder/ as the docs use them
KNOWN_ROOTS = ("autograder", "coursework", "solutions", "notebooks", "docs", "benchmarks", "tests",
               "specs", "mistakes", "hidden", "release_template")
# where a relative path of the docs may resolve
PATH_BASES = ("", "autograder/", "solutions/")

# bare file names that are no file of the repository on purpose
NOT_IN_REPOSITORY = {
    "nbgrader_config.py": "written into the nbgrader course by `make nbgrader`",
    "typing_extensions.py": "a third-party module the worker imports",
    "name.py": "a placeholder (a student's module `name`)",
}
# dotted tokens whose first part is one of our modules' names but that are no Python name
NOT_PYTHON = {
    "cgroup.kill": "a cgroup v2 control file (docs/grading-containment.md's table of controls)",
    "cgroup.freeze": "a cgroup v2 control file (docs/grading-containment.md's table of controls)",
}
# options of programs other than python -m autograder that the docs quote
OTHER_PROGRAMS_OPTIONS = {
    "--allow-root": "jupyter lab, passed when run as root",
    "--security-opt": "docker run, for bubblewrap in a container",
    "--nbval-lax": "pytest's nbval plugin, used by make test",
}


def _blocks(text):
    """(inline text with fenced blocks blanked, [(line number, fenced line)])."""
    inline, fenced, inside = [], [], False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            inside = not inside
            inline.append("")
        elif inside:
            fenced.append((number, line))
            inline.append("")
        else:
            inline.append(line)
    return "\n".join(inline), fenced


def code_spans(text):
    """[(line number, token)] of the inline code spans outside fenced blocks (a span may run
    over a line break; it is joined with a space)."""
    inline, _ = _blocks(text)
    out = []
    for match in re.finditer(r"(?<!`)`([^`]+)`(?!`)", inline):
        line = inline.count("\n", 0, match.start()) + 1
        out.append((line, " ".join(match.group(1).split())))
    return out


def command_lines(text):
    """[(line number, text)] where a command may be named: code spans, and fenced lines."""
    _, fenced = _blocks(text)
    return code_spans(text) + fenced


def _docs():
    return {name: (REPO_ROOT / name).read_text() for name in DOCS}


# ---------------------------------------------------------------- paths

def _is_placeholder(part):
    return bool(re.fullmatch(r"[A-Z]+", part))


def path_problem(token):
    """Why a path token names nothing, or None (also None for a token that is no path)."""
    if " " in token or token.startswith(("/", ".", "~")) or "://" in token:
        return None
    if "/" not in token:
        if re.fullmatch(r"[\w.<>*-]+\.py|test_\w*\*", token) and token not in NOT_IN_REPOSITORY:
            if not list(REPO_ROOT.glob(f"**/{_pattern(token)}")):
                return "no file of that name in the repository"
        return None
    folder = bool(re.fullmatch(r"[\w<>*-]+(/[\w<>*-]+)*/?", token))  # no dot: a folder
    if not (token.endswith(PATH_SUFFIXES) or folder):
        return None
    if token.split("/", 1)[0] not in KNOWN_ROOTS:
        return None  # in an output (course/, OUT/...), a submission, the machine
    pattern = _pattern(token)
    for base in PATH_BASES:
        if glob.glob(str(REPO_ROOT / (base + pattern))):
            return None
    if "*" in pattern or "[" in pattern:
        return "no file matches this pattern"
    return "no such file or folder"


def _pattern(token):
    """A path with placeholders as a glob pattern: `<module>`, `NN`, an all-capitals name."""
    pattern = re.sub(r"<[^>]*>", "*", token)
    pattern = re.sub(r"(?<![A-Z])NN(?![A-Z])", "[0-9][0-9]", pattern)
    parts = pattern.split("/")
    stem = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    if _is_placeholder(stem):
        parts[-1] = parts[-1].replace(stem, "*", 1)
    parts = ["*" if _is_placeholder(p) else p for p in parts[:-1]] + parts[-1:]
    return "/".join(parts)


# ---------------------------------------------------------------- dotted names

@lru_cache(maxsize=None)
def _module_files():
    """{first part: [(module name, source path)]} for the modules a dotted name may start with."""
    out = {}
    places = [("autograder", "autograder"), ("autograder.specs", "autograder/specs"),
              ("autograder.mistakes", "autograder/mistakes"),
              ("autograder.hidden", "autograder/hidden"),
              ("coursework", "solutions/coursework")]
    for package, folder in places:
        for path in sorted((REPO_ROOT / folder).glob("*.py")):
            if path.stem != "__init__":
                out.setdefault(path.stem, []).append((f"{package}.{path.stem}", path))
    out.setdefault("autograder", []).append(("autograder", REPO_ROOT / "autograder/__init__.py"))
    return out


@lru_cache(maxsize=None)
def _classes():
    """{class name: [(module name, source path)]} of the classes of those modules."""
    out = {}
    for first, modules in _module_files().items():
        for module, path in modules:
            for name in re.findall(r"(?m)^class (\w+)\b", path.read_text()):
                out.setdefault(name, []).append((module, path))
    return out


def _resolve(module, attrs):
    """Whether import + getattr reaches module.attrs[0].attrs[1]... (submodules imported)."""
    try:
        obj = importlib.import_module(module)
    except ImportError:
        return False
    for i, attr in enumerate(attrs):
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
            continue
        try:
            obj = importlib.import_module(".".join([module, *attrs[:i + 1]]))
        except ImportError:
            return False
    return True


def _defined_in(path, name):
    pattern = (rf"(?m)^\s*(async\s+def|def|class)\s+{re.escape(name)}\b"
               rf"|^\s*(self\.)?{re.escape(name)}\s*(:[^=\n]*)?=(?!=)"
               rf"|^\s*(global|nonlocal)\s.*\b{re.escape(name)}\b")
    return re.search(pattern, path.read_text()) is not None


def _defined(path, attrs):
    """Every part defined in the module's source; the last one, after an attribute set at run
    time (`t.ref.run`: ref is an Oracle), may be defined in any module of ours."""
    if not all(_defined_in(path, attr) for attr in attrs[:-1]):
        return False
    if _defined_in(path, attrs[-1]):
        return True
    return len(attrs) > 1 and any(_defined_in(other, attrs[-1])
                                  for modules in _module_files().values()
                                  for _, other in modules)


def name_problem(token):
    """Why a dotted name names nothing, or None (also None for a token that is no such name)."""
    if token.startswith(("specs/", "mistakes/", "hidden/")) and not token.endswith(PATH_SUFFIXES):
        folder, rest = token.split("/", 1)
        if not re.fullmatch(r"\w+(\.\w+)+", rest):
            return None
        first, *attrs = rest.split(".")
        candidates = [(f"autograder.{folder}.{first}",
                       REPO_ROOT / "autograder" / folder / f"{first}.py")]
    else:
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", token):
            return None
        if re.search(r"\.(py|pyc|md|json|csv|db|toml|cfg|ipynb|yml|txt|in)$", token):
            return None  # a file name (checked as a path)
        if token in NOT_PYTHON:
            return None
        first, *attrs = token.split(".")
        if first == "t":  # the docs' name, as the specs', for the Trial a check function gets
            first = "Trial"
        if first in _module_files():
            candidates = _module_files()[first]
        elif first in _classes():
            candidates = [(module, path) for module, path in _classes()[first]]
            attrs = [first, *attrs]
        else:
            return None
    for module, path in candidates:
        if not path.exists():
            continue
        if _resolve(module, attrs) or _defined(path, attrs):
            return None
    where = " or ".join(module for module, _ in candidates)
    return f"{attrs[-1]!r} is neither an attribute nor defined in {where}"


# ---------------------------------------------------------------- make and the CLI

@lru_cache(maxsize=None)
def make_targets():
    text = (REPO_ROOT / "Makefile").read_text()
    return set(re.findall(r"(?m)^([A-Za-z][\w-]*)\s*:(?!=)", text))


def make_problem(line):
    """Why a `make ...` in a code span or fenced command line names no target, or None."""
    command = line.split("#", 1)[0].strip().lstrip("$ ").strip()
    match = re.match(r"make\s+([A-Za-z][\w-]*)", command)
    if match and match.group(1) not in make_targets():
        return f"the Makefile has no target {match.group(1)!r}"
    return None


@lru_cache(maxsize=None)
def cli_commands():
    """{('grade',): {'--submission', ...}, ('nbgrader', 'build'): {...}, ...}."""
    from autograder.cli import build_parser

    out = {}

    def walk(parser, path):
        out[path] = {o for action in parser._actions for o in action.option_strings}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))

    walk(build_parser(), ())
    return out


@lru_cache(maxsize=None)
def benchmark_options():
    found = set()
    for path in (REPO_ROOT / "benchmarks").glob("*.py"):
        found |= set(re.findall(r"[\"'](--[a-z][\w-]*)[\"']", path.read_text()))
    return found


def cli_problems(line):
    """Why each `python -m autograder ...` in a line names no command or no option of it."""
    problems = []
    for match in re.finditer(r"python3? -m autograder\b([^`#]*)", line):
        words = match.group(1).split()
        path = ()
        while words and (*path, words[0]) in cli_commands():
            path = (*path, words.pop(0))
        if not path:
            if words and not words[0].startswith("-"):
                problems.append(f"no command {words[0]!r}")
            continue
        if words and re.fullmatch(r"[a-z][a-z-]+", words[0]) and any(
                p[:len(path)] == path and len(p) > len(path) for p in cli_commands()):
            problems.append(f"{' '.join(path)} has no subcommand {words[0]!r}")
        for option in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", " ".join(words)):
            if option not in cli_commands()[path]:
                problems.append(f"{' '.join(path)} has no option {option}")
    return problems


def option_problem(token):
    """Why a span that is just an option (`--workers 2`) is no option of anything here."""
    match = re.match(r"(--[a-z][\w-]*)", token)
    if not match:
        return None
    option = match.group(1)
    known = set().union(*cli_commands().values()) | benchmark_options()
    if option in known or option in OTHER_PROGRAMS_OPTIONS:
        return None
    return f"{option} is no option of python -m autograder, of a benchmark, or listed"


# ---------------------------------------------------------------- the tests

def problems(docs):
    """['doc:line: `token`: why', ...] over {doc name: text}, and the number of tokens seen."""
    out, seen = [], 0
    for doc, text in docs.items():
        for line, token in code_spans(text):
            seen += 1
            why = path_problem(token) or name_problem(token)
            if not why and token.startswith("--"):
                why = option_problem(token)
            if why:
                out.append(f"{doc}:{line}: `{token}`: {why}")
        for line, token in command_lines(text):
            for why in filter(None, [make_problem(token), *cli_problems(token)]):
                out.append(f"{doc}:{line}: `{token}`: {why}")
        for line, target in links(text):
            if not (REPO_ROOT / doc).parent.joinpath(target).exists():
                out.append(f"{doc}:{line}: link ({target}): no such file or folder")
    return out, seen


def links(text):
    """[(line number, target)] of the relative links [text](target) outside fenced blocks."""
    inline, _ = _blocks(text)
    return [(inline.count("\n", 0, m.start()) + 1, m.group(1))
            for m in re.finditer(r"\]\(([^)\s#]+)", inline)
            if not re.match(r"[a-z]+:", m.group(1))]


def test_every_backticked_name_of_the_docs_exists():
    found, seen = problems(_docs())
    assert sum(len(links(text)) for text in _docs().values()) > 5, "no links found in the docs"
    assert seen > 1000, f"only {seen} code spans found in the docs: is the extraction broken?"
    assert not found, "the docs name what does not exist:\n" + "\n".join(found)


@pytest.mark.parametrize("line, stale", [
    ("see `tests/test_round12.py`", "tests/test_round12.py"),
    ("see `autograder/specs/nosuch.py`", "autograder/specs/nosuch.py"),
    ("the `autograder/nosuchfolder/`", "autograder/nosuchfolder/"),
    ("see `test_no_such_topic.py`", "test_no_such_topic.py"),
    ("the files `test_no_such_topic_*`", "test_no_such_topic_*"),
    ("under `autograder/no_such_folder`", "autograder/no_such_folder"),
    ("`notebooks/NN_<topic>.md`", "notebooks/NN_<topic>.md"),
    ("`rules._no_such_helper` does it", "rules._no_such_helper"),
    ("`Trial.no_such_method` does it", "Trial.no_such_method"),
    ("`linear.svm_loss_fast`", "linear.svm_loss_fast"),
    ("`specs/optim._no_such_helper`", "specs/optim._no_such_helper"),
    ("`make test-everything`", "make test-everything"),
    ("`python -m autograder grade --no-such-option`", "--no-such-option"),
    ("`python -m autograder nbgrader rebuild`", "rebuild"),
    ("`python -m autograder regrade`", "regrade"),
    ("`--no-such-option 3`", "--no-such-option"),
    ("```bash\nmake deploy   # ship it\n```", "deploy"),
    ("see [the notes](notes-unit11.md)", "notes-unit11.md"),
])
def test_a_stale_token_is_named_with_its_doc_and_line(line, stale):
    text = "# A doc\n\n" + line + "\n"
    where = next(n for n, text_line in enumerate(text.splitlines(), 1) if stale in text_line)
    found, _ = problems({"docs/example.md": text})
    assert len(found) == 1 and found[0].startswith(f"docs/example.md:{where}:"), found
    assert stale in found[0], found


@pytest.mark.parametrize("line", [
    "`autograder/tests/test_hints.py`, `tests/test_hints.py`, `mistakes/_edited.py`",
    "`autograder/specs/<module>.py`, `autograder/tests/test_unitNN_grading.py`",
    "`specs/toolkit.py`, `coursework/linear.py`, `autograder/hidden/`, `solutions/coursework/M.py`",
    "`rules.Program`, `Trial.check`, `worker.LineCounter`, `linear.svm_loss_naive`",
    "`autograder.grade_many.grade_many`, `rnn.CharRNN.sample`, `specs/optim.trajectory`",
    "`make test-gpu`, `python -m autograder grade --device cuda --unit 01`",
    "`python -m autograder nbgrader sync . --assignment 01_linear`, `--workers 2`",
    "`np.fromiter`, `_me.SCALES`, `torch.nn.functional`, `course/exchange/`, `OUT/grades.csv`",
    "`make lab`, `make stubs`, [the design](design.md), [the README](../README.md#quick-start)",
])
def test_names_that_exist_or_are_not_ours_pass(line):
    found, seen = problems({"docs/example.md": line + "\n"})
    assert seen >= 2 and not found, found
