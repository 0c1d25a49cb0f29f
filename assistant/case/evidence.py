"""Evidence files: read a PDF safely, keep its text page by page, store it under its hash.

Every failure is an `EvidenceError` with a one-line message a user can act on; nothing is
written to the case until the file has been read successfully.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.case.pdf_worker import Budget
from assistant.errors import EvidenceError
from assistant.text import Lang

PagesOf = Callable[[str], list[str]]  # a document's sha256 -> the text of each of its pages
Progress = Callable[[int, int], None]  # (pages read, pages in the document)

MAX_BYTES = 50 * 1024 * 1024
BUDGET = Budget()
MAX_PAGES = BUDGET.pages



@dataclass(frozen=True)
class PdfText:
    sha256: str
    size: int
    pages: list[str]  # the text of each page, "" where a page has no text layer (or was not read)
    read: int = 0  # pages read (all of them unless a budget stopped the reading)
    stopped: str = ""  # why the reading stopped early: time | bytes | memory | damaged; "" if it did not

    @property
    def text_pages(self) -> int:
        return sum(1 for p in self.pages if p.strip())


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"[ \t]+", " ", text).strip()


def shown_name(name: str) -> str:
    """A file name fit for a one-line message: printable characters only, bounded length."""
    name = "".join(ch for ch in name if ch.isprintable())
    return (name[:100] + "…" if len(name) > 100 else name) or "file"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


class _Worker:
    """`python -m assistant.case.pdf_worker` on one file: its messages, under a wall-clock deadline."""

    def __init__(self, path: Path, budget: Budget) -> None:
        import subprocess

        from assistant.case.pdf_worker import budget_json

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.case.pdf_worker", str(path), budget_json(budget)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[2], start_new_session=True,
        )
        self.deadline = time.monotonic() + budget.wall_seconds
        self._buffer = b""

    def messages(self) -> Iterator[list]:
        """Each message in order; ["killed", reason] last if it had to be stopped or died."""
        import select

        out = self.proc.stdout
        assert out is not None
        fd = out.fileno()
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    yield json.loads(line)
                except ValueError:
                    yield ["killed", "damaged"]
                    return
            left = self.deadline - time.monotonic()
            if left <= 0:
                yield ["killed", "time"]
                return
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # the worker exited: a clean end says "done" before this
                code = self.proc.wait()
                yield ["killed", "time" if code in (-signal.SIGXCPU, -signal.SIGKILL) else "memory"]
                return
            self._buffer += chunk

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def extract_pages(path: Path, name: str, budget: Budget | None = None, on_progress: Progress | None = None,
                  ) -> tuple[list[str], int, str]:
    """The one place a user's PDF becomes text: each page's text (cleaned), in a worker process
    under `budget` (see pdf_worker.py). Returns (the text of every page, "" for a page not read;
    the pages read; why it stopped early, or ""). Raises `EvidenceError` for a file that cannot be
    read at all. `on_progress(pages read, pages in the document)` after each page."""
    budget = budget or BUDGET
    worker = _Worker(path, budget)
    pages: list[str] = []
    total, stopped = 0, ""
    try:
        for message in worker.messages():
            what = message[0]
            if what == "pages":
                total = int(message[1])
                if total == 0:
                    raise EvidenceError(f"{name}: the PDF has no pages")
                if total > budget.pages:
                    raise EvidenceError(f"{name}: the PDF has {total} pages (the limit is {budget.pages})")
            elif what == "page":
                pages.append(_clean(str(message[1])))
                if on_progress is not None:
                    on_progress(len(pages), total)
            elif what in ("stopped", "killed"):
                stopped = stopped or str(message[1])
                if what == "killed":
                    break
            elif what == "refused":
                if total and pages:  # it failed part-way: keep what was read
                    stopped = stopped or "damaged"
                    continue
                raise EvidenceError(_refusal(name, str(message[1]), str(message[2])))
            elif what == "done":
                break
    finally:
        worker.stop()
    if not total:  # stopped before it could even count the pages
        raise EvidenceError(f"{name}: the PDF could not be read within the limits ({_budget_words(stopped, budget)})")
    if len(pages) >= total:
        stopped = ""
    return pages + [""] * (total - len(pages)), len(pages), stopped


def _refusal(name: str, key: str, detail: str) -> str:
    if key == "password":
        return f"{name}: the PDF is password-protected: save an unprotected copy and attach that"
    if key == "encrypted":
        return f"{name}: the PDF is encrypted and cannot be opened ({detail})"
    return f"{name}: the PDF is damaged and cannot be read ({detail})"


def _budget_words(stopped: str, budget: Budget) -> str:
    return {"time": f"{budget.cpu_seconds} s of processing", "bytes": f"{budget.stream_bytes // (1024 * 1024)} MB of page content",
            "memory": f"{budget.memory_bytes // (1024 * 1024)} MB of memory"}.get(stopped, "damaged part")


def budget_notice(stopped: str, read: int, total: int, lang: Lang = "en") -> str:
    """What the user is told when a document was read only in part (FR or EN)."""
    from assistant import words

    why = {"time": "time", "bytes": "bytes", "memory": "memory"}.get(stopped, "damaged")
    if read == 0:
        return words.t("pdf_stopped_nothing", lang, total=total, why=words.t(f"pdf_why_{why}", lang))
    return words.t(f"pdf_stopped_{why}", lang, read=read, total=total)


def read_pdf_bytes(data: bytes, name: str = "file", budget: Budget | None = None,
                   on_progress: Progress | None = None) -> PdfText:
    """Extract the text of each page (under `budget`, in a worker), or raise `EvidenceError`."""
    import tempfile

    name = shown_name(name)
    _precheck(data, name)
    with tempfile.TemporaryDirectory(prefix="derogation-pdf-") as tmp:
        path = Path(tmp) / "document.pdf"
        path.write_bytes(data)
        return _read(data, path, name, budget, on_progress)


def _precheck(data: bytes, name: str) -> None:
    if not data:
        raise EvidenceError(f"{name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise EvidenceError(f"{name}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if b"%PDF-" not in data[:1024]:
        raise EvidenceError(f"{name}: not a PDF file (it does not start with a PDF header)")


def _read(data: bytes, path: Path, name: str, budget: Budget | None, on_progress: Progress | None) -> PdfText:
    pages, read, stopped = extract_pages(path, name, budget, on_progress)
    return PdfText(sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pages, read=read, stopped=stopped)


def read_pdf(path: Path, budget: Budget | None = None, on_progress: Progress | None = None) -> tuple[bytes, PdfText]:
    """The file's bytes and its text (see `extract_pages`), or `EvidenceError`."""
    where = shown_name(str(path))
    try:
        if not path.exists():
            raise EvidenceError(f"{where}: no such file")
        if not path.is_file():
            raise EvidenceError(f"{where}: not a file")
        if path.stat().st_size > MAX_BYTES:  # before reading it into memory
            raise EvidenceError(f"{shown_name(path.name)}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    except EvidenceError:
        raise
    except OSError as exc:  # unreadable, or a name the file system refuses (too long, NUL)
        raise EvidenceError(f"{where}: cannot read ({exc.strerror or type(exc).__name__})") from exc
    except ValueError as exc:  # a NUL byte in the path
        raise EvidenceError(f"{where}: not a valid file name") from exc
    name = shown_name(path.name)
    _precheck(data, name)
    return data, _read(data, path, name, budget, on_progress)


def save_pages(folder: Path, sha256: str, pages: list[str]) -> None:
    from assistant.case.store import write_atomic

    write_atomic(folder / f"{sha256}.pages.json", json.dumps(pages, ensure_ascii=False).encode())


_PAGES_KEPT = 64
_pages_read: dict[tuple, list[str]] = {}  # (path, inode, size, mtime) -> pages, the newest last


def load_pages(folder: Path, sha256: str) -> list[str]:
    """A document's page texts. Every draft and check of a case reads them: the last ones read are
    kept, keyed by the file's identity, so a rewritten file is read again. The list is shared: do not
    modify it."""
    path = folder / f"{sha256}.pages.json"
    try:
        st = os.stat(path)
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        if key in _pages_read:
            return _pages_read[key]
        pages = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    _pages_read[key] = pages
    while len(_pages_read) > _PAGES_KEPT:
        _pages_read.pop(next(iter(_pages_read)))
    return pages


def find_page(pages: list[str], needle: str) -> int | None:
    """The first page (1-based) whose text contains `needle`, ignoring case and spacing."""
    want = re.sub(r"\s+", " ", needle).strip().lower()
    if len(want) < 3:
        return None
    for number, text in enumerate(pages, start=1):
        if want in re.sub(r"\s+", " ", text).lower():
            return number
    return None


def guess_kind(filename: str, pages: list[str], keywords: dict[str, list[str]]) -> str | None:
    """Propose an evidence kind from the file name and first pages; None if nothing fits."""
    haystack = (filename.replace("_", " ").replace("-", " ") + " " + " ".join(pages[:2])).lower()
    best, best_score = None, 0
    for kind, words in keywords.items():
        score = sum(haystack.count(w.lower()) for w in words)
        if score > best_score:
            best, best_score = kind, score
    return best
