"""Reviewers' edits kept as versions, diffs, comments, history and stale approvals, through the Service."""

from __future__ import annotations

import pytest
from helpers import answer_all

from assistant.service import Actor, ConflictError, ServiceError

REVIEWER = Actor(name="a.reviewer", role="consultant")
NEW_URGENCY = "Aggravation rapide : intervention nécessaire sous dix jours, pronostic vital engagé."


@pytest.fixture
def case(svc, actor):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor)
    return svc.case(case.id)


def status(svc, case_id, section_id):
    return {s.section_id: s.status for s in svc.readiness(case_id).sections}[section_id]


def source(svc, case_id, section_id, lang="fr"):
    return svc.section_versions(case_id, section_id, lang)[-1].text


def test_an_edit_becomes_version_1_and_is_what_the_draft_shows(svc, case):
    v0 = source(svc, case.id, "need")
    assert "[@answer:urgency]" in v0 and "[?clinician_letter: MANQUANT]" in v0
    edited = v0.replace("Urgence :", "Urgence vitale :", 1)
    svc.edit_section(case.id, "need", "fr", edited, REVIEWER, note="stronger wording")
    versions = svc.section_versions(case.id, "need", "fr")
    assert [v.n for v in versions] == [0, 1]
    assert versions[1].label.startswith("v1 — a.reviewer, ") and versions[1].note == "stronger wording"
    section = svc.draft(case.id, "fr", use_llm=False).section("need")
    assert section.drafter == "edited"
    assert section.paragraphs[1].spans[0].text.startswith("Urgence vitale :")
    assert "answer:urgency" in section.citations  # the edited text still points at its sources
    assert svc.section_versions(case.id, "need", "en")[-1].n == 0  # the English text is untouched


def test_deleting_a_citation_marker_drops_that_citation_from_the_section(svc, case):
    v0 = source(svc, case.id, "need")
    svc.edit_section(case.id, "need", "fr", v0.replace(" [@provision:csp-l5211-3-ii]", ""), REVIEWER)
    section = svc.draft(case.id, "fr", use_llm=False).section("need")
    assert "provision:csp-l5211-3-ii" not in section.citations
    assert "provision:mdr-59-1" in section.citations and "csp-l5211-3-ii" not in section.used_provisions


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda t: t + " [@answer:applicant_name]", "unknown citation"),
        (lambda t: t + " [?nothing_here: À COMPLÉTER]", "unknown gap"),
        (lambda t: "   \n\n  ", "cannot be empty"),
        (lambda t: t, "nothing to save"),
    ],
)
def test_an_edit_that_cannot_be_used_is_refused_and_nothing_is_recorded(svc, case, change, reason):
    before = svc.case(case.id).version
    with pytest.raises(ServiceError, match=reason):
        svc.edit_section(case.id, "need", "fr", change(source(svc, case.id, "need")), REVIEWER)
    assert svc.case(case.id).version == before


