"""Render a draft as Markdown or DOCX: cover, sections in the authority's order, references,
an annex mapping sections to documents, and the recorded exceptions.

Rendering is deterministic: the same case gives the same text (the date shown is the case's
last change, not the time of export).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant import words as i18n
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.documents.writer import clip
from assistant.drafting.content import rule_label
from assistant.drafting.model import Citation, Draft, Paragraph, Span
from assistant.drafting.spans import render, render_text
from assistant.text import format_date, plain

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # "&copy;" would render as ©
_MD_INDENT = re.compile(r"(?<=\n)[ \t]+")  # an indented line could start a code block
_MD_LINE_START = re.compile(r"(?m)^(?:([#+\-=])|(\d+)([.)]))")  # headings, lists, setext underlines


@dataclass(frozen=True)
class CoverFacts:
    applicant: str
    device: str
    request_type: str
    authority: str
    date: str
    case_id: str
    version: int

    def rows(self) -> list[tuple[str, str]]:
        """The cover page's lines, in order: (i18n key of the label, value). Every format uses these."""
        return [
            ("applicant", self.applicant),
            ("device", self.device),
            ("request_type", self.request_type),
            ("authority", self.authority),
            ("date", self.date),
            ("case", f"{self.case_id} (v{self.version})"),
        ]


def cover_facts(profile: Profile, case: Case, draft: Draft) -> CoverFacts:
    lang = draft.lang
    missing = lambda qid: "[" + i18n.t("todo", lang, profile.question(qid).label.get(lang)) + "]"  # noqa: E731
    return CoverFacts(
        applicant=case.value("applicant_name") or missing("applicant_name"),
        device=case.value("device_name") or missing("device_name"),
        request_type=draft.request_type_label,
        authority=profile.name.get(lang),
        date=format_date(case.updated_at.date().isoformat(), lang),
        case_id=case.id,
        version=case.version,
    )


def references(draft: Draft) -> list[Citation]:
    """Every provision cited anywhere in the draft, once, in order of first citation."""
    seen: dict[str, Citation] = {}
    for section in draft.sections:
        for cid, citation in section.citations.items():
            if citation.kind in ("provision", "passage") and cid not in seen:
                seen[cid] = citation
    return list(seen.values())


# -- Markdown ---------------------------------------------------------------------------------
def md_escape(text: str) -> str:
    """Text that Markdown renders literally: no emphasis, link, HTML, entity, heading, list, quote,
    code or table can come from it. Every added backslash precedes ASCII punctuation, which
    CommonMark then shows as itself."""
    escaped = _MD_ENTITY.sub(r"\\&", _MD_SPECIAL.sub(r"\\\1", _MD_INDENT.sub("", text)))
    return _MD_LINE_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], escaped)


def paragraph_markdown(paragraph: Paragraph, citations: dict[str, Citation]) -> str:
    def cite(span: Span, gap: str) -> str:
        c = citations[span.ref]
        return gap + (f"[{md_escape(c.label)}]({c.url})" if c.url else f"\\[{md_escape(c.label)}\\]")

    return render_text(paragraph, cite, lambda s, gap: f"{gap}**\\[{md_escape(s.text)}\\]**", md_escape)


def section_markdown(section, heading: str = "##") -> str:
    lines = [f"{heading} {section.number}. {md_escape(section.title)}", ""]
    for paragraph in section.paragraphs:
        lines += [paragraph_markdown(paragraph, section.citations), ""]
    return "\n".join(lines)


