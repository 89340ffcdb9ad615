"""A file of coursework/ that compiles but raises while ``%autoreload`` reloads it (a name
not defined at module level, a test call left at the bottom of the file) is one line in the
notebook, not IPython's two long tracebacks through importlib.

IPython's reloader reports such a failure twice: ``logging.exception`` on the "autoreload"
logger and a ``print`` of "[autoreload of coursework.X failed: Traceback ...]" to stderr. Then
the cell runs the code loaded before, which the traceback does not say. ``quiet_reloads``
wraps the reloader's ``check`` (an attribute of the instance, once): during the check, the
logger's records go to a collector and stderr to a buffer; after it, each failure of a
coursework module becomes one line that names the file, the line, the error and what to do,
and whatever else the check wrote to stderr goes through unchanged. A failure of any other
module, or a reloader that does not behave as this expects, keeps IPython's output as it was.
"""

import contextlib
import io
import logging
import sys
import traceback
from pathlib import Path

_MARK = "_autograder_quiet"


def quiet_reloads(shell):
    """Wrap the ``check`` of ``%autoreload``'s reloader in ``shell`` once; nothing when
    autoreload is not loaded (yet) or its reloader is not as expected."""
    try:
        magics = shell.magics_manager.registry.get("AutoreloadMagics")
        reloader = getattr(magics, "_reloader", None)
        check = getattr(reloader, "check", None)
        if check is None or getattr(check, _MARK, False):
            return
        if not isinstance(getattr(reloader, "failed", None), dict):
            return
        reloader.check = _quiet(check)
    except Exception:  # noqa: BLE001 - IPython's internals changed: its tracebacks it is
        return


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _quiet(check):
    def quiet_check(*args, **kwargs):
        logger = logging.getLogger("autoreload")
        collect, propagate = _Collect(), logger.propagate
        buffer = io.StringIO()
        logger.addHandler(collect)
        logger.propagate = False
        try:
            with contextlib.redirect_stderr(buffer):
                return check(*args, **kwargs)
        finally:
            logger.removeHandler(collect)
            logger.propagate = propagate
            _report(collect.records, buffer.getvalue())

    setattr(quiet_check, _MARK, True)
    return quiet_check


def _report(records, written):
    """Print one line per coursework module that failed to reload, and the rest of what the
    check wrote to stderr; a failure that is not a coursework module's is written as IPython
    logs it."""
    lines = []
    for record in records:
        failure = _coursework_failure(record)
        printed = _printed_failure(record)
        if failure is None or printed is None or printed not in written:
            written += _logged(record)
            continue
        written = written.replace(printed, "", 1)
        lines.append(failure)
    for line in lines:
        print(line, file=sys.stderr)
    if written:
        sys.stderr.write(written)


def _reloaded_module(record):
    """'coursework.layers' from the reloader's message, or None."""
    args = record.args if isinstance(record.args, tuple) else ()
    message = record.msg if isinstance(record.msg, str) and not args else None
    if message is None or not message.startswith("Failed to reload module '"):
        return None
    name = message[len("Failed to reload module '"):].split("'", 1)[0]
    return name if name.startswith("coursework.") else None


def _coursework_failure(record):
    """One line for a reload of a coursework module that raised, or None."""
    module = _reloaded_module(record)
    info = record.exc_info
    if module is None or not info or info[1] is None:
        return None
    error = info[1]
    where = None  # (label, line) of the deepest frame in a coursework file
    for frame, line in traceback.walk_tb(info[2]):
        label = coursework_label(frame.f_code.co_filename)
        if label is not None:
            where = (label, line)
    reloaded = f"coursework/{module.split('.', 1)[1].replace('.', '/')}.py"
    try:
        words = str(error).splitlines()[0] if str(error) else ""
    except Exception:  # noqa: BLE001 - an exception whose str fails: its name alone
        words = ""
    what = f"{type(error).__name__}: {words}" if words else type(error).__name__
    if where is None:
        return (f"{reloaded} raised when reloaded: {what}; fix it and save {reloaded}; until "
                f"then the cells still run the {Path(reloaded).name} loaded before")
    label, line = where
    at = f"line {line}" if label == reloaded else f"{label}, line {line}"
    return (f"{reloaded} raised when reloaded, at {at}: {what}; fix line {line} of {label} and "
            f"save it; until then the cells still run the {Path(reloaded).name} loaded before")


def coursework_label(filename):
    """'coursework/linear.py' for a .py file of a folder named coursework, else None."""
    path = Path(filename)
    if path.parent.name == "coursework" and path.suffix == ".py":
        return f"coursework/{path.name}"
    return None


def _printed_failure(record):
    """The text IPython's reloader printed for this failure, as it prints it."""
    module = _reloaded_module(record)
    if module is None or not record.exc_info:
        return None
    try:
        text = "".join(traceback.format_exception(*record.exc_info, limit=10))
    except Exception:  # noqa: BLE001
        return None
    return f"[autoreload of {module} failed: {text}]\n"


def _logged(record):
    try:
        return logging.Formatter().format(record) + "\n"
    except Exception:  # noqa: BLE001
        return f"{record.getMessage()}\n"
