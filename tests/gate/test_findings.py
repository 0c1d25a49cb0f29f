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


LEGACY = {"is_ivd": "no", "custom_made": "no", "in_house": "no", "investigation_possible": "no",
          "previously_ce_marked": "yes", "art97_decision_in_force": "no", "class_i_declaration": "no",
          "certificate_issued_from_2017": "yes", "certificate_withdrawn": "no", "device_class": "III",
          "previous_certificate_expiry": "2024-05-26", "certification_in_progress": "yes",
          "nb_application_date": "2024-04-10", "nb_written_agreement_date": "2024-09-01",
          "directive_compliance": "yes", "significant_change": "no", "mdr_qms_by_2024": "yes"}


def _answer(svc, case_id, actor, answers):
    for qid, value in answers.items():
        svc.answer(case_id, qid, value, actor)


def test_when_the_article_120_extension_applies_the_check_says_so_and_export_waits_for_a_reason(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    _answer(svc, case.id, actor, LEGACY)
    found = svc.check(case.id)
    route = [f for f in found if f.kind == "route"]
    assert route and "MDR Art. 120 extension" in route[0].message and "31/12/2027" not in route[0].message
    assert "2027-12-31" in route[0].message and "say why" in route[0].message
    # the reason is a required answer of the regulatory-status section: a blocker until given
    assert any(f.question_id == "route_other_reason" and f.blocks for f in found)
    svc.answer(case.id, "route_other_reason", "Le certificat couvre le modèle 28 mm ; le patient a besoin du "
               "modèle 32 mm, développé après le 26 mai 2021 et qui relève d'une nouvelle certification.", actor)
    assert not any(f.question_id == "route_other_reason" for f in svc.check(case.id))
    text, _ = svc.draft_markdown(case.id, "fr")
    assert "paraissent réunies, jusqu'au 31/12/2027" in text and "néanmoins la présente demande" in text


def test_a_late_application_is_never_given_as_the_ground_of_a_derogation(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    _answer(svc, case.id, actor, {**LEGACY, "nb_application_date": "2024-07-01"})
    for lang, late, ground in [("fr", "déposée après le 26 mai 2024", "n'en est pas un"),
                               ("en", "lodged after 26 May 2024", "is not such a ground")]:
        messages = [f.message for f in svc.check(case.id, lang) if f.kind == "route"]
        assert len(messages) == 1 and late in messages[0] and ground in messages[0]
        assert "justifie" not in messages[0] and "why a derogation is needed" not in messages[0]
    assert not any(f.question_id == "route_other_reason" for f in svc.check(case.id))


def test_a_certificate_expired_before_20_march_2023_without_agreement_or_decision(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    _answer(svc, case.id, actor, {**LEGACY, "previous_certificate_expiry": "2022-06-14",
                                  "agreement_before_expiry": "no", "prior_decision_before_2023_03_20": "no"})
    messages = [f.message for f in svc.check(case.id, "fr") if f.kind == "route"]
    assert len(messages) == 1 and "avant le 20 mars 2023" in messages[0]
    assert "ne fait pas revivre le certificat" in messages[0]


def test_while_a_screening_fact_is_missing_the_check_names_it(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "is_ivd", "no", actor)
    messages = [f.message for f in svc.check(case.id) if f.kind == "route"]
    assert len(messages) == 1 and "not determined yet" in messages[0] and "custom-made" in messages[0]
