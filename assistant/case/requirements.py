"""What the authority requires of this case: which sections, questions and documents apply, read
from the profile's conditions and the answers given so far."""

from __future__ import annotations

from assistant.case import conditions
from assistant.case.facts import facts
from assistant.case.model import Case
from assistant.case.profile import Profile, Question, Section


def applies(profile: Profile, case: Case, question: Question) -> bool | None:
    """True if the case needs this question, False if not, None while a condition is unknown."""
    section = profile.section_of(question.id)
    if not (section.applies(case.request_type) and question.applies(case.request_type)):
        return False
    return conditions.evaluate(question.when, facts(profile, case))


def applicable_sections(profile: Profile, case: Case) -> list[Section]:
    """The sections of the profile for this request type, in the authority's order."""
    return [s for s in profile.sections if s.applies(case.request_type)]


def evidence_kinds_for(profile: Profile, case: Case, section: Section) -> list[tuple[str, bool]]:
    """(kind id, mandatory) for each evidence kind supporting `section` in this case."""
    kinds = []
    values = facts(profile, case)
    for kind in profile.evidence_kinds:
        if section.id not in kind.sections or not kind.applies(case.request_type):
            continue
        state = conditions.evaluate(kind.when, values)
        if state is False:
            continue
        mandatory = state is True and (
            kind.mandatory
            or (bool(kind.mandatory_when) and conditions.evaluate(kind.mandatory_when, values) is True)
        )
        kinds.append((kind.id, mandatory))
    return kinds
