"""The English submission with a language model (issue 11 §6): the manufacturer's French answers are
translated through the case's guarded session (identifiers removed, calls audited), a translation
that drops a number is refused (the answer stays quoted in French), and the cover says which."""

from __future__ import annotations

from docx import Document
from helpers import answer_all, attach_all_mandatory
from llm_server import point_at

from assistant.drafting import translation
from assistant.service import Actor

ACTOR = Actor("m.martin", "manufacturer")
CONDITION = "Homme de 67 ans, insuffisance mitrale sévère NYHA III, fraction d'éjection à 35 %, deux hospitalisations."
CONDITION_EN = "Man aged 67, severe mitral regurgitation NYHA III, ejection fraction 35%, two hospital stays."
URGENCY = ("Décompensations répétées : 3 hospitalisations en 10 mois malgré un traitement maximal, "
           "selon le dossier tenu par Oliver Whitfield.")


def _answered(svc, case_id: str, **answers: str) -> None:
    answer_all(svc, case_id, ACTOR)
    for qid, text in answers.items():
        svc.answer(case_id, qid, text, ACTOR, replace=True)


def _body(path) -> str:
    return "\n".join(p.text for p in Document(str(path)).paragraphs)


def test_french_answers_are_translated_for_the_english_file_never_with_patient_data(
        svc, llm_server, monkeypatch, make_pdf, tmp_path):
    point_at(monkeypatch, llm_server)
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", ACTOR)
    _answered(svc, case.id, patient_condition=CONDITION, urgency=URGENCY)
    attach_all_mandatory(svc, case.id, ACTOR, make_pdf)
    wanted = translation.needed(svc.profile(svc.case(case.id)), svc.case(case.id), "en")
    assert {"patient_condition", "urgency"} <= set(wanted)
    replies = {qid: f"In English: {text}" for qid, text in wanted.items()}  # every number kept
    replies["patient_condition"] = CONDITION_EN
    replies["urgency"] = "Repeated decompensations despite maximal treatment."  # the 3 and the 10 dropped
    llm_server.reply({"translations": [{"id": k, "text": v} for k, v in replies.items()]})

    svc.export(case.id, "docx", tmp_path / "en.docx", "en")
    body = _body(tmp_path / "en.docx")
    assert CONDITION_EN.rstrip(".") in body and "Homme de 67 ans" not in body
    assert "“Décompensations répétées : 3 hospitalisations" in body  # refused: quoted as written
    assert "given in a translation made with a language model" in body and "quoted in their original language" in body
    [call] = llm_server.chat_requests
    assert "Whitfield" not in call.text and "Homme de 67 ans" in call.text  # identifiers removed before sending
    assert any(e["purpose"] == "translate_answers" for e in svc.llm_audit(case.id))

    # kept: a second export asks nothing more; the French file is the manufacturer's own words
    svc.export(case.id, "docx", tmp_path / "en2.docx", "en")
    svc.export(case.id, "docx", tmp_path / "fr.docx", "fr")
    assert len(llm_server.chat_requests) == 1
    fr = _body(tmp_path / "fr.docx")
    assert CONDITION.rstrip(".") in fr and "language model" not in fr and "modèle de langue" not in fr

    # a changed answer is never shown with the old translation
    svc.answer(case.id, "patient_condition", CONDITION.replace("67", "68"), ACTOR, replace=True)
    llm_server.always('{"translations": []}')
    svc.export(case.id, "docx", tmp_path / "en3.docx", "en")
    assert "“Homme de 68 ans" in _body(tmp_path / "en3.docx") and CONDITION_EN not in _body(tmp_path / "en3.docx")


def test_offline_the_english_file_quotes_the_french_answers_and_says_so(svc, make_pdf, tmp_path):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", ACTOR)
    _answered(svc, case.id, patient_condition=CONDITION)
    attach_all_mandatory(svc, case.id, ACTOR, make_pdf)
    svc.export(case.id, "docx", tmp_path / "en.docx", "en")
    body = _body(tmp_path / "en.docx")
    assert f"“{CONDITION.rstrip('.')}”" in body and "quoted in their original language" in body
    assert "language model" not in body
