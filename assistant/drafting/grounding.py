"""Mechanical grounding checks run after every language-model draft of a section.

A draft passes only if:
- every citation id exists among the passages given (or the case answers, for `[A:…]`);
- every quoted span occurs word for word in the source cited right after it (else in a cited
  passage or a case fact);
- every number, date, standard reference (ISO/EN/IEC …) and proper noun in its text occurs in
  the case facts, in the passages the section cites, or in the product's own vetted wording
  (the authority profile);
- every paragraph cites something or shows a placeholder;
- no sentence claims what the case does not support (llm/claims.py: a regulatory status, a
  workflow state, an attachment, an admission, the delay as the ground, a note to the reviewer);
- a number, date or name that only an uploaded document states (a passage `ev:…`, whose content
  nobody has confirmed) is said to come from that document ("selon le certificat joint …"), never
  stated as a fact of the case.

The comparison is deliberately plain: normalised strings, no model. A failure names the text
and the reason, for the reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.drafting.model import Paragraph, SectionDraft
from assistant.knowledge.passage import Passage
from assistant.llm import claims
from assistant.text import DATE, MONTHS, find_dates, normalise

FailureKind = str  # unknown_citation | quote_not_found | ungrounded_number | ungrounded_date |
#                    ungrounded_standard | ungrounded_name | uncited_paragraph | empty_draft |
#                    document_fact | a claim kind of llm/claims.yaml

STANDARD = re.compile(
    r"\b(?:(?:NF|BS|DIN)\s+)?(?:EN|ISO|IEC|ASTM|IEEE|AAMI|CEI)(?:\s*/\s*|\s+)?(?:(?:ISO|IEC|TR|TS)(?:\s*/\s*|\s+))*"
    r"[A-Z]?\s?\d{2,6}(?:[-‑]\d+)*(?::\d{4})?(?:\+A\d+(?::\d{4})?)?"
)
NUMBER = re.compile(r"(?<![\d])\d+(?:[.,]\d+)?(?![\d])")
WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)
QUOTE = re.compile(r"«\s*(.+?)\s*»|“(.+?)”|\"(.+?)\"")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;]\s*|\n)$")
_OPENERS = "«“\"'([ "
_ALWAYS_KNOWN = {
    # Words a writer capitalises mid-sentence without naming anything new.
    "i", "eu", "ue", "ce", "dm", "mdr", "ivdr", "rdm", "rdiv", "annex", "annexe", "article", "art",
    "regulation", "règlement", "directive", "member", "states", "state", "union", "european",
    "européenne", "commission", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", *MONTHS,
}


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    text: str
    reason: str
    reason_fr: str = ""  # the same in French: a notice follows the section's language

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"

    def reason_in(self, lang: str) -> str:
        return self.reason_fr if lang == "fr" and self.reason_fr else self.reason


def _numbers(text: str) -> set[str]:
    text = re.sub(r"(?<=\d)[  ](?=\d{3}\b)", "", text)  # 1 000 -> 1000
    return {n.replace(",", ".").lstrip("0") or "0" for n in NUMBER.findall(text)}


def _standard_key(text: str) -> str:
    return re.sub(r"[\s/‑-]+", "", text).upper()


class Sources:
    """What a draft may draw on, indexed for the plain checks."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = [t for t in texts if t]
        joined = "\n".join(self.texts)
        self.norm = normalise(joined)
        self.dates = {day for _, day in find_dates(joined) if day}
        self.numbers = _numbers(DATE.sub(" ", joined)) | _numbers(joined)
        self.standards = {_standard_key(m.group(0)) for m in STANDARD.finditer(joined)}
        self.standards_text = _standard_key(joined)
        self.words = {normalise(w) for w in WORD.findall(joined)}

    def has_text(self, text: str) -> bool:
        return normalise(text) in self.norm


