"""A language model's draft kept as a section version, and the model's help after an answer, through the
Service against the scripted OpenAI-compatible server on 127.0.0.1."""

import pytest

from assistant.case.access import Forbidden
from assistant.service import Actor, DraftOutcome, ServiceError

GROUNDED = (
    "Le patient P-001 présente la situation clinique décrite [A:patient_condition]. L'urgence est établie "
    "[A:urgency].\n\nL'autorité compétente peut autoriser ce dispositif à titre dérogatoire [P1].\n\n"
    "Le bénéfice attendu est décrit ainsi [A:expected_benefit]."
)
CONSULTANT = Actor(name="c.reviewer", role="consultant")


def draft(svc, complete_case_id, who, sections=("need",)):
    events = list(svc.llm_draft_stream(complete_case_id, who, "fr", list(sections)))
    outcomes = [e for e in events if isinstance(e, DraftOutcome)]
    streamed = "".join(e.text for e in events if not isinstance(e, DraftOutcome) and e.kind == "text")
    return outcomes, streamed


def test_a_grounded_draft_becomes_version_1_by_the_model_and_is_what_is_exported(svc, complete_case_id, actor, llm_env, tmp_path):
    llm_env.reply(GROUNDED, chunk_size=10)
    [outcome], streamed = draft(svc, complete_case_id, actor)
    assert streamed == GROUNDED  # shown as it came
    assert (outcome.recorded, outcome.author, outcome.problems) == (1, "language model (scripted-model)", [])
    case = svc.case(complete_case_id)
    [edit] = case.edits["need"]
    assert (edit.by, edit.role, edit.drafter) == ("language model (scripted-model)", "manufacturer", "llm:scripted-model")
    assert edit.note == "drafted at the request of tester"
    [*_, event] = svc.history(complete_case_id, "need")
    assert event.type == "section_drafted"

    versions = svc.section_versions(complete_case_id, "need", "fr")
    assert [v.n for v in versions] == [0, 1] and versions[1].label.startswith("v1 — language model (scripted-model), ")
    assert "+L'autorité compétente peut autoriser ce dispositif à titre dérogatoire [@note:mdr-59-1.fr#0]." in \
        svc.section_diff(complete_case_id, "need", "fr", 0, 1)

    shown = svc.draft(complete_case_id, "fr", use_llm=False).section("need")  # what the preview and the review desk read
    assert shown.paragraphs[1].plain() == "L'autorité compétente peut autoriser ce dispositif à titre dérogatoire."
    assert shown.citations["note:mdr-59-1.fr#0"].label == "RDM art. 59(1)" and shown.drafter == "llm:scripted-model"
    assert shown.paragraphs[-1].plain().startswith("Pièces justificatives")  # the evidence list stays mechanical

    requests = len(llm_env.chat_requests)
    svc.export(complete_case_id, "md", tmp_path / "a.md", pack="review")  # the draft as written, with its sources
    svc.export(complete_case_id, "md", tmp_path / "b.md", pack="review")
    svc.export(complete_case_id, "md", tmp_path / "s.md")  # the submission: the note on Art. 59(1) cited as the provision
    assert "à titre dérogatoire<sup>1</sup>." in (tmp_path / "s.md").read_text()
    text = (tmp_path / "a.md").read_text()
    assert "L'autorité compétente peut autoriser ce dispositif à titre dérogatoire [RDM art. 59(1)](" in text
    assert "Le bénéfice attendu est décrit ainsi" in text
    assert text == (tmp_path / "b.md").read_text()
    assert len(llm_env.chat_requests) == requests  # exporting never calls the model


def test_an_ungrounded_draft_is_not_recorded_and_says_why(svc, complete_case_id, actor, llm_env):
    before = svc.case(complete_case_id).version
    llm_env.reply("L'intervention est prévue le 3 février 2026 [A:urgency], selon la jurisprudence [P7].")
    [outcome], _ = draft(svc, complete_case_id, actor)
    assert outcome.recorded is None
    assert any("'P7'" in p for p in outcome.problems) and any("3 février 2026" in p for p in outcome.problems)
    case = svc.case(complete_case_id)
    assert case.version == before and "need" not in case.edits
    assert svc.draft(complete_case_id, "fr", use_llm=False).section("need").drafter == "offline"


def test_several_sections_each_recorded_or_not_on_its_own(svc, complete_case_id, actor, llm_env):
    llm_env.reply(GROUNDED).reply("Texte sans aucune source ni citation.")
    outcomes, _ = draft(svc, complete_case_id, actor, ("need", "clinical_investigation"))
    assert [(o.section_id, o.recorded) for o in outcomes] == [("need", 1), ("clinical_investigation", None)]
    assert outcomes[1].problems == ["a paragraph with no citation and no placeholder"]
    assert set(svc.case(complete_case_id).edits) == {"need"}


def test_a_recorded_draft_goes_stale_when_its_facts_change_and_an_approval_is_withdrawn(svc, complete_case_id, actor, llm_env):
    llm_env.reply(GROUNDED)
    draft(svc, complete_case_id, actor)
    svc.approve(complete_case_id, "need", CONSULTANT)
    assert not [f for f in svc.check(complete_case_id) if f.section == "need" and f.kind in ("stale_edit", "stale_approval")]
    svc.answer(complete_case_id, "urgency", "Intervention nécessaire sous dix jours, pronostic vital engagé.", actor, replace=True)
    kinds = {f.kind for f in svc.check(complete_case_id) if f.section == "need"}
    assert {"stale_edit", "stale_approval"} <= kinds
    [stale] = [f for f in svc.check(complete_case_id) if f.kind == "stale_edit"]
    assert stale.blocks and stale.message.startswith("the section's text was drafted by the language model (fr, v1, "
                                                     "language model (scripted-model)) before answers")


