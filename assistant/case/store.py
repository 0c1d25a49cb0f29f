"""The case store: one folder per case, an append-only journal plus an atomic JSON snapshot.

Writing order for every change: lock the case, append the event to `journal.jsonl` and fsync
(from then on the change is acknowledged), then write `case.json` through a temporary file and
`os.replace`. A crash between the two leaves a snapshot one step behind; loading replays the
journal past the snapshot, so nothing acknowledged is lost. A torn last journal line (a crash
mid-append, never acknowledged) is ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from assistant.case.model import Case, CaseError, Event, apply, now
from assistant.config import data_home
from assistant.errors import InvalidCaseId, StoreError
from assistant.errors import StoreConflict as ConflictError

CASE_ID = re.compile(r"^[a-z0-9][a-z0-9\-]{2,63}$")





def validate_case_id(case_id: str) -> str:
    """A case id is a short slug, never a path."""
    if not isinstance(case_id, str) or not CASE_ID.fullmatch(case_id):
        shown = case_id[:70] + "…" if isinstance(case_id, str) and len(case_id) > 70 else case_id
        raise InvalidCaseId(
            f"invalid case id {shown!r}: use lowercase letters, digits and '-' (3-64 characters)"
        )
    return case_id


def new_case_id(authority: str) -> str:
    return f"{authority}-{now():%Y%m%d}-{secrets.token_hex(3)}"


PRIVATE_FILE = 0o600  # case files hold health data: readable by their owner only
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner may open (created if missing, tightened if looser)."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, PRIVATE_DIR)
    return path


def open_private(path: Path, mode: str = "a+b"):  # noqa: ANN201 (a file object, binary or text)
    """`path` opened for appending, created readable by its owner only (an older, looser file is tightened)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    if os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"}))


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old or the new content, never a mix. The file
    is readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _drop_torn_tail(fh: BinaryIO) -> None:
    """Cut a torn last line (a crash mid-append, never acknowledged) so that the next event starts
    on a line of its own instead of being glued to the fragment and lost with it."""
    end = fh.seek(0, os.SEEK_END)
    if end == 0:
        return
    fh.seek(end - 1)
    if fh.read(1) == b"\n":
        return
    fh.seek(0)
    keep = fh.read().rfind(b"\n") + 1
    fh.truncate(keep)
    fh.seek(keep)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CaseStore:
    """Cases on disk. `load` keeps the last case it read, keyed by the journal's and the snapshot's
    file identity (inode, size, modification time): a page that asks for the case a hundred times per
    rerun, or another process's change, costs a `stat`, not a re-read of the journal. A loaded Case
    is therefore shared: never modify it (`model.apply` returns a new one)."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or data_home()
        self.root = self.home / "cases"
        self._loaded: dict[str, tuple[tuple, Case]] = {}  # case id -> (files' stamp, case)

    # -- paths -----------------------------------------------------------------------------
    def folder(self, case_id: str) -> Path:
        return self.root / validate_case_id(case_id)

    def files_dir(self, case_id: str) -> Path:
        return self.folder(case_id) / "files"

    def exists(self, case_id: str) -> bool:
        return (self.folder(case_id) / "journal.jsonl").exists()

    def ids(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if CASE_ID.fullmatch(p.name) and (p / "journal.jsonl").exists()
        )

    @contextlib.contextmanager
    def lock(self, case_id: str) -> Iterator[None]:
        private_dir(self.root)
        folder = private_dir(self.folder(case_id))
        with open_private(folder / ".lock") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # -- reading -----------------------------------------------------------------------------
    def events(self, case_id: str) -> list[Event]:
        path = self.folder(case_id) / "journal.jsonl"
        if not path.exists():
            raise StoreError(f"no case {case_id!r} in {self.root}")
        data = path.read_bytes()
        lines = data.split(b"\n")
        if not data.endswith(b"\n"):
            lines[-1] = b""  # an unterminated last line is a torn append: never acknowledged
        events: list[Event] = []
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                events.append(Event.model_validate_json(line))
            except ValidationError as exc:
                if n >= len(lines) - 2:  # torn last line: never acknowledged
                    break
                raise StoreError(f"case {case_id}: journal line {n + 1} is unreadable") from exc
        return events

    def _stamp(self, case_id: str) -> tuple | None:
        """What identifies the case's files as they are now (None: no journal)."""
        folder = self.folder(case_id)
        try:
            j = os.stat(folder / "journal.jsonl")
        except OSError:
            return None
        try:
            s = os.stat(folder / "case.json")
            snap = (s.st_ino, s.st_size, s.st_mtime_ns)
        except OSError:
            snap = None
        return j.st_ino, j.st_size, j.st_mtime_ns, snap

    def load(self, case_id: str, version: int | None = None) -> Case:
        """The case as it is now, or as it was at `version` (rebuilt from the journal)."""
        if version is not None:
            return self._rebuild(case_id, version)
        stamp = self._stamp(case_id)
        held = self._loaded.get(case_id)
        if stamp is not None and held is not None and held[0] == stamp:
            return held[1]
        case = self._rebuild(case_id, None)
        if stamp is not None and self._stamp(case_id) == stamp:  # unchanged while it was read
            self._loaded[case_id] = (stamp, case)
        return case

    def _rebuild(self, case_id: str, version: int | None) -> Case:
        events = self.events(case_id)
        case: Case | None = None
        if version is None:
            case = self._snapshot(case_id)
            if case is not None and case.version > (events[-1].v if events else 0):
                case = None  # a snapshot ahead of its journal cannot be trusted
        for event in events:
            if case is not None and event.v <= case.version:
                continue
            if version is not None and event.v > version:
                break
            case = apply(case, event)
        if case is None:
            raise StoreError(f"case {case_id!r} has no events")
        return case

    def _snapshot(self, case_id: str) -> Case | None:
        path = self.folder(case_id) / "case.json"
        try:
            return Case.model_validate_json(path.read_bytes())
        except (OSError, ValidationError, ValueError):
            return None

    # -- writing -----------------------------------------------------------------------------
    def create(self, event_data: dict, by: str, role: str, case_id: str | None = None) -> Case:
        case_id = validate_case_id(case_id or new_case_id(event_data["authority"]))
        with self.lock(case_id):
            if self.exists(case_id):
                raise StoreError(f"case {case_id!r} already exists")
            event = Event(v=1, type="created", at=now(), by=by, role=role, data={**event_data, "id": case_id})
            return self._write(case_id, None, event)

    def commit(
        self,
        case_id: str,
        type_: str,
        data: dict,
        by: str,
        role: str,
        expected_version: int | None = None,
    ) -> Case:
        """Apply one change; refuse it if the case moved past `expected_version`."""
        if not self.exists(case_id):  # before locking: the lock would create the folder
            raise StoreError(f"no case {case_id!r} in {self.root}")
        with self.lock(case_id):
            case = self.load(case_id)
            if expected_version is not None and case.version != expected_version:
                raise ConflictError(
                    f"case {case_id} was changed by someone else (version {case.version}, "
                    f"you had version {expected_version}): reload it and apply your change again"
                )
            event = Event(v=case.version + 1, type=type_, at=now(), by=by, role=role, data=data)
            event.payload  # noqa: B018 (validates the payload against its type before anything is written)
            return self._write(case_id, case, event)

    def _write(self, case_id: str, case: Case | None, event: Event) -> Case:
        try:
            new = apply(case, event)
        except (CaseError, KeyError, ValidationError) as exc:
            raise StoreError(f"case {case_id}: cannot apply {event.type}: {exc}") from exc
        folder = self.folder(case_id)
        with open_private(folder / "journal.jsonl") as fh:
            _drop_torn_tail(fh)
            fh.write(event.model_dump_json().encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.write_snapshot(case_id, new)
        stamp = self._stamp(case_id)
        if stamp is not None:  # the next load (a rerun of the page) reads nothing
            self._loaded[case_id] = (stamp, new)
        return new

    def write_snapshot(self, case_id: str, case: Case) -> None:
        data = json.dumps(case.model_dump(mode="json"), ensure_ascii=False, indent=1).encode()
        write_atomic(self.folder(case_id) / "case.json", data)
