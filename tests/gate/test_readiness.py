"""Where a case stands (assistant/progress.py): per section answers, documents, findings and review status."""

from __future__ import annotations

import pytest
from helpers import answer_all, attach_all_mandatory

from assistant.service import Actor

CONSULTANT = Actor(name="reviewer", role="consultant")


@pytest.fixture
def case_id(svc, actor) -> str:
    return svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id


def states(svc, case_id):
    return {s.section_id: s for s in svc.readiness(case_id).sections}


def test_a_new_case_counts_only_the_questions_that_apply_and_lists_its_blockers(svc, actor, case_id):
    before = states(svc, case_id)["identification"]
    assert (before.answered, before.complete) == (1, False)  # the device name given at creation
    svc.answer(case_id, "previously_ce_marked", "no", actor)
    after = states(svc, case_id)
    assert after["identification"].answered == 2
    readiness = svc.readiness(case_id)
    assert not readiness.ready
    assert sum(s.blockers for s in readiness.sections) == len(readiness.blockers)
    assert [s.number for s in readiness.sections] == list(range(1, len(readiness.sections) + 1))


def test_the_certificate_questions_count_once_the_device_was_ce_marked(svc, actor, case_id):
    svc.answer(case_id, "previously_ce_marked", "no", actor)
    never = states(svc, case_id)["regulatory_status"].questions
    other = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    svc.answer(other, "previously_ce_marked", "yes", actor)
    assert states(svc, other)["regulatory_status"].questions >= never + 3  # number, notified body, expiry


def test_documents_present_count_attached_kinds_and_a_waived_one_counts_as_waived(svc, actor, case_id, make_pdf):
    section = states(svc, case_id)["conformity_declaration"]
    needed = section.evidence_needed
    assert needed >= 2 and section.evidence_present == 0
    svc.attach(case_id, make_pdf(["Déclaration de conformité annexe I"], "doc.pdf"), actor,
               kind="declaration_of_conformity")
    svc.waive(case_id, "precautions_certificate", "Signed attestation follows by post tomorrow.", actor)
    section = states(svc, case_id)["conformity_declaration"]
    assert (section.evidence_present, section.evidence_waived) == (1, 1)  # waived is not present


def test_a_complete_case_is_ready_and_waived_findings_do_not_block(svc, actor, case_id, make_pdf):
    answer_all(svc, case_id, actor)
    attach_all_mandatory(svc, case_id, actor, make_pdf)
    readiness = svc.readiness(case_id)
    assert readiness.ready and all(s.complete and s.blockers == 0 for s in readiness.sections)
    ev = svc.case(case_id).evidence_of_kind("precautions_certificate")[0]
    svc.remove_evidence(case_id, ev.id, actor)
    blocked = svc.readiness(case_id)
    assert [f.evidence_kind for f in blocked.blockers] == ["precautions_certificate"]
    assert not {s.section_id: s for s in blocked.sections}["conformity_declaration"].complete
    svc.waive(case_id, "precautions_certificate", "Signed attestation follows by post tomorrow.", actor)
    waived = svc.readiness(case_id)
    assert waived.ready
    assert all(not f.waived for f in waived.warnings)  # a waived finding is not a warning either


def test_an_approval_goes_stale_when_an_answer_it_rests_on_changes(svc, actor, case_id, make_pdf):
    answer_all(svc, case_id, actor)
    svc.approve(case_id, "need", CONSULTANT)
    readiness = svc.readiness(case_id)
    assert {s.section_id: s.status for s in readiness.sections}["need"] == "approved"
    assert readiness.approved == 1
    svc.answer(case_id, "urgency", "Worsening heart failure, NYHA IV, two admissions in one month; the team "
               "expects death within weeks without the implant, as the letter of the cardiologist explains.",
               actor, replace=True)
    after = svc.readiness(case_id)
    assert {s.section_id: s.status for s in after.sections}["need"] == "stale"
    assert after.approved == 0


def test_comments_and_edits_are_counted_per_section(svc, actor, case_id):
    from assistant.drafting.revisions import to_source

    svc.comment(case_id, "need", "Quote the hospital's admission dates.", actor)
    svc.comment(case_id, "need", "And the NYHA class.", actor)
    state = states(svc, case_id)["need"]
    assert (state.comments, state.edited) == (2, False)
    text = to_source(svc.generated_section(case_id, "need", "en"))
    svc.edit_section(case_id, "need", "en", text + "\n\nA reviewer's added sentence.", CONSULTANT)
    after = states(svc, case_id)
    assert (after["need"].edited, after["clinical_investigation"].edited) == (True, False)
    assert after["clinical_investigation"].comments == 0