def check_section(
    section: SectionDraft,
    passages: Sequence[Passage],
    facts: Mapping[str, str],
    known: Iterable[str] = (),
    case: claims.CaseFacts | None = None,
    mechanical: Sequence[Paragraph] = (),
) -> list[Failure]:
    """Every grounding failure of `section` (empty: the draft passes).

    `case`: the recorded facts and attached evidence its claims are judged against (default: the
    facts alone, so no "attached" claim can hold). `mechanical`: paragraphs the product itself
    wrote (the evidence list added to a model draft), whose claims are not the model's."""
    case = (case or claims.CaseFacts(facts)).for_section(section.section_id)
    failures: list[Failure] = []
    by_id = {p.id: p for p in passages}
    source_of: dict[str, str] = {}
    for ref, cit in section.citations.items():
        if cit.kind == "passage" and ref in by_id:
            source_of[ref] = by_id[ref].text
        elif cit.kind == "answer" and cit.source in facts:
            source_of[ref] = facts[cit.source]
        elif cit.kind in ("evidence", "provision"):
            source_of[ref] = cit.text
    cited = dict.fromkeys(s.ref for p in section.paragraphs for s in p.spans if s.kind == "cite" and s.ref in by_id)
    cited_passages = [by_id[ref].text for ref in cited]
    known = list(known)
    allowed = Sources([*facts.values(), *cited_passages, *known])
    confirmed = Sources([*facts.values(), *known, *(by_id[r].text for r in cited if not _from_document(by_id[r]))])

    if not any(s.kind != "text" or s.text.strip() for p in section.paragraphs for s in p.spans):
        return [Failure("empty_draft", "", "the model returned no text for this section",
                        "le modèle n'a renvoyé aucun texte pour cette section")]
    for para in section.paragraphs:
        for span in para.spans:
            if span.kind == "cite" and span.ref not in source_of:
                failures.append(Failure(
                    "unknown_citation", span.ref, f"cites {span.ref!r}, which is not among the passages or facts given",
                    f"cite {span.ref!r}, qui n'est ni un passage ni une donnée fournis",
                ))
        if not any(s.kind in ("cite", "placeholder") for s in para.spans):
            failures.append(Failure("uncited_paragraph", _excerpt(para.plain()),
                                    "a paragraph with no citation and no placeholder",
                                    "un paragraphe sans aucune source ni mention à compléter"))
        failures += _check_quotes(para, source_of, allowed)
        failures += _check_facts(para.plain(), allowed)
        if para in mechanical:
            continue
        failures += [Failure(f.kind, f.text, f"{f.reason}: «{_excerpt(f.text)}»",
                             f"{f.reason_fr or f.reason} : « {_excerpt(f.text)} »")
                     for f in claims.check_text(para.plain(), case)]
        failures += _check_document_facts(para.plain(), confirmed, allowed)
    return _dedupe(failures)


def _from_document(p: Passage) -> bool:
    """A passage from a document uploaded to the case: its content is the document's word, unconfirmed."""
    return bool(p.evidence_kind) or p.id.startswith("ev:")


def _check_document_facts(text: str, confirmed: Sources, allowed: Sources) -> list[Failure]:
    """A sentence stating a number, date or name that only an uploaded document gives must say so."""
    out = []
    for sentence in claims.sentences(text):
        unsourced = {f.text for f in _check_facts(sentence, allowed)}  # already failures of their own
        unconfirmed = [f.text for f in _check_facts(sentence, confirmed) if f.text not in unsourced]
        if unconfirmed and not claims.attributed(sentence):
            what = ", ".join(dict.fromkeys(unconfirmed))
            out.append(Failure("document_fact", sentence,
                               f"states {what} as a fact of the case, but only an uploaded document says so "
                               f"(confirm it as an answer, or write that the document says it): «{_excerpt(sentence)}»",
                               f"présente {what} comme une donnée du dossier, alors que seule une pièce jointe le dit "
                               f"(confirmez-le comme réponse, ou écrivez que la pièce l'indique) : « {_excerpt(sentence)} »"))
    return out


