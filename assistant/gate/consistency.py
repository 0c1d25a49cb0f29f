"""Contradictions and content problems: answers that are not facts, dates out of order, answers
that disagree with the documents or with each other, a class that changed, documents that lack
what their kind needs.

The rules are data (profiles/consistency/<authority>.yaml); this module knows only the rule types.
A contradiction is a blocker naming both values and both sources; it is lifted by correcting one
side, or by a reviewer accepting it with a reason (a waiver on the rule's id).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.case.requirements import applies
from assistant.drafting.content import non_fact, rules_of
from assistant.drafting.exhibits import DocumentFacts, read_facts
from assistant.errors import NotFound
from assistant.gate.finding import Finding
from assistant.interview import documents as extract
from assistant.text import MONTHS, find_dates, format_date
from assistant.words import t

_MONTH_YEAR = re.compile(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+((?:19|20)\d{2})\b")
_CLASS = re.compile(r"\b(?:class|classe)\s+(III|IIb|IIa|II|I)\b(?![a-z])", re.IGNORECASE)
_DURATION = re.compile(r"(\d+(?:[.,]\d+)?)\s*(ans?|années?|years?|yrs?|mois|months?|jours?|days?)\b", re.IGNORECASE)
_TEMPERATURE = re.compile(r"(-?\d+(?:[.,]\d+)?)\s*(?:°\s*C|°|degr)", re.IGNORECASE)
_RANGE_LOW = re.compile(r"(?:entre|between|de|from)\s+(-?\d+(?:[.,]\d+)?)\s*(?:°\s*C)?\s*(?:et|and|à|to)\s*-?\d", re.IGNORECASE)
_NB = re.compile(r"\b(\d{4})\b")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def rule_ids(authority: str) -> list[str]:
    """The ids a reviewer may accept a contradiction under (`derogation waive CASE <id>`)."""
    return [r["id"] for r in rules_of(authority).get("rules") or []]


class _Checker:
    def __init__(self, profile: Profile, case: Case, pages_of: PagesOf, lang: Lang) -> None:
        self.profile, self.case, self.pages_of, self.lang = profile, case, pages_of, lang
        self.today = case.updated_at.date()
        self._facts: dict[str, DocumentFacts] = {}

    # -- helpers ------------------------------------------------------------------------------
    def label(self, qid: str) -> str:
        return self.profile.question(qid).label.get(self.lang)

    def answer(self, qid: str) -> str | None:
        try:
            question = self.profile.question(qid)
        except NotFound:
            return None
        if applies(self.profile, self.case, question) is False:
            return None
        return self.case.value(qid)

    def date_answer(self, qid: str) -> dt.date | None:
        value = self.answer(qid)
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            return None

    def facts(self, sha: str) -> DocumentFacts:
        if sha not in self._facts:
            self._facts[sha] = read_facts(self.pages_of(sha))
        return self._facts[sha]

    def day(self, d: dt.date) -> str:
        return format_date(d.isoformat(), self.lang)

    def answer_source(self, qid: str) -> str:
        return t("src_answer", self.lang, self.label(qid))

    def doc_source(self, filename: str, page: int | None) -> str:
        return f"{filename}, {t('page', self.lang, page)}" if page else filename

    def section(self, qid: str) -> str:
        return self.profile.section_of(qid).id

    def finding(self, rule: dict, section: str, message: str, qid: str | None = None, kind: str | None = None,
                severity: str = "blocker", finding_kind: str = "contradiction",
                sides: tuple[tuple[str, str], tuple[str, str]] | None = None) -> Finding:
        return Finding(section=section, kind=finding_kind, severity=severity, message=message, question_id=qid,
                       evidence_kind=kind, rule=rule["id"], sides=list(sides or ()))

    def message(self, rule: dict, **values: str) -> str:
        return rule["message"][self.lang].format(**values)

    # -- the rule types -----------------------------------------------------------------------
    def point(self, spec: dict) -> tuple[dt.date, str, str] | None:
        """(date, how it reads, its source) for `{answer: q}` or `{document: kind, fact: issued|dated}`."""
        if "answer" in spec:
            d = self.date_answer(spec["answer"])
            return (d, self.day(d), self.answer_source(spec["answer"])) if d else None
        for ev in self.case.evidence_of_kind(spec["document"]):
            f = self.facts(ev.sha256)
            d = getattr(f, spec.get("fact", "dated"))
            if d:
                page = getattr(f, f"{spec.get('fact', 'dated')}_page")
                return d, self.day(d), self.doc_source(ev.filename, page)
        return None

    def date_order(self, rule: dict) -> Iterator[Finding]:
        a, b = self.point(rule["earlier"]), self.point(rule["later"])
        if not a or not b:
            return
        wrong = a[0] >= b[0] if rule.get("strict") else a[0] > b[0]
        if wrong:
            qid = rule["later"].get("answer") or rule["earlier"].get("answer")
            yield self.finding(rule, self.section(qid), self.message(
                rule, earlier=a[1], earlier_source=a[2], later=b[1], later_source=b[2]), qid=qid,
                sides=((a[1], a[2]), (b[1], b[2])))

    def not_future(self, rule: dict) -> Iterator[Finding]:
        for qid in rule["answers"]:
            d = self.date_answer(qid)
            if d and d > self.today:
                yield self.finding(rule, self.section(qid), self.message(
                    rule, label=self.label(qid), value=self.day(d), source=self.answer_source(qid),
                    today=self.day(self.today)), qid=qid,
                    sides=((self.day(d), self.answer_source(qid)), (self.day(self.today), t("src_case_date", self.lang))))

    def answer_vs_document(self, rule: dict) -> Iterator[Finding]:
        qid = rule["question"]
        given = self.answer(qid)
        if not given or non_fact(self.profile.question(qid), given, self.profile.id):
            return  # no answer, or one that is no fact (reported as such): nothing to compare
        for ev in self.case.evidence:
            for found in extract.extract(self.pages_of(ev.sha256), ev.kind):
                if found.question_id != qid or _agree(rule["compare"], given, found.value):
                    continue
                shown = self.day(dt.date.fromisoformat(given)) if rule["compare"] == "date" else given
                read = self.day(dt.date.fromisoformat(found.value)) if rule["compare"] == "date" else found.value
                yield self.finding(rule, self.section(qid), t(
                    "contradiction_document", self.lang, self.label(qid), shown, self.answer_source(qid), read,
                    self.doc_source(ev.filename, found.page)), qid=qid,
                    sides=((shown, self.answer_source(qid)), (read, self.doc_source(ev.filename, found.page))))
                return

    def signatory(self, rule: dict) -> Iterator[Finding]:
        qid, given = rule["question"], self.answer(rule["question"])
        if not given:
            return
        for ev in self.case.evidence_of_kind(rule["kind"]):
            f = self.facts(ev.sha256)
            if f.signatory and not _same_person(given, f.signatory):
                yield self.finding(rule, self.section(qid), t(
                    "contradiction_document", self.lang, self.label(qid), given, self.answer_source(qid), f.signatory,
                    self.doc_source(ev.filename, f.signatory_page)), qid=qid,
                    sides=((given, self.answer_source(qid)), (f.signatory, self.doc_source(ev.filename, f.signatory_page))))

    def mention(self, rule: dict) -> Iterator[Finding]:
        qid = rule["question"]
        d = self.date_answer(qid)
        if not d:
            return
        for other in rule["in"]:
            text = self.answer(other)
            if not text:
                continue
            for written, (year, month, day) in _mentions_after(text, rule["near"]):
                if year != d.year or month != d.month or (day is not None and day != d.day):
                    yield self.finding(rule, self.section(qid), self.message(
                        rule, value=self.day(d), label=self.label(qid), mention=written,
                        other_label=self.label(other)), qid=qid,
                        sides=((self.day(d), self.answer_source(qid)), (written, self.answer_source(other))))
                    return

    def same_mention(self, rule: dict) -> Iterator[Finding]:
        seen: list[tuple[str, str, tuple[int, int]]] = []  # (question, as written, (year, month))
        for qid in rule["in"]:
            text = self.answer(qid)
            if not text:
                continue
            for sentence in re.split(r"(?<=[.;!?])\s+", text):
                folded = fold(sentence)
                if not re.search(fold(rule["near"]), folded):
                    continue
                for m in re.finditer(rf"(?:{fold(rule['marker'])})\s+(?:le\s+|the\s+)?", folded):
                    my = _MONTH_YEAR.match(folded, m.end())
                    if my:
                        seen.append((qid, sentence[my.start():my.end()], (int(my.group(2)), MONTHS[my.group(1)])))
        for i, (qa, wa, va) in enumerate(seen):
            for qb, wb, vb in seen[i + 1:]:
                if qa != qb and va != vb:
                    yield self.finding(rule, self.section(qb), self.message(
                        rule, a=wa, a_label=self.label(qa), b=wb, b_label=self.label(qb)), qid=qb,
                        sides=((wa, self.answer_source(qa)), (wb, self.answer_source(qb))))
                    return

    def class_change(self, rule: dict) -> Iterator[Finding]:
        qid, given = rule["question"], self.answer(rule["question"])
        if not given:
            return
        for ev in self.case.evidence_of_kind(rule["kind"]):
            pages = self.pages_of(ev.sha256)
            for number, text in enumerate(pages, start=1):
                m = _CLASS.search(text)
                if m:
                    read = _class_name(m.group(1))
                    if read.lower() != given.lower():
                        yield self.finding(rule, self.section(qid), self.message(
                            rule, document=read, document_source=self.doc_source(ev.filename, number), answer=given),
                            qid=qid, sides=((given, self.answer_source(qid)), (read, self.doc_source(ev.filename, number))))
                    return

    # -- content: answers that are not facts; documents that lack what their kind needs -----------
    def non_facts(self) -> Iterator[Finding]:
        for qid, answer in self.case.answers.items():
            try:
                question = self.profile.question(qid)
            except NotFound:
                continue
            if applies(self.profile, self.case, question) is not True:
                continue
            why = non_fact(question, answer.value, self.profile.id)
            if why:
                yield Finding(section=self.section(qid), kind="non_fact", severity="blocker", question_id=qid,
                              message=t("non_fact", self.lang, " ".join(answer.value.split())[:60],
                                        question.label.get(self.lang), t(f"non_fact_{why}", self.lang)))

    def documents(self) -> Iterator[Finding]:
        checks: dict[str, dict[str, str]] = rules_of(self.profile.id).get("document_checks") or {}
        pseudonym = self.case.value("patient_pseudonym") if self.case.request_type == "individual" else None
        for ev in self.case.evidence:
            try:
                kind = self.profile.evidence_kind(ev.kind)
            except NotFound:
                continue
            facts = self.facts(ev.sha256)
            if ev.text_pages == 0 or not facts.text.strip():
                continue  # no text layer: reported as such
            section = kind.sections[0]
            text = fold(facts.text)
            if kind.keywords and not any(fold(k) in text for k in kind.keywords):
                yield Finding(section=section, kind="document_kind", severity="warning", evidence_kind=ev.kind,
                              message=t("document_not_of_kind", self.lang, ev.filename, kind.name.get(self.lang)))
                continue
            missing = []
            for need, pattern in (checks.get(ev.kind) or {}).items():
                if pattern == "date":
                    ok = bool(facts.dated or facts.issued or any(d for _, d in find_dates(facts.text)))
                elif pattern == "signed":
                    ok = facts.signed or ev.origin == "letter_flow"  # an unsigned generated letter is reported as such
                elif pattern == "pseudonym":
                    ok = not pseudonym or fold(pseudonym) in text
                else:
                    ok = re.search(pattern, facts.text) is not None
                if not ok:
                    missing.append(t(f"doc_need_{need}", self.lang))
            if missing:
                yield Finding(section=section, kind="document_check", severity="warning", evidence_kind=ev.kind,
                              message=t("document_lacks", self.lang, ev.filename, kind.name.get(self.lang),
                                        ", ".join(missing)))


def _class_name(raw: str) -> str:
    return {"iii": "III", "iib": "IIb", "iia": "IIa", "ii": "II", "i": "I"}[raw.lower()]


def _mentions_after(text: str, near: str) -> Iterator[tuple[str, tuple[int, int, int | None]]]:
    """The first date (or month and year) written after `near` in each sentence of `text`."""
    for sentence in re.split(r"(?<=[.;!?])\s+", text):
        folded = fold(sentence)
        m = re.search(fold(near), folded)
        if not m:
            continue
        rest = folded[m.end():]
        full = next(((mm, d) for mm, d in find_dates(rest) if d), None)
        my = _MONTH_YEAR.search(rest)
        if full and (not my or full[0].start() <= my.start()):
            d = full[1]
            yield sentence[m.end() + full[0].start(): m.end() + full[0].end()].strip(), (d.year, d.month, d.day)
        elif my:
            yield sentence[m.end() + my.start(): m.end() + my.end()].strip(), (int(my.group(2)), MONTHS[my.group(1)], None)


def _months(text: str) -> float | None:
    m = _DURATION.search(text)
    if not m:
        return None
    n, unit = float(m.group(1).replace(",", ".")), fold(m.group(2))
    if unit.startswith(("an", "annee", "year", "yr")):
        return n * 12
    if unit.startswith(("mois", "month")):
        return n
    return n / 30


def _temperatures(text: str) -> set[float]:
    found = {float(x.replace(",", ".")) for x in _TEMPERATURE.findall(text)}
    found |= {float(x.replace(",", ".")) for x in _RANGE_LOW.findall(text)}
    return found


def _sterile(text: str) -> bool | None:
    folded = fold(text)
    if re.search(r"non[\s\-]?steril|not\s+sterile|^\s*(?:non|no)\b", folded):
        return False
    if re.search(r"steril|^\s*(?:oui|yes)\b", folded):
        return True
    return None


def _agree(how: str, given: str, read: str) -> bool:
    """Whether an answer and what a document says are the same fact (True when it cannot tell)."""
    if how == "identifier":
        a, b = re.sub(r"[^A-Z0-9]", "", given.upper()), re.sub(r"[^A-Z0-9]", "", read.upper())
        return not a or not b or a in b or b in a
    if how == "nb_number":
        a, b = set(_NB.findall(given)), set(_NB.findall(read))
        return not a or not b or bool(a & b)
    if how == "date":
        return given[:10] == read[:10]
    if how == "duration":
        a, b = _months(given), _months(read)
        return a is None or b is None or abs(a - b) < 0.5
    if how == "temperatures":
        a, b = _temperatures(given), _temperatures(read)
        return not a or not b or a == b
    if how == "sterile":
        a, b = _sterile(given), _sterile(read)
        return a is None or b is None or a == b
    return True


def _same_person(a: str, b: str) -> bool:
    words = lambda s: {w for w in re.findall(r"[a-z]{3,}", fold(s))}  # noqa: E731
    return bool(words(a) & words(b))


def findings(profile: Profile, case: Case, pages_of: PagesOf, lang: Lang = "en") -> list[Finding]:
    """Every content and consistency finding about the case, in rule order."""
    checker = _Checker(profile, case, pages_of, lang)
    out = list(checker.non_facts())
    for rule in rules_of(profile.id).get("rules") or []:
        method: Any = getattr(checker, rule["type"], None)
        if method is None:
            raise ValueError(f"consistency rule {rule['id']}: unknown type {rule['type']!r}")
        out += list(method(rule))
    out += list(checker.documents())
    for f in out:
        waiver = case.waivers.get(f.rule or f.question_id or "") if f.severity == "blocker" else None
        if waiver:
            f.waived, f.waiver_reason = True, waiver.reason
    return out


def covered_questions(authority: str) -> set[str]:
    """The questions whose answer is compared with the documents by a rule (not by plain equality)."""
    return {r["question"] for r in rules_of(authority).get("rules") or []
            if r.get("type") in ("answer_vs_document", "signatory")}
