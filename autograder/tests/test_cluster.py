"""grade-many on Dask (issue 20): a local Dask cluster of worker processes grades like the local
grade-many, survives workers that die, resumes after an interruption; archives are safe."""

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from autograder import cli, cluster
from autograder.grade_many import REPORTS, grade_many, report_name
from autograder.paths import REFERENCE_PACKAGE, REPO_ROOT, STUBS_PACKAGE
from autograder.sandbox import Limits
from autograder.tests.cluster_helpers import MARKERS, dying_task
from autograder.tests.test_hostile import materialize

distributed = pytest.importorskip("distributed", reason="make test installs '.[cluster]'")

HOSTILE = Path(__file__).resolve().parent / "hostile"
LIMITS = Limits(call_seconds=10.0, cpu_seconds=10.0)
UNITS = ["01"]


def _copy(source, folder):
    shutil.copytree(source, folder / "coursework", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _base(root, name):
    folder = root / name
    shutil.copytree(HOSTILE / "_base", folder)
    return folder


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """Two worker processes on this machine, shared by the tests of this module, configured as
    ``cluster`` configures ``local:N``, except that a task that kills two workers is given up
    (allowed-failures 1)."""
    import dask

    markers = tmp_path_factory.mktemp("markers")
    os.environ[MARKERS] = str(markers)  # inherited by the worker processes
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.worker.daemon": False,
                          "distributed.scheduler.worker-saturation": 1.0}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", memory_limit=0,
                                         silence_logs=50)
    try:
        yield local, markers
    finally:
        local.close()
        os.environ.pop(MARKERS, None)


def _report(out, name):
    return json.loads((Path(out) / REPORTS / report_name(name)).read_text())


def _statuses(result):
    return {key: (entry["status"], round(entry["score"], 9))
            for unit in result["units"].values() for key, entry in unit["functions"].items()}


def test_dask_grades_like_local_grade_many(tmp_path, dask_cluster):
    local, _ = dask_cluster
    root = tmp_path / "submissions"
    root.mkdir()
    _copy(REFERENCE_PACKAGE, root / "reference")
    _copy(STUBS_PACKAGE, root / "stubs")
    materialize("read_solutions", root, "marker-cluster-test", {})  # hostile, and holds a link
    materialize("segfault", root, "marker-cluster-test", {})  # crashes its sandboxed process
    (root / "empty").mkdir()  # no coursework package
    (root / "notes.txt").write_text("not a folder")  # refused on the client, never sent
    here = grade_many(root, tmp_path / "local", units=UNITS, workers=2, limits=LIMITS,
                      progress=False)
    there = cluster.grade_many_dask(root, tmp_path / "dask", scheduler=local.scheduler_address,
                                    units=UNITS, limits=LIMITS, progress=False)
    assert [r["student"] for r in there] == [r["student"] for r in here]
    for a, b in zip(here, there):
        assert (a["student"], a["total"], a["max"], a["units"]) == \
            (b["student"], b["total"], b["max"], b["units"])
        assert a["status"].split(":")[0] == b["status"].split(":")[0]
        mine = _report(tmp_path / "local", a["student"])
        theirs = _report(tmp_path / "dask", a["student"])
        assert _statuses(mine) == _statuses(theirs), a["student"]
        assert theirs["submission"] == str(root / a["student"])
    by_name = {r["student"]: r for r in there}
    assert by_name["reference"]["total"] == by_name["reference"]["max"] > 0
    assert by_name["stubs"]["total"] == 0 < by_name["stubs"]["max"]
    segfault = _report(tmp_path / "dask", "segfault")
    assert "crashed" in {s for s, _ in _statuses(segfault).values()}
    assert by_name["empty"]["status"].startswith("ungradable")
    assert by_name["notes.txt"]["status"] == "refused: not a folder"
    assert (tmp_path / "dask" / "grades.csv").read_text() == \
        (tmp_path / "local" / "grades.csv").read_text()


def test_dead_workers_regrade_elsewhere_and_a_killer_is_crashed(tmp_path, dask_cluster):
    local, markers = dask_cluster
    root = tmp_path / "submissions"
    root.mkdir()
    names = ["a1", "a2", "a3", "dies_once", "kills_all"]
    for name in names:
        _base(root, name)
    (root / "dies_once" / "coursework" / "KILL_ONCE").write_text("")
    (root / "kills_all" / "coursework" / "KILL_ALWAYS").write_text("")
    out = tmp_path / "out"
    rows = cluster.grade_many_dask(root, out, scheduler=local.scheduler_address, units=UNITS,
                                   limits=LIMITS, progress=False, tries=2, task=dying_task)
    assert (markers / "killed-once").exists()  # a worker really died in the middle of the batch
    assert [r["student"] for r in rows] == names  # every student once, in order
    reports = sorted(p.name for p in (out / REPORTS).iterdir())
    assert reports == sorted(report_name(n) for n in names)  # exactly one report each
    assert not [p for p in out.rglob(".*")]  # no half-written file
    by_name = {r["student"]: r for r in rows}
    full = by_name["a1"]["total"]
    assert full > 0 and by_name["a1"]["status"] == "graded"
    assert by_name["dies_once"]["total"] == full and by_name["dies_once"]["status"] == "graded"
    assert by_name["kills_all"]["status"].startswith("crashed")
    assert by_name["kills_all"]["total"] == 0
    lines = (out / "grades.csv").read_text().splitlines()
    assert len(lines) == 1 + len(names)
    assert sum(line.startswith("kills_all,") for line in lines) == 1


