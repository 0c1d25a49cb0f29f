"""The submission: the request as filed with the authority (DOCX, PDF, Markdown).

It reads like a file a regulatory-affairs manager wrote: a cover, the numbered sections in the
authority's order (prose only), then the provisions and guidance the text relies on (title,
reference, official URL), the exhibits table and the recorded exceptions. It carries no
traceability: no answer tag, no question or kind id, no hash, no path, no retrieved note. Documents
are cited as exhibits ("Pièce 4, p. 2"), provisions by a note number pointing to the list. The
review pack (review_pack.py) keeps what this one leaves out.

Everything is laid out once as blocks (`layout`), then written in each format, so the three say
the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant import words as i18n
from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.documents.request import waiver_rows
from assistant.documents.writer import clip
from assistant.drafting.content import written_in
from assistant.drafting.exhibits import Exhibit, by_evidence_id, exhibits
from assistant.drafting.model import Citation, Draft, Paragraph
from assistant.errors import NotFound
from assistant.text import format_date

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Piece:
    text: str
    style: str = ""  # "" | mark (a gap to fill, shown highlighted) | note (a note number) | link


@dataclass
class Block:
    style: str  # title | meta | h1 | p | table | bullet
    pieces: list[Piece] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # a table: the header first
    url: str = ""  # a bullet that opens a text

    def text(self) -> str:
        return "".join(p.text for p in self.pieces)


@dataclass
class Layout:
    title: str
    footer: str
    blocks: list[Block]


_NOTE_ON = re.compile(r"^note:([a-z0-9\-]+)\.(?:fr|en)#\d+$")


def as_provision(c: Citation | None, profile: Profile, lang: Lang) -> Citation | None:
    """The provision a citation relies on: itself, or for a passage of the knowledge note written on
    one of the profile's provisions (a model's draft cites "note:mdr-59-1.fr#0"), that provision."""
    if c is None or c.kind == "provision":
        return c
    m = _NOTE_ON.match(c.id) if c.kind == "passage" else None
    if m is None:
        return None
    try:
        provision = profile.provision(m.group(1))
    except NotFound:
        return None
    return Citation(id=f"provision:{provision.id}", kind="provision", label=provision.label.get(lang),
                    url=provision.url, source=provision.id, text=provision.title.get(lang))


def _notes(draft: Draft, profile: Profile) -> list[Citation]:
    """The provisions the text relies on, once each, in order of first citation."""
    seen: dict[str, Citation] = {}
    for section in draft.sections:
        for paragraph in section.paragraphs:
            for span in paragraph.spans:
                c = as_provision(section.citations.get(span.ref), profile, draft.lang) if span.kind == "cite" else None
                if c is not None and c.source not in seen:
                    seen[c.source] = c
    return list(seen.values())


def lists_sources(paragraph: Paragraph, citations: dict[str, Citation], lang: Lang) -> bool:
    """The paragraph listing the retrieved passages ("Sources consultées : …", the knowledge notes
    consulted): not for the authority. A sentence that cites a passage is kept."""
    cites = [citations.get(s.ref) for s in paragraph.spans if s.kind == "cite"]
    first = paragraph.spans[0] if paragraph.spans else None
    return (bool(cites) and all(c is not None and c.kind == "passage" for c in cites)
            and first is not None and first.kind == "text" and first.text.startswith(i18n.t("sources", lang)))


def _pieces(paragraph: Paragraph, citations: dict[str, Citation], notes: dict[str, int],
            exhibit_of: dict[str, Exhibit], lang: Lang, profile: Profile) -> list[Piece]:
    out: list[Piece] = []

    def last() -> str:
        return out[-1].text[-1:] if out and out[-1].text else ""

    for span in paragraph.spans:
        if span.kind == "text":
            out.append(Piece(span.text))
            continue
        if span.kind == "placeholder":
            gap = "" if last() in ("", " ", "(", "«", "\u00a0") else " "
            out.append(Piece(f"{gap}[{span.text}]", "mark"))
            continue
        c = citations.get(span.ref)
        c = as_provision(c, profile, lang) or (c if c is not None and c.kind == "evidence" else None)
        if c is None:
            continue  # an answer, or a note consulted: traced in the review pack, not cited to the authority
        if c.kind == "provision":
            number = notes.get(c.source)
            if number is not None:
                sep = "," if out and out[-1].style == "note" else ""
                out.append(Piece(sep + str(number), "note"))
            continue
        evidence_id = c.id.split(":")[1]
        exhibit = exhibit_of.get(evidence_id)
        if exhibit is None:
            continue
        written = "".join(p.text for p in out)
        if written.count("(") > written.count(")"):  # already inside parentheses: no nested pair
            out.append(Piece(f", {exhibit.label(lang, c.page)}"))
        else:
            gap = "" if last() in ("", " ", "(") else " "
            out.append(Piece(f"{gap}({exhibit.label(lang, c.page)})"))
    # drop the space a skipped citation left before punctuation ("P-014 ." → "P-014."), and the
    # space before a note number ("2017/745 ¹" → "2017/745¹")
    cleaned: list[Piece] = []
    for piece in out:
        glued = piece.style == "note" or (piece.style == "" and piece.text[:1] in ".,;:)")
        if cleaned and glued and cleaned[-1].text.endswith(" ") and cleaned[-1].style != "mark":
            cleaned[-1] = Piece(cleaned[-1].text.rstrip(" "), cleaned[-1].style)
        cleaned.append(piece)
    return [p for p in cleaned if p.text]


def _quoted(text: str, lang: Lang, profile: Profile) -> str:
    """A user's text in another language than the file's: quoted in its own (as the drafter does)."""
    return f"“{text}”" if lang != profile.submission_language and written_in(text, profile.submission_language) else text


def _evidence_pieces(section, case: Case, exhibit_of: dict[str, Exhibit], lang: Lang, profile: Profile) -> list[Piece]:
    """The documents a section rests on, as exhibits; a missing mandatory one stays visible, a waived
    one says why; a recommended document not provided is not the authority's concern."""
    items: list[list[Piece]] = []
    for line in section.evidence:
        numbers = [exhibit_of[f].label(lang) for f in line.files if f in exhibit_of]
        if numbers:
            items.append([Piece(f"{', '.join(numbers)} – {line.name}")])  # one form for every item: "Pièce 4 – Title"
        elif line.waived and line.kind in case.waivers:
            reason = _quoted(case.waivers[line.kind].reason.strip().rstrip("."), lang, profile)
            items.append([Piece(f"{line.name} – {i18n.t('sub_not_attached', lang, reason)}")])
        elif line.mandatory:
            items.append([Piece(line.name + " "), Piece(f"[{i18n.t('missing', lang)}]", "mark")])
    if not items:
        return []
    colon = " : " if lang == "fr" else ": "
    out = [Piece(i18n.t("evidence", lang) + colon)]
    for n, item in enumerate(items):
        if n:
            out.append(Piece(" ; " if lang == "fr" else "; "))
        out += item
    out.append(Piece("."))
    return out


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def exhibit_date(exhibit: Exhibit, lang: Lang) -> str:
    day = exhibit.facts.dated or exhibit.facts.issued
    return format_date(day.isoformat(), lang) if day else "—"


