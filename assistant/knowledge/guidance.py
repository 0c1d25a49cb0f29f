"""Guidance documents (MDCG, Commission Q&As, MEDDEV) cut by their own numbered headings.

These texts come from PDFs (pdftotext): no Markdown headings, page furniture repeated on every
page ("Medical Device Coordination Group Document", the document number, page numbers) and
footnotes that start with a number. A heading is a short numbered line ("3.11 Industrial scale",
"1. What is a custom-made device (CMD)?", or the number alone with the title on the next line)
whose number follows the previous heading's (3.10 → 3.11, 3.11.1 or 4): this rejects footnotes and
numbered list items, which rarely continue the document's numbering. Each section then keeps its
number and title, and the document its number and title, on every chunk cut from it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["GROUP_LETTERHEAD", "Section", "document_number", "document_title", "sections", "strip_furniture"]

_NUMBER = r"(\d{1,2}(?:\.\d{1,2}){0,3}|[IVX]{1,4})"
_HEADING = re.compile(rf"^{_NUMBER}(\.?)\s+(\S.*)$")
_NUMBER_ONLY = re.compile(rf"^{_NUMBER}\.?$")
_TOC = re.compile(r"(\.{4,}|…{2,})\s*\d*\s*$")
# The MDCG's letterhead on every page, before the document's number: "Medical Devices Medical Device
# Coordination Group Document MDCG 2019-9 Rev.1"
GROUP_LETTERHEAD = r"(?:medical\s+devices?\s+)?medical\s+devices?\s+coordination\s+group(?:\s+document)?"
# The Commission's letterhead above a title ("EUROPEAN COMMISSION / DIRECTORATE-GENERAL FOR HEALTH AND
# FOOD SAFETY / Medical Devices"): not the document's title
_LETTERHEAD = re.compile(
    r"^(european\s+commission|european|commission|directorate[- ]general\b.*|industry,\s+entrepreneurship.*|dg\s.*|directorate\s.*"
    r"|consumer,\s+environmental.*|consumer\s+affairs|unit\s+medical\s+devices|health\s+technology\s+and\s+cosmetics"
    r"|medical\s+devices?(\s+medical\s+devices?)?"
    r"|unit\s+[A-Z]+\s*[A-Z]?\.?\d.*|health\s+(and|systems,).*|food\s+safety|medical\s+products\s+and\s+innovation"
    rf"|{GROUP_LETTERHEAD})$",
    re.I)
# The MDCG's endorsement notice, whose first lines may have gone with the page furniture
_NOTICE = re.compile(r"(this document has been endorsed|established by article 103|representatives of all member states)"
                     r".{0,900}?interpretations of union\s+law\.?", re.I | re.S)
_DISCLAIMER = re.compile(r"^(disclaimer\b|the views expressed|the document is not a european commission)", re.I)
_REVISION_LINE = re.compile(r"^(rev(ision)?\.?\s*\d+\b|version\s+\d)", re.I)  # "Revision 1 – January 2025"
_FIRST_HEADING = re.compile(
    r"^(\d+\.?\s*)?(contents|table of contents|introduction|acronyms|abbreviations|note|foreword|scope|purpose)\s*:?$", re.I)
# A page number as the pages print it: "7", "- 6 -", "Page 3 of 31", "page 1 of 65", "2(24)"
_PAGE_MARK = re.compile(r"\d{1,3}|[-–]\s*\d{1,3}\s*[-–]|page\s+\d{1,3}\s+of\s+\d{1,3}|\d{1,3}\s*\(\d{1,3}\)", re.I)
_DATE = re.compile(r"^(january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{4}$", re.I)
_ROMAN_DIGITS = {"I": 1, "V": 5, "X": 10}
_MEDDEV = re.compile(r"MEDDEV\s*(\d(?:[\s.]*\d+)*\s*/\s*\d+(?:\s*rev\.?\s*\d+)?)", re.I)


def _roman(number: str) -> int:
    values = [_ROMAN_DIGITS[c] for c in number]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def document_number(text: str) -> str:
    """A MEDDEV's number from its first page ("MEDDEV 2.12/2 rev2"), else ""."""
    m = _MEDDEV.search(text[:4000])
    return "MEDDEV " + re.sub(r"\s+", " ", re.sub(r"\s*([./])\s*", r"\1", m.group(1))).strip() if m else ""


@dataclass
class Section:
    number: str  # "3.11", "II", "" before the first heading
    title: str
    body: str


