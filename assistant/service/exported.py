"""The files exports wrote, so that an export overwrites only its own earlier output.

`$DEROGATION_HOME/exports.json` maps each exported file's absolute path to the sha256 of what was
written there. A file at that path with the same content is an export's and may be replaced; any
other existing file is someone's, and an export refuses it (documents/writer.check_target)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from assistant.case.store import write_atomic

FILE_NAME = "exports.json"
KEEP = 2000  # the most recent exports remembered


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _load(home: Path) -> dict[str, str]:
    try:
        data = json.loads((home / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / f".{FILE_NAME}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def written_before(home: Path, path: Path) -> bool:
    """Whether `path` holds exactly what an export last wrote there."""
    known = _load(home).get(str(path))
    try:
        return known is not None and _digest(path) == known
    except OSError:
        return False


def remember(home: Path, path: Path) -> None:
    with _locked(home):
        known = _load(home)
        known.pop(str(path), None)
        known[str(path)] = _digest(path)
        kept = dict(list(known.items())[-KEEP:])
        write_atomic(home / FILE_NAME, json.dumps(kept, indent=0).encode())
