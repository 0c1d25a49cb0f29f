"""The access rules the service itself enforces (issue 12), one test per rule the red team broke."""

from __future__ import annotations

import pytest

from assistant.drafting.model import SectionDraft
from assistant.service import Actor, Forbidden

MANUFACTURER = Actor("m.martin", "manufacturer")
CONSULTANT = Actor("j.durand", "consultant")


@pytest.fixture
def cases(svc):
    mine = svc.new_case("ansm", "individual", "Valvix TMV-28", MANUFACTURER).id
    other = svc.new_case("ansm", "individual", "Other device", MANUFACTURER).id
    _, token = svc.create_clinician_link(mine, MANUFACTURER, "Dr Leroy")
    return mine, other, Actor("dr.leroy", "clinician", token=token)


def test_a_clinician_writes_only_the_letter_of_the_case_its_link_opens(svc, cases, make_pdf):
    mine, other, doctor = cases
    letter = make_pdf(["Lettre du Dr Leroy pour le patient P-014."], "lettre.pdf")
    svc.save_letter(mine, {"specialty": "Cardiologie"}, doctor)
    attached = svc.attach(mine, letter, doctor, kind="clinician_letter")
    other_letter = svc.attach(other, letter, MANUFACTURER, kind="clinician_letter").file.id
    before = svc.case(other).version
    with pytest.raises(Forbidden, match="active link"):
        svc.save_letter(other, {"specialty": "Cardiologie"}, doctor)
    with pytest.raises(Forbidden, match="active link"):
        svc.attach(other, letter, doctor, kind="clinician_letter")
    with pytest.raises(Forbidden, match="active link"):
        svc.remove_evidence(other, other_letter, doctor)
    with pytest.raises(Forbidden, match="active link"):
        svc.save_letter(mine, {"specialty": "Rythmologie"}, Actor("dr.leroy", "clinician"))  # no token at all
    assert svc.case(other).version == before and not svc.case(other).letter.fields
    svc.remove_evidence(mine, attached.file.id, doctor)  # its own case: allowed


def test_a_revoked_link_stops_working_at_once(svc, cases):
    mine, _, doctor = cases
    link = svc.case(mine).clinician_links[0]
    svc.revoke_clinician_link(mine, link.id, MANUFACTURER)
    with pytest.raises(Forbidden, match="revoked"):
        svc.save_letter(mine, {"specialty": "Cardiologie"}, doctor)


def test_a_manufacturers_restore_brings_back_neither_an_approval_nor_a_revoked_link(svc, cases):
    mine, _, doctor = cases
    svc.answer(mine, "urgency", "Intervention sous huit jours.", MANUFACTURER)
    svc.approve(mine, "need", CONSULTANT)
    approved_at = svc.case(mine).version
    svc.review(mine, "need", "changes_requested", CONSULTANT, "preuves manquantes")
    link = svc.case(mine).clinician_links[0]
    svc.revoke_clinician_link(mine, link.id, MANUFACTURER)
    svc.answer(mine, "urgency", "Intervention sous trois jours.", MANUFACTURER, replace=True)

    restored = svc.restore(mine, approved_at, MANUFACTURER)
    assert restored.value("urgency") == "Intervention sous huit jours."  # the manufacturer's own part
    assert restored.review("need").status == "changes_requested"  # the consultant's act stays as it is
    assert [lk.revoked for lk in restored.clinician_links] == [True]
    with pytest.raises(Forbidden):
        svc.save_letter(mine, {"specialty": "Cardiologie"}, doctor)
    # The consultant may restore the reviews (theirs to change); the link stays revoked all the same.
    again = svc.restore(mine, approved_at, CONSULTANT)
    assert again.review("need").status == "approved" and again.clinician_links[0].revoked


def test_a_restore_does_not_undo_a_consultants_later_approval_either(svc, cases):
    mine, _, _ = cases
    svc.answer(mine, "urgency", "Intervention sous huit jours.", MANUFACTURER)
    early = svc.case(mine).version
    svc.approve(mine, "need", CONSULTANT)
    svc.set_setting(mine, CONSULTANT, require_approval=True)
    restored = svc.restore(mine, early, MANUFACTURER)
    assert restored.review("need").status == "approved" and restored.settings.require_approval


def test_the_approval_requirement_and_the_model_settings_belong_to_the_consultant(svc, cases):
    mine, _, _ = cases
    svc.set_setting(mine, CONSULTANT, require_approval=True)
    with pytest.raises(Forbidden, match="approval requirement changed"):
        svc.set_setting(mine, MANUFACTURER, require_approval=False)
    assert svc.case(mine).settings.require_approval
    svc.set_setting(mine, MANUFACTURER, language="en")  # the drafting language stays the manufacturer's too
    with pytest.raises(Forbidden, match="no case setting"):
        svc.set_setting(mine, CONSULTANT, anything_else=True)
    with pytest.raises(Forbidden, match="llm settings changed"):
        svc.update_llm_settings(MANUFACTURER, provider="openai-compatible", model="m",
                                base_url="http://203.0.113.5:8000/v1")
    assert svc.llm_settings(env=False).base_url == ""
    assert svc.update_llm_settings(CONSULTANT, local_only=True).local_only


def test_a_forged_model_draft_cannot_write_a_sections_text(svc, cases):
    mine, _, _ = cases
    offline = svc.draft(mine, "fr", use_llm=False).section("need")
    paragraphs = offline.model_dump()
    forged = SectionDraft.model_validate({**paragraphs, "drafter": "llm:gpt-4o-mini"})
    before = svc.case(mine).version
    for who in (MANUFACTURER, CONSULTANT):
        with pytest.raises(Forbidden, match="not drafted by the language model"):
            svc.record_llm_draft(mine, forged, "fr", who)
    assert svc.case(mine).version == before and not svc.case(mine).edits

