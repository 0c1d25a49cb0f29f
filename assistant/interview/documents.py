"""Facts found in attached documents, proposed as answers for the user to confirm.

Plain regular expressions over the text of each page (French and English wording): the
certificate number, its expiry date and notified body from a CE certificate; sterility, shelf life
and storage conditions from the device's documents. Each proposal names the document and page it
came from and the passage around it; nothing is recorded until the user accepts it (the answer's
source is then `document:<evidence id>`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.case.answers import AnswerError, normalise
from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Profile
from assistant.case.requirements import applies
from assistant.errors import NotFound
from assistant.interview import facts as told
from assistant.text import DATE, date_of, find_dates

# The facts proposed here (and compared with the answers by the check); the card of "tell it once"
# reads the narrative ones too (service/telling.py).
SHORT_FACTS = frozenset({"previous_certificate_number", "previous_certificate_expiry", "previous_certificate_nb",
                         "sterility", "shelf_life", "storage_conditions"})

_CERT_NUMBER = re.compile(
    r"\b(?:certificate|certificat|cert\.)(?:\s+CE|\s+EC)?\s*(?:no\.?|n[°º]|nr\.?|number|numéro|num\.)\s*[:#]?\s*"
    r"([A-Z0-9][A-Z0-9./\-]{1,40}[A-Z0-9])",
    re.IGNORECASE,
)
_EXPIRY = re.compile(
    r"\b(?:valid\s+until|valid\s+till|expiry\s+date|expiration\s+date|date\s+of\s+expiry|expires\s+on|expires"
    r"|valable\s+jusqu[’']au|valide\s+jusqu[’']au|date\s+d[’']expiration|expire\s+le|fin\s+de\s+validité)"
    rf"\s*[:\-]?\s*({DATE.pattern})",
    re.IGNORECASE,
)
_NB_APPLICATION = re.compile(
    r"\b(?:application|demande)\b(?:[^.]|\.(?=\d)){0,80}?\b(?:received|reçue|déposée|lodged|submitted)\s+(?:on\s+|le\s+)?"
    rf"({DATE.pattern})",
    re.IGNORECASE,
)
_NB_AGREEMENT = re.compile(
    r"\b(?:written\s+agreement|accord\s+écrit)\b(?:[^.]|\.(?=\d)){0,80}?\b(?:signed|signé)\s+(?:on\s+|le\s+)?"
    rf"({DATE.pattern})",
    re.IGNORECASE,
)
_NB_LINE = re.compile(r"^[^\n]*\b(?:notified\s+body|organisme\s+notifié)\b[^\n]*$", re.IGNORECASE | re.MULTILINE)
_NB_NUMBER = re.compile(r"\b(?:NB|n[°º]|no\.?|number|numéro)\s*(\d{4})\b", re.IGNORECASE)
_NB_LABEL = re.compile(r"\b(?:notified\s+body|organisme\s+notifié)\s*[:\-]\s*([^\n]{3,120})", re.IGNORECASE)

@dataclass(frozen=True)
class Found:
    question_id: str
    value: str
    page: int  # 1-based
    snippet: str  # the passage around the fact, as it reads in the document


@dataclass(frozen=True)
class Proposal:
    question_id: str
    value: str  # what would be recorded (normalised for the question's type)
    evidence_id: str
    filename: str
    page: int
    snippet: str
    current: str | None = None  # the answer already recorded, when it differs from the document

    @property
    def key(self) -> str:
        return f"{self.question_id}@{self.evidence_id}"

    @property
    def source(self) -> str:
        return f"document:{self.evidence_id}"


def _snippet(text: str, start: int, end: int, width: int = 90) -> str:
    a, b = max(0, start - width), min(len(text), end + width)
    out = re.sub(r"\s+", " ", text[a:b]).strip()
    return ("…" if a else "") + out + ("…" if b < len(text) else "")


def _span(text: str, quote: str) -> tuple[int, int]:
    """Where `quote` (whitespace folded) is in `text`, for the snippet around it."""
    words = [re.escape(w) for w in quote.split()[:8]]
    m = re.search(r"\s+".join(words), text) if words else None
    return (m.start(), m.end()) if m else (0, min(len(text), 80))


def _certificate_facts(text: str, page: int) -> list[Found]:
    found = []
    for m in _CERT_NUMBER.finditer(text):
        if any(ch.isdigit() for ch in m.group(1)):
            found.append(Found("previous_certificate_number", m.group(1), page, _snippet(text, m.start(), m.end())))
            break
    for m in _EXPIRY.finditer(text):
        day = date_of(m)
        if day is None:
            continue
        found.append(Found("previous_certificate_expiry", day.isoformat(), page, _snippet(text, m.start(), m.end())))
        break
    for qid, pattern in (("nb_application_date", _NB_APPLICATION), ("nb_written_agreement_date", _NB_AGREEMENT)):
        flat = re.sub(r"\s+", " ", text)  # a sentence the PDF wrapped over two lines
        for m in pattern.finditer(flat):
            day = next((d for _, d in find_dates(m.group(0)) if d), None)
            if day is not None:
                found.append(Found(qid, day.isoformat(), page, _snippet(flat, m.start(), m.end())))
                break
    label = _NB_LABEL.search(text)
    if label and _NB_NUMBER.search(label.group(1)):
        value = label.group(1).strip(" ,.;")
        found.append(Found("previous_certificate_nb", value, page, _snippet(text, label.start(), label.end())))
    else:
        for m in _NB_LINE.finditer(text):
            if _NB_NUMBER.search(m.group(0)):
                found.append(Found("previous_certificate_nb", m.group(0).strip(" ,.;"), page,
                                   _snippet(text, m.start(), m.end())))
                break
    return found


def extract(pages: list[str], kind: str) -> list[Found]:
    """Facts found in a document of evidence kind `kind`, first occurrence of each, with its page."""
    found: dict[str, Found] = {}
    for number, text in enumerate(pages, start=1):
        facts: list[Found] = []
        if kind in told.CERTIFICATE_KINDS:
            facts += _certificate_facts(text, number)
        # the shared rules (interview/facts.py, also those of a told description) first: they read the
        # wordings these miss ("Organisme notifié : X, numéro d'identification 2915") and are the only
        # copy of the device's characteristics (sterility, shelf life, storage, standards)
        facts = [Found(f.question_id, f.value, number, _snippet(text, *_span(text, f.quote)))
                 for f in told.document_facts(text, number, kind, narrative=False)
                 if f.question_id in SHORT_FACTS] + facts
        for fact in facts:
            found.setdefault(fact.question_id, fact)
    return list(found.values())


def proposals(profile: Profile, case: Case, pages_of: PagesOf, include_answered: bool = False) -> list[Proposal]:
    """Facts from the case's documents the user may accept as answers.

    Skipped: questions that do not apply, proposals the user dismissed, and (unless
    `include_answered`) questions already answered with the same value. A question answered with a
    different value gives a proposal with `current` set: the document and the answer disagree.
    """
    out: dict[str, Proposal] = {}
    for ev in case.evidence:
        for fact in extract(pages_of(ev.sha256), ev.kind):
            try:
                question = profile.question(fact.question_id)
            except NotFound:
                continue
            if applies(profile, case, question) is False or f"{fact.question_id}@{ev.id}" in case.dismissed_proposals:
                continue
            try:
                value = normalise(question, fact.value)
            except AnswerError:
                continue
            current = case.value(fact.question_id)
            if current is not None and current.strip().lower() == value.strip().lower() and not include_answered:
                continue
            out.setdefault(fact.question_id, Proposal(
                question_id=fact.question_id, value=value, evidence_id=ev.id, filename=ev.filename,
                page=fact.page, snippet=fact.snippet, current=current,
            ))
    return list(out.values())
