""""Tell it once": the facts a manufacturer's description and documents state, proposed on one card
to confirm or correct, and what is asked next (see interview/telling.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.case.profile import Lang
from assistant.errors import ConflictError, ServiceError
from assistant.interview import assisted as llm_interview
from assistant.interview import engine as interview
from assistant.interview import telling
from assistant.interview.assisted import FactProposal
from assistant.interview.facts import document_facts
from assistant.service.with_model import ConfirmResult, ModelOps
from assistant.words import t


class TellOps(ModelOps):
    def tell(self, case_id: str, text: str, lang: Lang = "fr", *, use_llm: bool = True) -> telling.Told:
        """Every fact `text` states, checked, for one card (nothing is recorded): by the rules, and
        completed by the language model's proposals when one is configured."""
        if not text or not text.strip():
            raise ServiceError(t("tell_empty", lang))
        case = self.case(case_id)
        profile = self.profile(case)
        told = telling.from_text(profile, case, text, lang, t("tell_from_description", lang))
        if not use_llm:
            return told
        session = self.llm_session(case_id)
        if not session.enabled:
            return told
        found = llm_interview.propose_facts(session, profile, case, text, lang, source="llm",
                                            source_kind="the manufacturer's description of its request")
        where = t("tell_from_description_model", lang)
        model = [FactProposal(p.question_id, p.label, p.value, p.quote, p.source, p.current, where)
                 for p in found.proposals]
        return telling.Told(proposals=telling.merge(told.proposals, model, profile),
                            dropped=told.dropped + found.dropped, notices=found.notices)

    def document_facts(self, case_id: str, lang: Lang = "fr") -> list[FactProposal]:
        """The facts the attached documents state (with file and page), as proposals for the same card."""
        case = self.case(case_id)
        profile = self.profile(case)
        out = []
        for p in self.proposals(case_id):
            question = profile.question(p.question_id)
            if p.current is not None and question.type == "long_text":
                continue  # another wording of a written answer is not a disagreement
            out.append(FactProposal(
                question_id=p.question_id, label=question.label.get(lang), value=p.value, quote=p.snippet,
                source=p.source, current=p.current, where=t("tell_from_document", lang, p.filename, p.page),
            ))
        known = {p.question_id for p in out}
        pages_of = self.pages(case_id)
        for ev in case.evidence:  # the rest of what each document states (references, standards, narrative)
            facts = [f for n, text in enumerate(pages_of(ev.sha256), 1) for f in document_facts(text, n, ev.kind)
                     if f.question_id not in known and f"{f.question_id}@{ev.id}" not in case.dismissed_proposals]
            for p in telling.check(profile, case, facts, lang, source=f"document:{ev.id}", where=ev.filename):
                if p.question_id not in known and not (p.current is not None and
                                                       profile.question(p.question_id).type == "long_text"):
                    known.add(p.question_id)
                    out.append(p)
        order = {q.id: n for n, q in enumerate(interview.ordered_questions(profile))}
        return sorted(out, key=lambda p: order.get(p.question_id, 10_000))

    def confirm_told(self, case_id: str, proposals: Sequence[FactProposal], actor: Any,
                     corrections: dict[str, str] | None = None) -> ConfirmResult:
        """Record the card as confirmed: each proposal (or the user's correction of it), screening
        answers first; documents whose kind was only guessed are confirmed with it."""
        corrections = corrections or {}
        fixed = []
        for p in proposals:
            typed = (corrections.get(p.question_id) or "").strip()
            if typed and typed != p.value:  # the user corrected it: the answer is theirs
                p = FactProposal(p.question_id, p.label, typed, p.quote, "user", p.current, p.where)
            fixed.append(p)
        profile = self.profile(self.case(case_id))
        order = {q.id: n for n, q in enumerate(interview.ordered_questions(profile))}
        result = self.confirm_facts(case_id, sorted(fixed, key=lambda p: order.get(p.question_id, 10_000)), actor)
        for ev in self.case(case_id).evidence:
            if not ev.kind_confirmed and any(p.source == f"document:{ev.id}" for p in proposals):
                self.set_evidence_kind(case_id, ev.id, ev.kind, actor)
        return result

    def next_group(self, case_id: str, skipped: frozenset[str] = frozenset()) -> list[interview.Prompt]:
        """The next question and the open questions asked with it (the applicant block, the
        certificate block…); a justification or a screening question comes alone."""
        case = self.case(case_id)
        return interview.next_group(self.profile(case), case, skipped)

    def changed_since(self, case_id: str, version: int, question_id: str) -> bool:
        """Whether the answer to `question_id` changed after `version` (a save made on `version` then
        overwrites someone else's answer; any other change does not conflict with it)."""
        for event in self.store.events(case_id):
            if event.v <= version:
                continue
            if event.type == "answered" and event.data.get("question_id") == question_id:
                return True
            if event.type in ("restored", "waived", "waiver_withdrawn") and (
                    event.type == "restored" or event.data.get("target") == question_id):
                return True
        return False

    def answer_on(self, case_id: str, question_id: str, text: str, actor: Any, seen: int | None, **kw: Any):
        """`answer`, refused as a conflict only when this same answer changed since version `seen`."""
        try:
            return self.answer(case_id, question_id, text, actor, expected_version=seen, **kw)
        except ConflictError:
            if seen is None or self.changed_since(case_id, seen, question_id):
                raise
            return self.answer(case_id, question_id, text, actor, **kw)