def layout(profile: Profile, case: Case, draft: Draft, pages_of: PagesOf) -> Layout:
    """The submission as blocks, in order (the same for every format)."""
    lang = draft.lang
    t = lambda key, *a: i18n.t(key, lang, *a)  # noqa: E731
    listed = exhibits(profile, case, pages_of, lang)
    exhibit_of = by_evidence_id(listed)
    notes = _notes(draft, profile)
    note_number = {c.source: n for n, c in enumerate(notes, start=1)}

    def missing(qid: str) -> str:
        return "[" + t("todo", profile.question(qid).label.get(lang)) + "]"

    applicant = case.value("applicant_name") or missing("applicant_name")
    device = case.value("device_name") or missing("device_name")
    blocks = [Block("title", [Piece(draft.title)])]
    for key, value in (("applicant", applicant), ("device", device), ("request_type", draft.request_type_label),
                       ("authority", profile.name.get(lang)),
                       ("date", format_date(case.updated_at.date().isoformat(), lang))):
        blocks.append(Block("meta", [Piece(t(key)), Piece(value)]))
    if lang != profile.submission_language:  # how the answers in the authority's language are given
        if draft.translated_answers:
            blocks.append(Block("p", [Piece(t("sub_translated", profile.name.get(lang)))]))
        if draft.quoted_answers or not draft.translated_answers:
            blocks.append(Block("p", [Piece(t("sub_quoted_original"))]))
    for section in draft.sections:
        blocks.append(Block("h1", [Piece(f"{section.number}. {section.title}")]))
        for paragraph in section.paragraphs:
            if lists_sources(paragraph, section.citations, lang):
                continue
            if paragraph.spans and paragraph.spans[0].kind == "text" and paragraph.spans[0].text.startswith(t("evidence")):
                listing = _evidence_pieces(section, case, exhibit_of, lang, profile)
                if listing:
                    blocks.append(Block("p", listing))
                continue
            pieces = _pieces(paragraph, section.citations, note_number, exhibit_of, lang, profile)
            if "".join(p.text for p in pieces).strip(" .;:"):
                blocks.append(Block("p", pieces))
    if notes:
        blocks.append(Block("h1", [Piece(t("sub_provisions"))]))
        for n, c in enumerate(notes, start=1):
            title = c.text if c.text and _fold(c.text) not in _fold(c.label) else ""  # never the same words twice
            blocks.append(Block("bullet", [Piece(f"{n}. "), Piece(c.label), Piece(f" — {title}" if title else ""),
                                           Piece(f" — {c.url}" if c.url else "", "link")], url=c.url or ""))
    blocks.append(Block("h1", [Piece(t("sub_exhibits"))]))
    if listed:
        rows = [[t("sub_col_number"), t("sub_col_title"), t("sub_col_date"), t("sub_col_signatory")]]
        for ex in listed:
            signatory = ex.facts.signatory if ex.signed and ex.facts.signatory else "—"
            rows.append([ex.label(lang), ex.title, exhibit_date(ex, lang), signatory])
        blocks.append(Block("table", rows=rows))
    else:
        blocks.append(Block("p", [Piece(t("sub_no_exhibits"))]))
    blocks.append(Block("h1", [Piece(t("sub_exceptions"))]))
    waivers = [(name, reason) for name, reason, _by, _at in waiver_rows(profile, case, lang)]
    if not waivers:
        blocks.append(Block("p", [Piece(t("sub_no_exceptions"))]))
    for name, reason in waivers:
        blocks.append(Block("bullet", [Piece(f"{name}{' : ' if lang == 'fr' else ': '}{_quoted(reason, lang, profile)}")]))
    return Layout(draft.title, device, blocks)


