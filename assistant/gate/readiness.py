"""Where a case stands, section by section: answers, documents, findings and review status.

What the progress sidebar, the consultant's readiness view and `Service.progress` show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.case.model import Case
from assistant.case.profile import LANGS, Profile
from assistant.case.requirements import applies
from assistant.drafting.model import Draft
from assistant.drafting.revisions import current_edit
from assistant.gate.findings import Finding

# Review status as a reader sees it: an approval given on other facts is withdrawn ("stale").
EffectiveStatus = str  # draft | changes_requested | approved | stale


@dataclass(frozen=True)
class SectionState:
    section_id: str
    number: int
    title: str
    questions: int  # questions that apply to this case
    answered: int
    evidence_needed: int  # evidence kinds that are mandatory here
    evidence_present: int  # of those, attached (a waived one is counted in `evidence_waived`, never here)
    blockers: int
    warnings: int
    status: EffectiveStatus
    edited: bool
    comments: int
    evidence_waived: int = 0  # of the mandatory ones not attached, waived with a reason

    @property
    def complete(self) -> bool:
        return (self.answered == self.questions
                and self.evidence_present + self.evidence_waived == self.evidence_needed)


@dataclass(frozen=True)
class Readiness:
    sections: list[SectionState]
    blockers: list[Finding]
    warnings: list[Finding]
    notices: list[str] = field(default_factory=list)  # e.g. the knowledge base was unavailable

    @property
    def approved(self) -> int:
        return sum(1 for s in self.sections if s.status == "approved")

    @property
    def ready(self) -> bool:
        return not self.blockers


def effective_status(case: Case, section_id: str, fingerprint: str) -> EffectiveStatus:
    review = case.review(section_id)
    if review.status == "approved" and review.fingerprint != fingerprint:
        return "stale"
    return review.status


def section_states(profile: Profile, case: Case, draft: Draft, found: list[Finding]) -> list[SectionState]:
    states = []
    for sd in draft.sections:
        section = profile.section(sd.section_id)
        qs = [q for q in section.questions if applies(profile, case, q) is True]
        mandatory = [line for line in sd.evidence if line.mandatory]
        mine = [f for f in found if f.section == sd.section_id]
        states.append(SectionState(
            section_id=sd.section_id, number=sd.number, title=sd.title, questions=len(qs),
            answered=sum(1 for q in qs if q.id in case.answers),
            evidence_needed=len(mandatory), evidence_present=sum(1 for line in mandatory if line.files and not line.waived),
            evidence_waived=sum(1 for line in mandatory if line.waived),
            blockers=sum(1 for f in mine if f.blocks), warnings=sum(1 for f in mine if f.severity == "warning"),
            status=effective_status(case, sd.section_id, sd.fingerprint),
            edited=any(current_edit(case, sd.section_id, lang) for lang in LANGS),
            comments=sum(1 for c in case.comments if c.section == sd.section_id),
        ))
    return states


def readiness(profile: Profile, case: Case, draft: Draft, found: list[Finding]) -> Readiness:
    return Readiness(
        sections=section_states(profile, case, draft, found),
        blockers=[f for f in found if f.blocks],
        warnings=[f for f in found if f.severity == "warning" and not f.waived],
        notices=list(draft.notices),
    )
