"""``grade-many`` on Dask: the same grading, on the workers of a Dask cluster.

    python -m autograder grade-many --submissions DIR --out OUT --scheduler tcp://HOST:8786
    python -m autograder grade-many --submissions DIR --out OUT --scheduler local:4

No file system is shared with the workers. For each student the client packs what the grader
reads of the submission (below) into an in-memory tar archive and sends it with the task; the
worker unpacks it into a private temporary folder, grades it there with ``grade_many.grade_one``
(the same engine, the same staging, the same sandbox: bubblewrap on the worker's machine), and
returns the report. The client writes every report itself, atomically, exactly as the local
``grade-many`` does, then ``grades.csv``: resume (students with a report are skipped unless
``force``), the progress bar and the CSV are the local command's.

What is packed: the grader only ever reads the top-level entries of ``coursework/`` (see
``staging``), so only those travel: regular files, read with the staging's rules (never following
a link, never blocking on a FIFO, ``fstat`` of the very file opened), and the names of folders
(as empty folders: the staging mentions a ``linear/`` next to ``linear.py`` or a ``__pycache__``
without reading them). Links, FIFOs and devices are not packed: on the worker such a module is
"missing" rather than "a symbolic link" (the same zero points and status, a different message).
At most ``staging.MAX_ENTRIES`` entries are looked at. A submission whose packed files exceed
``MAX_SUBMISSION_BYTES`` (50 MB) is not sent: its report and row say ``refused`` and why.

Unpacking on the worker trusts nothing in the archive either: only regular files and folders,
only the names ``coursework`` and ``coursework/<name>`` (no absolute path, no ``..``, no link),
at most ``staging.MAX_ENTRIES + 1`` members and ``MAX_SUBMISSION_BYTES`` in all, files created
with ``O_EXCL`` in a fresh folder.

Faults: a worker that dies while grading (killed, out of memory) has its task re-run on another
worker by the scheduler. A task that was on ``tries`` workers that all died (Dask's
``distributed.scheduler.allowed-failures`` is ``tries - 1``; for ``local:N`` this module sets it,
for a running scheduler set it in the scheduler's configuration) is a suspect: Dask also counts
a death against tasks only queued on the dying worker beside the culprit. When the batch is done,
each suspect is graded again with nothing else in flight; one that again kills ``tries`` workers
on its own gets a report marked ``crashed`` with zero points (so a killer costs ``2 * tries``
worker restarts), one that does not gets its report. The batch never stalls on either. A running
scheduler should also have ``distributed.scheduler.worker-saturation`` 1.0 (workers hold only
the task they run, so fewer bystanders) and workers ``distributed.worker.daemon`` False (the
Dockerfile sets all three). Reports are written only by
the client, once per student, atomically: none is lost, duplicated or half-written; Ctrl-C
cancels what runs and leaves the finished reports in place (a rerun resumes).

Dask is optional (``pip install -e '.[cluster]'``); without it ``--scheduler`` stops with one line
saying what to install.
"""

import io
import os
import stat
import tarfile
import tempfile
from pathlib import Path

from tqdm import tqdm

from . import engine, staging
from .grade_many import REPORTS, _empty_report, _entries, _row, grade_one, output_folder, \
    report_name, reusable_report, submissions_folder, write_reports, write_tables
from .units import resolve_units

MAX_SUBMISSION_BYTES = 50 * 1024 * 1024
DEFAULT_TRIES = 3
INSTALL_HINT = ("--scheduler needs Dask: pip install -e '.[cluster]' "
                "(or pip install 'dask[distributed]')")
_MEMBER_LIMIT = staging.MAX_ENTRIES + 1


class TooLarge(ValueError):
    """The submission's packed files exceed the limit: it is refused, not sent."""


def import_distributed():
    """``dask.distributed``, or UsageError with one line saying what to install."""
    try:
        import distributed
    except ImportError:
        raise engine.UsageError(INSTALL_HINT) from None
    return distributed


# ----------------------------------------------------------------------------------- archives

def _add(tar, name, data=None):
    info = tarfile.TarInfo(name)
    info.mtime = 0
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))


