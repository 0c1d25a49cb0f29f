"""The corpus generation: a counter bumped whenever the corpus changes (passages added or removed),
so that what was computed from it (the drafts the service caches) is known to be stale, in this
process or in another one (a `derogation corpus add` while the app runs)."""

from __future__ import annotations

from pathlib import Path

from assistant.case.store import write_atomic

FILE_NAME = "generation"


def path(home: Path) -> Path:
    return home / "index" / FILE_NAME


def read(home: Path) -> int:
    """The current generation (0 before any change)."""
    try:
        return int(path(home).read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return 0


def bump(home: Path) -> int:
    new = read(home) + 1
    path(home).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path(home), str(new).encode("ascii"))
    return new