RUNNER = """
import signal
import sys
# As in a terminal: started in the background by a non-interactive shell (some CI runners), a
# process inherits SIGINT ignored, and Ctrl-C would not reach it.
signal.signal(signal.SIGINT, signal.default_int_handler)
from autograder import cluster
from autograder.sandbox import Limits
from autograder.tests.cluster_helpers import slow_task
cluster.grade_many_dask(sys.argv[1], sys.argv[2], scheduler=sys.argv[3], units=["01"],
                        limits=Limits(call_seconds=10.0, cpu_seconds=10.0), progress=False,
                        in_flight=1, task=slow_task)
"""


def test_resume_after_interruption(tmp_path, dask_cluster):
    local, _ = dask_cluster
    root = tmp_path / "submissions"
    root.mkdir()
    names = [f"s{i}" for i in range(5)]
    for name in names:
        _base(root, name)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    # stderr to a file, not a pipe: a pipe nobody reads yet would block a chatty run
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(root), str(out),
                                 local.scheduler_address], env=env, cwd=REPO_ROOT,
                                stderr=err, text=True)
    # Wait for the first report however loaded the machine is (a shared CI runner can take a
    # minute to start a Dask worker's grading), or for the run to end on its own.
    deadline = time.monotonic() + 300
    reports = out / REPORTS
    while (time.monotonic() < deadline and proc.poll() is None
           and not (reports.is_dir() and any(reports.iterdir()))):
        time.sleep(0.1)
    if proc.poll() is not None and not (reports.is_dir() and any(reports.iterdir())):
        pytest.fail("the run ended before writing any report:\n" + log.read_text()[-3000:])
    # Ctrl-C, pressed again every half second until the run stops, as a person would.
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
    proc.wait(timeout=30)
    stderr = log.read_text()
    assert proc.returncode != 0, stderr[-2000:]
    first = {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in reports.iterdir()}
    assert 1 <= len(first) < len(names), stderr[-3000:]  # what the run said, if it ended early
    assert not (out / "grades.csv").exists()
    for text in (t for _, t in first.values()):
        assert json.loads(text)["total"] > 0  # finished reports, whole
    rows = cluster.grade_many_dask(root, out, scheduler=local.scheduler_address, units=UNITS,
                                   limits=LIMITS, progress=False)
    assert [r["student"] for r in rows] == names
    assert all(r["status"] == "graded" and r["total"] == rows[0]["total"] > 0 for r in rows)
    for name, (mtime, text) in first.items():  # not graded again
        assert (reports / name).stat().st_mtime_ns == mtime
        assert (reports / name).read_text() == text


def test_too_large_submission_is_refused_not_sent(tmp_path, dask_cluster):
    local, _ = dask_cluster
    root = tmp_path / "submissions"
    root.mkdir()
    big = _base(root, "big")
    (big / "coursework" / "data_blob.py").write_bytes(b"#" * (3 << 20))
    (big / "coursework" / "KILL_ALWAYS").write_text("")  # sent, it would be 'crashed'
    rows = cluster.grade_many_dask(root, tmp_path / "out", scheduler=local.scheduler_address,
                                   units=UNITS, limits=LIMITS, progress=False,
                                   max_bytes=1 << 20, task=dying_task)
    assert rows[0]["status"].startswith("refused: the submission is larger than the limit of 1 MB")
    assert rows[0]["total"] == 0
    assert "refused" in (tmp_path / "out" / "grades.csv").read_text()


def test_cli_local_cluster(tmp_path, capsys):
    root = tmp_path / "submissions"
    root.mkdir()
    _base(root, "alice")
    code = cli.main(["grade-many", "--submissions", str(root), "--out", str(tmp_path / "out"),
                     "--scheduler", "local:1", "--unit", "01", "--quiet"])
    assert code == 0
    report = _report(tmp_path / "out", "alice")
    assert report["total"] == report["max"] > 0
    assert "1 students" in capsys.readouterr().out


