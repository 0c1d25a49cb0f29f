"""The manufacturer's flow through Streamlit's AppTest: new case, chat interview with follow-ups,
documents with a proposed kind and proposed answers, the draft preview with its sources, the
export panel (blockers, waivers, downloads) and the version check between two sessions."""

from __future__ import annotations

import pytest
from helpers import LONG, SAMPLE, answer_all, attach_all_mandatory

from assistant.documents.pdf import text_pdf
from assistant.service import Actor, Service

CERTIFICATE = [
    "CertiMed Notified Body (fictional), NB 9876\n\nEC DESIGN-EXAMINATION CERTIFICATE\n"
    "Certificate No. CM-734215\nManufacturer: Valvix Medical SAS\nValid until: 26/05/2024"
]


def button(at, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def chat_texts(at) -> list[tuple[str, str]]:
    return [(m.name, " ".join(x.value for x in m.markdown)) for m in at.chat_message]


def asked(at) -> str:
    """The question the assistant asks now (the last assistant message)."""
    return [text for name, text in chat_texts(at) if name == "assistant"][-1]


def run_ok(at_or_widget):
    """Run the app (an AppTest, or a widget after an interaction) and fail on any exception."""
    at = at_or_widget.run()
    assert not at.exception, at.exception
    return at


def answer_until(svc: Service, case_id: str, actor: Actor, stop) -> None:
    """Answer as a diligent manufacturer until `stop(question)` holds for the next question."""
    while (prompt := svc.next_question(case_id)) is not None and not stop(prompt.question):
        q = prompt.question
        svc.answer(case_id, q.id, SAMPLE.get(q.id) or (LONG if q.type == "long_text" else f"valeur {q.id}"), actor)


@pytest.fixture
def case_id(svc, actor) -> str:
    return svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id


def test_a_new_case_opens_its_interview_and_the_list_offers_to_resume_it(app_test, svc):
    at = run_ok(app_test(role=None))
    assert at.title[0].value == "Derogation requests"
    at.text_input(key="new_device").set_value("OsteoRod Junior")
    at.radio(key="new_type").set_value("global")
    run_ok(button(at, "Create the case").click())
    [summary] = svc.cases()
    case = svc.case(summary.id)
    assert (case.request_type, case.device) == ("global", "OsteoRod Junior")
    assert at.query_params["case"] == case.id
    assert at.title[0].value == "OsteoRod Junior"
    assert "Tell me about your request" in asked(at)  # a new case opens with "describe it"
    run_ok(button(at, "I prefer to answer question by question").click())
    assert "in vitro diagnostic" in asked(at)

    home = run_ok(app_test(role=None))  # a new session (a closed tab, a restarted server): the case is listed
    assert any("OsteoRod Junior" in m.value for m in home.markdown)
    run_ok(home.button(key=f"open:{case.id}").click())
    assert home.title[0].value == "OsteoRod Junior"


def test_answers_are_saved_at_once_and_echoed_as_recorded(app_test, svc, case_id):
    at = run_ok(app_test(case=case_id))
    assert "in vitro diagnostic" in asked(at)
    at.chat_input[0].set_value("Non")
    run_ok(at)
    assert svc.case(case_id).answers["is_ivd"].value == "no"
    assert ("user", "no") in chat_texts(at)  # shown back as recorded, not as typed
    assert "custom-made" in asked(at).replace("\\", "")  # the questions that change the route come first
    run_ok(button(at, "No").click())  # the quick answer buttons
    assert svc.case(case_id).answers["custom_made"].value == "no"

    at.chat_input[0].set_value("maybe")  # refused: a yes/no question
    run_ok(at)
    assert any("answer yes or no" in e.value for e in at.error)
    assert "in_house" not in svc.case(case_id).answers
    assert at.chat_input[0].proto.value == "maybe"  # the refused text is back in the box

    again = run_ok(app_test(case=case_id))  # a reload: the conversation comes back from the store
    assert ("user", "no") in chat_texts(again)
    assert "within one health institution" in asked(again)


def test_a_thin_justification_gets_one_follow_up_and_completes_the_answer(app_test, svc, actor, case_id):
    answer_until(svc, case_id, actor, lambda q: q.justification)
    question = svc.next_question(case_id).question
    at = run_ok(app_test(case=case_id))
    at.chat_input[0].set_value("Severe disease.")
    run_ok(at)
    assert "short for an assessor" in asked(at)
    assert svc.next_question(case_id).followup
    at.chat_input[0].set_value("The patient has no other option after two failed surgeries and a worsening "
                               "NYHA class IV heart failure documented in March.")
    run_ok(at)
    answer = svc.case(case_id).answers[question.id]
    assert answer.value.startswith("Severe disease. The patient has no other option")
    assert answer.followups == 1
    assert "short for an assessor" not in asked(at)  # one follow-up only
    assert any("(added to the earlier answer)" in c.value for c in at.caption)


def test_a_later_save_from_a_second_session_is_refused_not_silently_overwritten(app_test, svc, case_id):
    first = run_ok(app_test(case=case_id))
    second = run_ok(app_test(case=case_id))
    first.chat_input[0].set_value("no")
    run_ok(first)
    second.chat_input[0].set_value("yes")
    run_ok(second)
    assert svc.case(case_id).answers["is_ivd"].value == "no"  # the earlier save stands
    assert any("was not saved" in w.value and "nothing was overwritten" in w.value for w in second.warning)
    assert any("yes" in m.value for m in second.markdown)  # the typed text is kept
    run_ok(button(second, "Replace it with my text").click())
    answer = svc.case(case_id).answers["is_ivd"]
    assert answer.value == "yes" and [e.value for e in answer.entries] == ["no", "yes"]


def test_a_document_gets_a_proposed_kind_to_confirm_and_its_facts_are_proposed_as_answers(
    app_test, svc, actor, case_id, tmp_path
):
    answer_until(svc, case_id, actor, lambda q: q.id == "previous_certificate_number")
    pdf = text_pdf(CERTIFICATE, tmp_path / "certificat-ce.pdf")
    at = run_ok(app_test(case=case_id))
    at.file_uploader[0].upload("certificat-ce.pdf", pdf.read_bytes(), "application/pdf")
    run_ok(button(at, "Attach").click())
    [ev] = svc.case(case_id).evidence
    assert (ev.kind, ev.kind_confirmed) == ("previous_ce_certificate", False)
    assert any("please confirm" in m.value for m in at.markdown)
    run_ok(at.button(key=f"confirm:{ev.id}").click())
    assert svc.case(case_id).evidence[0].kind_confirmed

    # what the document states comes back on the card in the chat, with file and page
    card = asked(at)
    assert "Here is what I understood (3)" in card
    shown = {t.value for t in at.text_input}
    assert {"CM-734215", "CertiMed Notified Body (fictional), NB 9876"} <= shown
    assert any("certificat-ce.pdf, p. 1" in c.value.replace("\\", "") for c in at.caption)
    assert "previous_certificate_number" not in svc.case(case_id).answers  # nothing recorded before confirming
    run_ok(button(at, "Confirm and record").click())
    answer = svc.case(case_id).answers["previous_certificate_number"]
    assert (answer.value, answer.last.source) == ("CM-734215", f"document:{ev.id}")
    assert svc.case(case_id).value("previous_certificate_expiry") == "2024-05-26"
    assert "previous_certificate_expiry" not in {p.question.id for p in svc.questions(case_id)}

    at.file_uploader[0].upload("notes.pdf", b"not a pdf at all", "application/pdf")
    run_ok(button(at, "Attach").click())
    assert any("not a PDF" in e.value for e in at.error)
    assert len(svc.case(case_id).evidence) == 1


def test_the_preview_shows_each_section_with_citations_that_open_the_page(app_test, svc, actor, case_id, make_pdf):
    answer_all(svc, case_id, actor)
    attach_all_mandatory(svc, case_id, actor, make_pdf)
    at = run_ok(app_test(case=case_id, view="draft", section="regulatory_status"))
    assert at.subheader[0].value.startswith("6. Statut réglementaire")  # the case is drafted in French
    text = " ".join(m.value for m in at.markdown)
    assert "CM\\-734215" in text and ":blue[\\[1\\]]" in text  # the answer, with its citation number
    labels = [e.label for e in at.expander]
    assert any(label.startswith("[1]") for label in labels)
    certificate = [e for e in at.expander if "previous_ce_certificate.pdf" in e.label]
    assert certificate, labels
    assert any("page 1 of 2" in c.value for c in certificate[0].caption)
    assert any("Document previous\\_ce\\_certificate page 1" in m.value for m in certificate[0].markdown)
    # section titles in the number of the case (one identified patient), on the page and its sidebar
    shown = " ".join([m.value for m in at.markdown] + [o for r in at.radio for o in r.options]
                     + [o for s in at.selectbox for o in s.options] + [c.value for c in at.caption])
    assert "patient(s)" not in shown.replace("\\", "")
    assert "Impossibility of including the patient in a clinical investigation" in shown


def test_blockers_lead_to_their_fix_a_waiver_needs_a_reason_and_downloads_follow(
    app_test, svc, actor, case_id, make_pdf
):
    answer_all(svc, case_id, actor)
    attach_all_mandatory(svc, case_id, actor, make_pdf)
    ev = svc.case(case_id).evidence_of_kind("precautions_certificate")[0]
    svc.remove_evidence(case_id, ev.id, actor)
    at = run_ok(app_test(case=case_id, view="export"))
    assert any("1 blocker(s)" in e.value for e in at.error)
    assert all(b.disabled for b in at.get("download_button"))

    # a blocker's Attach button opens the interview with the uploader set to that kind
    fix = run_ok(app_test(case=case_id, view="export"))
    run_ok(button(fix, "Attach").click())
    assert fix.query_params["view"] == "interview"
    assert fix.selectbox[0].value == "precautions_certificate"

    key = f"waive-reason:{case_id}:precautions_certificate"
    at.text_area(key=key).set_value("no")
    run_ok(button(at, "Waive").click())
    assert any("reason of at least a few words" in e.value for e in at.error)
    assert not svc.case(case_id).waivers
    at.text_area(key=key).set_value("Signed attestation follows by post from the quality director.")
    run_ok(button(at, "Waive").click())
    assert "precautions_certificate" in svc.case(case_id).waivers
    assert any("No blocker" in s.value for s in at.success)
    assert not at.get("download_button")  # each file is built when asked for, not on every render
    for fmt in ("docx", "md", "pdf"):
        run_ok(at.button(key=f"prepare:{fmt}").click())
    buttons = at.get("download_button")
    assert len(buttons) == 3 and not any(b.disabled for b in buttons)
    files = {fmt: at.session_state[f"memo:export:{fmt}:{case_id}"][1] for fmt in ("docx", "md", "pdf")}
    assert files["docx"][:2] == b"PK" and files["pdf"][:5] == b"%PDF-"
    assert "Signed attestation follows by post" in files["md"].decode()
    run_ok(at.button(key="withdraw:precautions_certificate").click())  # the waiver can be withdrawn
    assert any("1 blocker(s)" in e.value for e in at.error)


def test_a_missing_answer_blocker_opens_that_question_in_the_chat(app_test, svc, actor, case_id):
    answer_until(svc, case_id, actor, lambda q: q.id == "applicant_address")
    at = run_ok(app_test(case=case_id, view="export"))
    last = [b for b in at.button if b.label == "Answer"][-1]  # a later section's question, not the next one
    run_ok(last.click())
    qid = at.query_params["ask"]
    assert at.query_params["view"] == "interview" and qid != "applicant_address"
    question = svc.profile(svc.case(case_id)).question(qid)
    assert question.text.get("en").split()[-1].rstrip("?") in asked(at)
    at.chat_input[0].set_value(LONG if question.type == "long_text" else "Valvix Medical SAS")
    run_ok(at)
    assert svc.case(case_id).answers[qid].last.by == "tester"
    assert "ask" not in at.query_params  # back to the interview's own order: the applicant block
    assert "What is the manufacturer's registered address?" in [t.label for t in at.text_input]


def test_the_export_panel_warns_when_an_answer_may_identify_the_patient(app_test, svc, case_id, actor):
    at = run_ok(app_test(case=case_id, view="export"))
    assert not [w for w in at.warning if "identifier un patient" in w.value]  # the case's language: French
    svc.answer(case_id, "urgency", "Vu Oliver Whitfield en consultation : dyspnée de repos.", actor)
    at = run_ok(app_test(case=case_id, view="export"))
    assert any("pouvant identifier un patient (1 endroit(s))" in w.value for w in at.warning)


def test_an_ansm_case_speaks_french_by_default_and_the_opening_fills_facts_through_the_card(app_test, svc, case_id):
    at = run_ok(app_test(case=case_id, lang=None, opening=True))
    assert "Parlez-moi de votre demande" in asked(at)
    at.chat_input[0].set_value("Nous sommes Valvix Medical SAS, 12 rue des Tanneurs, 34000 Montpellier. "
                               "Patient P-014 au CHU de Montpellier, dispositif de classe III.")
    run_ok(at)
    assert "Voici ce que j'ai compris" in asked(at)
    assert "applicant_name" not in svc.case(case_id).answers  # shown, not recorded
    at.text_input(key=f"told-val:{case_id}:patient_pseudonym").set_value("P-015")  # corrected on the card
    run_ok(button(at, "Confirmer et enregistrer").click())
    case = svc.case(case_id)
    assert case.value("applicant_name") == "Valvix Medical SAS" and case.value("device_class") == "III"
    assert (case.value("patient_pseudonym"), case.answers["patient_pseudonym"].last.source) == ("P-015", "user")
    assert any("Confirmé" in m.value for m in at.markdown)  # the confirmed facts as one turn in the chat


def test_attach_from_a_blocker_offers_the_uploader_in_the_chat(app_test, svc, case_id, tmp_path):
    at = run_ok(app_test(case=case_id, attach="clinical_data"))
    assert any("Attach it here: Clinical data" in text.replace("\\", "") for _, text in chat_texts(at))
    pdf = text_pdf(["Clinical evaluation report: 412 patients treated."], tmp_path / "cer.pdf")
    key = next(u.key for u in at.file_uploader if u.key and u.key.startswith("attach-here:"))
    at.file_uploader(key=key).upload("cer.pdf", pdf.read_bytes(), "application/pdf")
    run_ok(at.button(key=f"{key}:go").click())
    [ev] = svc.case(case_id).evidence
    assert (ev.kind, ev.kind_confirmed) == ("clinical_data", True)
    assert "attach" not in at.query_params


def test_an_answer_typed_as_the_opening_is_left_answers_the_question_not_describes_the_request(app_test, svc,
                                                                                              case_id):
    # The user clicks "answer question by question" and sends "no" before the page is drawn again: the
    # chat input still carries the opening's "describe your request" mode. The answer must go to the
    # question the page is about to ask, not be read as a description.
    at = run_ok(app_test(case=case_id, opening=True))
    assert "Tell me about your request" in asked(at)
    button(at, "I prefer to answer question by question").click()
    at.chat_input[0].set_value("no")
    run_ok(at)
    assert svc.case(case_id).answers["is_ivd"].value == "no"
    assert not [m for m in at.markdown if "Here is what I understood" in m.value]
