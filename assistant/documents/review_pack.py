"""The review pack: the request with its traceability, for the consultant and the manufacturer, never
filed (DOCX and Markdown).

What the submission leaves out is here: every sentence with its sources (the answer and its text,
the document, page and passage, the provision, the note consulted), the open findings of the
check, the exceptions with who accepted them and when, and each document's SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistant import words as i18n
from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.documents.request import md_escape, waiver_rows
from assistant.documents.submission import lists_sources
from assistant.drafting.exhibits import Exhibit, by_evidence_id, exhibits
from assistant.drafting.model import Citation, Draft, SectionDraft, Span
from assistant.drafting.spans import sentences
from assistant.text import plain


class FindingLike(Protocol):
    section: str
    severity: str
    message: str
    waived: bool
    waiver_reason: str | None


@dataclass(frozen=True)
class TracedSentence:
    section: str  # "3. Title"
    text: str
    sources: list[str]


def _excerpt(text: str, limit: int = 160) -> str:
    text = plain(text)  # a note's Markdown is not shown as such
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _source(span: Span, section: SectionDraft, case: Case, profile: Profile, exhibit_of: dict[str, Exhibit],
            pages_of: PagesOf, lang: Lang) -> str:
    if span.kind == "placeholder":
        return span.text
    c: Citation | None = section.citations.get(span.ref)
    if c is None:
        return span.ref
    if c.kind == "answer":
        answer = case.answers.get(c.source)
        value = answer.value if answer else c.text
        origin = f" [{answer.source}]" if answer is not None and getattr(answer, "source", "") else ""
        label = profile.question(c.source).label.get(lang) if c.source in {q.id for q in profile.all_questions()} else c.source
        return i18n.t("review_source_answer", lang, label, _excerpt(value)) + origin
    if c.kind == "evidence":
        exhibit = exhibit_of.get(c.id.split(":")[1])
        if exhibit is None:
            return c.label
        pages = pages_of(exhibit.sha256)
        page = c.page or 1
        passage = pages[page - 1] if 0 < page <= len(pages) else ""
        return i18n.t("review_source_document", lang, exhibit.label(lang, c.page), exhibit.filename,
                      i18n.t("page", lang, page), _excerpt(passage))
    if c.kind == "provision":
        return i18n.t("review_source_provision", lang, f"{c.label} — {plain(c.text)}")
    return i18n.t("review_source_passage", lang, c.label, _excerpt(c.text))


def traced(profile: Profile, case: Case, draft: Draft, pages_of: PagesOf) -> list[TracedSentence]:
    """Every sentence of the draft with the sources it rests on, in order."""
    lang = draft.lang
    exhibit_of = by_evidence_id(exhibits(profile, case, pages_of, lang))
    out = []
    for section in draft.sections:
        heading = f"{section.number}. {section.title}"
        for paragraph in section.paragraphs:
            # the passages consulted are the sources column: the sentence is the list's heading, not the
            # separators their labels leave once taken out ("Sources consultées : ; ; ; ;.")
            listing = lists_sources(paragraph, section.citations, lang)
            for text, spans in sentences(paragraph):
                text = i18n.t("sources", lang) if listing else text
                sources = [_source(s, section, case, profile, exhibit_of, pages_of, lang) for s in spans]
                if not sources:
                    sources = [i18n.t("review_no_source", lang)]
                out.append(TracedSentence(heading, text, sources))
    return out


def _document_rows(profile: Profile, case: Case, pages_of: PagesOf, lang: Lang) -> list[list[str]]:
    rows = []
    for ex in exhibits(profile, case, pages_of, lang):
        day = ex.facts.dated or ex.facts.issued
        rows.append([ex.label(lang), ex.title, ex.filename, f"{ex.pages}", day.isoformat() if day else "—",
                     ex.facts.signatory or "—", ex.sha256])
    return rows


def _finding_rows(findings: list[FindingLike], draft: Draft) -> list[list[str]]:
    lang = draft.lang
    titles = {s.section_id: f"{s.number}. {s.title}" for s in draft.sections}
    rows = []
    for f in findings:
        state = i18n.t("review_waived", lang, f.waiver_reason or "") if f.waived else i18n.t(
            f"review_severity_{f.severity}", lang)
        rows.append([titles.get(f.section, f.section), state, f.message])
    return rows


def _headers(lang: Lang) -> list[str]:
    return [i18n.t(k, lang) for k in ("sub_col_number", "sub_col_title", "review_col_file")] + [
        "p.", i18n.t("sub_col_date", lang), i18n.t("sub_col_signatory", lang), i18n.t("review_col_sha", lang)]


# -- Markdown ---------------------------------------------------------------------------------
def to_markdown(profile: Profile, case: Case, draft: Draft, pages_of: PagesOf, findings: list[FindingLike]) -> str:
    from assistant.documents import request

    lang = draft.lang
    lines = [request.to_markdown(profile, case, draft).rstrip(), ""]
    lines[0] = lines[0].replace(f"# {md_escape(draft.title)}",
                                f"# {md_escape(i18n.t('review_title', lang, draft.title))}\n\n*{md_escape(i18n.t('review_intro', lang))}*", 1)
    lines += [f"## {i18n.t('review_trace', lang)}", ""]
    lines += [f"| {i18n.t('section', lang)} | {i18n.t('review_col_sentence', lang)} | {i18n.t('review_col_sources', lang)} |",
              "|---|---|---|"]
    for s in traced(profile, case, draft, pages_of):
        lines.append(f"| {md_escape(s.section)} | {md_escape(s.text)} | {md_escape(' ; '.join(s.sources))} |")
    lines += ["", f"## {i18n.t('review_findings', lang)}", ""]
    rows = _finding_rows(findings, draft)
    lines += [f"- {md_escape(a)} — **{md_escape(b)}** — {md_escape(c)}" for a, b, c in rows] or [
        i18n.t("review_no_findings", lang)]
    lines += ["", f"## {i18n.t('review_documents', lang)}", ""]
    headers = _headers(lang)
    lines += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in _document_rows(profile, case, pages_of, lang)]
    return "\n".join(lines).rstrip() + "\n"


# -- DOCX -------------------------------------------------------------------------------------
def to_docx(profile: Profile, case: Case, draft: Draft, pages_of: PagesOf, findings: list[FindingLike], out: Path) -> None:
    from docx import Document
    from docx.shared import Pt

    from assistant.documents import request

    lang = draft.lang
    request.to_docx(profile, case, draft, out)
    doc = Document(str(out))
    doc.paragraphs[0].text = i18n.t("review_title", lang, draft.title)
    doc.paragraphs[0].insert_paragraph_before(i18n.t("review_intro", lang)).runs[0].italic = True

    def table(headers: list[str], rows: list[list[str]]) -> None:
        grid = doc.add_table(rows=1, cols=len(headers))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, headers, strict=True):
            cell.text = text
        for row in rows:
            for cell, text in zip(grid.add_row().cells, row, strict=True):
                cell.text = text
                for p in cell.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(9)

    doc.add_heading(i18n.t("review_trace", lang), level=1)
    table([i18n.t("section", lang), i18n.t("review_col_sentence", lang), i18n.t("review_col_sources", lang)],
          [[s.section, s.text, "\n".join(s.sources)] for s in traced(profile, case, draft, pages_of)])
    doc.add_heading(i18n.t("review_findings", lang), level=1)
    rows = _finding_rows(findings, draft)
    if rows:
        table([i18n.t("section", lang), "", i18n.t("review_col_sentence", lang)], rows)
    else:
        doc.add_paragraph(i18n.t("review_no_findings", lang))
    doc.add_heading(i18n.t("review_waivers", lang), level=1)
    waivers = waiver_rows(profile, case, lang)
    if waivers:
        table([i18n.t(k, lang) for k in ("target", "reason", "by", "date")], [list(r) for r in waivers])
    else:
        doc.add_paragraph(i18n.t("no_waivers", lang))
    doc.add_heading(i18n.t("review_documents", lang), level=1)
    table(_headers(lang), _document_rows(profile, case, pages_of, lang))
    doc.save(str(out))

