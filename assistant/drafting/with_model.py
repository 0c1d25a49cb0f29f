"""The language-model drafter: one section from the case facts and the retrieved passages only.

The model sees the facts tagged `[A:question_id]` and the passages tagged `[P1]…[Pn]`, and must
cite them; a missing fact is written `[MISSING:question_id]`. Its text (streamed) is parsed into
the same `SectionDraft` the offline drafter produces: text, `cite` spans whose ref is the
passage's stable id (or `answer:<question id>`), and placeholders. The mechanical grounding
checks (grounding.py) then decide: a draft that fails, or any model error, gives the offline
draft of the section with `drafter="offline-fallback"` and a notice listing why.

The evidence list of a section, and any placeholder the model left out, come from the offline
draft: they are mechanical facts, not prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from assistant import words as i18n
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile, Section
from assistant.case.requirements import applies
from assistant.drafting.content import answer_label, passage_label
from assistant.drafting.grounding import Failure, check_section
from assistant.drafting.model import Citation, Paragraph, Placeholder, SectionDraft, Span
from assistant.drafting.spans import render_text
from assistant.errors import LLMError, NotFound
from assistant.knowledge.passage import Passage
from assistant.knowledge.sources import NOTES_DIR
from assistant.llm import claims
from assistant.llm import prompts as prompting
from assistant.llm.audit import scrub
from assistant.llm.prompts import LANG_NAMES
from assistant.llm.session import LLM

OnChunk = Callable[[str, str], None]  # (section id, text chunk)
_REF = re.compile(r"\[([^\[\]\n]{1,120})\]")
_REF_PART = re.compile(r"^(?:P(\d+)|A:\s*([a-z0-9_\-]+)|MISSING:\s*([a-z0-9_\-]+))$", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
MAX_FAILURES_SHOWN = 8


# -- passages until retrieval gives them ------------------------------------------------------
def provision_passages(profile: Profile, section: Section, lang: Lang) -> list[Passage]:
    """The section's provisions as passages: the knowledge-base note when there is one, else the
    profile's label and title. Retrieval replaces this with ranked passages."""
    out = []
    for pid in section.provisions:
        provision = profile.provision(pid)
        note = NOTES_DIR / lang / f"{pid}.{lang}.md"
        if note.exists():
            body = _FRONT_MATTER.sub("", note.read_text(encoding="utf-8")).strip()
            out.append(Passage(
                id=f"note:{pid}.{lang}#0", citation=provision.label.get(lang), text=body, source=note.name,
                instrument=provision.instrument, article=provision.article, paragraph=provision.paragraph,
                language=lang, url=provision.url,
            ))
        else:
            out.append(Passage(
                id=f"provision:{pid}", citation=provision.label.get(lang),
                text=f"{provision.label.get(lang)} — {provision.title.get(lang)}", source=pid,
                instrument=provision.instrument, article=provision.article, paragraph=provision.paragraph,
                language=lang, url=provision.url,
            ))
    return out


# -- prompt -------------------------------------------------------------------------------------
def _facts_block(profile: Profile, case: Case, lang: Lang) -> str:
    lines = []
    for qid, answer in case.answers.items():
        try:
            label = profile.question(qid).label.get(lang)
        except NotFound:
            continue
        lines.append(f"[A:{qid}] {label}: {' '.join(answer.value.split())}")
    return prompting.data_block("facts", "\n".join(lines) or "(none)")


def _missing(profile: Profile, case: Case, section: Section, lang: Lang) -> list[tuple[str, str]]:
    return [
        (q.id, q.label.get(lang)) for q in section.questions
        if q.id not in case.answers and applies(profile, case, q) is True
    ]


def _passages_block(passages: Sequence[Passage]) -> str:
    """Each passage inside its own <passage id="Pn"> tag: documents are data, never instructions."""
    blocks = [prompting.data_block("passage", p.text, id=f"P{n}", citation=p.citation)
              for n, p in enumerate(passages, 1)]
    return "\n\n".join(blocks) or "(none)"