def _check_quotes(para: Paragraph, source_of: Mapping[str, str], allowed: Sources) -> list[Failure]:
    out = []
    spans = para.spans
    for i, span in enumerate(spans):
        if span.kind != "text":
            continue
        following = []
        for nxt in spans[i + 1 :]:
            if nxt.kind != "cite":
                break
            following.append(nxt.ref)
        for m in QUOTE.finditer(span.text):
            quote = next(g for g in m.groups() if g is not None)
            if len(quote.split()) < 2:
                continue  # a single quoted word (a device name in « ») is checked as a name
            at_end = not span.text[m.end() :].strip(" .,;:)")
            targets = [source_of[r] for r in following if r in source_of] if at_end and following else []
            if targets:
                if not any(normalise(quote) in normalise(t) for t in targets):
                    out.append(Failure("quote_not_found", quote,
                                       f"the quote «{_excerpt(quote)}» is not in the source cited after it ({', '.join(following)})",
                                       f"la citation « {_excerpt(quote)} » ne figure pas dans la source citée après elle"))
            elif not allowed.has_text(quote):
                out.append(Failure("quote_not_found", quote,
                                   f"the quote «{_excerpt(quote)}» is in no case fact and no cited passage",
                                   f"la citation « {_excerpt(quote)} » ne figure dans aucune donnée du dossier ni aucun passage cité"))
    return out


def _check_facts(text: str, allowed: Sources) -> list[Failure]:
    out = []
    rest = text
    for m, day in find_dates(text):
        if day and day not in allowed.dates:
            out.append(Failure("ungrounded_date", m.group(0),
                               f"the date {m.group(0)!r} is in no case fact and no cited passage",
                               f"la date « {m.group(0)} » ne figure dans aucune donnée du dossier ni aucun passage cité"))
    rest = DATE.sub(" ", rest)
    for m in STANDARD.finditer(rest):
        key = _standard_key(m.group(0))
        if key not in allowed.standards and key not in allowed.standards_text:
            out.append(Failure("ungrounded_standard", m.group(0),
                               f"the standard {m.group(0)!r} is in no case fact and no cited passage",
                               f"la norme « {m.group(0)} » ne figure dans aucune donnée du dossier ni aucun passage cité"))
    rest = STANDARD.sub(" ", rest)
    for n in sorted(_numbers(rest) - allowed.numbers, key=lambda x: (len(x), x)):
        out.append(Failure("ungrounded_number", n, f"the number {n} is in no case fact and no cited passage",
                           f"le nombre {n} ne figure dans aucune donnée du dossier ni aucun passage cité"))
    for word in _proper_nouns(text):
        if normalise(word) not in allowed.words and normalise(word) not in _ALWAYS_KNOWN \
                and not allowed.has_text(word):
            out.append(Failure("ungrounded_name", word,
                               f"the name {word!r} is in no case fact and no cited passage",
                               f"le nom « {word} » ne figure dans aucune donnée du dossier ni aucun passage cité"))
    return out


def _proper_nouns(text: str) -> list[str]:
    """Capitalised words not opening a sentence, acronyms, and words mixing letters and digits."""
    found = []
    for m in WORD.finditer(text):
        word = m.group(0).strip("'’-")
        if not word or not (word[0].isupper() or any(c.isdigit() for c in word)):
            continue
        letters = [c for c in word if c.isalpha()]
        acronym = len(letters) >= 2 and all(c.isupper() for c in letters)
        mixed = any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:])
        before = text[: m.start()].rstrip(_OPENERS)
        opens_sentence = bool(_SENTENCE_END.search(before))
        if acronym or mixed or not opens_sentence:
            found.append(word)
    return list(dict.fromkeys(found))


def _excerpt(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _dedupe(failures: list[Failure]) -> list[Failure]:
    seen: set[tuple[str, str]] = set()
    out = []
    for f in failures:
        if (f.kind, f.text) not in seen:
            seen.add((f.kind, f.text))
            out.append(f)
    return out