# -- Markdown ---------------------------------------------------------------------------------
def to_markdown(profile: Profile, case: Case, draft: Draft, pages_of: PagesOf) -> str:
    from assistant.documents.request import md_escape

    doc = layout(profile, case, draft, pages_of)
    sep = " : " if draft.lang == "fr" else ": "
    lines: list[str] = []
    for block in doc.blocks:
        if block.style == "title":
            lines += [f"# {md_escape(block.text())}", ""]
        elif block.style == "meta":
            lines.append(f"- **{md_escape(block.pieces[0].text)}**{sep}{md_escape(block.pieces[1].text)}")
        elif block.style == "h1":
            lines += ["", f"## {md_escape(block.text())}", ""]
        elif block.style == "p":
            if lines and lines[-1] != "":
                lines.append("")  # a paragraph right after the cover's list is not part of its last item
            text = "".join(f"<sup>{p.text}</sup>" if p.style == "note" else
                           f"**{md_escape(p.text)}**" if p.style == "mark" else md_escape(p.text) for p in block.pieces)
            lines += [text, ""]
        elif block.style == "bullet":
            head = "".join(md_escape(p.text) for p in block.pieces if p.style != "link")
            lines.append(f"- {head}" + (f" — <{block.url}>" if block.url else ""))
        elif block.style == "table":
            header, *rows = block.rows
            lines += ["| " + " | ".join(md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).strip() + "\n"


# -- DOCX -------------------------------------------------------------------------------------
def to_docx(profile: Profile, case: Case, draft: Draft, pages_of: PagesOf, out: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt

    from assistant.documents.request import _add_hyperlink

    doc_layout = layout(profile, case, draft, pages_of)
    doc = Document()
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)
    props = doc.core_properties
    props.title = clip(draft.title)  # core properties hold at most 255 characters
    props.author = clip(case.value("applicant_name") or "")
    props.created = props.modified = props.last_printed = case.updated_at.replace(tzinfo=None)
    props.revision = case.version
    meta = None
    for block in doc_layout.blocks:
        if block.style == "title":
            doc.add_heading(block.text(), level=0)
        elif block.style == "meta":
            if meta is None:
                meta = doc.add_table(rows=0, cols=2)
                meta.style = "Light List Accent 1"
            cells = meta.add_row().cells
            cells[0].text, cells[1].text = block.pieces[0].text, block.pieces[1].text
        elif block.style == "h1":
            doc.add_heading(block.text(), level=1)
        elif block.style == "p":
            p = doc.add_paragraph()
            for piece in block.pieces:
                run = p.add_run(piece.text)
                if piece.style == "note":
                    run.font.superscript = True
                elif piece.style == "mark":
                    run.bold = True
                    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        elif block.style == "bullet":
            numbered = bool(block.pieces) and re.match(r"\d+\.\s", block.pieces[0].text) is not None
            p = doc.add_paragraph() if numbered else doc.add_paragraph(style="List Bullet")  # "1. …": no bullet too
            for piece in block.pieces:
                if piece.style == "link" and block.url:
                    p.add_run(" — ")
                    _add_hyperlink(p, block.url, block.url)
                elif piece.text:
                    p.add_run(piece.text)
        elif block.style == "table":
            header, *rows = block.rows
            table = doc.add_table(rows=1, cols=len(header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, header, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
    doc.save(str(out))


# -- PDF --------------------------------------------------------------------------------------
def to_pdf(profile: Profile, case: Case, draft: Draft, pages_of: PagesOf, out: Path) -> None:
    """The same document as the DOCX, as a PDF with a Unicode font (`PdfFontError` if none)."""
    from assistant.documents.pdf import Block as PdfBlock
    from assistant.documents.pdf import Run, write_document

    doc_layout = layout(profile, case, draft, pages_of)
    sep = " : " if draft.lang == "fr" else ": "
    blocks: list[PdfBlock] = []
    for block in doc_layout.blocks:
        if block.style == "title":
            blocks.append(PdfBlock.of("title", block.text()))
        elif block.style == "meta":
            blocks.append(PdfBlock.of("meta", Run(block.pieces[0].text + sep, bold=True), block.pieces[1].text))
        elif block.style == "h1":
            if blocks and blocks[-1].style == "meta":
                blocks.append(PdfBlock("space"))
            blocks.append(PdfBlock.of("h1", block.text()))
        elif block.style == "p":
            runs = [Run(p.text.translate(_SUPERSCRIPT)) if p.style == "note" else Run(p.text, mark=p.style == "mark")
                    for p in block.pieces]
            blocks.append(PdfBlock("p", tuple(runs)))
        elif block.style == "bullet":
            runs = [Run(p.text, link=block.url) if p.style == "link" else Run(p.text) for p in block.pieces if p.text]
            blocks.append(PdfBlock("bullet", tuple(runs)))
        elif block.style == "table":
            header, *rows = block.rows
            for row in rows:
                parts = [Run(row[0] + " — ", bold=True), Run(row[1])]
                parts += [Run(f" — {h} : {v}" if draft.lang == "fr" else f" — {h}: {v}")
                          for h, v in zip(header[2:], row[2:], strict=True) if v and v != "—"]
                blocks.append(PdfBlock("bullet", tuple(parts)))
    write_document(blocks, out, title=draft.title, footer=doc_layout.footer)
