"""Pieces several pages show: the per-section progress, a drafted section with its sources, findings."""

from __future__ import annotations

import re

import streamlit as st

from assistant.service import Case, Citation, Finding, Paragraph, Readiness, SectionDraft, Service, render_text
from ui.state import badge, md, say
from ui.state import lang as page_lang


def progress_sidebar(readiness: Readiness, title: str = "", titles: dict[str, str] | None = None) -> None:
    """Per section: answers, mandatory documents, blockers and review status. `titles`: section id ->
    the title to show (the UI's language), else the draft's own title."""
    titles = titles or {}
    sections = readiness.sections
    answered = sum(s.answered for s in sections)
    total = sum(s.questions for s in sections) or 1
    st.sidebar.markdown(f"**{title or say('progress_title')}**")
    st.sidebar.progress(answered / total, text=say("progress_line", answered, total, len(readiness.blockers)))
    for s in sections:
        icon = ":green[●]" if s.complete and not s.blockers else (":orange[●]" if s.answered or s.evidence_present else ":gray[○]")
        parts = [say("progress_answered", s.answered, s.questions)]
        if s.evidence_needed:
            parts.append(say("progress_documents", s.evidence_present, s.evidence_needed))
        if s.evidence_waived:
            parts.append(say("rev_count_waived", s.evidence_waived))
        if s.blockers:
            parts.append(":red[" + say("home_blockers", s.blockers) + "]")
        st.sidebar.markdown(f"{icon} **{s.number}. {md(titles.get(s.section_id, s.title))}**  \n{' · '.join(parts)} {badge(s.status)}")


_NARROW_ONLY = """<style>
@media (min-width: 736px) { .st-key-narrow-progress { display: none; } }
</style>"""


def progress_narrow(readiness: Readiness) -> None:
    """The progress in one line under the title, for a narrow screen (a phone: 390 px) where the
    sidebar that holds it is folded away; hidden on a wide screen, where the sidebar shows it."""
    answered = sum(s.answered for s in readiness.sections)
    total = sum(s.questions for s in readiness.sections) or 1
    st.html(_NARROW_ONLY)
    with st.container(key="narrow-progress"):
        st.progress(answered / total, text=say("progress_line", answered, total, len(readiness.blockers)))


def _numbers(section: SectionDraft) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for paragraph in section.paragraphs:
        for span in paragraph.spans:
            if span.kind == "cite" and span.ref not in numbers:
                numbers[span.ref] = len(numbers) + 1
    return numbers


def paragraph_markdown(paragraph: Paragraph, numbers: dict[str, int]) -> str:
    return render_text(
        paragraph,
        lambda s, gap: f"{gap}:blue[\\[{numbers[s.ref]}\\]]",
        lambda s, gap: f"{gap}:orange-background[**\\[{md(s.text)}\\]**]",
        md,
    )


def section_text(section: SectionDraft) -> None:
    numbers = _numbers(section)
    for paragraph in section.paragraphs:
        st.markdown(paragraph_markdown(paragraph, numbers))


def _highlight(page_text: str, needle: str) -> str:
    """The page with the cited value in bold (matching ignores case and spacing)."""
    if not needle or len(needle) < 3:
        return md(page_text)
    pattern = re.compile(r"\s+".join(re.escape(w) for w in needle.split()), re.IGNORECASE)
    m = pattern.search(page_text)
    if not m:
        return md(page_text)
    return md(page_text[: m.start()]) + "**" + md(m.group(0)) + "**" + md(page_text[m.end():])