def test_the_diff_between_two_versions_shows_the_changed_sentence_only(svc, case):
    v0 = source(svc, case.id, "need")
    svc.edit_section(case.id, "need", "fr", v0.replace("Urgence :", "Urgence vitale :", 1), REVIEWER)
    diff = svc.section_diff(case.id, "need", "fr", 0, 1)
    removed = [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == len(added) == 1
    assert removed[0].startswith("-Urgence :") and added[0].startswith("+Urgence vitale :")
    assert "--- v0 — generated" in diff and "+++ v1 — a.reviewer" in diff
    assert svc.section_diff(case.id, "need", "fr", 1, 1) == ""
    with pytest.raises(ServiceError, match="no version 7"):
        svc.section_diff(case.id, "need", "fr", 0, 7)


def test_going_back_to_the_generated_text_is_a_new_version(svc, case):
    v0 = source(svc, case.id, "need")
    svc.edit_section(case.id, "need", "fr", v0.replace("Urgence :", "Urgence vitale :", 1), REVIEWER)
    svc.edit_section(case.id, "need", "fr", None, REVIEWER)
    versions = svc.section_versions(case.id, "need", "fr")
    assert [v.n for v in versions] == [0, 1, 2] and "back to the generated text" in versions[2].label
    assert versions[2].text == v0
    assert svc.draft(case.id, "fr", use_llm=False).section("need").drafter == "offline"
    with pytest.raises(ServiceError, match="already shows the generated text"):
        svc.edit_section(case.id, "need", "fr", None, REVIEWER)


def test_approval_is_withdrawn_when_an_answer_the_section_uses_changes(svc, case, actor):
    svc.approve(case.id, "need", REVIEWER)
    svc.approve(case.id, "ce_alternatives", REVIEWER)
    assert status(svc, case.id, "need") == "approved"
    svc.answer(case.id, "urgency", NEW_URGENCY, actor, replace=True)
    assert status(svc, case.id, "need") == "stale"
    assert status(svc, case.id, "ce_alternatives") == "approved"  # it does not use that answer
    assert any(f.kind == "stale_approval" and f.section == "need" for f in svc.check(case.id))
    svc.approve(case.id, "need", REVIEWER)
    assert status(svc, case.id, "need") == "approved"


def test_editing_an_approved_section_withdraws_its_approval(svc, case):
    svc.approve(case.id, "need", REVIEWER)
    v0 = source(svc, case.id, "need")
    svc.edit_section(case.id, "need", "fr", v0.replace("Urgence :", "Urgence vitale :", 1), REVIEWER)
    assert status(svc, case.id, "need") == "stale"


def test_an_edit_made_before_an_answer_changed_is_a_blocker_until_confirmed(svc, case, actor):
    v0 = source(svc, case.id, "need")
    edited = v0.replace("Urgence :", "Urgence vitale :", 1)
    svc.edit_section(case.id, "need", "fr", edited, REVIEWER)
    assert not [f for f in svc.check(case.id) if f.kind == "stale_edit"]
    svc.answer(case.id, "urgency", NEW_URGENCY, actor, replace=True)
    stale = [f for f in svc.check(case.id) if f.kind == "stale_edit"]
    assert [(f.section, f.blocks) for f in stale] == [("need", True)]
    svc.edit_section(case.id, "need", "fr", source(svc, case.id, "need"), REVIEWER, note="confirmed")
    assert not [f for f in svc.check(case.id) if f.kind == "stale_edit"]


def test_saves_on_an_old_version_are_refused(svc, case, actor):
    seen = svc.case(case.id).version
    svc.answer(case.id, "urgency", NEW_URGENCY, actor, replace=True)
    with pytest.raises(ConflictError):
        svc.review(case.id, "need", "approved", REVIEWER, expected_version=seen)
    with pytest.raises(ConflictError):
        svc.comment(case.id, "need", "Préciser le délai.", REVIEWER, expected_version=seen)
    v0 = source(svc, case.id, "need")
    with pytest.raises(ConflictError):
        svc.edit_section(case.id, "need", "fr", v0 + "\n\nAjout.", REVIEWER, expected_version=seen)
    after = svc.case(case.id)
    assert after.review("need").status == "draft" and not after.comments and not after.edits


def test_comments_and_the_section_history_say_who_did_what(svc, case, actor):
    with pytest.raises(ServiceError, match="cannot be empty"):
        svc.comment(case.id, "need", "   ", REVIEWER)
    svc.comment(case.id, "need", "Préciser le délai d'intervention.", REVIEWER)
    svc.answer(case.id, "urgency", NEW_URGENCY, actor, replace=True)
    svc.answer(case.id, "device_class", "IIb", actor, replace=True)  # not used by the need section
    svc.review(case.id, "need", "changes_requested", REVIEWER, comment="délai à sourcer")
    comments = svc.case(case.id).comments
    assert [(c.n, c.section, c.by, c.role) for c in comments] == [(1, "need", "a.reviewer", "consultant")]
    history = svc.history(case.id, "need")
    kinds = [(e.type, e.by) for e in history]
    assert ("commented", "a.reviewer") in kinds and ("reviewed", "a.reviewer") in kinds
    assert any(
        e.type == "answered" and e.data["question_id"] == "urgency" and e.data["value"] == NEW_URGENCY for e in history
    )
    assert not any(e.type == "answered" and e.data["question_id"] == "device_class" for e in history)
    assert [e.v for e in history] == sorted(e.v for e in history)