def to_markdown(profile: Profile, case: Case, draft: Draft) -> str:
    lang = draft.lang
    cover = cover_facts(profile, case, draft)
    lines = [f"# {md_escape(draft.title)}", ""]
    sep = " : " if lang == "fr" else ": "
    for key, value in cover.rows():
        lines.append(f"- **{i18n.t(key, lang)}**{sep}{md_escape(value)}")
    lines += ["", f"*{md_escape(i18n.t('draft_notice', lang))}*", ""]
    for section in draft.sections:
        lines.append(section_markdown(section))
    lines += [f"## {i18n.t('references', lang)}", ""]
    for c in references(draft):
        lines.append(f"- {md_escape(c.label)} — {md_escape(plain(c.text))} — <{c.url}>" if c.url else f"- {md_escape(c.label)}")
    lines += ["", f"## {i18n.t('annex_evidence', lang)}", ""]
    lines.append(f"| {i18n.t('section', lang)} | {i18n.t('documents', lang)} |")
    lines.append("|---|---|")
    for section, docs in evidence_annex(case, draft):
        lines.append(f"| {section.number}. {md_escape(section.title)} | {md_escape('; '.join(docs)) or '—'} |")
    lines += ["", f"## {i18n.t('annex_waivers', lang)}", ""]
    waivers = waiver_rows(profile, case, lang)
    if not waivers:
        lines.append(i18n.t("no_waivers", lang))
    for row in waivers:
        lines.append(f"- **{md_escape(row[0])}**{sep}{md_escape(row[1])} ({md_escape(row[2])}, {row[3]})")
    return "\n".join(lines).rstrip() + "\n"


def evidence_annex(case: Case, draft: Draft) -> list[tuple]:
    rows = []
    by_id = {e.id: e for e in case.evidence}
    for section in draft.sections:
        docs = []
        for line in section.evidence:
            for fid in line.files:
                ev = by_id[fid]
                docs.append(f"{line.name}: {ev.filename} ({ev.pages} p., sha256 {ev.sha256[:12]})")
            if not line.files and line.mandatory:
                note = i18n.t("waived", draft.lang, case.waivers[line.kind].reason) if line.waived else i18n.t("missing", draft.lang)
                docs.append(f"{line.name}: [{note}]")
        rows.append((section, docs))
    return rows


def waiver_rows(profile: Profile, case: Case, lang: Lang) -> list[tuple[str, str, str, str]]:
    rows = []
    for target in sorted(case.waivers):
        w = case.waivers[target]
        if w.target_type == "evidence":
            name = profile.evidence_kind(target).name.get(lang)
        elif w.target_type == "rule":
            name = rule_label(profile.id, target, lang)
        else:
            name = profile.question(target).label.get(lang)
        rows.append((name, w.reason, w.by, format_date(w.at.date().isoformat(), lang)))
    return rows


# -- DOCX -------------------------------------------------------------------------------------
def _add_hyperlink(paragraph, text: str, url: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "1F4E79")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(color)
    props.append(underline)
    run.append(props)
    node = OxmlElement("w:t")
    node.text = text
    node.set(qn("xml:space"), "preserve")
    run.append(node)
    link.append(run)
    paragraph._p.append(link)


def _docx_paragraph(doc, paragraph: Paragraph, citations: dict[str, Citation]) -> None:
    from docx.enum.text import WD_COLOR_INDEX

    p = doc.add_paragraph()

    def cite(span: Span, gap: str) -> None:
        c = citations[span.ref]
        p.add_run(gap + "[")
        if c.url:
            _add_hyperlink(p, c.label, c.url)
        else:
            p.add_run(c.label).italic = True
        p.add_run("]")

    def placeholder(span: Span, gap: str) -> None:
        run = p.add_run(f"{gap}[{span.text}]")
        run.bold = True
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW

    render(paragraph, p.add_run, cite, placeholder)


