""""Tell it once": the facts a manufacturer's own description (or its documents) states, checked
and ready to show on one card to confirm or correct.

The rules (interview/facts.py) read the text offline; with a language model configured, its
proposals (interview/assisted.py) complete what the rules did not find, never replacing them. Every
proposal is checked as an answer typed by the user would be: the question must still apply, the
value must be valid for it (answers.normalise), a patient field must hold no identifying data, and a
value equal to the recorded answer is not proposed again. Nothing is recorded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.case.answers import AnswerError, normalise
from assistant.case.model import Case
from assistant.case.privacy import patient_data_problems
from assistant.case.profile import Lang, Profile
from assistant.case.requirements import applies
from assistant.errors import NotFound
from assistant.interview.assisted import FactProposal
from assistant.interview.engine import ordered_questions
from assistant.interview.facts import Fact, facts_in

DESCRIPTION = "description"  # the source recorded with an answer confirmed from the user's description


@dataclass(frozen=True)
class Told:
    """What a text told: the proposals to confirm, and why other facts read in it were left out."""

    proposals: list[FactProposal] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


class _WithTold:
    """The case as it will be once the told yes/no answers are confirmed (for `applies`): a fact
    about a question those answers rule out is not put on the card."""

    def __init__(self, case: Case, told: dict[str, str]) -> None:
        self.request_type = case.request_type
        self._values = {**told, **case.values()}

    def values(self) -> dict[str, str]:
        return self._values


def check(profile: Profile, case: Case, facts: list[Fact], lang: Lang, *, source: str, where: str,
          dropped: list[str] | None = None) -> list[FactProposal]:
    """The facts as proposals, each checked like a typed answer (see module doc), screening first."""
    out: dict[str, FactProposal] = {}
    told = {f.question_id: f.value for f in facts if f.value in ("yes", "no")}
    future = _WithTold(case, told)
    for fact in facts:
        try:
            question = profile.question(fact.question_id)
        except NotFound:
            continue
        if fact.question_id in out or fact.question_id in case.waivers:
            continue
        if applies(profile, case, question) is False or applies(profile, future, question) is False:  # type: ignore[arg-type]
            continue
        try:
            value = normalise(question, fact.value)
        except AnswerError as exc:
            if dropped is not None:
                dropped.append(str(exc))
            continue
        if question.patient_data and patient_data_problems(value, pseudonym=question.pseudonym):
            if dropped is not None:
                dropped.append(f"{question.label.get(lang)}: looks like identifying patient data")
            continue
        current = case.value(fact.question_id)
        if current is not None and current.strip().lower() == value.strip().lower():
            continue
        place = where if fact.page is None else f"{where}, p. {fact.page}"
        out[fact.question_id] = FactProposal(
            question_id=fact.question_id, label=question.label.get(lang), value=value, quote=fact.quote,
            source=source, current=current, where=place,
        )
    order = {q.id: n for n, q in enumerate(ordered_questions(profile))}
    return sorted(out.values(), key=lambda p: order.get(p.question_id, 10_000))


def from_text(profile: Profile, case: Case, text: str, lang: Lang, where: str) -> Told:
    """The facts a description states, by the rules alone (the model's are merged by the service)."""
    dropped: list[str] = []
    open_ = [q.id for q in profile.all_questions() if applies(profile, case, q) is not False]
    proposals = check(profile, case, facts_in(text, narrative=open_), lang, source=DESCRIPTION, where=where,
                      dropped=dropped)
    return Told(proposals=proposals, dropped=dropped)


def merge(rules: list[FactProposal], model: list[FactProposal], profile: Profile) -> list[FactProposal]:
    """The rules' proposals, completed by the model's for the questions the rules did not answer."""
    known = {p.question_id for p in rules}
    merged = rules + [p for p in model if p.question_id not in known]
    order = {q.id: n for n, q in enumerate(ordered_questions(profile))}
    return sorted(merged, key=lambda p: order.get(p.question_id, 10_000))