def draft_messages(
    profile: Profile, case: Case, section: Section, lang: Lang, passages: Sequence[Passage], folder: Path | None = None,
) -> list[dict[str, str]]:
    missing = _missing(profile, case, section, lang)
    needs = [f"- {q.label.get(lang)}" for q in section.questions if q.applies(case.request_type)]
    return prompting.render(
        "draft_section",
        folder=folder,
        lang_name=LANG_NAMES[lang],
        authority=profile.name.get(lang),
        legal_basis=profile.legal_basis_for(case.values()),
        request_type=profile.request_type_labels[case.request_type].get(lang),
        device=case.device or "(not given)",
        section_title=section.title.get(lang),
        section_needs="\n".join(needs) or f"- {section.title.get(lang)}",
        facts=_facts_block(profile, case, lang),
        missing="\n".join(f"[MISSING:{qid}] {label}" for qid, label in missing) or "(none)",
        passages=_passages_block(passages),
    )


# -- parsing the model's text into spans ---------------------------------------------------------
class _Parser:
    def __init__(self, profile: Profile, case: Case, section: Section, lang: Lang, passages: Sequence[Passage]) -> None:
        self.profile, self.case, self.section, self.lang, self.passages = profile, case, section, lang, passages
        self.citations: dict[str, Citation] = {}
        self.placeholders: list[Placeholder] = []
        self.used_answers: list[str] = []

    def parse(self, text: str) -> list[Paragraph]:
        text = re.sub(r"^```\w*\s*$", "", text.strip(), flags=re.MULTILINE)
        paragraphs = []
        for block in re.split(r"\n\s*\n", text):
            lines = [ln for ln in block.strip().splitlines() if not ln.lstrip().startswith("#")]
            block = " ".join(ln.strip() for ln in lines).strip()
            if block:
                paragraphs.append(Paragraph(spans=self._spans(block)))
        return paragraphs

    def _spans(self, block: str) -> list[Span]:
        spans: list[Span] = []
        pos = 0
        for m in _REF.finditer(block):
            parts = [p.strip() for p in re.split(r"[,;]", m.group(1)) if p.strip()]
            matches = [_REF_PART.match(p) for p in parts]
            if not parts or not all(matches):
                continue  # an ordinary bracket, kept as text
            before = block[pos : m.start()]
            if before:
                spans.append(Span(kind="text", text=before))
            for part in matches:
                assert part is not None
                spans.append(self._ref(part))
            pos = m.end()
        if block[pos:]:
            spans.append(Span(kind="text", text=block[pos:]))
        return _tidy(spans)

    def _ref(self, m: re.Match[str]) -> Span:
        if m.group(1):
            n = int(m.group(1))
            if not 1 <= n <= len(self.passages):
                return Span(kind="cite", ref=f"P{n}")
            p = self.passages[n - 1]
            self.citations[p.id] = Citation(
                id=p.id, kind="passage", label=passage_label(p, self.lang), url=p.url, page=p.page,
                source=p.source or p.id, text=p.text,
            )
            return Span(kind="cite", ref=p.id)
        if m.group(2):
            qid = m.group(2).lower()
            answer = self.case.answers.get(qid)
            cid = f"answer:{qid}"
            if answer is None:
                return Span(kind="cite", ref=cid)
            try:
                self.profile.section_of(qid)
            except NotFound:
                return Span(kind="cite", ref=cid)
            self.citations[cid] = Citation(
                id=cid, kind="answer", label=answer_label(self.profile, qid, self.lang, self.case.request_type), source=qid, text=answer.value,
            )
            if qid not in self.used_answers:
                self.used_answers.append(qid)
            return Span(kind="cite", ref=cid)
        qid = m.group(3).lower()
        try:
            label = self.profile.question(qid).label.get(self.lang)
        except NotFound:
            label = qid
        self.placeholders.append(Placeholder(label=label, question_id=qid if label != qid else ""))
        return Span(kind="placeholder", text=i18n.t("todo", self.lang, label), ref=qid)


