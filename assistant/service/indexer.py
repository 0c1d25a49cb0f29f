"""A case's documents indexed by a process of their own, so that `derogation attach` returns once the
document is read and recorded (the app indexes in a thread of its server instead).

One worker per case at a time: it holds an exclusive lock on `index/jobs/<case>.lock` while it runs
(released by the system if it dies) and writes its progress to `index/jobs/<case>.json`. Before it
exits it looks again for documents still to index, so one attached while it was finishing is not left
out; an `attach` that finds the lock free starts a new worker. Any process learns whether indexing is
under way by trying the lock, never by trusting a pid.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from assistant.case.store import private_dir, validate_case_id, write_atomic


def jobs_dir(home: Path) -> Path:
    return home / "index" / "jobs"


def _lock_path(home: Path, case_id: str) -> Path:
    return jobs_dir(home) / f"{validate_case_id(case_id)}.lock"


def _progress_path(home: Path, case_id: str) -> Path:
    return jobs_dir(home) / f"{validate_case_id(case_id)}.json"


@contextlib.contextmanager
def held(home: Path, case_id: str) -> Iterator[bool]:
    """The case's indexing lock, taken without waiting: True if this process holds it now, False if
    another worker runs."""
    private_dir(jobs_dir(home))
    fd = os.open(_lock_path(home, case_id), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def running(home: Path, case_id: str) -> bool:
    """Whether a worker is indexing this case's documents now (in any process), or was started and
    has not taken the lock yet (its interpreter is still starting)."""
    if _lock_path(home, case_id).exists():
        with held(home, case_id) as mine:
            if not mine:
                return True
    data = _read(home, case_id)
    return bool(data.get("queued")) and _alive(data.get("pid"))


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a child of this process that ended but was not reaped is not running
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def _read(home: Path, case_id: str) -> dict:
    try:
        data = json.loads(_progress_path(home, case_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def progress(home: Path, case_id: str) -> tuple[int, int] | None:
    """(chunks done, chunks in all) of the worker running for the case; None when none runs."""
    if not running(home, case_id):
        return None
    data = _read(home, case_id)
    try:
        return int(data.get("done", 0)), int(data.get("total", 0))
    except (ValueError, TypeError):
        return 0, 0


def reporter(home: Path, case_id: str) -> Callable[[int, int], None]:
    """What the worker calls as it advances: the progress written where `progress` reads it."""
    path = _progress_path(home, case_id)

    def report(done: int, total: int) -> None:
        write_atomic(path, json.dumps({"pid": os.getpid(), "done": done, "total": total}).encode())

    return report


def error_of(home: Path, case_id: str) -> str:
    """What stopped the last worker of the case, if anything did."""
    return str(_read(home, case_id).get("error", ""))


def record_error(home: Path, case_id: str, message: str) -> None:
    write_atomic(_progress_path(home, case_id), json.dumps({"pid": os.getpid(), "error": message[:500]}).encode())


def start(home: Path, case_id: str) -> subprocess.Popen | None:
    """A detached worker (`python -m assistant index-worker CASE`, its own session, so it outlives
    the command that started it) unless one already runs for the case (that one picks the new
    document up before it exits). Returns the new worker, or None."""
    if running(home, case_id):
        return None
    private_dir(jobs_dir(home))
    log = jobs_dir(home) / f"{validate_case_id(case_id)}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "index-worker", case_id],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
            env={**os.environ, "DEROGATION_HOME": str(home)},
        )
    write_atomic(_progress_path(home, case_id), json.dumps({"pid": proc.pid, "queued": True}).encode())
    return proc
