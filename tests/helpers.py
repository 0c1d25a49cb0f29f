"""Answers that make a case complete, for tests that need a full case quickly."""

from __future__ import annotations

from assistant.interview.engine import open_prompts
from assistant.service import Actor, Service

LONG = (
    "Explication détaillée et précise fournie par le fabricant, avec les faits, les chiffres et les "
    "sources utiles à l'évaluateur de l'autorité, afin que la justification soit complète et vérifiable "
    "sans autre échange."
)
SAMPLE = {
    "is_ivd": "no", "first_in_man": "no", "previously_ce_marked": "yes", "certification_in_progress": "yes",
    "device_class": "III", "patient_pseudonym": "P-001", "patients_minors": "no", "previous_certificate_expiry": "2024-05-26",
    "nb_application_date": "2024-09-15", "nb_written_agreement_date": "2025-01-20",
    "previous_certificate_number": "CM-734215",
    # route screening (issue 10)
    "custom_made": "no", "in_house": "no", "investigation_possible": "no", "art97_decision_in_force": "no",
    "class_i_declaration": "no", "certificate_issued_from_2017": "yes", "certificate_withdrawn": "no",
    "directive_compliance": "yes", "significant_change": "no", "mdr_qms_by_2024": "yes",
    "agreement_before_expiry": "no", "prior_decision_before_2023_03_20": "no", "implantable_iib": "no",
    "ivdd_certificate": "yes", "ivdd_declaration_before_2022": "yes", "ivd_agreement_before_expiry": "no",
    "ivd_prior_decision_before_2024_07_09": "no", "ivdr_qms_by_2025": "yes",
    "derogation_ground": "patients", "supply_interruption_notified": "no",
}


def answer_all(svc: Service, case_id: str, actor: Actor, overrides: dict[str, str] | None = None) -> None:
    """Answer every open question the way a diligent manufacturer would."""
    values = {**SAMPLE, **(overrides or {})}
    while True:
        prompts = [p for p in open_prompts(svc.profile(svc.case(case_id)), svc.case(case_id))]
        if not prompts:
            return
        q = prompts[0].question
        text = values.get(q.id) or (LONG if q.type == "long_text" else f"valeur {q.id.replace('_', ' ')}")
        svc.answer(case_id, q.id, text, actor)


def attach_all_mandatory(svc: Service, case_id: str, actor: Actor, make_pdf) -> None:
    from assistant.case.requirements import applicable_sections, evidence_kinds_for

    case = svc.case(case_id)
    profile = svc.profile(case)
    for section in applicable_sections(profile, case):
        for kind, mandatory in evidence_kinds_for(profile, case, section):
            if mandatory and not svc.case(case_id).evidence_of_kind(kind):
                pdf = make_pdf([f"Document {kind} page 1", f"Document {kind} page 2"], f"{kind}.pdf")
                svc.attach(case_id, pdf, actor, kind=kind)