def _tidy(spans: list[Span]) -> list[Span]:
    """No space before a citation; merge adjacent text."""
    out: list[Span] = []
    for i, span in enumerate(spans):
        if span.kind == "text":
            text = span.text
            if i + 1 < len(spans) and spans[i + 1].kind == "cite":
                text = text.rstrip()
            if out and out[-1].kind == "text":
                out[-1] = Span(kind="text", text=out[-1].text + text)
            elif text:
                out.append(Span(kind="text", text=text))
        else:
            out.append(span)
    return out


# -- the drafter -------------------------------------------------------------------------------
def known_texts(profile: Profile, case: Case) -> list[str]:
    """The product's own vetted wording, which a draft may reuse: the authority profile."""
    texts = [profile.name.fr, profile.name.en, profile.title.fr, profile.title.en, case.device, case.id]
    for label in profile.request_type_labels.values():
        texts += [label.fr, label.en]
    for p in profile.provisions:
        texts += [p.label.fr, p.label.en, p.title.fr, p.title.en]
    for s in profile.sections:
        texts += [s.title.fr, s.title.en]
        for para in s.paragraphs:
            texts += [para.fr, para.en]
        for q in s.questions:
            texts += [q.label.fr, q.label.en]
    for k in profile.evidence_kinds:
        texts += [k.name.fr, k.name.en]
    return texts


def fallback(offline: SectionDraft, why: Iterable[str]) -> SectionDraft:
    return offline.model_copy(update={"drafter": "offline-fallback", "notices": [*offline.notices, *why]})


def failure_notice(failures: Sequence[Failure], lang: Lang = "en") -> str:
    shown = (" ; " if lang == "fr" else "; ").join(f.reason_in(lang) for f in failures[:MAX_FAILURES_SHOWN])
    more = len(failures) - MAX_FAILURES_SHOWN
    extra = i18n.t("llm_draft_rejected_more", lang, more) if more > 0 else ""
    return i18n.t("llm_draft_rejected", lang, len(failures), shown, extra)


def error_notice(exc: LLMError, lang: Lang = "en") -> str:
    return i18n.t("llm_unavailable", lang, exc)


def draft_section_checked(
    llm: LLM,
    profile: Profile,
    case: Case,
    section: Section,
    lang: Lang,
    passages: Sequence[Passage],
    offline: SectionDraft,
    on_chunk: OnChunk | None = None,
) -> tuple[SectionDraft, list[str]]:
    """The section drafted by the model if it passes the grounding checks, else the offline draft;
    and why the model's text was not used: each grounding failure, or the
    model's error (empty when the model's draft is the one returned)."""
    if not llm.enabled:
        if not llm.problem:
            return offline, []
        return fallback(offline, [error_notice(LLMError("offline", llm.problem), lang)]), [llm.problem]
    messages = draft_messages(profile, case, section, lang, passages, llm.prompts_dir)
    seen = len(llm.notices)
    chunks: list[str] = []
    try:
        for chunk in llm.stream(messages, purpose=f"draft_section:{section.id}"):
            chunks.append(chunk)
            if on_chunk:
                on_chunk(section.id, chunk)
    except LLMError as exc:
        return fallback(offline, [error_notice(exc, lang)]), [f"language model unavailable: {exc}"]
    retries = [n for n in llm.notices[seen:] if "retrying" in n]
    text = scrub("".join(chunks), llm.secrets)  # a key cut across two chunks is removed here
    candidate, failures = check_reply(profile, case, section, lang, passages, offline, text, llm.label)
    if failures:
        return fallback(offline, [*retries, failure_notice(failures, lang)]), [f.reason for f in failures]
    return (candidate.model_copy(update={"notices": [*candidate.notices, *retries]}) if retries else candidate), []


def check_reply(
    profile: Profile, case: Case, section: Section, lang: Lang, passages: Sequence[Passage],
    offline: SectionDraft, text: str, label: str = "llm:?",
) -> tuple[SectionDraft, list[Failure]]:
    """A model's reply for a section, parsed and checked against the case: the section it would be
    (completed with what the offline draft knows mechanically) and every grounding failure."""
    parser = _Parser(profile, case, section, lang, passages)
    candidate = offline.model_copy(update={
        "paragraphs": parser.parse(text), "citations": parser.citations, "placeholders": parser.placeholders,
    })
    failures = check_section(candidate, passages, case.values(), known_texts(profile, case), claims.CaseFacts.of(case))
    return _complete(candidate, offline, parser, label), failures


