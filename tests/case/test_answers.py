import pytest

from assistant.service import ServiceError


@pytest.mark.parametrize(("given", "stored"), [("oui", "yes"), ("Non", "no"), ("YES", "yes"), ("n", "no")])
def test_yes_no_in_french_or_english(svc, actor, given, stored):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    assert svc.answer(case.id, "is_ivd", given, actor).value("is_ivd") == stored


@pytest.mark.parametrize("given", ["26/05/2024", "2024-05-26", "26.05.2024", "26 mai 2024", "May 26, 2024"])
def test_dates_are_stored_as_iso(svc, actor, given):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "previously_ce_marked", "yes", actor)
    assert svc.answer(case.id, "previous_certificate_expiry", given, actor).value("previous_certificate_expiry") == "2024-05-26"


@pytest.mark.parametrize(
    ("qid", "text", "message"),
    [
        ("applicant_name", "", "cannot be empty"),
        ("applicant_name", "   \n\t ", "cannot be empty"),
        ("is_ivd", "perhaps", "answer yes or no"),
        ("device_class", "IV", "choose one of"),
        ("no_such_question", "x", "unknown question"),
    ],
)
def test_bad_answers_are_refused_with_a_reason_and_change_nothing(svc, actor, qid, text, message):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    with pytest.raises(ServiceError, match=message):
        svc.answer(case.id, qid, text, actor)
    assert svc.case(case.id).version == case.version


def test_control_characters_are_removed_and_unicode_kept(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    value = svc.answer(case.id, "applicant_name", "Cœur\x00 & Vaisseaux\x07 SAS — «Lyon» 💙", actor).value("applicant_name")
    assert value == "Cœur & Vaisseaux SAS — «Lyon» 💙"


@pytest.mark.parametrize(
    ("qid", "text"),
    [
        ("patient_pseudonym", "Jean Dupont"),
        ("patient_pseudonym", "Dupont"),
        ("patient_pseudonym", "P-01 né le 12/03/1958"),
        ("patient_condition", "Mme Martin, 67 ans, insuffisance mitrale sévère"),
        ("patient_condition", "Patient Marie DURAND, insuffisance mitrale"),
        ("patient_condition", "NIR 1 58 03 75 112 042 17, insuffisance mitrale"),
        ("patient_condition", "Homme né le 12 mars 1958, insuffisance mitrale"),
        ("patient_condition", "born 1958-03-12, severe mitral regurgitation"),
    ],
)
def test_identifying_patient_data_is_refused(svc, actor, qid, text):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    with pytest.raises(ServiceError, match="patient data must be pseudonymised"):
        svc.answer(case.id, qid, text, actor)
    assert svc.case(case.id).value(qid) is None


@pytest.mark.parametrize(
    ("qid", "text"),
    [
        ("patient_pseudonym", "P-014"),
        ("patient_condition", "Homme de 67 ans, insuffisance mitrale sévère (NYHA III), opéré le 12/03/2025, EuroSCORE II 12 %"),
        ("patient_condition", "Female, 54, Parkinson Disease since 2015, treated at Hôpital Saint-Louis"),
    ],
)
def test_clinical_facts_are_accepted(svc, actor, qid, text):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    assert svc.answer(case.id, qid, text, actor).value(qid) == text
