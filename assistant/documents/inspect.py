"""Reading an exported submission back as an assessor gets it: its text (python-docx, pypdf), what
internal markup leaked into it, and how much of it is the request itself.

Used by `derogation eval` on every scenario and by the tests on the demo's cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# What must never reach the authority: the assistant's traceability and the product's internals.
MARKUP = {
    "answer tag": re.compile(r"\[(?:Réponse|Answer)\s*:"),
    "Markdown emphasis": re.compile(r"\*\*|__|(?<!\w)\*\w|`"),
    "Markdown heading or bullet": re.compile(r"(?m)^\s*(?:#{1,6}\s|[-*+]\s)"),
    "Markdown link": re.compile(r"\]\(|\\[\[\]*_#]"),
    "document source": re.compile(r"\bdocument:[0-9a-f]"),
    "hash": re.compile(r"\b[0-9a-f]{12,}\b|\bsha-?256\b", re.IGNORECASE),
    "internal id": re.compile(r"(?<![\w/.@-])[a-z]+_[a-z0-9_]+(?![\w/.@-])"),
    "case id": re.compile(r"\bansm-\d{8}-[0-9a-f]{6}\b"),
    "file name or path": re.compile(r"[\w\-]+\.(?:pdf|docx|md|yaml)\b|(?:^|\s)/(?:tmp|work|home|root|dev)/"),
    "retrieved note": re.compile(r"\b(?:Sources consultées|Sources consulted)\b"),
}
_URL = re.compile(r"https?://\S+")
_WRAPPED_URL = re.compile(r"(https?://\S+)\n(\S+)(?=\n|$)")
_WORD = re.compile(r"\w+(?:[’'\-]\w+)*")
_SECTION = re.compile(r"^\d+\.\s")


def markup_in(text: str) -> list[str]:
    """Each kind of internal markup found in `text`, with the first thing that matched."""
    text = _URL.sub(" ", text)
    out = []
    for what, pattern in MARKUP.items():
        m = pattern.search(text)
        if m:
            out.append(f"{what}: {text[max(0, m.start() - 30):m.end() + 30]!r}")
    return out


@dataclass(frozen=True)
class DocxReading:
    text: str  # every paragraph and table cell, in order
    section_words: int  # words under the numbered section headings
    words: int

    @property
    def section_share(self) -> float:
        return self.section_words / self.words if self.words else 0.0


def read_docx(path: Path) -> DocxReading:
    """The DOCX as Word shows it: body paragraphs and tables in document order."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    parts: list[str] = []
    section_words = words = 0
    in_section = False
    for child in doc.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = Paragraph(child, doc)
            if p.style is not None and p.style.name.startswith("Heading"):
                in_section = bool(_SECTION.match(p.text))
            texts = [p.text]
        elif tag == "tbl":
            texts = [cell.text for row in Table(child, doc).rows for cell in row.cells]
        else:
            continue
        for text in texts:
            n = len(_WORD.findall(_URL.sub(" ", text)))
            words += n
            section_words += n if in_section else 0
            parts.append(text)
    return DocxReading("\n".join(parts), section_words, words)


def read_pdf(path: Path) -> tuple[str, int]:
    """The PDF's text (pypdf) and its number of pages without any text."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(str(path)).pages]
    text = "\n".join(pages)
    while True:  # a long URL wrapped over lines is one URL, as the reader sees it
        joined = _WRAPPED_URL.sub(r"\1\2", text)
        if joined == text:
            break
        text = joined
    return text, sum(1 for p in pages if not p.strip())