def offline_passages(offline: SectionDraft) -> list[Passage]:
    """The retrieved passages the offline draft of a section rests on (its 'Sources' paragraph)."""
    out = []
    for ref in offline.used_passages:
        c = offline.citations.get(ref)
        if c is not None and c.kind == "passage" and c.text:
            out.append(Passage(id=c.id, citation=c.label, text=c.text, source=c.source, page=c.page, url=c.url))
    return out


def _evidence_paragraph(offline: SectionDraft) -> Paragraph | None:
    """The offline draft's evidence list: after the prose, before the retrieved sources, if any."""
    if not offline.evidence or not offline.paragraphs:
        return None
    tail = 2 if offline.used_passages else 1
    return offline.paragraphs[-tail] if len(offline.paragraphs) >= tail else None


def _complete(candidate: SectionDraft, offline: SectionDraft, parser: _Parser, label: str) -> SectionDraft:
    """Add what the offline draft knows mechanically: placeholders the model left out, the evidence list."""
    paragraphs = list(candidate.paragraphs)
    citations = dict(candidate.citations)
    placeholders = list(candidate.placeholders)
    have = {p.question_id for p in placeholders if p.question_id}
    for ph in offline.placeholders:
        if ph.question_id and ph.question_id not in have:
            span = next((s for p in offline.paragraphs for s in p.spans
                         if s.kind == "placeholder" and s.ref == ph.question_id), None)
            if span is not None:
                paragraphs.append(Paragraph(spans=[span]))
                placeholders.append(ph)
                have.add(ph.question_id)
    evidence_para = _evidence_paragraph(offline)
    if evidence_para is not None:
        paragraphs.append(evidence_para)
        for span in evidence_para.spans:
            if span.kind == "cite" and span.ref in offline.citations:
                citations[span.ref] = offline.citations[span.ref]
        placeholders += [p for p in offline.placeholders if p.evidence_kind]
    return candidate.model_copy(update={
        "paragraphs": paragraphs,
        "citations": citations,
        "placeholders": placeholders,
        "used_answers": parser.used_answers,
        "used_provisions": [c.source for c in citations.values() if c.kind == "provision"],
        "used_passages": [c.id for c in citations.values() if c.kind == "passage"],
        "drafter": label,
    })


# -- the reviewer's second look -------------------------------------------------------------------
class ReviewIssue(BaseModel):
    claim: str
    problem: str
    source: str = ""


class Review(BaseModel):
    issues: list[ReviewIssue] = Field(default_factory=list)


def markup(section: SectionDraft, passages: Sequence[Passage]) -> str:
    """A section's text with the ids the model knows ([P1], [A:…], [MISSING:…])."""
    index = {p.id: n for n, p in enumerate(passages, 1)}

    def cite(span: Span, _gap: str) -> str:
        if span.ref.startswith("answer:"):
            return f"[A:{span.ref[7:]}]"
        return f"[P{index[span.ref]}]" if span.ref in index else ""

    # No gap: the ids sit against the text, as the model is asked to write them ("…[A:urgency][P1]").
    return "\n\n".join(render_text(p, cite, lambda s, _gap: f"[MISSING:{s.ref}]") for p in section.paragraphs)


def review_section(
    llm: LLM, profile: Profile, case: Case, section: SectionDraft, passages: Sequence[Passage], lang: Lang
) -> list[ReviewIssue]:
    """A model's claim-by-claim check of a section against its sources (advisory, for the reviewer)."""
    cited = {s.ref for p in section.paragraphs for s in p.spans if s.kind == "cite"}
    used = [p for p in passages if p.id in cited] or list(passages)
    messages = prompting.render(
        "review_section",
        folder=llm.prompts_dir,
        lang_name=LANG_NAMES[lang],
        section_title=section.title,
        draft=prompting.data_block("draft", markup(section, used)),
        facts=_facts_block(profile, case, lang),
        passages=_passages_block(used),
    )
    return llm.structured(messages, Review, purpose=f"review_section:{section.section_id}").issues
