"""The language model in the app, through Streamlit's AppTest against the scripted OpenAI-compatible
server on 127.0.0.1: the settings page and who may open it, drafts streamed then kept as versions (or
refused with the grounding failures listed), the reviewer's check against the sources, facts read in a
chat answer or a document, the model's follow-up, and a model that fails."""

from __future__ import annotations

import json

import pytest

GROUNDED = (
    "Le patient P-001 présente la situation clinique décrite [A:patient_condition]. L'urgence est établie "
    "[A:urgency].\n\nL'autorité compétente peut autoriser ce dispositif à titre dérogatoire [P1].\n\n"
    "Le bénéfice attendu est décrit ainsi [A:expected_benefit]."
)
LLM_VARS = ("DEROGATION_LLM", "DEROGATION_LLM_MODEL", "OPENAI_BASE_URL", "DEROGATION_LLM_TIMEOUT",
            "DEROGATION_LLM_MAX_RETRIES", "DEROGATION_LLM_LOCAL_ONLY", "DEROGATION_LLM_MAX_TOKENS", "OPENAI_API_KEY")


def run_ok(at_or_widget):
    at = at_or_widget.run()
    assert not at.exception, at.exception
    return at


def button(at, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def labels(at) -> list[str]:
    return [b.label for b in at.button]


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def chat(at) -> list[tuple[str, str]]:
    return [(m.name, " ".join(x.value for x in m.markdown)) for m in at.chat_message]


@pytest.fixture
def offline(data_home, monkeypatch):
    for var in LLM_VARS:
        monkeypatch.delenv(var, raising=False)
    return data_home


@pytest.fixture
def llm_env(offline, llm_env):
    """tests/conftest.py's, set after this page's model variables are cleared."""
    return llm_env


@pytest.fixture
def screened_case(svc, actor) -> str:
    """A case whose screening questions are answered: the next question is the applicant's name."""
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    for qid, value in (("is_ivd", "no"), ("first_in_man", "no"), ("previously_ce_marked", "no"),
                       ("certification_in_progress", "yes"), ("custom_made", "no"), ("in_house", "no"),
                       ("investigation_possible", "no"), ("patients_minors", "no")):  # and the route screening
        svc.answer(case.id, qid, value, actor)
    return case.id


# -- the settings page ----------------------------------------------------------------------------------
def test_the_settings_page_opens_from_the_sidebar_and_saves(app_test, offline):
    at = run_ok(app_test(role="consultant", lang="en"))  # the settings' owner (access.yaml: llm_settings_changed)
    at = run_ok(button(at, "Language model").click())
    assert at.query_params["page"] == "llm" and at.header[0].value == "Language model"
    assert "Offline mode" in texts(at)
    at.selectbox[0].set_value("openai-compatible")
    next(t for t in at.text_input if t.label == "Model").set_value("qwen2.5:7b")
    next(t for t in at.text_input if t.label.startswith("Base URL")).set_value("http://127.0.0.1:11434/v1")
    at = run_ok(button(at, "Save").click())
    saved = json.loads((offline / "settings.json").read_text())["llm"]
    assert (saved["provider"], saved["model"], saved["base_url"]) == (
        "openai-compatible", "qwen2.5:7b", "http://127.0.0.1:11434/v1")
    assert "model `qwen2.5:7b`" in texts(at) and "on this machine" in texts(at)
    at = run_ok(button(at, "Back").click())
    assert "page" not in at.query_params


def test_a_clinician_cannot_open_the_settings_page(app_test, offline):
    at = run_ok(app_test(role="clinician", page="llm", lang="en"))
    assert "Language model" not in labels(at) and not at.header
    assert [e.value for e in at.error] == ["This page is not available: a clinician may not open this (llm settings)."]
    consultant = run_ok(app_test(role="consultant", page="llm", lang="en"))
    assert consultant.header[0].value == "Language model"


def test_the_offline_mode_shows_no_model_button(app_test, offline, complete_case_id):
    at = run_ok(app_test(case=complete_case_id, view="draft", section="need"))
    assert not [label for label in labels(at) if "model" in label.lower() and label != "Language model"]
    at = run_ok(app_test(role="consultant", case=complete_case_id, section="need"))
    assert "Check against sources with the model" not in labels(at)


# -- drafting with the model ------------------------------------------------------------------------------
def test_a_grounded_draft_streams_becomes_version_1_and_is_what_is_exported(app_test, svc, llm_env, complete_case_id, tmp_path):
    at = run_ok(app_test(case=complete_case_id, view="draft", section="need"))
    llm_env.reply(GROUNDED, chunk_size=8)
    at = run_ok(button(at, "Draft with the language model").click())
    [done] = [s.value for s in at.success if "recorded as version 1" in s.value]
    assert "language model \\(scripted\\-model\\)" in done
    assert "autoriser ce dispositif à titre dérogatoire" in texts(at)  # the preview reads the recorded version
    [edit] = svc.case(complete_case_id).edits["need"]
    assert (edit.by, edit.role) == ("language model (scripted-model)", "manufacturer")
    svc.export(complete_case_id, "md", tmp_path / "a.md", pack="review")  # the draft with its sources
    svc.export(complete_case_id, "md", tmp_path / "b.md", pack="review")
    exported = (tmp_path / "a.md").read_text()
    assert "L'autorité compétente peut autoriser ce dispositif à titre dérogatoire [RDM art. 59(1)](" in exported
    assert exported == (tmp_path / "b.md").read_text()

    desk = run_ok(app_test(role="consultant", case=complete_case_id, section="need"))  # a version like any edit
    assert any(m.value.startswith("**v1 — language model \\(scripted\\-model\\)") for m in desk.markdown)
    assert ":blue-badge[edited · v1]" in texts(desk)


def test_an_ungrounded_draft_is_not_recorded_and_its_failures_are_listed(app_test, svc, llm_env, complete_case_id):
    at = run_ok(app_test(case=complete_case_id, view="draft", section="need"))
    llm_env.reply("L'intervention est prévue le 3 février 2026 [A:urgency], selon la jurisprudence [P7].")
    at = run_ok(button(at, "Draft with the language model").click())
    [warning] = [w.value for w in at.warning if "was not recorded" in w.value]
    assert "the offline draft stays" in warning
    assert "'P7', which is not among the passages or facts given" in warning and "3 février 2026" in warning
    assert "need" not in svc.case(complete_case_id).edits
    at = run_ok(button(at, "Dismiss these messages").click())
    assert not [w for w in at.warning if "was not recorded" in w.value]


def test_the_consultant_checks_a_section_against_its_sources_and_drafts_it(app_test, svc, llm_env, complete_case_id):
    desk = run_ok(app_test(role="consultant", case=complete_case_id, section="need"))
    llm_env.reply({"issues": [{"claim": "L'urgence est établie", "source": "A:urgency",
                               "problem": "la réponse ne donne aucun délai"}]})
    desk = run_ok(button(desk, "Check against sources with the model").click())
    [finding] = [w.value for w in desk.warning if "questions 1 claim" in w.value]
    assert "“L'urgence est établie” — la réponse ne donne aucun délai" in finding
    assert llm_env.chat_requests[-1].body["response_format"] == {"type": "json_object"}

    llm_env.reply(GROUNDED)
    desk = run_ok(button(desk, "Draft with the language model").click())
    assert any("recorded as version 1" in s.value for s in desk.success)
    assert svc.case(complete_case_id).edits["need"][0].role == "consultant"


# -- the chat -----------------------------------------------------------------------------------------------
def test_facts_read_in_an_answer_are_confirmed_and_not_asked_again(app_test, svc, llm_env, screened_case):
    at = run_ok(app_test(case=screened_case))
    llm_env.reply({"facts": [
        {"question_id": "applicant_address", "value": "12 rue des Lilas, Lyon", "quote": "12 rue des Lilas, Lyon"},
        {"question_id": "device_class", "value": "III", "quote": "classe III"},
    ]})
    at.chat_input[0].set_value("Cardiotech SAS, 12 rue des Lilas, Lyon ; la valve est de classe III.")
    at = run_ok(at)
    assert svc.case(screened_case).value("applicant_name").startswith("Cardiotech SAS")
    box = texts(at)
    assert "The language model read these in your answer" in box and "12 rue des Lilas, Lyon" in box
    at = run_ok(button(at, "Use these").click())
    case = svc.case(screened_case)
    assert case.value("applicant_address") == "12 rue des Lilas, Lyon" and case.value("device_class") == "III"
    assert case.answers["device_class"].last.source == "llm"
    assert "Recorded 2 answer(s): the interview will not ask for them." in [s.value for s in at.success]
    assert "The language model read these" not in texts(at)
    assert svc.next_question(screened_case).question.id == "applicant_contact"  # the address is not asked


def test_the_models_follow_up_is_asked_once_and_recorded_with_the_answer(app_test, svc, llm_env, screened_case):
    at = run_ok(app_test(case=screened_case, ask="urgency"))
    llm_env.reply({"facts": []}).reply({"specific": False, "missing": ["délai"],
                                        "followup": "Dans quel délai faut-il opérer ?"})
    at.chat_input[0].set_value("C'est urgent.")
    at = run_ok(at)
    assert chat(at)[-1] == ("assistant", "**Dans quel délai faut\\-il opérer ?**")
    assert "So far: C'est urgent\\." in [c.value for c in at.chat_message[-1].caption]
    llm_env.reply({"facts": []})
    at.chat_input[0].set_value("Sous dix jours.")
    at = run_ok(at)
    answer = svc.case(screened_case).answers["urgency"]
    assert answer.value == "C'est urgent. Sous dix jours." and answer.followups == 1
    assert len(llm_env.chat_requests) == 3  # the profile's limit (one follow-up) is reached: no more judging
    assert ("assistant", "Dans quel délai faut\\-il opérer ?") in chat(at)  # the transcript shows what was asked
    assert "Dans quel délai faut\\-il opérer ?" not in chat(at)[-1][1]


def test_the_model_reads_an_attached_document_on_request(app_test, svc, actor, llm_env, screened_case, make_pdf):
    pdf = make_pdf(["Notice d'utilisation", "Conserver entre 5 et 25 °C, à l'abri de la lumière."], "notice.pdf")
    svc.attach(screened_case, pdf, actor, kind="ifu_labelling")
    at = run_ok(app_test(case=screened_case))
    llm_env.reply({"facts": [{"question_id": "storage_conditions", "value": "entre 5 et 25 °C, à l'abri de la lumière",
                              "quote": "Conserver entre 5 et 25 °C, à l'abri de la lumière"}]})
    at = run_ok(button(at, "Ask the model what this document says").click())
    assert "The language model read these in notice\\.pdf" in texts(at)
    at = run_ok(button(at, "Accept").click())
    answer = svc.case(screened_case).answers["storage_conditions"]
    assert answer.value == "entre 5 et 25 °C, à l'abri de la lumière" and answer.last.source.startswith("document:")


def test_a_model_that_times_out_is_reported_and_the_answer_stays_saved(app_test, svc, llm_env, screened_case,
                                                                       monkeypatch):
    monkeypatch.setenv("DEROGATION_LLM_TIMEOUT", "1")  # and the reply comes after 3 s
    at = run_ok(app_test(case=screened_case))
    llm_env.always("trop tard", delay=3)
    at.chat_input[0].set_value("Cardiotech SAS")
    at = run_ok(at)
    assert svc.case(screened_case).value("applicant_name") == "Cardiotech SAS"
    [notice] = [w.value for w in at.warning if "could not help" in w.value]
    assert "within 1 s" in notice and "Your answer is saved" in notice
    # it goes on: the rest of the applicant block is asked
    assert "What is the manufacturer's registered address?" in [t.label for t in at.text_input]
