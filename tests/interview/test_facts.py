"""Facts stated in free text or in a document's text (assistant/interview/facts.py), French and English,
and the checks before they are proposed (assistant/interview/telling.py)."""

from __future__ import annotations

import pytest

from assistant.case.profile import load_profile
from assistant.interview.facts import document_facts, facts_in
from assistant.interview.telling import from_text

FR = ("Nous sommes Cardiostim Medical SAS, 8 avenue du Général Leclerc, 69003 Lyon, France. L'interlocutrice de "
      "l'ANSM pour cette demande est Hélène Garnier, responsable des affaires réglementaires, "
      "h.garnier@cardiostim.example, +33 4 72 00 00 00. Nous demandons deux unités (un implant et un implant de "
      "secours) pour une durée de six mois, pour la patiente P-207 prise en charge au CHU de Lyon-Est, service de "
      "rythmologie. Le stimulateur, références CS-40-DR et CS-40-SR, IUD-ID de base 3770012CS40QZ, est un "
      "dispositif de classe III. Le certificat CE n° GM-558120, délivré par l'organisme notifié GMED, numéro "
      "d'identification 0459, a expiré le 14 juin 2022.")
EN = ("We are Valvix Medical Ltd. Our contact for this request is Jane Doe, head of regulatory affairs, "
      "jane.doe@valvix.example. The device is a class IIb implant, references VX-10 and VX-12, for patient P-014 "
      "treated at University Hospital Leuven, cardiology department. Its EC certificate No. CE-55821 issued by "
      "the notified body BSI (2797) expired on 30 November 2022. It is sterile, sterilised by ethylene oxide. "
      "Shelf life: 3 years.")


def found(text: str) -> dict[str, str]:
    return {f.question_id: f.value for f in facts_in(text)}


def test_one_french_description_gives_every_fact_it_states():
    got = found(FR)
    assert got["applicant_name"] == "Cardiostim Medical SAS"
    assert got["applicant_address"] == "8 avenue du Général Leclerc, 69003 Lyon, France"
    assert got["applicant_contact"] == ("Hélène Garnier, responsable des affaires réglementaires, "
                                        "h.garnier@cardiostim.example, +33 4 72 00 00 00")
    assert got["device_references"] == "CS-40-DR et CS-40-SR, IUD-ID de base 3770012CS40QZ"
    assert (got["device_class"], got["is_ivd"], got["patient_pseudonym"]) == ("III", "no", "P-207")
    assert got["healthcare_facilities"] == "CHU de Lyon-Est, service de rythmologie"
    assert got["quantities_duration"] == "Deux unités (un implant et un implant de secours) ; six mois"
    assert got["previous_certificate_number"] == "GM-558120"
    assert got["previous_certificate_nb"] == "GMED, numéro d'identification 0459"
    assert got["previous_certificate_expiry"] == "2022-06-14"
    assert got["previously_ce_marked"] == "yes"


def test_the_same_facts_in_english():
    got = found(EN)
    assert got["applicant_name"] == "Valvix Medical Ltd"
    assert got["applicant_contact"].startswith("Jane Doe, head of regulatory affairs, jane.doe@valvix.example")
    assert (got["device_class"], got["patient_pseudonym"]) == ("IIb", "P-014")
    assert got["device_references"] == "VX-10 and VX-12"
    assert got["previous_certificate_number"] == "CE-55821"
    assert got["previous_certificate_nb"] == "BSI (2797)"
    assert got["previous_certificate_expiry"] == "2022-11-30"
    assert got["sterility"] == "sterile, sterilised by ethylene oxide"
    assert got["shelf_life"] == "3 years"


@pytest.mark.parametrize(("sentence", "question", "answer"), [
    ("Ce n'est pas un dispositif de diagnostic in vitro.", "is_ivd", "no"),
    ("Il n'est ni fabriqué sur mesure ni fabriqué en interne par l'établissement.", "custom_made", "no"),
    ("Le certificat n'a jamais été retiré ni suspendu.", "certificate_withdrawn", "no"),
    ("Aucun accord écrit n'a été signé avec un organisme notifié avant l'expiration.", "agreement_before_expiry", "no"),
    ("No significant change to the design was made since 2019.", "significant_change", "no"),
    ("This would be the first use in humans (first-in-man).", "first_in_man", "yes"),
])
def test_yes_no_screening_facts_said_in_prose(sentence, question, answer):
    assert found(sentence)[question] == answer