def test_without_dask_scheduler_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    root = tmp_path / "submissions"
    root.mkdir()
    code = cli.main(["grade-many", "--submissions", str(root), "--out", str(tmp_path / "out"),
                     "--scheduler", "local:2"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "pip install -e '.[cluster]'" in err


def test_pack_sends_only_regular_files_and_folder_names(tmp_path):
    sub = _base(tmp_path, "s")
    cw = sub / "coursework"
    os.symlink(REFERENCE_PACKAGE / "linear.py", cw / "stolen.py")
    os.mkfifo(cw / "pipe.py")
    (cw / "linear").mkdir()
    (cw / "linear" / "inside.py").write_text("x = 1\n")
    with tarfile.open(fileobj=io.BytesIO(cluster.pack(sub))) as tar:
        members = {m.name: m for m in tar}
    assert "coursework/stolen.py" not in members and "coursework/pipe.py" not in members
    assert members["coursework/linear"].isdir()
    assert "coursework/linear/inside.py" not in members
    assert members["coursework/linear.py"].isreg()
    assert cluster.pack(tmp_path / "nothing-here") == cluster.pack(tmp_path / "s" / "coursework")
    with pytest.raises(cluster.TooLarge):
        cluster.pack(sub, limit=100)


def _archive(*members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name, data=b"x = 1\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize("member", [
    _file("/etc/evil.py"), _file("coursework/../evil.py"), _file("../evil.py"),
    _file("coursework/sub/deep.py"), _file("other/x.py"), _file("coursework//x.py"),
    _link("coursework/linear.py", "/etc/passwd"),
    _link("coursework/linear.py", "coursework/__init__.py", tarfile.LNKTYPE),
])
def test_unpack_refuses_unsafe_members(tmp_path, member):
    into = tmp_path / "into"
    into.mkdir()
    with pytest.raises(ValueError):
        cluster.unpack(_archive(member), into)
    assert not (tmp_path / "evil.py").exists() and not Path("/etc/evil.py").exists()


def test_unpack_bounds_count_and_size(tmp_path):
    many = [_file(f"coursework/m{i}.py", b"") for i in range(cluster._MEMBER_LIMIT + 1)]
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="members"):
        cluster.unpack(_archive(*many), tmp_path / "a")
    assert not any((tmp_path / "a").iterdir())  # refused before anything was written
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match="MB"):
        cluster.unpack(_archive(_file("coursework/big.py", b"#" * 4096)), tmp_path / "b",
                       limit=1024)
    dir_info = tarfile.TarInfo("coursework/x")
    dir_info.type = tarfile.DIRTYPE
    (tmp_path / "d").mkdir()  # a folder member before its parent's: the parent is made
    cluster.unpack(_archive((dir_info, None)), tmp_path / "d")
    assert (tmp_path / "d" / "coursework" / "x").is_dir()
    (tmp_path / "e").mkdir()  # a file, then a folder of the same name: refused, not a crash
    with pytest.raises(ValueError, match="cannot be unpacked"):
        cluster.unpack(_archive(_file("coursework/x"), (dir_info, None)), tmp_path / "e")
    (tmp_path / "c").mkdir()
    sub = _base(tmp_path, "s")
    cluster.unpack(cluster.pack(sub), tmp_path / "c")
    assert (tmp_path / "c" / "coursework" / "linear.py").read_bytes() == \
        (sub / "coursework" / "linear.py").read_bytes()


def test_dockerfile_copies_what_the_grader_needs():
    text = (REPO_ROOT / "Dockerfile").read_text()
    copied = {part for line in text.splitlines() if line.startswith("COPY ")
              for part in line.split()[1:-1]}
    for needed in ("autograder", "coursework", "solutions", "pyproject.toml"):
        assert needed in copied
        assert (REPO_ROOT / needed).exists()
    assert "bubblewrap" in text and ".[cluster]" in text
    assert "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=2" in text
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert "solutions" not in ignored and "autograder" not in ignored


def _docker_daemon():
    docker = shutil.which("docker")
    if docker is None:
        return "docker is not installed"
    probe = subprocess.run([docker, "info"], capture_output=True, text=True)
    return None if probe.returncode == 0 else "no Docker daemon: " + probe.stderr.strip()[:200]


@pytest.mark.skipif(_docker_daemon() is not None, reason=f"the image cannot be built here "
                    f"({_docker_daemon()})")
def test_image_builds_and_grades_the_reference():
    tag = "dlcourse-grader:test"
    subprocess.run(["docker", "build", "-t", tag, str(REPO_ROOT)], check=True, timeout=1800)
    run = subprocess.run(["docker", "run", "--rm", "--security-opt", "seccomp=unconfined",
                          "--security-opt", "apparmor=unconfined", tag, "python", "-m",
                          "autograder", "grade", "--submission", "solutions", "--unit", "01"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    total = re.search(r"Total: ([\d.]+) / ([\d.]+)", run.stdout)
    assert total and total.group(1) == total.group(2) and float(total.group(2)) > 0
