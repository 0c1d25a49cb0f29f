"""The child side of reading a PDF: `python -m assistant.case.pdf_worker PATH BUDGET_JSON`, a
process of its own that the caller can kill.

Everything a user's PDF can make expensive happens here, never in the caller's process: pypdf
parsing the file, walking the page tree, inflating content streams and extracting text. The
worker is bounded three ways (`Budget`): pages read, decoded content-stream bytes, and CPU
seconds (an `RLIMIT_CPU` on itself, plus an address-space limit); the caller adds a wall-clock
deadline and kills it. It writes what it reads page by page (one JSON list per line on stdout),
so a document stopped by a budget still gives the pages read before it.

Messages (lists): ("pages", total), ("page", raw_text) once per page read in order,
("stopped", reason) with reason "bytes" or "memory", ("refused", message_key, detail) for a file
that cannot be opened, then ("done",).
"""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import sys
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Budget:
    """What one document may cost. The defaults leave a wide margin over every real document we
    have seen: of the 31 reference PDFs the largest page holds 0.5 MB of content, the largest
    document 3.1 MB, and each is read in under 2 s."""

    pages: int = 2000  # a longer document is refused (it is not a document for this request)
    page_stream_bytes: int = 8 * 1024 * 1024  # decoded content of one page; reading stops at a larger one
    stream_bytes: int = 32 * 1024 * 1024  # decoded content streams, summed over the pages read
    cpu_seconds: int = 20  # CPU time of the worker
    wall_seconds: float = 40.0  # the caller kills the worker after this long, whatever it does
    memory_bytes: int = 1536 * 1024 * 1024  # the worker's address space


def _limit(budget: Budget) -> None:
    cpu = max(1, int(budget.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))  # SIGXCPU at `cpu`, SIGKILL 2 s later
    with contextlib.suppress(ValueError, OSError):  # a platform that refuses it: the wall-clock deadline remains
        resource.setrlimit(resource.RLIMIT_AS, (budget.memory_bytes, budget.memory_bytes))


def _contents_size(page: Any) -> int:
    contents = page.get_contents()
    return len(contents.get_data()) if contents is not None else 0


def extract(path: str, budget: Budget, conn: Any) -> None:
    """Read the PDF at `path` under `budget`, sending each page's raw text through `conn`."""
    _limit(budget)
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        _extract(path, budget, conn)
    except MemoryError:
        conn.send(("stopped", "memory"))
    except BaseException as exc:  # pypdf surfaces corrupt input as many types
        conn.send(("refused", "damaged", type(exc).__name__))
    conn.send(("done",))
    conn.close()


def _extract(path: str, budget: Budget, conn: Any) -> None:
    from pypdf import PdfReader

    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        try:
            unlocked = reader.decrypt("")
        except Exception as exc:  # pypdf raises several types for unsupported crypto
            conn.send(("refused", "encrypted", f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"))
            return
        if not unlocked:
            conn.send(("refused", "password", ""))
            return
    count = len(reader.pages)
    conn.send(("pages", count))
    if count == 0 or count > budget.pages:
        return
    spent = 0
    for page in reader.pages:
        try:
            size = _contents_size(page)
        except MemoryError:
            raise
        except Exception:  # an unreadable content stream: the page has no text, the others may
            conn.send(("page", ""))
            continue
        spent += size
        if size > budget.page_stream_bytes or spent > budget.stream_bytes:
            conn.send(("stopped", "bytes"))
            return
        try:
            text = page.extract_text() or ""
        except MemoryError:
            raise
        except RecursionError:
            text = ""
        except Exception:  # a damaged page: keep the others readable
            text = ""
        conn.send(("page", text))


class _Out:
    """The parent's end: one JSON message per line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def send(self, message: tuple) -> None:
        self.stream.write(json.dumps(message, ensure_ascii=True) + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


def budget_json(budget: Budget) -> str:
    return json.dumps(asdict(budget))


if __name__ == "__main__":
    extract(sys.argv[1], Budget(**json.loads(sys.argv[2])), _Out(sys.stdout))
