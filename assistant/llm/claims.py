"""What a language model's reply may claim, checked against the case (rules: claims.yaml).

The token checks of a draft (drafting/grounding.py) make sure every number, date, name and quote
has a source; a sentence made only of sourced tokens can still lie ("the device is CE-marked",
"all sections are approved", "the letter is attached"). This module reads each sentence for the
claims that matter to an assessor and checks them against the case:

- a regulatory status (CE marking, certificate, approval, authorisation, Art. 97 or Art. 120) holds
  only when the case's recorded facts say so;
- a workflow state (review, approval, waiver, check passed, ready to submit) is never the model's to
  state: only the people using the product record those;
- "X is attached" holds only when a document of that kind is attached (and signed, when it says so);
- no admission of unlawful supply, no notified-body delay as the ground of the request, nothing
  addressed to the reviewer or the product, no request for the patient's identity;
- an extraction proposal must say what its quote says (polarity, value, not a possibility).

Plain rules on normalised text, no model; a finding names the sentence and why, for the reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from assistant.case import conditions
from assistant.case.model import Case
from assistant.llm.audit import KEY_REMOVED
from assistant.text import find_dates, normalise

RULES_FILE = Path(__file__).with_name("claims.yaml")
_SENTENCE = re.compile(r"(?<![\s(][A-Z]\.)(?<!Dr\.)(?<!No\.)(?<=[.!?])\s+(?=\S)|\n+")  # not after "Dr A."
_CLAUSE_BREAK = re.compile(r"[;:,]|[.!?](?=\s|$)|\s[-–—]\s|\[")
_WORD = re.compile(r"[a-z][a-z'\-]{3,}")
SUPPORT_SHARE = 0.75  # of a claim's words that must be in the case facts for the facts to carry it


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str  # the sentence that claims it
    reason: str
    reason_fr: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


@dataclass(frozen=True)
class CaseFacts:
    """What a claim is judged against: the recorded answers and the attached evidence kinds."""

    facts: Mapping[str, str]
    evidence: frozenset[str] | None = None  # None: not known, so no "attached" claim can hold
    signed: frozenset[str] = frozenset()  # kinds with a file that is not the unsigned generated letter
    section: str = ""

    @classmethod
    def of(cls, case: Case, section: str = "") -> CaseFacts:
        kinds = frozenset(e.kind for e in case.evidence)
        signed = frozenset(e.kind for e in case.evidence if e.origin != "letter_flow")
        return cls(case.values(), kinds, signed, section)

    def for_section(self, section: str) -> CaseFacts:
        return CaseFacts(self.facts, self.evidence, self.signed, section)


@dataclass(frozen=True)
class _Rule:
    kind: str
    reason: str
    reason_fr: str
    patterns: tuple[re.Pattern[str], ...]
    purposes: tuple[str, ...] = ("draft", "followup")
    negatable: bool = False
    hedgeable: bool = False
    sections_exempt: tuple[str, ...] = ()
    supported_when: Mapping[str, Any] | None = None
    supported_by_facts: bool = False
    dates_from_facts: bool = False
    needs: tuple[re.Pattern[str], ...] = ()
    exempt_sections_unless: tuple[str, ...] = ()
    exempt_unless: tuple[re.Pattern[str], ...] = ()
    reported: bool = False


@dataclass(frozen=True)
class _Rules:
    rules: tuple[_Rule, ...]
    negation: re.Pattern[str]
    hedge: re.Pattern[str]
    attribution: re.Pattern[str]
    attached: tuple[re.Pattern[str], ...]
    signed: re.Pattern[str]
    kinds: Mapping[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()


def _compile(items: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in items)


@cache
def rules() -> _Rules:
    data = yaml.load(RULES_FILE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    out = []
    for r in data["rules"]:
        unless = r.get("sections_exempt_unless") or {}
        out.append(_Rule(
            kind=r["kind"], reason=r["reason"], reason_fr=r.get("reason_fr", r["reason"]), patterns=_compile(r["patterns"]),
            purposes=tuple(r.get("purposes", ("draft", "followup"))),
            negatable=bool(r.get("negatable")), hedgeable=bool(r.get("hedgeable")),
            sections_exempt=tuple(r.get("sections_exempt", ())),
            supported_when=conditions.normalise_spec(r["supported_when"]) if r.get("supported_when") else None,
            supported_by_facts=bool(r.get("supported_by_facts")), dates_from_facts=bool(r.get("dates_from_facts")),
            needs=_compile(r.get("needs", ())),
            exempt_sections_unless=tuple(unless.get("sections", ())), exempt_unless=_compile(unless.get("patterns", ())),
            reported=bool(r.get("reported")),
        ))
    att = data["attached"]
    return _Rules(
        rules=tuple(out), negation=re.compile(data["negation"]), hedge=re.compile(data["hedge"]),
        attribution=re.compile(data["attribution"]), attached=_compile(att["patterns"]),
        signed=re.compile(att["signed"]), kinds={k: _compile(v) for k, v in att["kinds"].items()},
        stopwords=frozenset(data["stopwords"].split()),
    )


# -- text helpers ---------------------------------------------------------------------------------
def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _clause(norm: str, start: int, end: int) -> tuple[int, int]:
    """The clause around [start, end): from the last break before it to the first one after."""
    before = [m.end() for m in _CLAUSE_BREAK.finditer(norm, 0, start)]
    after = _CLAUSE_BREAK.search(norm, end)
    return (before[-1] if before else 0), (after.start() if after else len(norm))


def content_words(text: str) -> list[str]:
    stop = rules().stopwords
    return [w for w in _WORD.findall(normalise(text)) if w not in stop]


def supported(claim: str, facts: Iterable[str]) -> bool:
    """Whether the case facts carry a claim: most of its content words are in them."""
    words = content_words(claim)
    if not words:
        return False
    haystack = normalise(" ".join(facts))
    found = sum(1 for w in words if w in haystack or (len(w) > 5 and w[:-1] in haystack))
    return found / len(words) >= SUPPORT_SHARE


def _fact_dates(facts: Mapping[str, str]) -> set[Any]:
    out = set()
    for value in facts.values():
        out |= {day for _, day in find_dates(value) if day}
    return out


def attributed(sentence: str) -> bool:
    """Whether a sentence says its fact comes from a document ("selon le certificat joint", "according to")."""
    return bool(rules().attribution.search(normalise(sentence)))


# -- the checks ------------------------------------------------------------------------------------
def check_sentence(sentence: str, case: CaseFacts, purpose: str = "draft") -> list[Finding]:
    """Every claim of one sentence the case does not support."""
    r = rules()
    norm = normalise(sentence)
    found: list[Finding] = []
    for rule in r.rules:
        if purpose not in rule.purposes or rule.kind in {f.kind for f in found}:
            continue
        if case.section and case.section in rule.sections_exempt:
            continue
        if rule.needs and not any(p.search(norm) for p in rule.needs):
            continue
        if rule.exempt_sections_unless and case.section in rule.exempt_sections_unless \
                and not any(p.search(norm) for p in rule.exempt_unless):
            continue
        for pattern in rule.patterns:
            m = pattern.search(norm)
            if m is None or not _holds_against(rule, norm, m, case):
                continue
            found.append(Finding(rule.kind, sentence, rule.reason, rule.reason_fr))
            break
    found += _check_attached(sentence, norm, case)
    return found


def _holds_against(rule: _Rule, norm: str, m: re.Match[str], case: CaseFacts) -> bool:
    """True when the match is a claim the case does not support (a finding)."""
    start, end = _clause(norm, m.start(), m.end())
    if rule.negatable and rules().negation.search(norm, start, m.end()):
        return False
    if rule.hedgeable and rules().hedge.search(norm, start, end):
        return False
    if rule.reported:  # what the user is said to have written: up to the end of that clause
        return not supported(norm[m.end():end], case.facts.values())
    if rule.supported_when is not None and conditions.evaluate(rule.supported_when, case.facts) is True:
        return False
    if rule.dates_from_facts:
        days = [day for _, day in find_dates(norm[start:end])]
        if days and all(day and day in _fact_dates(case.facts) for day in days):
            return False
    return not (rule.supported_by_facts and supported(norm[start:end], case.facts.values()))


def _check_attached(sentence: str, norm: str, case: CaseFacts) -> list[Finding]:
    r = rules()
    for pattern in r.attached:
        m = pattern.search(norm)
        if m is None:
            continue
        start, _end = _clause(norm, m.start(), m.end())
        if r.negation.search(norm, start, m.end()):
            continue
        kinds = [k for k, pats in r.kinds.items() if any(p.search(norm) for p in pats)]
        if not kinds:
            return [Finding("document_set_claim", sentence,
                            "says a document is attached without naming one the product can check",
                            "affirme qu'une pièce est jointe sans en nommer une que le produit peut vérifier")]
        if case.evidence is None:
            return [Finding("document_set_claim", sentence, "says a document is attached; the attachments are not known",
                            "affirme qu'une pièce est jointe ; les pièces jointes ne sont pas connues")]
        missing = [k for k in kinds if k not in case.evidence]
        if missing:
            return [Finding("document_set_claim", sentence,
                            f"says a document is attached that is not: {', '.join(missing)}",
                            f"affirme jointe une pièce qui ne l'est pas : {', '.join(missing)}")]
        if r.signed.search(norm) and any(k not in case.signed for k in kinds):
            return [Finding("document_set_claim", sentence,
                            "says a signed document is attached; the one attached is the unsigned generated letter",
                            "affirme jointe une pièce signée ; celle qui est jointe est la lettre générée, non signée")]
        return []
    return []


def check_text(text: str, case: CaseFacts, purpose: str = "draft") -> list[Finding]:
    """Every unsupported claim of a reply, sentence by sentence."""
    out: list[Finding] = []
    for sentence in sentences(text):
        out += check_sentence(sentence, case, purpose)
    return out


# -- extraction proposals ------------------------------------------------------------------------
def check_proposal(qtype: str, value: str, quote: str, text: str, options: Sequence[str] = ()) -> str:
    """Why a fact the model read in `text` is not what its quote says ('' when it is).

    - yes/no: the clause around the quote must have the value's polarity ("n'a jamais été marqué CE"
      is no, whatever the model proposes);
    - every proposal: the quote must not be a possibility ("may be extended until 2027 if …");
    - a date, a number or a code in the value must be in the quote; a choice must be a word of it;
    - a free text must be mostly words of the text it was read in.
    """
    r = rules()
    value = value.replace(KEY_REMOVED, " ")  # the product's own mark where a model echoed a key
    norm_text, norm_quote = normalise(text), normalise(quote)
    at = norm_text.find(norm_quote) if norm_quote else -1
    clause = lead = norm_quote
    if at >= 0:
        start, end = _clause(norm_text, at, at + len(norm_quote))
        clause = norm_text[start:max(end, at + len(norm_quote))]
        lead = norm_text[start:at + len(norm_quote)]  # a negation after the quote is another statement's
    if r.hedge.search(clause):
        return "the text states it only as a possibility"
    if qtype == "yes_no":
        negated = bool(r.negation.search(lead))
        if (value == "yes") == negated:
            return f"the text says the opposite ({'no' if negated else 'yes'})"
        return ""
    if qtype == "date":
        days = {day.isoformat() for _, day in find_dates(quote) if day}
        return "" if value in days else "the date is not in the words quoted"
    if options:
        return "" if re.search(rf"(?<![\w]){re.escape(normalise(value))}(?![\w])", norm_quote) else \
            "the value is not in the words quoted"
    tokens = re.findall(r"[A-Za-z]*\d[\w\-/]*", value)
    if any(normalise(t) not in norm_quote and normalise(t) not in norm_text for t in tokens):
        return "a number or code of the value is not in the text"
    if any(normalise(t) not in norm_quote for t in tokens if re.search(r"[A-Za-z]", t)):
        return "a code of the value is not in the words quoted"
    words = content_words(value)
    missing = [w for w in words if w[:max(5, len(w) - 3)] not in norm_text]  # "stérile" is in "stérilisé"
    if words and len(missing) / len(words) > 1 - SUPPORT_SHARE:
        return "the value says more than the text"
    return ""
