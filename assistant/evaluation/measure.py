"""What a scenario's draft is measured on: findings against the expected ones, facts present,
sentences without a source, citations that resolve."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant import words as i18n
from assistant.case.profile import Lang
from assistant.drafting.model import Draft, Paragraph, SectionDraft, Span
from assistant.drafting.spans import render_text
from assistant.errors import NotFound
from assistant.evaluation.scenarios import GROUNDING_NOTICE, Scenario
from assistant.knowledge.sources import NOTES_DIR
from assistant.service import Service
from assistant.text import format_date

if TYPE_CHECKING:
    from assistant.case.model import Case

_ABBREVIATIONS = {"no", "art", "p", "pp", "seq", "n°", "dr", "pr", "cf", "e.g", "i.e", "etc", "vol", "fig"}
_BOUNDARY = re.compile(r"[.!?…](?=\s)")
_ANSWER, _CITE, _PLACEHOLDER = "\x01", "\x02", "\x03"


def paragraph_text(paragraph: Paragraph, section: SectionDraft) -> str:
    """The paragraph as a reader sees it: text, [citation labels] and [placeholders]."""
    def cite(span: Span, gap: str) -> str:
        citation = section.citations.get(span.ref)
        return f"{gap}[{citation.label if citation else span.ref}]"

    return render_text(paragraph, cite, lambda s, gap: f"{gap}[{s.text}]")


def draft_text(draft: Draft) -> str:
    lines = []
    for section in draft.sections:
        lines.append(f"{section.number}. {section.title}")
        lines += [paragraph_text(p, section) for p in section.paragraphs]
    return _squash("\n".join(lines))


def _squash(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


def _shown_values(value: str, lang: Lang) -> list[str]:
    """How a recorded answer may read in the draft (dates and yes/no are rendered)."""
    shown = {value, value.rstrip(".")}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        shown.add(format_date(value, lang))
    if value in ("yes", "no"):
        shown.add(i18n.t(value, lang))
    return sorted((v for v in shown if len(v) > 3), key=len, reverse=True)


def sentences(section: SectionDraft, case: Case, lang: Lang) -> list[tuple[str, bool]]:
    """Each sentence of a section with whether it rests on a source (a citation, a recorded answer,
    or a visible placeholder saying what is missing). A cited answer counts as one unit, whatever
    its punctuation: it is the user's own text, sourced by its citation."""
    values = [v for c in section.citations.values() if c.kind == "answer"
              for v in _shown_values(case.answers[c.source].value if c.source in case.answers else c.text, lang)]
    out = []
    for paragraph in section.paragraphs:
        text = render_text(paragraph, lambda _s, _gap: _CITE, lambda _s, _gap: _PLACEHOLDER)
        for value in values:
            text = text.replace(value, _ANSWER)
        start = 0
        for m in _BOUNDARY.finditer(text):
            word = re.split(r"[\s(’']", text[start : m.start()])[-1].lower()  # "l'art." is "art."
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            out.append(text[start : m.end()])
            start = m.end()
        if text[start:].strip():
            out.append(text[start:])
    marks = (_ANSWER, _CITE, _PLACEHOLDER)
    return [(s.strip(), any(m in s for m in marks)) for s in out if s.strip(" .;:")]


def _page_problem(evidence_id: str, page: int | None, case: Case, pages_of: Callable[[str], list[str]]) -> str:
    ev = next((e for e in case.evidence if e.id == evidence_id), None)
    if ev is None:
        return f"no attached document {evidence_id!r}"
    if page is None:
        return ""
    pages = pages_of(ev.sha256)
    return "" if 1 <= page <= len(pages) and pages[page - 1].strip() else f"{ev.filename} has no page {page} with text"


def citation_problem(citation, case: Case, profile, pages_of: Callable[[str], list[str]], passages: set[str]) -> str:
    """Why a citation does not resolve, or '' when it points to something a reader can open."""
    if citation.kind == "provision":
        try:
            provision = profile.provision(citation.source)
        except NotFound:
            return f"unknown provision {citation.source!r}"
        return "" if provision.url and citation.url == provision.url else f"provision {citation.source} has no URL"
    if citation.kind == "answer":
        answer = case.answers.get(citation.source)
        return "" if answer is not None and answer.value == citation.text else f"no recorded answer {citation.source!r}"
    if citation.kind == "evidence":
        return _page_problem(citation.id.split(":")[1], citation.page, case, pages_of)
    # a passage: retrieved for this section (or given to the model), with its text and a way to open it
    if citation.id not in passages:
        return f"passage {citation.id!r} was not retrieved for this draft"
    if not citation.text.strip():
        return f"passage {citation.id!r} has no text"
    own = [e for e in case.evidence if e.filename == citation.source]
    if own:  # a page of one of the case's own documents
        problems = [_page_problem(e.id, citation.page, case, pages_of) for e in own]
        return "" if "" in problems else problems[0]
    opened = citation.url or Path(citation.source).exists() or any(
        (NOTES_DIR / lang / citation.source).exists() for lang in ("fr", "en"))
    return "" if opened else f"passage {citation.id!r} has no URL or source file"