def test_an_answer_the_model_cited_beyond_the_sections_own_also_makes_it_stale(svc, complete_case_id, actor, llm_env):
    llm_env.reply(GROUNDED.replace("[A:expected_benefit].", "[A:expected_benefit], pour le fabricant "
                                   "valeur applicant name [A:applicant_name]."))
    [outcome], _ = draft(svc, complete_case_id, actor)
    assert outcome.recorded == 1, outcome.problems
    assert not [f for f in svc.check(complete_case_id) if f.kind == "stale_edit"]
    svc.answer(complete_case_id, "applicant_name", "Cardiotech SAS", actor, replace=True)
    assert [f.section for f in svc.check(complete_case_id) if f.kind == "stale_edit"] == ["need"]


def test_a_consultant_edits_or_confirms_the_models_version_keeping_its_citations(svc, complete_case_id, actor, llm_env):
    llm_env.reply(GROUNDED)
    draft(svc, complete_case_id, actor)
    text = svc.section_versions(complete_case_id, "need", "fr")[-1].text
    svc.edit_section(complete_case_id, "need", "fr", text.replace("L'urgence est établie", "L'urgence vitale est établie"),
                     CONSULTANT)
    shown = svc.draft(complete_case_id, "fr", use_llm=False).section("need")
    assert "note:mdr-59-1.fr#0" in shown.citations and shown.drafter == "edited"
    assert [v.by for v in svc.section_versions(complete_case_id, "need", "fr")][1:] == ["language model (scripted-model)",
                                                                                "c.reviewer"]
    svc.answer(complete_case_id, "urgency", "Intervention nécessaire sous dix jours.", actor, replace=True)
    assert any(f.kind == "stale_edit" for f in svc.check(complete_case_id))
    svc.edit_section(complete_case_id, "need", "fr", svc.section_versions(complete_case_id, "need", "fr")[-1].text, CONSULTANT,
                     "confirmed after the facts changed")
    assert not any(f.kind == "stale_edit" for f in svc.check(complete_case_id))


def test_who_may_ask_and_the_offline_mode(svc, complete_case_id, llm_env, monkeypatch):
    with pytest.raises(Forbidden, match="section drafted"):
        svc.llm_draft_stream(complete_case_id, Actor(name="dr", role="clinician"), "fr", ["need"])
    with pytest.raises(ServiceError, match="unknown section"):
        svc.llm_draft_stream(complete_case_id, CONSULTANT, "fr", ["nope"])
    offline = svc.draft(complete_case_id, "fr", use_llm=False).section("need")
    with pytest.raises(ServiceError, match="only a section the language model drafted"):
        svc.record_llm_draft(complete_case_id, offline, "fr", CONSULTANT)
    assert svc.llm_available() == (True, "")
    monkeypatch.setenv("DEROGATION_LLM", "none")
    assert svc.llm_available() == (False, "")
    with pytest.raises(ServiceError, match="offline"):
        svc.llm_draft_stream(complete_case_id, CONSULTANT, "fr", ["need"])
    assert llm_env.chat_requests == []


# -- help right after an answer ----------------------------------------------------------------------
@pytest.fixture
def fresh_case(svc, actor):
    case = svc.new_case("ansm", "individual", "", actor)
    svc.answer(case.id, "is_ivd", "no", actor)
    svc.answer(case.id, "previously_ce_marked", "yes", actor)
    return case.id


def test_after_a_free_text_answer_the_model_proposes_the_other_facts_and_a_follow_up(svc, fresh_case, actor, llm_env):
    text = "Nous sommes Cardiotech SAS ; la valve, de classe III, est attendue d'urgence pour le patient."
    svc.answer(fresh_case, "urgency", text, actor)
    llm_env.reply({"facts": [
        {"question_id": "applicant_name", "value": "Cardiotech SAS", "quote": "Nous sommes Cardiotech SAS"},
        {"question_id": "device_class", "value": "III", "quote": "de classe III"},
        {"question_id": "urgency", "value": "attendue d'urgence", "quote": "attendue d'urgence"},
    ]})
    llm_env.reply({"specific": False, "missing": ["délai"], "followup": "Dans quel délai l'intervention est-elle prévue ?"})
    after = svc.llm_after_answer(fresh_case, "urgency", "fr")
    assert [p.question_id for p in after.proposals] == ["applicant_name", "device_class"]  # not the one answered
    assert after.followup is not None and after.followup.text == "Dans quel délai l'intervention est-elle prévue ?"
    assert after.notices == []
    svc.confirm_facts(fresh_case, after.proposals, actor)
    asked_now = {p.question.id for p in svc.questions(fresh_case)}
    assert not {"applicant_name", "device_class"} & asked_now


def test_when_the_model_fails_after_an_answer_it_says_so_and_the_answer_stays(svc, fresh_case, actor, llm_env,
                                                                              monkeypatch):
    monkeypatch.setenv("DEROGATION_LLM_TIMEOUT", "1")  # and the reply comes after 3 s
    svc.answer(fresh_case, "urgency", "C'est urgent pour le patient.", actor)
    llm_env.always("trop tard", delay=3)
    after = svc.llm_after_answer(fresh_case, "urgency", "fr")
    assert after.proposals == [] and after.followup is None
    [notice] = after.notices
    assert notice.startswith("no proposals: no answer from http://127.0.0.1:") and notice.endswith("within 1 s")
    assert len(llm_env.chat_requests) == 1  # the second call did not wait for a server already timed out
    assert svc.case(fresh_case).value("urgency") == "C'est urgent pour le patient."
