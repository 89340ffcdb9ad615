"""The notebook kernel of ``nbgrader autograde``, contained like the grader's worker.

The course's ``nbgrader_config.py`` (written by ``python -m autograder nbgrader build``) makes
nbgrader start every student notebook with the kernel spec ``autograder-contained``, whose argv is
``python -m autograder.contained_kernel --course ROOT {connection_file}``, over ``ipc`` (Unix
socket) transport in a folder of its own. This program, run by nbgrader as the instructor, starts
the real kernel (``ipykernel_launcher``) inside bubblewrap:

* the file system is the system, Python, and the packages the notebook needs (ipykernel and what
  it needs, matplotlib, scikit-learn for the data helpers, and the unit's ``packages``), read-only;
  the student's own folder ``autograded/<student>/<assignment>`` (the kernel's working folder)
  is visible read-only (nbgrader writes there as the instructor afterwards, and a link planted
  by the kernel would redirect that write); a private size-capped /tmp and /dev/shm are the only
  writable places; nothing else of the course is visible: not ``source/``, not the gradebook,
  not ``submitted/``, not other students, not the repository (solutions, hidden tests, the
  grader's files);
* no network (its own network namespace): the kernel's sockets are Unix sockets in a small tmpfs
  of the sandbox, which nbgrader reaches through links to ``/proc/PID/root/...``, so the kernel
  has no writable place on the host at all; its own PID namespace (every process dies with the
  kernel); a user namespace without any capability;
* a control group per kernel where the machine allows (memory, processes, CPU share), rlimits
  otherwise;
* ``autograder`` inside is a small stand-in whose ``check`` says that the cell is scored by the
  grading engine: the trusted scores are written by ``python -m autograder nbgrader sync``, which
  regrades what the student handed in (``submitted/``) in the worker, so nothing the kernel does
  changes them.

Without bubblewrap the kernel is refused (exit status 3, with the reason): run autograde on a
Linux machine with bubblewrap, or rely on ``sync`` alone (see the README).
"""

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from . import sandbox

KERNEL_NAME = "autograder-contained"
NOTEBOOK_PACKAGES = ("ipykernel", "matplotlib", "scikit-learn")
MEMORY_MB = 4096
PROCESSES = 256

SHIM = '''\
"""Stand-in for the course's ``autograder`` inside the contained autograde kernel."""


def load_ipython_extension(ipython):
    """``%load_ext autograder`` at the top of every notebook: nothing to load here (the cells
    a student runs in JupyterLab stop on an unwritten function with one line; autograding
    only records what the notebook does)."""


def check(name, *args, **kwargs):
    """Say that this cell is scored outside the notebook; raise so that nothing is credited
    here (the trusted score comes from the grading engine at ``nbgrader sync``)."""
    raise AssertionError(
        f"check({name!r}) is not run during autograding: this cell is scored by the course's "
        "grading engine, on the files you handed in (your score for it is in the gradebook)")
'''


def _kernel_folder(course, cwd):
    """The kernel's working folder, checked: ``autograded/<student>/<assignment>`` (or an
    instructor's ``source/<assignment>``) of the course, reached without a link; SystemExit
    otherwise."""
    course, cwd = Path(course).resolve(), Path(cwd)
    try:
        rel = cwd.relative_to(course)
    except ValueError:
        rel = None
    if rel is not None and not any((course / Path(*rel.parts[:i + 1])).is_symlink()
                                   for i in range(len(rel.parts))):
        if (len(rel.parts) == 3 and rel.parts[0] == "autograded") or \
                (len(rel.parts) == 2 and rel.parts[0] == "source"):
            return cwd
    sys.stderr.write(f"autograder contained kernel: refusing to run in {cwd}: only notebooks of "
                     f"{course}/autograded/<student>/<assignment> (and source/) are run\n")
    sys.exit(3)


def _assignment_packages(course, cwd):
    """The unit's declared packages (the assignment is named like the unit)."""
    from .units import UNITS, unit_packages

    assignment = Path(cwd).name
    return unit_packages([assignment]) if assignment in UNITS else ("numpy",)


