"""Evidence files: read a PDF safely, keep its text page by page, store it under its hash.

Every failure is an `EvidenceError` with a one-line message a user can act on; nothing is
written to the case until the file has been read successfully.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import EvidenceError

PagesOf = Callable[[str], list[str]]  # a document's sha256 -> the text of each of its pages

MAX_BYTES = 50 * 1024 * 1024
MAX_PAGES = 2000



@dataclass(frozen=True)
class PdfText:
    sha256: str
    size: int
    pages: list[str]  # the text of each page, "" where a page has no text layer

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


def read_pdf_bytes(data: bytes, name: str = "file") -> PdfText:
    """Extract the text of each page, or raise `EvidenceError` saying what is wrong."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    name = shown_name(name)
    if not data:
        raise EvidenceError(f"{name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise EvidenceError(f"{name}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if b"%PDF-" not in data[:1024]:
        raise EvidenceError(f"{name}: not a PDF file (it does not start with a PDF header)")
    import io

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported crypto
                raise EvidenceError(f"{name}: the PDF is encrypted and cannot be opened ({_one_line(exc)})") from exc
            if not unlocked:
                raise EvidenceError(
                    f"{name}: the PDF is password-protected: save an unprotected copy and attach that"
                )
        count = len(reader.pages)
        if count == 0:
            raise EvidenceError(f"{name}: the PDF has no pages")
        if count > MAX_PAGES:
            raise EvidenceError(f"{name}: the PDF has {count} pages (the limit is {MAX_PAGES})")
        pages = []
        for page in reader.pages:
            try:
                pages.append(_clean(page.extract_text() or ""))
            except Exception:  # a damaged page: keep the others readable
                pages.append("")
    except EvidenceError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf surfaces corrupt input as many types
        raise EvidenceError(f"{name}: the PDF is damaged and cannot be read ({type(exc).__name__})") from exc
    return PdfText(sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pages)


def read_pdf(path: Path) -> tuple[bytes, PdfText]:
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
    return data, read_pdf_bytes(data, path.name)


def save_pages(folder: Path, sha256: str, pages: list[str]) -> None:
    from assistant.case.store import write_atomic

    write_atomic(folder / f"{sha256}.pages.json", json.dumps(pages, ensure_ascii=False).encode())


def load_pages(folder: Path, sha256: str) -> list[str]:
    try:
        return json.loads((folder / f"{sha256}.pages.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


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
