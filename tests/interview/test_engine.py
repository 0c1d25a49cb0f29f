import pytest

from assistant.interview.engine import open_prompts
from assistant.service import ServiceError


def ids(svc, case_id):
    return [p.question.id for p in svc.questions(case_id)]


def test_screening_questions_come_first_and_known_facts_are_never_asked(svc, actor):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    order = ids(svc, case.id)
    assert order[:4] == ["is_ivd", "first_in_man", "previously_ce_marked", "certification_in_progress"]
    assert "device_name" not in order  # given when the case was created
    svc.answer(case.id, "applicant_name", "Valvix Medical SAS", actor)
    assert "applicant_name" not in ids(svc, case.id)


def test_conditional_questions_wait_for_the_screening_answer(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    assert "previous_certificate_number" not in ids(svc, case.id)
    svc.answer(case.id, "previously_ce_marked", "oui", actor)
    assert "previous_certificate_number" in ids(svc, case.id)
    svc.answer(case.id, "previously_ce_marked", "non", actor)
    assert "previous_certificate_number" not in ids(svc, case.id)
    with pytest.raises(ServiceError, match="does not apply"):
        svc.answer(case.id, "previous_certificate_number", "CM-1", actor)


def test_global_requests_ask_about_prior_derogations_and_the_population_not_the_patient(svc, actor):
    ind = ids(svc, svc.new_case("ansm", "individual", "Valve", actor).id)
    glob = ids(svc, svc.new_case("ansm", "global", "Valve", actor).id)
    assert "prior_derogations_qualitative" in glob and "prior_derogations_qualitative" not in ind
    assert "patient_pseudonym" in ind and "patient_pseudonym" not in glob
    assert "patient_group" in glob and "population_condition" in glob


def test_first_in_man_makes_preclinical_reports_mandatory(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "first_in_man", "no", actor)
    found = {(f.evidence_kind, f.severity) for f in svc.check(case.id) if f.kind == "missing_evidence"}
    assert ("preclinical_reports", "warning") in found
    svc.answer(case.id, "first_in_man", "yes", actor)
    found = {(f.evidence_kind, f.severity) for f in svc.check(case.id) if f.kind == "missing_evidence"}
    assert ("preclinical_reports", "blocker") in found


def test_a_thin_justification_gets_one_follow_up_that_completes_the_answer(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "urgency", "Very urgent.", actor)
    prompt = next(p for p in svc.questions(case.id) if p.question.id == "urgency")
    assert prompt.followup
    assert "time frame" in prompt.text("en")
    svc.answer(case.id, "urgency", "Surgery is planned within four weeks.", actor)
    answer = svc.case(case.id).answers["urgency"]
    assert answer.value == "Very urgent. Surgery is planned within four weeks."
    assert [e.followup for e in answer.entries] == [False, True]
    # at most max_followups (1): still thin, but not asked again; the check warns instead
    assert "urgency" not in ids(svc, case.id)
    assert any(f.kind == "thin_answer" and f.question_id == "urgency" for f in svc.check(case.id))


def test_a_detailed_justification_gets_no_follow_up(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "urgency", " ".join(["Trois hospitalisations en dix mois malgré un traitement maximal;"] * 4), actor)
    assert "urgency" not in ids(svc, case.id)


def test_waived_questions_are_not_asked(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.waive(case.id, "authorised_representative", "manufacturer established in France", actor)
    assert "authorised_representative" not in ids(svc, case.id)
    assert len(open_prompts(svc.profile(svc.case(case.id)), svc.case(case.id))) == len(ids(svc, case.id))