def test_narrative_answers_are_the_sentences_that_answer_them():
    text = ("La patiente, une femme de 74 ans, présente une maladie de l'oreillette avec deux syncopes en un mois. "
            "Sans stimulation dans les quinze jours, le risque de décès par asystolie est élevé. "
            "Le traitement médical a été épuisé et la chirurgie a été récusée en réunion de concertation.")
    got = found(text)
    assert got["patient_condition"].startswith("La patiente, une femme de 74 ans")
    assert got["urgency"].startswith("Sans stimulation dans les quinze jours")
    assert got["therapeutic_alternatives_assessment"].startswith("Le traitement médical a été épuisé")


def test_a_document_states_only_what_its_kind_can_state_with_its_page():
    letter = "Patiente P-207. Certificat n° 99-88. Dispositif stérile. La patiente présente une maladie grave et ancienne."
    facts = {f.question_id: f for f in document_facts(letter, 2, "clinician_letter")}
    assert set(facts) == {"patient_condition"}  # a letter is not the certificate nor the device's documents
    assert facts["patient_condition"].page == 2
    ifu = "Conditions de stockage : conserver entre 5 et 25 °C, à l'abri de la lumière."
    [storage] = document_facts(ifu, 1, "ifu_labelling")
    assert storage.value == "Conserver entre 5 et 25 °C, à l'abri de la lumière"  # the label is not the value


def test_proposals_are_checked_like_typed_answers(svc, actor):
    case = svc.new_case("ansm", "global", "Valve", actor)  # a global request has no patient pseudonym
    profile = load_profile("ansm")
    told = from_text(profile, case, "Patient P-207. Dispositif de classe IV, fabricant Valvix Medical SAS.", "fr",
                     "votre description")
    ids = {p.question_id for p in told.proposals}
    assert "patient_pseudonym" not in ids  # not a question of a global request
    assert "device_class" not in ids  # "IV" is not a class: not proposed
    assert {p.where for p in told.proposals} == {"votre description"}
    svc.answer(case.id, "applicant_name", "Valvix Medical SAS", actor)
    again = from_text(profile, svc.case(case.id), "Fabricant : Valvix Medical SAS.", "fr", "votre description")
    assert "applicant_name" not in {p.question_id for p in again.proposals}  # already known: not proposed again


def test_the_service_tells_and_records_only_what_is_confirmed_with_corrections(svc, actor):
    case = svc.new_case("ansm", "individual", "Cardiostim CS-40", actor)
    told = svc.tell(case.id, FR, "fr", use_llm=False)
    by_id = {p.question_id: p for p in told.proposals}
    assert len(by_id) >= 12 and svc.case(case.id).values() == {"device_name": "Cardiostim CS-40"}
    keep = [by_id["applicant_name"], by_id["patient_pseudonym"], by_id["previously_ce_marked"]]
    result = svc.confirm_told(case.id, keep, actor, corrections={"patient_pseudonym": "P-208"})
    assert sorted(result.recorded) == ["applicant_name", "patient_pseudonym", "previously_ce_marked"]
    after = svc.case(case.id)
    assert after.values()["patient_pseudonym"] == "P-208" and after.answers["patient_pseudonym"].last.source == "user"
    assert after.answers["applicant_name"].last.source == "description"
    assert "applicant_name" not in {p.question.id for p in svc.questions(case.id)}


def test_a_conflict_only_when_the_same_answer_changed(svc, actor):
    from assistant.service import ConflictError

    case = svc.new_case("ansm", "individual", "Valve", actor)
    seen = case.version
    svc.answer(case.id, "is_ivd", "no", actor)  # another window, another answer
    svc.answer_on(case.id, "first_in_man", "no", actor, seen)  # goes through
    seen = svc.case(case.id).version
    svc.answer(case.id, "first_in_man", "yes", actor, replace=True)  # the same answer, changed elsewhere
    with pytest.raises(ConflictError):
        svc.answer_on(case.id, "first_in_man", "no", actor, seen, replace=True)
    assert svc.case(case.id).value("first_in_man") == "yes"