@dataclass
class ScenarioResult:
    name: str
    description: str
    request_type: str
    expected_findings: int = 0
    actual_findings: int = 0
    findings_matched_expected: int = 0
    findings_matched_actual: int = 0
    missing_findings: list[str] = field(default_factory=list)
    unexpected_findings: list[str] = field(default_factory=list)
    facts_required: int = 0
    facts_present: int = 0
    missing_facts: list[str] = field(default_factory=list)
    forbidden_present: list[str] = field(default_factory=list)
    citations: int = 0
    citations_by_kind: dict[str, int] = field(default_factory=dict)  # answer, evidence, provision, passage
    citations_resolved: int = 0
    unresolved_citations: list[str] = field(default_factory=list)
    placeholders: int = 0
    sentences: int = 0
    unsourced_sentences: int = 0
    unsourced_examples: list[str] = field(default_factory=list)
    grounding_failures: int | None = None  # None: no language model configured (n/a)
    submission_markup: list[str] = field(default_factory=list)  # internal markup in the submission DOCX/PDF
    submission_section_share: float = 1.0  # the numbered sections' share of the submission DOCX's words
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return self.findings_matched_actual / self.actual_findings if self.actual_findings else 1.0

    @property
    def recall(self) -> float:
        return self.findings_matched_expected / self.expected_findings if self.expected_findings else 1.0

    @property
    def facts_ratio(self) -> float:
        total = self.facts_required + len(self.forbidden_present)
        return self.facts_present / total if total else 1.0

    @property
    def citations_ratio(self) -> float:
        return self.citations_resolved / self.citations if self.citations else 1.0

    def as_json(self) -> dict:
        return {**asdict(self), "findings_precision": round(self.precision, 4), "findings_recall": round(self.recall, 4),
                "facts_present_ratio": round(self.facts_ratio, 4), "citations_resolve": round(self.citations_ratio, 4)}


def measure(svc: Service, scenario: Scenario, case_id: str, use_llm: bool) -> ScenarioResult:
    case = svc.case(case_id)
    profile = svc.profile(case)
    result = ScenarioResult(scenario.name, scenario.description.strip(), scenario.request_type)

    found = svc.check(case_id, "en")
    expected = scenario.expect.findings
    result.expected_findings, result.actual_findings = len(expected), len(found)
    hit = [e for e in expected if any(e.matches(f) for f in found)]
    result.findings_matched_expected = len(hit)
    result.missing_findings = [e.label() for e in expected if e not in hit]
    for f in found:
        if any(e.matches(f) for e in expected):
            result.findings_matched_actual += 1
        else:
            ref = f.question_id or f.evidence_kind
            result.unexpected_findings.append(f"{f.section}/{f.kind}" + (f"[{ref}]" if ref else ""))

    draft = svc.draft(case_id, scenario.lang, use_llm=use_llm)
    if use_llm:
        result.grounding_failures = sum(
            1 for s in draft.sections if any(n.startswith(GROUNDING_NOTICE) for n in s.notices))
    text = draft_text(draft)
    result.facts_required = len(scenario.expect.facts) + len(scenario.expect.check_mentions)
    messages = _squash(" ".join(f.message for f in found))
    result.missing_facts = [f for f in scenario.expect.facts if _squash(f) not in text]
    result.missing_facts += [f"(check) {f}" for f in scenario.expect.check_mentions if _squash(f) not in messages]
    if scenario.expect.route is not None:  # counted as one fact: the law's conclusion for the case
        result.facts_required += 1
        conclusion = svc.route(case_id).conclusion
        if conclusion != scenario.expect.route:
            result.missing_facts.append(f"(route) expected {scenario.expect.route}, got {conclusion}")
    result.facts_present = result.facts_required - len(result.missing_facts)
    result.forbidden_present = [f for f in scenario.expect.absent if _squash(f) in text]

    pages_of = svc.pages(case_id)
    for section in draft.sections:
        passages = set(section.used_passages) | {c for c, v in section.citations.items() if v.kind == "passage"
                                                 and section.drafter.startswith("llm:")}
        for paragraph in section.paragraphs:
            for span in paragraph.spans:
                if span.kind == "placeholder":
                    result.placeholders += 1
                if span.kind != "cite":
                    continue
                result.citations += 1
                citation = section.citations.get(span.ref)
                kind = citation.kind if citation else "dangling"
                result.citations_by_kind[kind] = result.citations_by_kind.get(kind, 0) + 1
                problem = "dangling reference" if citation is None else citation_problem(
                    citation, case, profile, pages_of, passages)
                if problem:
                    result.unresolved_citations.append(f"{section.section_id}: {span.ref}: {problem}")
        for sentence, sourced in sentences(section, case, draft.lang):
            result.sentences += 1
            if not sourced:
                result.unsourced_sentences += 1
                result.unsourced_examples.append(f"{section.section_id}: {sentence}")
    result.citations_resolved = result.citations - len(result.unresolved_citations)
    read_submission(svc, case_id, scenario.lang, result)
    return result


def read_submission(svc: Service, case_id: str, lang: Lang, result: ScenarioResult) -> None:
    """Write the submission DOCX and PDF as the case stands (whatever still blocks it) and read them
    back as an assessor would: no internal markup, and mostly the request itself."""
    import tempfile

    from assistant.documents import inspect, submission
    from assistant.drafting import revisions

    case = svc.case(case_id)
    profile = svc.profile(case)
    draft = revisions.apply_edits(svc.draft(case_id, lang, use_llm=False), case)
    pages = svc.pages(case_id)
    with tempfile.TemporaryDirectory(prefix="derogation-submission-") as tmp:
        docx, pdf = Path(tmp) / "s.docx", Path(tmp) / "s.pdf"
        submission.to_docx(profile, case, draft, pages, docx)
        submission.to_pdf(profile, case, draft, pages, pdf)
        reading = inspect.read_docx(docx)
        pdf_text, blank = inspect.read_pdf(pdf)
    result.submission_markup = [f"docx: {m}" for m in inspect.markup_in(reading.text)]
    result.submission_markup += [f"pdf: {m}" for m in inspect.markup_in(pdf_text)]
    result.submission_markup += [f"pdf: {blank} blank page(s)"] if blank else []
    result.submission_section_share = round(reading.section_share, 4)
