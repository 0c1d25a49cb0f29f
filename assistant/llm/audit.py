"""The audit log of language-model calls: one JSON line per call, appended, never rewritten.

Each line holds what was sent (after redaction: the tokens show where identifiers were removed),
the list of redactions (kind and token, never the original), what came back, the model, the
server (without credentials), every attempt (rate limits, timeouts, waits) and the time taken.
The API key is never written: it is not passed here, and any line that would contain it is
scrubbed before it is written.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

FILE_NAME = "llm-audit.jsonl"
_lock = threading.Lock()


def safe_url(url: str) -> str:
    """`url` without user, password, query or fragment: what may be shown and logged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


KEY_REMOVED = "[KEY REMOVED]"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every API key (`Config.secrets`) replaced: a model echoing a key must not spread it."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, KEY_REMOVED)
    return text


class AuditLog:
    def __init__(self, path: Path, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.secrets = tuple(secrets)

    def record(self, entry: dict[str, Any]) -> None:
        line = scrub(json.dumps(entry, ensure_ascii=False, default=str), self.secrets)
        from assistant.case.store import open_private

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _lock, open_private(self.path, "a") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self) -> list[dict[str, Any]]:
        return read(self.path)


def read(path: Path) -> list[dict[str, Any]]:
    """Every complete entry of an audit file (a torn last line is skipped)."""
    if not Path(path).exists():
        return []
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
