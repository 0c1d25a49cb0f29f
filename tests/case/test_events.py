"""The journal's events are typed: each type's payload is validated when it is written, and one
rendering in words serves the chat, the history table and `derogation history`."""

from __future__ import annotations

import pytest
from helpers import answer_all

from assistant.case import events
from assistant.case.model import Event, now
from assistant.errors import CaseError
from assistant.service import ServiceError


def test_every_event_of_a_complete_case_reads_as_a_sentence_in_both_languages(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor)
    svc.attach(case.id, make_pdf(["Certificat CE n° 1234"], "cert.pdf"), actor, kind="previous_ce_certificate")
    svc.waive(case.id, "clinical_data", "le rapport arrive la semaine prochaine", actor)
    svc.comment(case.id, "need", "Préciser la date", actor)
    profile = svc.profile(svc.case(case.id))
    seen = set()
    for e in svc.history(case.id):
        seen.add(e.type)
        for lang in ("en", "fr"):
            text = e.describe(profile, lang)
            assert text and "{" not in text and "_" not in text.split(":")[0], (e.type, text)
    assert {"created", "answered", "evidence_attached", "waived", "commented"} <= seen
    answered = next(e for e in svc.history(case.id) if e.type == "answered")
    label = profile.question(answered.data["question_id"]).label.get("en")
    assert answered.describe(profile, "en").startswith(f"answered “{label}”")


def test_a_payload_that_does_not_fit_its_type_is_refused_before_anything_is_written(svc, actor):
    case = svc.new_case("ansm", "individual", "Valvix", actor)
    before = svc.store.events(case.id)
    with pytest.raises(CaseError, match="answered"):
        svc.store.commit(case.id, "answered", {"question_id": "urgency"}, by="x", role="manufacturer")
    with pytest.raises((CaseError, ServiceError, ValueError)):
        svc.store.commit(case.id, "reviewed", {"section": "need", "status": "done"}, by="x", role="consultant")
    assert svc.store.events(case.id) == before


def test_every_event_type_has_a_payload_model_and_an_unknown_type_is_refused():
    assert len(events.EVENT_TYPES) == len(set(events.EVENT_TYPES)) == 18
    with pytest.raises(ValueError, match="unknown event type"):
        Event(v=1, type="deleted_everything", at=now(), by="x", role="manufacturer")


def test_the_cli_history_names_what_each_change_was(cli, svc, actor):
    case = svc.new_case("ansm", "individual", "Valvix", actor)
    svc.answer(case.id, "urgency", "Intervention prévue sous quinze jours, état qui se dégrade.", actor)
    out = cli("history", case.id, check=True).stdout
    assert "answered: answered “the urgency" in out and "request to ANSM for Valvix" in out
