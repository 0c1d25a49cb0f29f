"""Saving a section edited in its readable form (references by name) keeps the stored citations."""

from __future__ import annotations

from helpers import answer_all

from assistant.service import Actor


def test_the_service_round_trip_on_a_real_section_keeps_every_citation(svc, actor):
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    answer_all(svc, case_id, actor)
    stored = svc.section_versions(case_id, "need", "fr")[0].text
    [shown] = [v.text for v in svc.readable_versions(case_id, "need", "fr")]
    assert "[@" not in shown and "need." not in shown
    svc.save_readable(case_id, "need", "fr", shown.replace("Urgence :", "Urgence vitale :", 1),
                      Actor("c.consultant", "consultant"))
    assert svc.section_versions(case_id, "need", "fr")[-1].text == stored.replace("Urgence :", "Urgence vitale :", 1)
