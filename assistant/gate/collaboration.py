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

_MSG = {
    "stale_edit": {
        "fr": "le texte de la section a été modifié à la main ({}) avant un changement des réponses ou des pièces : relisez-le et enregistrez-le à nouveau, ou revenez au texte généré",
        "en": "the section's text was edited by hand ({}) before answers or documents changed: review it and save it again, or go back to the generated text",
    },
    "stale_model_draft": {
        "fr": "le texte de la section a été rédigé par le modèle de langage ({}) avant un changement des réponses ou des pièces : relisez-le et enregistrez-le à nouveau, faites-le rédiger à nouveau, ou revenez au texte généré",
        "en": "the section's text was drafted by the language model ({}) before answers or documents changed: review it and save it again, have it drafted again, or go back to the generated text",
    },
    "document_mismatch": {
        "fr": "« {} » : la pièce {} (p. {}) indique « {} », la réponse enregistrée est « {} »",
        "en": "'{}': document {} (p. {}) says '{}', the recorded answer is '{}'",
    },
    "unconfirmed_kind": {
        "fr": "type de pièce deviné pour « {} » ({}) : confirmez-le",
        "en": "document type guessed for '{}' ({}): confirm it",
    },
    "unsigned_letter": {
        "fr": "la lettre du médecin jointe est la version générée, non signée : joignez la lettre signée avant le dépôt",
        "en": "the clinician letter on file is the generated, unsigned version: attach the signed letter before submission",
    },
}


def findings(profile: Profile, case: Case, generated: Draft, pages_of: PagesOf, lang: Lang = "en") -> list[Finding]:
    out: list[Finding] = []
    for edit in revisions.stale_edits(case, generated):
        section = next(s.section_id for s in generated.sections if edit in case.edits.get(s.section_id, []))
        out.append(Finding(section=section, kind="stale_edit", severity="blocker",
                           message=_MSG["stale_model_draft" if edit.drafter else "stale_edit"][lang].format(
                               f"{edit.lang}, v{edit.n}, {edit.by}")))
    for p in extract.proposals(profile, case, pages_of):
        if p.current is None:
            continue
        label = profile.question(p.question_id).label.get(lang)
        out.append(Finding(section=profile.section_of(p.question_id).id, kind="document_mismatch", severity="warning",
                           message=_MSG["document_mismatch"][lang].format(label, p.filename, p.page, p.value, p.current),
                           question_id=p.question_id))
    for ev in case.evidence:
        if not ev.kind_confirmed:
            kind = profile.evidence_kind(ev.kind)
            out.append(Finding(section=kind.sections[0], kind="unconfirmed_kind", severity="warning",
                               message=_MSG["unconfirmed_kind"][lang].format(ev.filename, kind.name.get(lang)),
                               evidence_kind=ev.kind))
    letters = case.evidence_of_kind("clinician_letter")
    if letters and all(e.origin == "letter_flow" for e in letters):
        section = profile.evidence_kind("clinician_letter").sections[0]
        out.append(Finding(section=section, kind="unsigned_letter", severity="warning",
                           message=_MSG["unsigned_letter"][lang], evidence_kind="clinician_letter"))
    return out

