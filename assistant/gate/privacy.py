"""Warnings about patient data: every answer and every attached document is screened with the
one set of detectors (case/privacy.py). A warning names what was found and where; it does not
block the export (a clinician's letter may rightly name the physician), but the export reports it."""

from __future__ import annotations

from assistant.case import privacy
from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.gate.finding import Finding
from assistant.words import t

KIND = "patient_identifier"
_SHOWN = 40  # characters of a found value quoted in a warning


def describe(found: tuple[privacy.Found, ...] | list[privacy.Found], lang: Lang) -> str:
    """'a date of birth ("12/03/1958"), a person's name ("Gaëtan Lefebvre")' in `lang`."""
    parts = [
        t("privacy_found", lang, what=t(f"privacy_kind_{f.kind}", lang), value=" ".join(f.value.split())[:_SHOWN])
        for f in found
    ]
    return ", ".join(dict.fromkeys(parts))


def findings(profile: Profile, case: Case, pages_of: PagesOf, lang: Lang = "en") -> list[Finding]:
    out = []
    sections = {q.id: s.id for s in profile.sections for q in s.questions}
    labels = {q.id: q.label.get(lang) for q in profile.all_questions()}
    for place in privacy.screen_answers(profile, case):
        label = labels.get(place.question_id, place.question_id)
        out.append(Finding(
            section=sections.get(place.question_id, profile.sections[0].id), kind=KIND, severity="warning",
            message=t("privacy_in_answer", lang, question=label, found=describe(place.found, lang)),
            question_id=place.question_id,
        ))
    kinds = {e.id: e.kind for e in case.evidence}
    for place in privacy.screen_documents(profile, case, pages_of):
        kind = kinds.get(place.evidence_id, "")
        section = next((k.sections[0] for k in profile.evidence_kinds if k.id == kind), profile.sections[0].id)
        out.append(Finding(
            section=section, kind=KIND, severity="warning", evidence_kind=kind or None,
            message=t("privacy_in_document", lang, file=place.filename, page=place.page,
                      found=describe(place.found, lang)),
        ))
    return out
