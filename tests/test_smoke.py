"""Real-browser smoke test (``make smoke``): the course as a student and an instructor meet it.

Debian's chromium, driven by the ``playwright`` package (``executable_path``: no browser is
downloaded; ``make smoke`` installs both when missing):

1. ``make lab`` (the student's command; as root it must pass ``--allow-root``) serves a copy of
   notebook 01 and of the coursework stubs on loopback. The test runs the notebook up to the
   first check cell (TODO, one line, no traceback of the grader), writes the function into the
   copy, runs the check again (PASS) and the next cell that calls the function (the kernel sees
   the saved file), and sees no news popup.
2. A freshly built nbgrader course is served the README's way, ``cd course &&
   ../.venv/bin/jupyter lab``, with the environment *not* activated (its programs are not on
   PATH); the Formgrader lists the course's assignments, warns about no missing exchange
   directory, and the gradebook gets its alembic version.

Any HTTP status >= 500 or page error fails the test. Screenshots go to ``$SMOKE_SHOTS`` (default
``smoke-screenshots/`` in the repository), named in the output. Every process the test starts is
stopped, and the test checks that none is left.
"""

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("SMOKE_SHOTS") or REPO / "smoke-screenshots")
MARK = "DLCOURSE_SMOKE_RUN"
NOTEBOOK = "01_linear_classifier.ipynb"
CHECK_CELL = 'check("linear.svm_loss_naive")'

sync_api = pytest.importorskip("playwright.sync_api", reason="run `make smoke`: it installs it")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marked_pids(run_id):
    """Processes whose environment carries this run's mark (everything the test started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if f"{MARK}={run_id}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class Server:
    """A JupyterLab started by ``command`` in its own process group, stopped with all it
    started (kernels included)."""

    def __init__(self, command, cwd, env, log):
        self.run_id = env[MARK]
        self.port, self.token = _free_port(), uuid.uuid4().hex
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = (f"--no-browser --ip=127.0.0.1 --port={self.port} "
                     f"--IdentityProvider.token={self.token} --ServerApp.port_retries=0")
        self.log_path = log
        self.log = open(log, "w")
        command = [part.replace("@ARGS@", self.args) for part in command]
        if "@ARGS@" not in " ".join(command) and command[0] != "make":
            command = command + self.args.split()
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=90):
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterLab exited ({self.process.returncode}):\n"
                                     + Path(self.log_path).read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}",
                                            timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("JupyterLab did not answer in time:\n"
                             + Path(self.log_path).read_text()[-3000:])

    def url(self, path):
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"

    def stop(self):
        """SIGTERM to the server's process group (the server shuts its kernels down), then
        SIGKILL to whatever of this run is left (kernels run in sessions of their own)."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 20
        while _marked_pids(self.run_id) and time.monotonic() < deadline:
            time.sleep(0.3)
        for pid in _marked_pids(self.run_id):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def run_env(tmp_path):
    """The environment of every process the test starts: marked, with private Jupyter folders,
    and without this environment's programs on PATH (nothing activated)."""
    run_id = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != VENV_BIN.resolve())
    jupyter = tmp_path / "jupyter"
    env.update({MARK: run_id, "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
                "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(jupyter / "settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
                "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"})
    env.pop("PYTHONPATH", None)
    yield env, run_id
    left = _marked_pids(run_id)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes the smoke test started were still running: {left}"


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            # No background networking: on a machine with a closed network Chromium's own
            # connections (updates, sync, lookups) fail many at a time and slow everything.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        try:
            yield chromium
        finally:
            chromium.close()


