"""docs/syllabus.md, the map from the lectures' topics to the notebooks, stays true to them: every
section it cites exists in that unit's notebook, every function it names is graded, every graded
function appears in it, every unit has a table, and its counts are those of its tables. A
renamed section, a new graded function or a new unit fails here until the map says so."""

import fnmatch
import json
import re
from collections import Counter

import pytest

from autograder.notebook_check import graded_names
from autograder.paths import REPO_ROOT
from autograder.units import UNITS

SYLLABUS = REPO_ROOT / "docs" / "syllabus.md"
DEPTHS = ("graded", "demo", "text", "mentioned")


def _tables():
    """{unit number: [(topic, where, depth), ...]} from the '## Unit NN: ...' tables."""
    tables, unit = {}, None
    for line in SYLLABUS.read_text().splitlines():
        heading = re.match(r"## Unit (\d\d):", line)
        if heading:
            unit = heading.group(1)
            tables[unit] = []
        elif line.startswith("## "):
            unit = None
        elif unit and line.startswith("| ") and not line.startswith(("| topic", "| ---")):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            assert len(cells) == 3, line
            tables[unit].append(tuple(cells))
    return tables


def _headings():
    """{unit number: (numbered '## k.' sections, '###' subsection titles)} of each notebook."""
    out = {}
    for path in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        sections, subsections = set(), []
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for line in "".join(cell["source"]).splitlines():
                numbered = re.match(r"## (\d+)\. ", line)
                if numbered:
                    sections.add(numbered.group(1))
                elif line.startswith("### "):
                    subsections.append(line[4:].strip())
        out[path.name[:2]] = (sections, subsections)
    return out


def _named(depth_cell):
    """The graded names a depth cell gives: `m.f`, `m.{a,b}_x/y`, `m.f*`, and bare `g` meaning
    the module of the name before it."""
    names, module = [], None
    for token in re.findall(r"`([^`]+)`", depth_cell):
        if "." in token and token.split(".")[0].islower():
            module, rest = token.split(".", 1)
        else:
            rest = token
        assert module, f"{token!r} names no module"
        braces = re.match(r"(.*)\{([^}]*)\}(.*)", rest)
        stems = [braces.group(1) + b + braces.group(3) for b in braces.group(2).split(",")] \
            if braces else [rest]
        for stem in stems:
            first, *others = stem.split("/")
            names.append(f"{module}.{first}")
            base = first.rsplit("_", 1)[0]
            names += [f"{module}.{base}_{other}" for other in others]
    return names


@pytest.fixture(scope="module")
def tables():
    return _tables()


def test_every_unit_has_a_table(tables):
    assert sorted(tables) == sorted(unit[:2] for unit in UNITS)


def test_every_cited_section_exists(tables):
    headings = _headings()
    missing = []
    for unit, rows in tables.items():
        for topic, where, _ in rows:
            for group in where.split(";"):
                notebook = re.match(r"\s*(\d\d)\b", group)
                if not notebook:
                    continue
                sections, subsections = headings[notebook.group(1)]
                for number, title in re.findall(r"§(\d+)(?: \(([^)]*)\))?", group):
                    if number not in sections:
                        missing.append(f"{topic}: {notebook.group(1)} has no section {number}")
                    if title and not any(s.startswith(title) for s in subsections):
                        missing.append(f"{topic}: {notebook.group(1)} has no subsection {title!r}")
    assert not missing, "\n".join(missing)


def test_every_named_function_is_graded_and_every_graded_function_is_named(tables):
    graded = graded_names()
    every = [k for keys in graded.values() for k in keys]
    # a topic is mapped once, in the unit that first teaches it: unit 01's softmax row also
    # names unit 02's losses.softmax_loss, so names are matched across the whole map
    named = [n for rows in tables.values() for _, _, depth in rows for n in _named(depth)]
    unknown = [n for n in named if not fnmatch.filter(every, n)]
    unnamed = [k for k in every if not any(fnmatch.fnmatchcase(k, n) for n in named)]
    assert not unknown, "named in docs/syllabus.md but not graded:\n" + "\n".join(unknown)
    assert not unnamed, "graded but missing from docs/syllabus.md:\n" + "\n".join(unnamed)


def test_the_counts_are_those_of_the_tables(tables):
    depths = Counter(depth.split(":")[0].split(" ")[0] for rows in tables.values()
                     for _, _, depth in rows)
    assert set(depths) <= set(DEPTHS), depths
    total = sum(depths.values())
    stated = re.search(r"(\d+) topics: (\d+) graded, (\d+) demo, (\d+) text, (\d+) mentioned",
                       SYLLABUS.read_text())
    assert stated, "docs/syllabus.md states no counts"
    assert [int(n) for n in stated.groups()] == [total] + [depths[d] for d in DEPTHS]
    assert f"merged into {total} topics" in SYLLABUS.read_text()


def test_named_expansion_reads_the_forms_the_map_uses():
    assert _named("graded: `layers.{relu,elu}_forward/backward`") == [
        "layers.relu_forward", "layers.relu_backward", "layers.elu_forward", "layers.elu_backward"]
    assert _named("`normalization.batchnorm_forward/backward/backward_alt`") == [
        "normalization.batchnorm_forward", "normalization.batchnorm_backward",
        "normalization.batchnorm_backward_alt"]
    assert _named("`generative.VAE`, `reparameterize`") == ["generative.VAE",
                                                            "generative.reparameterize"]