def strip_furniture(text: str) -> list[str]:
    """The document's lines without what every page repeats, page numbers and table-of-contents
    lines; blank lines are kept (they separate paragraphs)."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    counts = Counter(line for line in lines if line)
    pages = max(2, sum(1 for line in lines if re.fullmatch(r"\d{1,3}", line)) // 2)
    out = []
    for line in lines:
        if line and (_PAGE_MARK.fullmatch(line) or re.fullmatch(r"\|?[\s|-]*\|?", line)):
            continue  # page numbers, empty table rows
        if line and len(line) < 90 and counts[line] >= max(3, pages // 2) and not _HEADING.match(line):
            continue  # running headers and footers
        if _TOC.search(line):
            continue
        out.append(line)
    return out


def _key(number: str) -> tuple[int, ...]:
    if number[0] in _ROMAN_DIGITS:
        return (_roman(number),)
    return tuple(int(p) for p in number.split("."))


def _follows(prev: tuple[int, ...] | None, new: tuple[int, ...]) -> bool:
    """Whether heading number `new` can come right after `prev` (1 → 1.1 or 2; 2.3 → 2.4, 2.3.1 or 3)."""
    if prev is None:
        return new in ((1,), (1, 1), (0,)) or len(new) == 1 and new[0] <= 2
    if len(new) > len(prev) and new[: len(prev)] == prev and set(new[len(prev):]) <= {0, 1}:
        return True  # 3 → 3.1 or 3.1.1
    for depth in range(1, len(prev) + 1):
        if len(new) == depth and new[:-1] == prev[: depth - 1] and new[-1] == prev[depth - 1] + 1:
            return True
    return False


def sections(text: str) -> list[Section]:
    """The document's sections in order (the text before the first heading is a section with no
    number). Each heading's number continues the previous one; a new "1" restarts the numbering
    (a table of contents or an annex)."""
    lines = strip_furniture(text)
    out = [Section("", "", "")]
    body: list[str] = []
    prev: tuple[int, ...] | None = None
    roman_prev: tuple[int, ...] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        number, title = "", ""
        m = _HEADING.match(line)
        if m and len(m.group(3)) <= (130 if m.group(2) or "." in m.group(1) else 60) and not m.group(3).endswith((",", ";")):
            number, title = m.group(1), m.group(3)
            if not re.match(r"[A-Z‘'\"(]", title):
                number = ""
        elif _NUMBER_ONLY.match(line):  # the number alone, its title on the next non-blank line
            j = i + 1
            while j < len(lines) and not lines[j]:
                j += 1
            if j < len(lines) and 2 < len(lines[j]) <= 90 and re.match(r"[A-Z]", lines[j]) and not _HEADING.match(lines[j]):
                number, title = _NUMBER_ONLY.match(line).group(1), lines[j]
                i = j
        if number:
            key = _key(number)
            roman = number[0] in _ROMAN_DIGITS
            last = roman_prev if roman else prev
            if _follows(last, key) or key in ((1,), (1, 1)) and not roman:
                out[-1].body = "\n".join(body).strip()
                out.append(Section(number, title.rstrip(" :"), ""))
                body = []
                if roman:
                    roman_prev = key
                else:
                    prev = key
                i += 1
                continue
        body.append(line)
        i += 1
    out[-1].body = "\n".join(body).strip()
    return [s for s in out if s.body]


def _number_pattern(number: str) -> re.Pattern[str]:
    """The document's number as its pages print it: "MDCG 2019-7" also as "MDCG 2019-07",
    "MDCG 2021- 23" or "MDCG 2024 – 16"."""
    body = re.escape(number).replace(r"\ ", r"\s*").replace(r"\-", r"\s*[-–]\s*0?")
    return re.compile(body + r"(?![\d/])", re.I)  # MDCG 2019-1 is not the start of MDCG 2019-11


def _bare(rest: str) -> str:
    """What a line holding the document's number says besides it: nothing when the rest is the
    group's letterhead, a revision or version, a page number or a date in brackets."""
    rest = re.sub(rf"^\s*{GROUP_LETTERHEAD}", "", rest, flags=re.I)
    rest = re.sub(r"\b(rev(ision)?\.?\s*\d+|v\s*\d+(\.\d+)*)\b", "", rest, flags=re.I)
    rest = re.sub(r"\([^)]*\)|\b\d+\(\d+\)", "", rest)
    return rest.strip(" –-:/|.")


def document_title(text: str, number: str) -> str:
    """The document's title as its first page prints it: the first lines that are neither the
    Commission's or the MDCG's letterhead, the document's number, a page number nor the MDCG's
    endorsement notice, up to the date, the revision line or the first heading."""
    first_page = _NOTICE.sub("\n", "\n".join(strip_furniture(text[:6000])))
    lines = [re.sub(r"\s*\|\s*", " ", line.strip(" |")).strip() for line in first_page.splitlines()]
    pattern = _number_pattern(number) if number else None
    words: list[str] = []
    for line in lines[:120]:
        if not line:
            continue
        if _DISCLAIMER.match(line):
            if words:
                break
            continue
        if pattern and pattern.search(line):
            rest = _bare(pattern.sub(" ", line))
            if len(rest) <= 10:  # the number alone (with its revision, page or date)
                if words:
                    break
                continue
            line = rest
        if _DATE.match(line) or _REVISION_LINE.match(line) or _FIRST_HEADING.match(line):
            if words:
                break
            continue
        if _PAGE_MARK.fullmatch(line) or not words and _LETTERHEAD.match(line):
            continue
        words.append(line)
        if len(" ".join(words)) > 120:
            break
    title = re.sub(r"\s+", " ", " ".join(words)).strip()
    return title[:160].rsplit(" ", 1)[0] if len(title) > 160 else title