def _watch(page, problems):
    page.on("response", lambda r: r.status >= 500 and problems.append(
        f"HTTP {r.status} {r.request.method} {r.url}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


def _cell(page, text):
    return page.locator(".jp-Notebook .jp-CodeCell", has_text=text).first


def _centre(page, locator):
    """Scroll the cell to the middle of the notebook (twice: rendering may move it)."""
    for _ in range(2):
        locator.evaluate("e => e.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(700)


def _run_cell(page, text):
    cell = _cell(page, text)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    return cell


# Generous waits: they cost nothing when things work, and a loaded CI machine starts a kernel and
# imports NumPy and Matplotlib slowly (SMOKE_WAIT_S changes it). A wait that runs out says what
# the page showed.
WAIT_MS = int(float(os.environ.get("SMOKE_WAIT_S", "300")) * 1000)


def _diagnose(page, log_path, what):
    """What the notebook showed (each code cell's first line and output) and the server log."""
    try:
        cells = page.eval_on_selector_all(
            ".jp-Notebook .jp-CodeCell",
            "cells => cells.map(c => {"
            " const src = (c.querySelector('.jp-InputArea-editor') || {}).innerText || '';"
            " const out = (c.querySelector('.jp-OutputArea') || {}).innerText || '';"
            " const n = (c.querySelector('.jp-InputPrompt') || {}).innerText || '';"
            " return n + ' ' + src.split('\\n')[0] + (out ? '\\n    -> ' + out.slice(0, 300) : '');"
            " })")
        status = page.eval_on_selector(".jp-Notebook-ExecutionIndicator",
                                       "s => s.getAttribute('data-status')")
    except Exception as error:  # the page itself may be gone
        cells, status = [f"(could not read the page: {error})"], "?"
    try:
        _shot(page, "failure")
    except Exception as error:
        cells.append(f"(no screenshot: {error})")
    return (f"{what}\nkernel status: {status}\ncells:\n" + "\n".join(cells[:40])
            + "\n--- server log (end) ---\n" + Path(log_path).read_text()[-3000:])


def _run_all(page, attempts=3):
    """Run > Run All Cells, until a cell is seen queued or run. (Once in a CI run the menu's
    click ran nothing: every prompt stayed "[ ]" and the kernel idle for the whole wait.)"""
    started = ("s => s.some(p => /[*0-9]/.test(p.innerText))")
    for _ in range(attempts):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        for _ in range(60):  # up to 30 s for the first prompt to show [*] or a number
            if page.eval_on_selector_all(".jp-Notebook .jp-InputPrompt", started):
                return
            page.wait_for_timeout(500)
        page.keyboard.press("Escape")  # a menu left open would swallow the next click


def _wait_output(page, cell, text, log_path):
    try:
        cell.locator(".jp-OutputArea-output", has_text=text).wait_for(timeout=WAIT_MS)
    except sync_api.TimeoutError:
        raise AssertionError(_diagnose(page, log_path, f"no output with {text!r} in time"))


def _wait_idle(page, timeout=WAIT_MS):
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }", timeout=timeout)


def test_notebook_check_cell_todo_then_pass(tmp_path, run_env, browser):
    env, _ = run_env
    work = tmp_path / "student"
    shutil.copytree(REPO / "coursework", work / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (work / "notebooks").mkdir()
    nb = json.loads((REPO / "notebooks" / NOTEBOOK).read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (work / "notebooks" / NOTEBOOK).write_text(json.dumps(nb))
    env = dict(env, PYTHONPATH=str(work))  # the kernel imports the copy of the stubs
    server = Server(["make", "--no-print-directory", "-C", str(REPO), "lab",
                     f"LAB_DIR={work / 'notebooks'}", "LAB_ARGS=@ARGS@"], REPO, env,
                    tmp_path / "lab.log")
    problems = []
    try:
        server.wait_ready()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _watch(page, problems)
        page.goto(server.url(f"/lab/tree/{NOTEBOOK}"))
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=WAIT_MS)
        _wait_idle(page)
        # Run every cell: execution stops at the first check cell, whose function is a stub.
        _run_all(page)
        check = _cell(page, CHECK_CELL)
        _wait_output(page, check, "TODO", server.log_path)
        _wait_idle(page)
        _centre(page, check)
        _shot(page, "1-check-todo")
        output = check.locator(".jp-OutputArea").inner_text()
        assert "TODO    linear.svm_loss_naive" in output
        assert "coursework/linear.py" in output
        assert "AssertionError: 1 of the 1 checked functions did not pass" in output
        assert "Traceback" not in output and "notebook_check" not in output, output

        # The student writes the function and saves the file; the same kernel checks it again.
        (work / "coursework" / "linear.py").write_text(
            (REPO / "solutions" / "coursework" / "linear.py").read_text())
        _run_cell(page, CHECK_CELL)
        _wait_output(page, check, "PASS", server.log_path)
        _wait_idle(page)
        output = check.locator(".jp-OutputArea").inner_text()
        assert "PASS    linear.svm_loss_naive" in output and "All checks passed." in output
        # ... and the next cell that calls it sees the saved file (no stale module).
        sanity = _run_cell(page, "loss with tiny weights: {loss:.1f}")
        _wait_output(page, sanity, "loss with tiny weights", server.log_path)
        assert "expected about 9" in sanity.locator(".jp-OutputArea").inner_text()
        _centre(page, check)
        _shot(page, "2-check-pass")
        assert page.get_by_text("official Jupyter news").count() == 0, "the news popup showed"
        page.close()
    finally:
        server.stop()
    log = Path(tmp_path / "lab.log").read_text()
    if os.geteuid() == 0:
        assert "Running as root is not recommended" not in log
    assert not problems, "\n".join(problems)


def test_formgrader_lists_the_assignments_without_an_activated_environment(tmp_path, run_env,
                                                                            browser):
    env, _ = run_env
    course = tmp_path / "course"
    subprocess.run([sys.executable, "-m", "autograder", "nbgrader", "build", str(course)],
                   cwd=REPO, check=True, capture_output=True, env=dict(os.environ))
    manifest = json.loads((course / "autograder_course.json").read_text())
    units = sorted(manifest["units"])
    assert (course / "exchange").is_dir()
    # The README's command, environment not activated: `cd course && ../.venv/bin/jupyter lab`.
    flags = ["--allow-root"] if os.geteuid() == 0 else []
    server = Server([str(VENV_BIN / "jupyter"), "lab", *flags], course, env,
                    tmp_path / "formgrader.log")
    problems = []
    try:
        server.wait_ready()
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        _watch(page, problems)
        with page.expect_response(lambda r: "/formgrader/api/assignments" in r.url,
                                  timeout=WAIT_MS) as reply:
            page.goto(server.url("/formgrader"))
        assert reply.value.status < 500, (
            f"GET /formgrader/api/assignments answered {reply.value.status}:\n"
            + (tmp_path / "formgrader.log").read_text()[-3000:])
        for unit in units:
            page.locator("td, a", has_text=unit).first.wait_for(timeout=WAIT_MS)
        page.wait_for_load_state("networkidle")
        _shot(page, "3-formgrader-assignments")
        text = page.inner_text("body")
        assert "exchange directory" not in text.lower(), text[:2000]
        page.close()
    finally:
        server.stop()
    with sqlite3.connect(course / "gradebook.db") as db:
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert version and version[0][0], "the gradebook has no alembic version"
    log = (tmp_path / "formgrader.log").read_text()
    assert "FileNotFoundError" not in log, log[-3000:]
    assert not problems, "\n".join(problems)