def citation_detail(svc: Service, case: Case, citation: Citation, near_value: str = "") -> None:
    """What a citation points at: the answer as recorded, the document page, or the provision."""
    if citation.kind == "answer":
        qid = citation.source.rsplit(".", 1)[-1]  # a question id, never shown as such
        answer = case.answers.get(qid)
        st.markdown(md(citation.text))
        if answer:
            last = answer.last
            try:
                label = svc.profile(case).question(qid).label.get(page_lang())
            except Exception:  # a question the profile no longer has
                label = say("citation_an_answer")
            st.caption(say("citation_answer", md(label), md(last.by), f"{last.at:%Y-%m-%d %H:%M}",
                           md(source_words(case, last.source))))
    elif citation.kind == "evidence":
        ev_id = citation.id.split(":")[1]
        ev = next((e for e in case.evidence if e.id == ev_id), None)
        if ev is None:
            st.caption(say("src_gone"))
            return
        page, text = svc.citation_page(case.id, ev.id, citation.page, near_value)
        st.caption(say("src_page", md(ev.filename), page, ev.pages, md(ev.added_by), f"{ev.added_at:%Y-%m-%d}"))
        with st.container(height=220, border=True):
            st.markdown(_highlight(text, near_value) if text.strip() else say("src_blank_page"))
    else:
        if citation.text and citation.kind == "passage":
            st.markdown(citation.text)  # the knowledge base's own Markdown, rendered (tables, emphasis)
        elif citation.text:
            st.markdown(md(citation.text))
        where = say("src_page_only", citation.page) if citation.page else ""
        if citation.source and citation.kind == "passage" and not _is_internal(citation.source):
            st.caption(" · ".join(x for x in (md(citation.source), where) if x))
        elif where:
            st.caption(where)
        if citation.url:
            st.markdown(f"[{say('citation_official_text')}]({citation.url})")


def _is_internal(source: str) -> bool:
    """A file path of the knowledge base, or an id or hash (internal details a reader does not need)."""
    return ("/" in source or "\\" in source or source.endswith((".md", ".html", ".pdf", ".txt"))
            or ":" in source or bool(re.fullmatch(r"[0-9a-f]{8,}", source)))


def source_words(case: Case, source: str) -> str:
    """Where an answer came from, in words (never `document:<id>`)."""
    if source.startswith("document:"):
        ev = next((e for e in case.evidence if e.id == source.split(":", 1)[1]), None)
        return say("chat_from_document", ev.filename) if ev else say("chat_from_a_document")
    return say({"description": "chat_from_description", "llm": "citation_from_model",
                "case_creation": "citation_from_creation"}.get(source, "citation_typed"))


def section_sources(svc: Service, case: Case, section: SectionDraft, key: str) -> None:
    """Each citation of the section, numbered as in the text; opening one shows the passage."""
    numbers = _numbers(section)
    if not numbers:
        st.caption(say("src_none"))
        return
    near: dict[str, str] = {}
    for paragraph in section.paragraphs:
        last_answer = ""
        for span in paragraph.spans:
            if span.kind == "cite" and span.ref.startswith("answer:"):
                last_answer = section.citations[span.ref].text
            elif span.kind == "cite" and span.ref.startswith("evidence:"):
                near.setdefault(span.ref, last_answer)
    profile = svc.profile(case)
    for ref, n in numbers.items():
        citation = section.citations[ref]
        title = citation.label
        if citation.kind == "answer":  # the question as a reader knows it, not its id
            try:
                title = say("citation_answer_title", profile.question(citation.source.rsplit(".", 1)[-1])
                            .label.get(page_lang()))
            except Exception:  # a question the profile no longer has: the drafter's own label
                title = citation.label
        with st.expander(f"[{n}] {title}", icon=_ICON.get(citation.kind)):
            citation_detail(svc, case, citation, near.get(ref, ""))


_ICON = {"answer": ":material/chat:", "evidence": ":material/description:", "provision": ":material/gavel:",
         "passage": ":material/menu_book:"}


def findings_list(found: list[Finding], empty: str = "", titles: dict[str, str] | None = None) -> None:
    """One line per finding; `titles` maps section ids to the titles the reader knows."""
    if not found:
        st.caption(empty or say("finding_nothing"))
    for f in found:
        tag = (f":red[{say('finding_blocker')}]" if f.blocks
               else f":gray[{say('finding_waived')}]" if f.waived else f":orange[{say('finding_warning')}]")
        why = say("finding_waived_why", md(f.waiver_reason or "")) if f.waived else ""
        section = (titles or {}).get(f.section, f.section)
        st.markdown(f"{tag} · {md(section)} · {md(f.message)}{why}")


def evidence_checklist(section: SectionDraft) -> None:
    """The documents this section rests on: attached, waived or still missing."""
    if not section.evidence:
        return
    st.markdown(f"**{say('docs_for_section')}**")
    for line in section.evidence:
        if line.waived:  # a waived document counts as waived, not present
            mark = f":gray[{say('finding_waived')}]"
        elif line.files:
            mark = f":green[✔] {say('docs_attached', len(line.files))}"
        else:
            mark = f":red[{say('docs_missing')}]" if line.mandatory else f":orange[{say('docs_recommended')}]"
        st.markdown(f"{mark} · {md(line.name)}")
