"""A smarter interview with a language model: several facts from one answer, and targeted follow-ups.

- `propose_facts`: a free-text answer (or a document's text) often answers several questions;
  the model proposes a value for each (structured output), each with the exact words that
  support it. A proposal is kept only if that quote is in the text, its value is valid for the
  question (answers.normalise), it says what the quote says (llm/claims.check_proposal: the same
  yes/no, no possibility taken for a fact, no value beyond the words) and, for a patient field, it
  holds no identifying data. Nothing is recorded until the user confirms (a document's proposal is
  the document's word until then); the interview then skips what is known.
- `next_followup`: for a justification question, the model judges whether the answer gives the
  specifics an assessor needs and asks ONE targeted follow-up, at most `profile.max_followups`
  times per question (the same counter as the offline rule). Without a model, when it fails, or
  when its follow-up claims what the case does not support (llm/claims.py: a status, a workflow
  state, the patient's identity, words the user did not write), the offline rule answers: a thin
  answer gets the profile's follow-up wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from assistant.case.answers import AnswerError, normalise
from assistant.case.model import Case
from assistant.case.privacy import patient_data_problems
from assistant.case.profile import Lang, Profile, Question
from assistant.case.requirements import applies
from assistant.errors import LLMError
from assistant.interview.engine import needs_followup, ordered_questions
from assistant.llm import claims
from assistant.llm import prompts as prompting
from assistant.llm.prompts import LANG_NAMES
from assistant.llm.session import LLM
from assistant.text import normalise as norm_text

MAX_TEXT_CHARS = 15_000
MAX_FOLLOWUP_CHARS = 500


class ExtractedFact(BaseModel):
    question_id: str
    value: str
    quote: str = ""


class Extraction(BaseModel):
    facts: list[ExtractedFact] = Field(default_factory=list)


class Judgement(BaseModel):
    specific: bool
    missing: list[str] = Field(default_factory=list)
    followup: str = ""


@dataclass(frozen=True)
class FactProposal:
    question_id: str
    label: str
    value: str  # what would be recorded (normalised for the question's type)
    quote: str  # the words of the text that support it
    source: str  # "llm" for a free-text answer, "document:<evidence id>" for a document
    current: str | None = None  # the answer already recorded, when the proposal differs from it
    where: str = ""  # where it was read, as a reader says it ("your description", "certificat.pdf, p. 1")


@dataclass(frozen=True)
class Extracted:
    proposals: list[FactProposal] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # why each other model proposal was not kept
    notices: list[str] = field(default_factory=list)  # what happened with the model (retries, failure)


@dataclass(frozen=True)
class Followup:
    question_id: str
    text: str
    source: str  # "llm" | "profile"
    missing: tuple[str, ...] = ()


def candidate_questions(profile: Profile, case: Case) -> list[Question]:
    """The questions a text may answer for this case: those not ruled out and not waived."""
    return [q for q in profile.all_questions() if q.id not in case.waivers and applies(profile, case, q) is not False]


def _question_lines(questions: list[Question], case: Case, lang: Lang) -> str:
    lines = []
    for q in questions:
        kind = q.type + (f"; one of {', '.join(q.options)}" if q.options else "")
        current = case.value(q.id)
        now = f" — currently: {' '.join(current.split())[:120]}" if current else ""
        lines.append(f"- {q.id} ({kind}) — {q.text.get(lang)}{now}")
    return "\n".join(lines)


def propose_facts(
    llm: LLM, profile: Profile, case: Case, text: str, lang: Lang = "en", *,
    source: str = "llm", source_kind: str = "free-text answer",
) -> Extracted:
    """The model's proposals for every question `text` answers, each checked (see module doc)."""
    if not llm.enabled or not text.strip():
        return Extracted(notices=[llm.problem] if llm.problem else [])
    questions = candidate_questions(profile, case)
    by_id = {q.id: q for q in questions}
    clipped = text[:MAX_TEXT_CHARS]
    notices = [f"only the first {MAX_TEXT_CHARS} characters were read"] if len(text) > MAX_TEXT_CHARS else []
    messages = prompting.render(
        "extract_facts", folder=llm.prompts_dir, source_kind=source_kind, questions=_question_lines(questions, case, lang),
        text=prompting.data_block("document", clipped, kind=source_kind),
    )
    try:
        result = llm.structured(messages, Extraction, purpose="extract_facts")
    except LLMError as exc:
        return Extracted(notices=[*notices, f"no proposals: {exc}"])
    haystack = norm_text(clipped)
    proposals: list[FactProposal] = []
    dropped: list[str] = []
    for fact in result.facts:
        qid = fact.question_id.strip()
        question = by_id.get(qid)
        if question is None:
            dropped.append(f"{qid}: not a question open for this case")
            continue
        if any(p.question_id == qid for p in proposals):
            continue
        quote = fact.quote.strip()
        if not quote or norm_text(quote) not in haystack:
            if not (question.type in ("text", "long_text") and norm_text(fact.value) in haystack):
                dropped.append(f"{qid}: the supporting words are not in the text")
                continue
            quote = fact.value
        try:
            value = normalise(question, fact.value)
        except AnswerError as exc:
            dropped.append(str(exc))
            continue
        wrong = claims.check_proposal(question.type, value, quote, clipped, question.options or ())
        if wrong:
            dropped.append(f"{qid}: {wrong}")
            continue
        if question.patient_data and patient_data_problems(value, pseudonym=question.pseudonym):
            dropped.append(f"{qid}: looks like identifying patient data")
            continue
        current = case.value(qid)
        if current == value:
            continue
        proposals.append(FactProposal(
            question_id=qid, label=question.label.get(lang), value=value, quote=quote, source=source, current=current,
        ))
    order = {q.id: n for n, q in enumerate(ordered_questions(profile))}  # screening answers first
    proposals.sort(key=lambda p: order[p.question_id])
    return Extracted(proposals=proposals, dropped=dropped, notices=notices + llm.notices)


def next_followup(llm: LLM, profile: Profile, case: Case, question_id: str, lang: Lang = "en") -> Followup | None:
    """The one follow-up to ask about this answer now, or None (specific enough, or the limit reached)."""
    question = profile.question(question_id)
    answer = case.answers.get(question_id)
    if answer is None or not question.justification or question.followup is None:
        return None
    if answer.followups >= profile.max_followups:
        return None
    if llm.enabled:
        section = profile.section_of(question_id)
        messages = prompting.render(
            "followup",
            folder=llm.prompts_dir,
            lang_name=LANG_NAMES[lang],
            legal_basis=profile.legal_basis_for(case.values()),
            section_title=section.title.get(lang),
            question=question.text.get(lang),
            expectations=question.followup.get(lang),
            answer=prompting.data_block("answer", answer.value),
        )
        try:
            verdict = llm.structured(messages, Judgement, purpose=f"followup:{question_id}")
        except LLMError:
            pass  # the offline rule below answers; llm.notices says what happened
        else:
            text = " ".join(verdict.followup.split())
            lies = claims.check_text(text, claims.CaseFacts.of(case, section.id), "followup")
            if lies:  # a follow-up that lies is not shown, and its verdict is not trusted: the offline rule answers
                llm.notices.append("language-model follow-up not shown: " + "; ".join(f.reason for f in lies[:3]))
            elif verdict.specific:
                return None
            else:
                if not text or len(text) > MAX_FOLLOWUP_CHARS:
                    text = question.followup.get(lang)
                return Followup(question_id, text, "llm", tuple(verdict.missing))
    if needs_followup(profile, question, answer):
        return Followup(question_id, question.followup.get(lang), "profile")
    return None