def to_docx(profile: Profile, case: Case, draft: Draft, out: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    lang = draft.lang
    doc = Document()
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)
    props = doc.core_properties
    props.title = clip(draft.title)
    props.author = clip(case.value("applicant_name") or "")
    props.created = props.modified = props.last_printed = case.updated_at.replace(tzinfo=None)
    props.revision = case.version
    props.identifier = clip(case.id)

    cover = cover_facts(profile, case, draft)
    doc.add_heading(draft.title, level=0)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Light List Accent 1"
    for key, value in cover.rows():
        row = table.add_row().cells
        row[0].text = i18n.t(key, lang)
        row[1].text = value
    doc.add_paragraph()
    doc.add_paragraph(i18n.t("draft_notice", lang)).italic = True
    doc.paragraphs[-1].runs[0].add_break(WD_BREAK.PAGE)

    for section in draft.sections:
        doc.add_heading(f"{section.number}. {section.title}", level=1)
        for paragraph in section.paragraphs:
            _docx_paragraph(doc, paragraph, section.citations)

    doc.add_heading(i18n.t("references", lang), level=1)
    for c in references(draft):
        p = doc.add_paragraph(style="List Bullet")
        if c.url:
            _add_hyperlink(p, c.label, c.url)
        else:
            p.add_run(c.label)
        if c.text:
            p.add_run(f" — {plain(c.text)}")

    doc.add_heading(i18n.t("annex_evidence", lang), level=1)
    annex = doc.add_table(rows=1, cols=2)
    annex.style = "Table Grid"
    annex.rows[0].cells[0].text = i18n.t("section", lang)
    annex.rows[0].cells[1].text = i18n.t("documents", lang)
    for section, docs in evidence_annex(case, draft):
        cells = annex.add_row().cells
        cells[0].text = f"{section.number}. {section.title}"
        cells[1].text = "\n".join(docs) or "—"

    doc.add_heading(i18n.t("annex_waivers", lang), level=1)
    rows = waiver_rows(profile, case, lang)
    if not rows:
        doc.add_paragraph(i18n.t("no_waivers", lang))
    else:
        wt = doc.add_table(rows=1, cols=4)
        wt.style = "Table Grid"
        for cell, key in zip(wt.rows[0].cells, ("target", "reason", "by", "date"), strict=True):
            cell.text = i18n.t(key, lang)
        for row in rows:
            for cell, value in zip(wt.add_row().cells, row, strict=True):
                cell.text = value
    doc.save(str(out))


# -- PDF --------------------------------------------------------------------------------------
def _pdf_runs(paragraph: Paragraph, citations: dict[str, Citation]) -> list:
    from assistant.documents.pdf import Run

    def cite(span: Span, gap: str) -> list[Run]:
        c = citations[span.ref]
        return [Run(gap + "["), Run(c.label, link=c.url) if c.url else Run(c.label, italic=True), Run("]")]

    pieces = render(paragraph, lambda text: [Run(text)], cite, lambda s, gap: [Run(f"{gap}[{s.text}]", mark=True)])
    return [run for piece in pieces for run in piece]


def to_pdf(profile: Profile, case: Case, draft: Draft, out: Path) -> None:
    """The same document as the DOCX, as a PDF with a Unicode font (`PdfFontError` if none)."""
    from assistant.documents.pdf import Block, Run, write_document

    lang = draft.lang
    sep = " : " if lang == "fr" else ": "
    cover = cover_facts(profile, case, draft)
    blocks = [Block.of("title", draft.title)]
    for key, value in cover.rows():
        blocks.append(Block.of("meta", Run(i18n.t(key, lang) + sep, bold=True), value))
    blocks += [Block.of("space"), Block.of("small", Run(i18n.t("draft_notice", lang), italic=True)), Block("pagebreak")]
    for section in draft.sections:
        blocks.append(Block.of("h1", f"{section.number}. {section.title}"))
        for paragraph in section.paragraphs:
            blocks.append(Block("p", tuple(_pdf_runs(paragraph, section.citations))))
    blocks.append(Block.of("h1", i18n.t("references", lang)))
    for c in references(draft):
        parts = [Run(c.label, link=c.url)] + ([Run(f" — {plain(c.text)}")] if c.text else [])
        blocks.append(Block("bullet", tuple(parts)))
    blocks.append(Block.of("h1", i18n.t("annex_evidence", lang)))
    for section, docs in evidence_annex(case, draft):
        blocks.append(Block.of("h2", f"{section.number}. {section.title}"))
        for doc in docs or ["—"]:
            blocks.append(Block.of("bullet", doc))
    blocks.append(Block.of("h1", i18n.t("annex_waivers", lang)))
    rows = waiver_rows(profile, case, lang)
    if not rows:
        blocks.append(Block.of("p", i18n.t("no_waivers", lang)))
    for name, reason, by, date in rows:
        blocks.append(Block.of("bullet", Run(name, bold=True), f"{sep}{reason} ({by}, {date})"))
    write_document(blocks, out, title=draft.title, footer=f"{cover.device} — {cover.case_id} v{cover.version}")
