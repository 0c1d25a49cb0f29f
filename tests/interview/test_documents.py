"""Facts found in documents (assistant/extract.py): what is found, on which page, and when it is proposed."""

from __future__ import annotations

import pytest

from assistant.interview.documents import extract

CERT_EN = ("CertiMed Notified Body (fictional), NB 9876\n\nEC DESIGN-EXAMINATION CERTIFICATE\n"
           "Certificate No. CM-734215\nManufacturer: Valvix Medical SAS\nValid until: 26/05/2024")
CERT_FR = "Organisme notifié : GMED n° 0459\nCertificat CE n° 12345/REV2 valable jusqu'au 3 mars 2026."
IFU_FR = ("Dispositif stérile, stérilisé à l'oxyde d'éthylène. Durée de validité : 3 ans. "
          "Conserver entre 5 et 25 °C, à l'abri de l'humidité.")


def facts(pages: list[str], kind: str) -> dict[str, tuple[str, int]]:
    return {f.question_id: (f.value, f.page) for f in extract(pages, kind)}


@pytest.mark.parametrize(("text", "number", "expiry", "nb"), [
    (CERT_EN, "CM-734215", "2024-05-26", "CertiMed Notified Body (fictional), NB 9876"),
    (CERT_FR, "12345/REV2", "2026-03-03", "GMED n° 0459"),
])
def test_a_certificate_gives_its_number_expiry_and_notified_body(text, number, expiry, nb):
    found = facts([text], "previous_ce_certificate")
    assert found == {"previous_certificate_number": (number, 1), "previous_certificate_expiry": (expiry, 1),
                     "previous_certificate_nb": (nb, 1)}


def test_device_facts_come_with_the_page_they_are_on_and_the_passage_around_them():
    found = extract(["Sommaire de la notice", IFU_FR], "ifu_labelling")
    by_id = {f.question_id: f for f in found}
    assert by_id["sterility"].value == "stérile, stérilisé à l'oxyde d'éthylène"
    assert by_id["shelf_life"].value == "3 ans"
    assert by_id["storage_conditions"].value == "Conserver entre 5 et 25 °C, à l'abri de l'humidité"
    assert {f.page for f in found} == {2}
    assert "Durée de validité : 3 ans" in by_id["shelf_life"].snippet


def test_the_sterilisation_method_in_the_next_sentence_is_kept_with_the_sterility():
    found = facts(["Supplied sterile. Sterilised by gamma irradiation. Shelf life: 5 years. "
                   "Storage conditions: keep dry, below 30 °C."], "ifu_labelling")
    assert found["sterility"] == ("sterile; Sterilised by gamma irradiation", 1)
    assert found["shelf_life"] == ("5 years", 1)
    assert found["storage_conditions"] == ("Keep dry, below 30 °C", 1)  # the label is not the value


def test_the_first_occurrence_wins():
    found = facts(["Shelf life: 3 years.", "Shelf life: 5 years."], "ifu_labelling")
    assert found["shelf_life"] == ("3 years", 1)


def test_what_a_document_can_tell_depends_on_its_kind():
    # a certificate number quoted in clinical data is not the certificate; a letter says nothing of the device
    assert set(facts([CERT_EN + ". Sterile."], "clinical_data")) == {"sterility"}
    assert facts(["Dispositif stérile. Certificat n° 99-88"], "clinician_letter") == {}


@pytest.mark.parametrize("text", [
    "Certificate number pending.",  # no number yet
    "Store the box in the office.",  # storage without any condition
    "Shelf life to be determined.",  # no duration
    "Valid until further notice.",  # no date
])
def test_vague_wording_proposes_nothing(text):
    assert facts([text], "previous_ce_certificate") == {}
    assert facts([text], "ifu_labelling") == {}


# -- proposals: what the user is asked to confirm -----------------------------------------------------
@pytest.fixture
def certified_case(svc, actor):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    for qid, value in (("is_ivd", "no"), ("first_in_man", "no"), ("previously_ce_marked", "yes")):
        svc.answer(case.id, qid, value, actor)
    return case.id


def test_facts_are_proposed_with_their_document_and_accepting_one_records_its_source(
    svc, actor, certified_case, make_pdf
):
    ev = svc.attach(certified_case, make_pdf(["Cover page", CERT_EN], "cert.pdf"), actor,
                    kind="previous_ce_certificate").file
    proposals = {p.question_id: p for p in svc.proposals(certified_case)}
    assert set(proposals) == {"previous_certificate_number", "previous_certificate_expiry", "previous_certificate_nb"}
    p = proposals["previous_certificate_number"]
    assert (p.value, p.filename, p.page, p.evidence_id, p.current) == ("CM-734215", "cert.pdf", 2, ev.id, None)
    assert svc.case(certified_case).value("previous_certificate_number") is None  # nothing recorded yet

    svc.accept_proposal(certified_case, "previous_certificate_number", ev.id, actor)
    answer = svc.case(certified_case).answers["previous_certificate_number"]
    assert (answer.value, answer.last.source) == ("CM-734215", f"document:{ev.id}")
    assert "previous_certificate_number" not in {p.question_id for p in svc.proposals(certified_case)}
    assert "previous_certificate_number" not in {p.question.id for p in svc.questions(certified_case)}


def test_a_document_that_disagrees_with_an_answer_is_proposed_with_the_answer_shown(
    svc, actor, certified_case, make_pdf
):
    svc.answer(certified_case, "previous_certificate_expiry", "2024-06-30", actor)
    svc.answer(certified_case, "previous_certificate_number", "cm-734215", actor)  # same value, other case
    svc.attach(certified_case, make_pdf([CERT_EN], "cert.pdf"), actor, kind="previous_ce_certificate")
    proposals = {p.question_id: p for p in svc.proposals(certified_case)}
    assert "previous_certificate_number" not in proposals
    assert (proposals["previous_certificate_expiry"].value, proposals["previous_certificate_expiry"].current) == (
        "2024-05-26", "2024-06-30")


def test_a_dismissed_proposal_is_not_proposed_again(svc, actor, certified_case, make_pdf):
    ev = svc.attach(certified_case, make_pdf([CERT_EN], "cert.pdf"), actor, kind="previous_ce_certificate").file
    svc.dismiss_proposal(certified_case, "previous_certificate_nb", ev.id, actor)
    assert {p.question_id for p in svc.proposals(certified_case)} == {
        "previous_certificate_number", "previous_certificate_expiry"}


def test_facts_for_questions_that_do_not_apply_are_not_proposed(svc, actor, make_pdf):
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    for qid, value in (("is_ivd", "no"), ("first_in_man", "no"), ("previously_ce_marked", "no")):
        svc.answer(case_id, qid, value, actor)
    ev = svc.attach(case_id, make_pdf([CERT_EN], "cert.pdf"), actor, kind="previous_ce_certificate").file
    assert len(extract(svc.pages(case_id)(ev.sha256), ev.kind)) == 3  # found, but the device was never CE marked
    assert svc.proposals(case_id) == []