def pack(student_dir, limit=MAX_SUBMISSION_BYTES):
    """The archive (bytes, tar) of what the grader reads of ``student_dir``: see the module's
    docstring. Raises TooLarge past ``limit`` bytes of files. A submission without a usable
    ``coursework`` folder packs to an empty archive (the worker's engine says why it is refused).
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _pack_into(tar, student_dir, limit)
    return buffer.getvalue()


def _pack_into(tar, student_dir, limit):
    try:
        top = os.open(os.fspath(student_dir), staging._DIR_FLAGS)
    except OSError:
        return
    try:
        try:
            cw = staging.open_dir(staging.PACKAGE, top)
        except (staging.Refused, OSError):
            return
        try:
            _add(tar, staging.PACKAGE)
            names = []
            with os.scandir(cw) as it:
                for count, entry in enumerate(it):
                    if count >= staging.MAX_ENTRIES:
                        break
                    names.append(entry.name)
            total = 0
            for name in sorted(names):
                info = staging._lstat(name, cw)
                if info is None:
                    continue
                rel = f"{staging.PACKAGE}/{name}"
                if stat.S_ISDIR(info.st_mode):
                    _add(tar, rel)
                elif stat.S_ISREG(info.st_mode):
                    if total + info.st_size > limit:
                        raise TooLarge(_too_large(total + info.st_size, limit))
                    try:
                        data = staging.read_regular(name, cw, limit - total)
                    except ValueError as exc:
                        if "larger than" in str(exc):
                            raise TooLarge(_too_large(limit + 1, limit)) from None
                        continue  # changed while read: not packed, "missing" on the worker
                    total += len(data)
                    _add(tar, rel, data)
        finally:
            os.close(cw)
    finally:
        os.close(top)


def _too_large(size, limit):
    return (f"the submission is larger than the limit of {limit / 2**20:g} MB "
            f"(at least {size / 2**20:.1f} MB); it was not sent to the cluster")


def unpack(data, into, limit=MAX_SUBMISSION_BYTES):
    """Unpack an archive made by ``pack`` into the empty folder ``into``, refusing (ValueError)
    anything but regular files and folders named ``coursework`` or ``coursework/<name>``, more
    than ``staging.MAX_ENTRIES + 1`` members or more than ``limit`` bytes."""
    try:
        _unpack(data, Path(into), limit)
    except OSError as exc:  # e.g. a folder and a file of the same name
        raise ValueError(f"the archive cannot be unpacked ({exc.strerror})") from None


def _unpack(data, into, limit):
    total = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = []
        for member in tar:  # headers only: nothing is written before the count is known
            members.append(member)
            if len(members) > _MEMBER_LIMIT:
                raise ValueError(f"the archive has more than {_MEMBER_LIMIT} members")
        for member in members:
            parts = member.name.split("/")
            if member.name.startswith("/") or not parts or parts[0] != staging.PACKAGE \
                    or len(parts) > 2 or any(p in ("", ".", "..") for p in parts) \
                    or "\0" in member.name:
                raise ValueError(f"refused archive member {member.name!r}")
            if member.isdir():
                (into / staging.PACKAGE).mkdir(mode=0o755, exist_ok=True)
                (into / member.name).mkdir(mode=0o755, exist_ok=True)
            elif member.isreg():
                total += member.size
                if total > limit:
                    raise ValueError(f"the archive holds more than {limit >> 20} MB")
                source = tar.extractfile(member)
                (into / staging.PACKAGE).mkdir(mode=0o755, exist_ok=True)
                fd = os.open(into / member.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                             | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as f:
                    f.write(source.read(member.size))
            else:
                raise ValueError(f"refused archive member {member.name!r} (not a regular "
                                 "file or a folder)")


def grade_archive(data, units, limits):
    """On a worker: unpack ``data`` into a private temporary folder, grade it with
    ``grade_many.grade_one`` (the engine, the staging, the sandbox), return the report."""
    with tempfile.TemporaryDirectory(prefix="grader-dask-") as tmp:
        folder = Path(tmp) / "submission"
        folder.mkdir(mode=0o755)
        os.chmod(tmp, 0o755)
        try:
            unpack(data, folder)
        except (ValueError, tarfile.TarError) as exc:
            return _empty_report(folder, f"the archive was refused: {exc}", units)
        scratch = Path(tmp) / "out"
        scratch.mkdir()
        result = grade_one(folder, scratch, units, limits, [tmp])[1]
    # The worker's folder means nothing to the client: name it so that the client puts back the
    # submission's own path (the messages then read as those of the local grade-many).
    return _replace_path(result, str(folder), WORKER_FOLDER)


WORKER_FOLDER = "<submission>"


def _replace_path(result, old, new):
    for key in ("submission", "error"):
        if isinstance(result.get(key), str):
            result[key] = result[key].replace(old, new)
    return result


# ------------------------------------------------------------------------------------- client

def _connect(scheduler, tries):
    distributed = import_distributed()
    import dask

    if scheduler.startswith("local:"):
        try:
            n = int(scheduler[len("local:"):])
        except ValueError:
            n = 0
        if n < 1:
            raise engine.UsageError(f"--scheduler local:N needs N >= 1 worker processes, got "
                                    f"{scheduler!r}")
        # Workers must be able to start the grader's sandboxed process (not daemonic); each
        # holds only the task it runs (saturation 1.0), so that a worker's death counts against
        # that submission alone, not against tasks queued behind it.
        with dask.config.set({"distributed.scheduler.allowed-failures": tries - 1,
                              "distributed.worker.daemon": False,
                              "distributed.scheduler.worker-saturation": 1.0}):
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                               processes=True, dashboard_address=":0",
                                               memory_limit=0, silence_logs=40)
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(scheduler, timeout=30), None
    except OSError as exc:
        raise engine.UsageError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None


def _crash_report(student_dir, tries, units):
    times = f" ({tries} tries)" if tries else ""
    result = _empty_report(student_dir, "crashed: every Dask worker that graded it died; the "
                           f"scheduler gave up after its allowed failures{times}", units)
    result["crashed"] = True
    return result


def _refused_report(student_dir, reason, units):
    result = _empty_report(student_dir, reason, units)
    result["refused_submission"] = True
    return result


def grade_many_dask(submissions, out, *, scheduler, units=None, force=False, limits=None,
                    progress=True, tries=DEFAULT_TRIES, max_bytes=MAX_SUBMISSION_BYTES,
                    in_flight=None, task=None):
    """``grade_many`` on a Dask cluster (``scheduler``: an address or ``local:N``); return the
    CSV rows. ``task`` (tests) replaces ``grade_archive`` with a function of the same arguments.
    ``in_flight`` bounds the archives held at once (default: 2 per worker thread). Entries that
    are not folders are refused on the client, as by ``grade_many``, and never sent."""
    import_distributed()
    submissions = submissions_folder(submissions)
    if tries < 1:
        raise engine.UsageError(f"tries must be at least 1, got {tries}")
    unit_names = resolve_units(units)
    out = output_folder(out, submissions)
    out_real = out.resolve()
    entries = []
    for name, path, reason in _entries(submissions):
        if reason is None and path.resolve() == out_real:
            reason = "the output folder of this run"
        entries.append((name, path, reason))
    results = {}
    resumed = set()
    todo = []
    device = getattr(limits, "device", "cpu") if limits is not None else "cpu"
    for name, path, reason in entries:
        existing = out / REPORTS / report_name(name)
        if reason is None and not force and existing.is_file():
            earlier = reusable_report(existing, unit_names, device, path)
            if earlier is not None:
                results[name] = earlier
                resumed.add(name)
                continue
        todo.append((name, path, reason))
    hidden = [str(out_real), str(submissions.resolve())]
    task = task or grade_archive
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    with tqdm(total=len(entries), initial=len(entries) - len(todo), unit="student",
              disable=not progress, desc="grading") as bar:
        to_send = []
        for name, path, reason in todo:
            if reason is not None:  # not a folder: refused here, as by grade_many
                results[name] = grade_one(path, out, unit_names, limits, hidden, reason)[1]
                bar.update(1)
            else:
                to_send.append((name, path))
        if to_send:
            client, cluster = _connect(scheduler, tries)
            pending = {}
            try:
                window = in_flight or 2 * max(1, sum(client.nthreads().values()))
                queue = iter(to_send)
                running = as_completed()
                suspects = []

                def submit(name, path, data):
                    future = client.submit(task, data, unit_names, limits, pure=False,
                                           key=f"grade-{os.urandom(8).hex()}")
                    pending[future] = (name, path, data)
                    running.add(future)

                def feed():
                    for name, path in queue:
                        try:
                            data = pack(path, max_bytes)
                        except TooLarge as exc:
                            results[name] = write_reports(out, name,
                                                          _refused_report(path, str(exc),
                                                                          unit_names))
                            bar.update(1)
                            continue
                        submit(name, path, data)
                        if running.count() >= window:
                            return

                def collect(future, alone):
                    name, path, data = pending.pop(future)
                    try:
                        result = _replace_path(future.result(), WORKER_FOLDER, str(path))
                    except KilledWorker:
                        if not alone:  # maybe only queued beside the culprit: try it alone
                            suspects.append((name, path, data))
                            return
                        result = _crash_report(path, tries if cluster is not None else None,
                                               unit_names)
                    except Exception as exc:  # noqa: BLE001 - the task itself failed
                        result = _empty_report(path,
                                               f"grader fault: {type(exc).__name__}: {exc}"[:500],
                                               unit_names)
                    results[name] = write_reports(out, name, result)
                    future.release()
                    bar.update(1)

                feed()
                for future in running:
                    collect(future, alone=False)
                    feed()
                # A task was on workers that died: it may have killed them, or only been queued
                # on them beside the culprit. Each suspect runs again with nothing else in
                # flight, so that only a submission that kills workers on its own is 'crashed'.
                for name, path, data in suspects:
                    submit(name, path, data)
                    for future in running:
                        collect(future, alone=True)
            finally:
                for future in pending:
                    if not future.done():
                        future.cancel()
                client.close()
                if cluster is not None:
                    cluster.close()
    rows = []
    for name, path, reason in entries:
        result = results.get(name) or _empty_report(path, "no report", unit_names)
        if result.get("refused_submission"):
            reason = result.get("error")
        row = _row(name, result, reason, resumed=name in resumed)
        if result.get("crashed"):
            row["status"] = result["error"]
        rows.append(row)
    write_tables(out, rows, unit_names)
    return rows