def kernel_command(python, connection_file, folder, sockets, shim, packages):
    """The bubblewrap argv of the kernel. The student's folder is read-only: nbgrader, as the
    instructor, writes into it after the kernel ends, and a link the kernel planted there would
    redirect that write (onto the gradebook, say). What the notebook writes goes to /tmp."""
    entries, sites = sandbox.package_paths(tuple(packages))
    argv = sandbox.filesystem_argv(python, entries)
    if os.path.isdir("/etc/fonts"):  # matplotlib's text
        argv += ["--ro-bind", "/etc/fonts", "/etc/fonts"]
    folder, connection_file = Path(folder), Path(connection_file)
    argv += ["--ro-bind", str(shim), "/opt/autograder-shim",
             "--ro-bind", str(connection_file), "/opt/connection.json",
             "--ro-bind", str(folder), str(folder),
             "--perms", "0700", "--size", str(1 << 20), "--tmpfs", str(sockets),
             "--unshare-all", "--unshare-user", "--cap-drop", "ALL",
             "--die-with-parent", "--new-session", "--chdir", str(folder),
             python, "-S", "-B", "-m", "ipykernel_launcher", "-f", "/opt/connection.json",
             "--HistoryManager.hist_file=:memory:"]
    env = {
        "PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join(["/opt/autograder-shim", *map(str, sites)]),
        # a parent ipykernel never polls (1) and that stops its eight-line "Ctrl-C will not
        # work" note, which nbgrader's autograde printed once per student notebook
        "JPY_PARENT_PID": "1",
    }
    return argv, env


PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


def _link_sockets(info_fd, info):
    """Make the kernel's sockets reachable by nbgrader: they live in a tmpfs of the sandbox at
    the path the connection file names (so the kernel writes nothing on the host), and the same
    path on the host gets a link into the sandbox's root (/proc/PID/root). Returns the links."""
    import select

    data = b""
    ready, _, _ = select.select([info_fd], [], [], 20)
    while ready and len(data) < 4096:
        chunk = os.read(info_fd, 4096)
        if not chunk:
            break
        data += chunk
        if b"}" in data:
            break
        ready, _, _ = select.select([info_fd], [], [], 5)
    os.close(info_fd)
    try:
        child = int(json.loads(data.decode())["child-pid"])
    except (ValueError, KeyError, TypeError):
        return []
    links = []
    for key in PORTS:
        path = f"{info['ip']}-{info[key]}"
        try:
            os.symlink(f"/proc/{child}/root{path}", path)
            links.append(path)
        except OSError:
            pass
    return links


def _limits():
    mb = 1 << 20
    for which, value in ((resource.RLIMIT_FSIZE, 64 * mb), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.contained_kernel")
    parser.add_argument("--course", required=True)
    parser.add_argument("connection_file")
    args = parser.parse_args(argv)
    if sandbox.bubblewrap_path() is None:
        sys.stderr.write("autograder contained kernel: bubblewrap (bwrap) is not usable here, so "
                         "student notebooks are not run (install bubblewrap; the scores of "
                         "`python -m autograder nbgrader sync` do not need the notebooks run)\n")
        return 3
    cwd = os.getcwd()
    folder = _kernel_folder(args.course, cwd)
    connection_file = Path(args.connection_file).resolve()
    info = json.loads(connection_file.read_text())
    if info.get("transport") != "ipc":
        sys.stderr.write("autograder contained kernel: the kernel has no network, so its "
                         "transport must be ipc (KernelManager.transport, set by the course's "
                         "nbgrader_config.py)\n")
        return 3
    sockets = Path(info["ip"]).parent
    packages = tuple(dict.fromkeys(NOTEBOOK_PACKAGES + _assignment_packages(args.course, cwd)))
    shim = Path(tempfile.mkdtemp(prefix="autograder-shim-"))
    try:
        (shim / "autograder").mkdir()
        (shim / "autograder" / "__init__.py").write_text(SHIM)
        os.chmod(shim, 0o755)
        argv, env = kernel_command(sys.executable if not os.path.islink(sys.executable)
                                   else os.path.realpath(sys.executable), connection_file,
                                   folder, sockets, shim, packages)
        jail = sandbox.Jail(sandbox.Limits(memory_mb=MEMORY_MB, processes=PROCESSES))

        def setup():
            if jail.preexec:
                jail.preexec()
            _limits()

        info_r, info_w = os.pipe()
        argv[1:1] = ["--info-fd", str(info_w)]
        try:
            proc = subprocess.Popen(argv, env=env, preexec_fn=setup, stdin=subprocess.DEVNULL,
                                    pass_fds=(info_w,))
        finally:
            os.close(info_w)
        links = _link_sockets(info_r, info)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: proc.kill())
        try:
            return proc.wait()
        finally:
            jail.close()
            for link in links:
                try:
                    os.unlink(link)
                except OSError:
                    pass
    finally:
        shutil.rmtree(shim, ignore_errors=True)


def kernel_spec(course):
    """The kernel.json of the contained kernel for ``course``."""
    return {"argv": [sys.executable, "-m", "autograder.contained_kernel",
                     "--course", str(Path(course).resolve()), "{connection_file}"],
            "display_name": "Python 3 (contained autograde)", "language": "python",
            "interrupt_mode": "message", "metadata": {"debugger": False}}


if __name__ == "__main__":
    sys.exit(main())
