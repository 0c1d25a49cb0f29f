"""Findings about the collaboration artefacts: reviewers' edits, facts in documents, document kinds
and the generated clinician letter."""

from __future__ import annotations

from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.drafting import revisions
from assistant.drafting.model import Draft
from assistant.gate.finding import Finding
from assistant.interview import documents as extract
from assistant.words import t


def findings(profile: Profile, case: Case, generated: Draft, pages_of: PagesOf, lang: Lang = "en") -> list[Finding]:
    out: list[Finding] = []
    for edit in revisions.stale_edits(case, generated):
        section = next(s.section_id for s in generated.sections if edit in case.edits.get(s.section_id, []))
        out.append(Finding(section=section, kind="stale_edit", severity="blocker",
                           message=t("stale_model_draft" if edit.drafter else "stale_edit", lang,
                                         f"{edit.lang}, v{edit.n}, {edit.by}")))
    for p in extract.proposals(profile, case, pages_of):
        if p.current is None:
            continue
        label = profile.question(p.question_id).label.get(lang)
        out.append(Finding(section=profile.section_of(p.question_id).id, kind="document_mismatch", severity="warning",
                           message=t("document_mismatch", lang, label, p.filename, p.page, p.value, p.current),
                           question_id=p.question_id))
    for ev in case.evidence:
        if not ev.kind_confirmed:
            kind = profile.evidence_kind(ev.kind)
            out.append(Finding(section=kind.sections[0], kind="unconfirmed_kind", severity="warning",
                               message=t("unconfirmed_kind", lang, ev.filename, kind.name.get(lang)),
                               evidence_kind=ev.kind))
    letters = case.evidence_of_kind("clinician_letter")
    if letters and all(e.origin == "letter_flow" for e in letters):
        section = profile.evidence_kind("clinician_letter").sections[0]
        out.append(Finding(section=section, kind="unsigned_letter", severity="warning",
                           message=t("unsigned_letter", lang), evidence_kind="clinician_letter"))
    return out

