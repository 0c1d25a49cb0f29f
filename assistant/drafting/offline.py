"""The offline drafter: each section built from the answers, the attached evidence and the
provisions the profile cites. It invents nothing: an unknown fact is a visible placeholder.

The result is a `Draft` (draft_model.py); an LLM drafter produces the same structure.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping

from assistant import words as i18n
from assistant.case import conditions
from assistant.case.evidence import PagesOf, find_page
from assistant.case.facts import facts
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile, Section
from assistant.case.requirements import applicable_sections, applies, evidence_kinds_for
from assistant.case.routes import load_routes, screen
from assistant.drafting.content import agree, answer_label, non_fact, passage_label, translation_key, written_in
from assistant.drafting.exhibits import read_facts
from assistant.drafting.model import Citation, Draft, EvidenceLine, Paragraph, Placeholder, SectionDraft, Span
from assistant.errors import ProfileError
from assistant.knowledge.passage import Passage
from assistant.text import format_date

_TOKEN = re.compile(r"\{([a-z_:0-9\-]+)\}")
_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-ZÀ-Ý])")  # "… n° 6.1). Une …", never "art. 97"
PassagesFor = Callable[[Section], list[Passage]]  # retrieval: the passages that ground a section


def route_statement(profile: Profile, case: Case, lang: Lang) -> list[tuple[str, dict[str, str]]]:
    """The route screening as the request states it (`RouteResult.statement`): (sentence, the
    provision it relies on); empty when the authority screens no routes."""
    try:
        routes = load_routes(profile)
    except ProfileError:
        return []
    return [(agree(text, profile.id, case.request_type, lang), provision)  # "le ou les patients": one, or many
            for text, provision in screen(routes, profile, case, lang).statement()]


def _no_pages(_sha: str) -> list[str]:
    return []



def section_fingerprint(profile: Profile, case: Case, section: Section) -> str:
    """A digest of everything the section is built from: a change means the draft is stale."""
    refs = set()
    for para in section.paragraphs:
        for lang in ("fr", "en"):
            refs.update(r for r in _TOKEN.findall(para.get(lang)) if not r.startswith("cite:"))
        refs.update(para.when)
    kinds = [k for k, _ in evidence_kinds_for(profile, case, section)]
    known = facts(profile, case)
    material = {
        "section": section.id,
        "request_type": case.request_type,
        "answers": {r: known.get(r) for r in sorted(refs)},
        "routes": [text for text, _ in route_statement(profile, case, "en")] if "route_reasons" in refs else [],
        "evidence": sorted(e.sha256 + ":" + e.kind for e in case.evidence if e.kind in kinds),
        "waivers": sorted(w.target + ":" + w.reason for w in case.waivers.values()),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


class _Composer:
    def __init__(
        self, profile: Profile, case: Case, lang: Lang, pages_of: PagesOf, passages_for: PassagesFor | None,
        translations: Mapping[str, str] | None = None,
    ) -> None:
        self.profile, self.case, self.lang, self.pages_of = profile, case, lang, pages_of
        self.passages_for = passages_for
        self.translations = translations or {}
        self.quoted = self.translated = 0

    def section(self, section: Section, number: int) -> SectionDraft:
        self.citations: dict[str, Citation] = {}
        self.placeholders: list[Placeholder] = []
        self.used_answers: list[str] = []
        self.used_evidence: list[str] = []
        self.kinds = evidence_kinds_for(self.profile, self.case, section)
        self.about: dict[str, bool] = {}
        paragraphs: list[Paragraph] = []
        unknown: list[str] = []
        values = facts(self.profile, self.case)
        for template in section.paragraphs:
            if not template.applies(self.case.request_type):
                continue
            if any(self._signed(kind) != wanted for kind, wanted in template.signed.items()):
                continue
            state = conditions.evaluate(template.when, values)
            if state is None:
                unknown += [q for q in template.when if q not in values and q not in unknown]
                continue
            if state:
                self.about = template.signed  # a sentence about a signed document cites that document only
                paragraph = self._paragraph(template.get(self.lang))
                self.about = {}
                if template.when and not any(s.kind == "cite" for s in paragraph.spans):
                    paragraph = self._cite_conditions(paragraph, list(template.when))
                paragraphs.append(paragraph)
        for qid in unknown:
            paragraphs.append(Paragraph(spans=[self._placeholder(qid)]))
        if self.kinds:
            paragraphs.append(self._evidence_paragraph())
        used_passages: list[str] = []
        if self.passages_for is not None:
            passages = self.passages_for(section)
            if passages:
                paragraphs.append(self._sources_paragraph(passages))
                used_passages = [p.id for p in passages]
        return SectionDraft(
            section_id=section.id,
            number=number,
            title=agree(section.title.get(self.lang), self.profile.id, self.case.request_type, self.lang),
            paragraphs=paragraphs,
            citations=self.citations,
            placeholders=self.placeholders,
            evidence=self._evidence_lines(),
            used_answers=self.used_answers,
            used_evidence=self.used_evidence,
            used_provisions=[c.source for c in self.citations.values() if c.kind == "provision"],
            used_passages=used_passages,
            fingerprint=section_fingerprint(self.profile, self.case, section),
        )

    def _signed(self, kind: str) -> bool:
        """A document of `kind` is attached and reads as signed (a generated letter never does)."""
        return any(ev.origin != "letter_flow" and read_facts(self.pages_of(ev.sha256)).signed
                   for ev in self.case.evidence_of_kind(kind))

    # -- spans -------------------------------------------------------------------------------
    def _paragraph(self, template: str) -> Paragraph:
        template = agree(template, self.profile.id, self.case.request_type, self.lang)
        spans: list[Span] = []
        pos = 0
        for m in _TOKEN.finditer(template):
            text = template[pos : m.start()]
            after = template[m.end() : m.end() + 1]
            if text:
                spans.append(Span(kind="text", text=text))
            spans.extend(self._token(m.group(1), after))
            pos = m.end()
        if template[pos:]:
            spans.append(Span(kind="text", text=template[pos:]))
        return Paragraph(spans=_merge_punctuation(spans))

    def _token(self, ref: str, after: str) -> list[Span]:
        if ref.startswith("cite:"):
            return [self._cite_provision(ref[5:])]
        if ref == "request_type":
            return [Span(kind="text", text=self.profile.request_type_labels[self.case.request_type].get(self.lang))]
        if ref == "authority":
            return [Span(kind="text", text=self.profile.name.get(self.lang))]
        if ref == "route_reasons":
            return self._route_reasons()
        return self._answer(ref, after)

    def _answer(self, qid: str, after: str) -> list[Span]:
        answer = self.case.answers.get(qid)
        question = self.profile.question(qid)
        if answer is None or applies(self.profile, self.case, question) is False:
            return [self._placeholder(qid)]
        if non_fact(question, answer.value, self.profile.id):
            return [self._placeholder(qid, not_a_fact=answer.value)]
        value = answer.value
        if question.type == "date":
            value = format_date(value, self.lang)
        elif question.type == "yes_no":
            value = i18n.t(value, self.lang)
        elif after == "." and value.endswith((".", "!", "?", "…")):
            value = value.rstrip(".")
        if self.lang != self.profile.submission_language and question.type in ("text", "long_text") \
                and written_in(value, self.profile.submission_language):
            translated = self.translations.get(translation_key(answer.value.strip(), self.lang))
            if translated:  # translated by the language model (drafting/translation.py), and said so on the cover
                value = translated.rstrip(".") if after == "." else translated
                self.translated += 1
            else:
                value = f"“{value}”"  # quoted in the language it was written in, never passed off as a translation
                self.quoted += 1
        spans = [Span(kind="text", text=value), Span(kind="cite", ref=self._cite_answer(qid))]
        located = self._locate_in_evidence(answer.value) if question.type != "long_text" else None
        if located:
            spans.append(located)
        return spans

    def _cite_answer(self, qid: str) -> str:
        answer = self.case.answers[qid]
        cid = f"answer:{qid}"
        self.citations[cid] = Citation(
            id=cid,
            kind="answer",
            label=answer_label(self.profile, qid, self.lang, self.case.request_type),
            source=qid,
            text=answer.value,
        )
        if qid not in self.used_answers:
            self.used_answers.append(qid)
        return cid

    def _cite_conditions(self, paragraph: Paragraph, qids: list[str]) -> Paragraph:
        """A paragraph chosen by answers and citing nothing (e.g. "The device has never carried CE
        marking.") states those answers: cite them before its final full stop."""
        cites = [Span(kind="cite", ref=self._cite_answer(q)) for q in qids if q in self.case.answers]
        spans = list(paragraph.spans)
        if spans and spans[-1].kind == "text" and spans[-1].text.endswith((".", "!", "?")):
            last = spans.pop()
            return Paragraph(spans=[*spans, Span(kind="text", text=last.text[:-1]), *cites,
                                    Span(kind="text", text=last.text[-1])])
        return Paragraph(spans=[*spans, *cites])

    def _locate_in_evidence(self, value: str) -> Span | None:
        """Cite the attached document (and page) where a short factual answer appears; in a sentence
        about a signed document ("… is signed by X"), only that document (none when it is not attached)."""
        kinds = {k for k, wanted in self.about.items() if wanted} if self.about else {k for k, _ in self.kinds}
        for ev in self.case.evidence:
            if ev.kind not in kinds:
                continue
            page = find_page(self.pages_of(ev.sha256), value)
            if page:
                return Span(kind="cite", ref=self._cite_evidence(ev.id, page))
        return None

    def _cite_evidence(self, evidence_id: str, page: int | None) -> str:
        """Cite a page of a document (`Name – file.pdf, p. 2`) or the whole file (`file.pdf, 3 p.`)."""
        ev = next(e for e in self.case.evidence if e.id == evidence_id)
        kind = self.profile.evidence_kind(ev.kind)
        cid = f"evidence:{ev.id}" + (f":p{page}" if page else "")
        if page:
            label = f"{kind.name.get(self.lang)} – {ev.filename}, {i18n.t('page', self.lang, page)}"
        else:
            label = f"{ev.filename}, {i18n.t('pages', self.lang, ev.pages)}"
        self.citations[cid] = Citation(id=cid, kind="evidence", label=label, page=page, source=ev.filename)
        if ev.id not in self.used_evidence:
            self.used_evidence.append(ev.id)
        return cid

    def _cite_provision(self, pid: str) -> Span:
        provision = self.profile.provision(pid)
        cid = f"provision:{pid}"
        self.citations[cid] = Citation(
            id=cid,
            kind="provision",
            label=provision.label.get(self.lang),
            url=provision.url,
            source=pid,
            text=provision.title.get(self.lang),
        )
        return Span(kind="cite", ref=cid)

    def _route_reasons(self) -> list[Span]:
        """Each sentence of the route screening, followed by the provision it relies on."""
        spans: list[Span] = []
        sentences = [(sentence, provision) for text, provision in route_statement(self.profile, self.case, self.lang)
                     for sentence in _SENTENCE_END.split(text)]
        for n, (text, provision) in enumerate(sentences):
            if n == 0:
                text = text[:1].lower() + text[1:]  # the templates put the statement after a colon
            end = "." if text.endswith(".") else ""
            spans += [Span(kind="text", text=(" " if n else "") + text.removesuffix(".")),
                      self._cite_provision(provision["id"]), Span(kind="text", text=end)]
        return spans

    def _placeholder(self, qid: str, not_a_fact: str = "") -> Span:
        question = self.profile.question(qid)
        label = question.label.get(self.lang)
        waiver = self.case.waivers.get(qid)
        if waiver:
            text = i18n.t("not_given", self.lang, label, waiver.reason)
        elif not_a_fact:
            text = i18n.t("todo_not_a_fact", self.lang, label, " ".join(not_a_fact.split())[:40])
        else:
            text = i18n.t("todo", self.lang, label)
        self.placeholders.append(Placeholder(label=label, question_id=qid, waived=waiver is not None))
        return Span(kind="placeholder", text=text, ref=qid)

    def _sources_paragraph(self, passages: list[Passage]) -> Paragraph:
        """The retrieved passages the section rests on, each checkable in one click."""
        spans = [Span(kind="text", text=i18n.t("sources", self.lang) + (" : " if self.lang == "fr" else ": "))]
        for n, passage in enumerate(passages):
            if n:
                spans.append(Span(kind="text", text=" ; " if self.lang == "fr" else "; "))
            self.citations[passage.id] = Citation(
                id=passage.id, kind="passage", label=passage_label(passage, self.lang), url=passage.url,
                page=passage.page, source=passage.source, text=passage.text,
            )
            spans.append(Span(kind="cite", ref=passage.id))
        spans.append(Span(kind="text", text="."))
        return Paragraph(spans=spans)

    # -- evidence ----------------------------------------------------------------------------
    def _evidence_lines(self) -> list[EvidenceLine]:
        lines = []
        for kind_id, mandatory in self.kinds:
            kind = self.profile.evidence_kind(kind_id)
            lines.append(
                EvidenceLine(
                    kind=kind_id,
                    name=kind.name.get(self.lang),
                    mandatory=mandatory,
                    waived=kind_id in self.case.waivers,
                    files=[e.id for e in self.case.evidence_of_kind(kind_id)],
                )
            )
        return lines

    def _evidence_paragraph(self) -> Paragraph:
        colon = " : " if self.lang == "fr" else ": "
        spans = [Span(kind="text", text=i18n.t("evidence", self.lang) + colon)]
        items = self._evidence_lines()
        for n, line in enumerate(items):
            if n:
                spans.append(Span(kind="text", text=" ; " if self.lang == "fr" else "; "))
            spans.append(Span(kind="text", text=line.name))
            if line.files:
                for fid in line.files:
                    spans.append(Span(kind="cite", ref=self._cite_evidence(fid, None)))
            elif line.waived:
                reason = self.case.waivers[line.kind].reason
                spans.append(Span(kind="text", text=f" [{i18n.t('waived', self.lang, reason)}]"))
            elif line.mandatory:
                spans.append(Span(kind="placeholder", text=i18n.t("missing", self.lang), ref=line.kind))
                self.placeholders.append(Placeholder(label=line.name, evidence_kind=line.kind))
            else:
                spans.append(Span(kind="text", text=f" ({i18n.t('recommended_missing', self.lang)})"))
        spans.append(Span(kind="text", text="."))
        return Paragraph(spans=_merge_punctuation(spans))


def _merge_punctuation(spans: list[Span]) -> list[Span]:
    """Join adjacent text spans so renderers see clean runs."""
    merged: list[Span] = []
    for span in spans:
        if merged and span.kind == "text" and merged[-1].kind == "text":
            merged[-1] = Span(kind="text", text=merged[-1].text + span.text)
        elif span.kind != "text" or span.text:
            merged.append(span)
    return merged



def compose(
    profile: Profile,
    case: Case,
    lang: Lang,
    pages_of: PagesOf = _no_pages,
    passages_for: PassagesFor | None = None,
    translations: Mapping[str, str] | None = None,
) -> Draft:
    """The whole offline draft of a case in `lang`; with `passages_for`, each section also cites
    the retrieved passages it rests on; with `translations` (drafting/translation.py), an answer
    written in the authority's language is given translated rather than quoted."""
    composer = _Composer(profile, case, lang, pages_of, passages_for, translations)
    sections = [composer.section(s, n) for n, s in enumerate(applicable_sections(profile, case), start=1)]
    return Draft(
        case_id=case.id,
        authority=profile.id,
        lang=lang,
        title=profile.title.get(lang),
        request_type=case.request_type,
        request_type_label=profile.request_type_labels[case.request_type].get(lang),
        case_version=case.version,
        sections=sections,
        quoted_answers=composer.quoted,
        translated_answers=composer.translated,
    )
