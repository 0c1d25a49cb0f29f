import pytest
from helpers import answer_all, attach_all_mandatory

from assistant.service import Actor, ServiceError


def kinds(found):
    return {(f.section, f.kind, f.question_id or f.evidence_kind, f.severity) for f in found if not f.waived}


def test_a_new_case_reports_missing_answers_and_documents_per_section(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    found = kinds(svc.check(case.id))
    assert ("need", "missing_answer", "patient_condition", "blocker") in found
    assert ("need", "missing_evidence", "clinician_letter", "blocker") in found
    assert ("conformity_declaration", "missing_evidence", "precautions_certificate", "blocker") in found
    assert ("identification", "missing_answer", "authorised_representative", "warning") in found
    assert ("need", "not_approved", None, "warning") in found


def test_a_complete_case_has_no_blockers(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor)
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    assert [f for f in svc.check(case.id) if f.blocks] == []


def test_a_waiver_turns_a_blocker_into_a_recorded_exception(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.waive(case.id, "precautions_certificate", "signed certificate follows with the submission", actor)
    finding = next(f for f in svc.check(case.id) if f.evidence_kind == "precautions_certificate")
    assert finding.waived and not finding.blocks
    assert finding.waiver_reason == "signed certificate follows with the submission"
    with pytest.raises(ServiceError, match="reason"):
        svc.waive(case.id, "clinician_letter", "", actor)
    with pytest.raises(ServiceError, match="nothing to waive"):
        svc.waive(case.id, "unicorn", "because we can say so", actor)


def test_approval_can_be_made_mandatory_and_a_changed_answer_withdraws_it(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor)
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    consultant = Actor(name="reviewer", role="consultant")
    svc.set_setting(case.id, consultant, require_approval=True)  # the consultant's setting (access.yaml)
    assert {f.section for f in svc.check(case.id) if f.blocks and f.kind == "not_approved"} >= {"need", "commitments"}
    for section in svc.draft(case.id).sections:
        svc.approve(case.id, section.section_id, consultant)
    assert [f for f in svc.check(case.id) if f.blocks] == []
    svc.answer(case.id, "urgency", "Urgence nouvelle : intervention avancée à la semaine prochaine après aggravation, selon l'équipe médicale, avec pronostic vital engagé à court terme.", actor, replace=True)
    stale = [f for f in svc.check(case.id) if f.kind == "stale_approval"]
    assert [f.section for f in stale] == ["need"] and stale[0].blocks


def test_advisory_when_article_120_may_make_the_derogation_unnecessary(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    for qid, value in [("is_ivd", "no"), ("previously_ce_marked", "yes"), ("certification_in_progress", "yes"),
                       ("previous_certificate_expiry", "2024-05-26"), ("nb_application_date", "2024-03-01")]:
        svc.answer(case.id, qid, value, actor)
    messages = [f.message for f in svc.check(case.id) if f.kind == "advisory"]
    assert any("Article 120" in m and "derogation is needed at all" in m for m in messages)


def test_advisory_when_the_certificate_expired_before_20_march_2023(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "is_ivd", "no", actor)  # the MDR Article 120 advisories are not for IVDs
    svc.answer(case.id, "previously_ce_marked", "yes", actor)
    svc.answer(case.id, "previous_certificate_expiry", "2022-11-30", actor)
    messages = [f.message for f in svc.check(case.id, "fr") if f.kind == "advisory"]
    assert any("avant le 20 mars 2023" in m for m in messages)
