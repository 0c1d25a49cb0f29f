"""What a model's sentence claims, judged against the case (llm/claims.py), FR and EN."""

import pytest

from assistant.llm.claims import CaseFacts, check_proposal, check_text

FACTS = {"previously_ce_marked": "yes", "previous_certificate_expiry": "2024-05-26", "nb_application_date": "2024-09-15"}
CASE = CaseFacts(FACTS, frozenset({"clinician_letter", "previous_ce_certificate"}), frozenset({"previous_ce_certificate"}),
                 "regulatory_status")


@pytest.mark.parametrize(("text", "kind"), [
    ("Le certificat n° CM-1 est valable jusqu'au 14/03/2028.", "regulatory_status_claim"),  # "n°" is no negation
    ("The Article 120 extension applies to the certificate.", "regulatory_status_claim"),
    ("Le dispositif reste marqué CE.", "regulatory_status_claim"),
    ("Section status: approved.", "workflow_claim"),
    ("The requesting clinician's signed letter is attached.", "document_set_claim"),  # only the unsigned letter
    ("Les rapports précliniques sont joints à la présente demande.", "document_set_claim"),
])
def test_claims_the_case_does_not_support_are_found(text, kind):
    assert kind in {f.kind for f in check_text(text, CASE)}


@pytest.mark.parametrize("text", [
    "Le certificat était valable jusqu'au 26 mai 2024 ; il n'est plus valide.",
    "The Article 120 extension does not apply, as the application was lodged after 26 May 2024.",
    "Le dispositif n'est plus marqué CE depuis le 26 mai 2024.",
    "Le certificat CE antérieur est joint à la présente demande.",
    "The extension may apply if the conditions are met.",
])
def test_honest_sentences_near_the_rules_pass(text):
    assert check_text(text, CASE) == []


def test_a_proposal_must_say_what_its_quote_says():
    text = "Notre dispositif n'a jamais été marqué CE. Le dispositif est de classe IIb (certificat expiré)."
    assert "opposite" in check_proposal("yes_no", "yes", "marqué CE", text)
    assert check_proposal("yes_no", "no", "marqué CE", text) == ""
    assert check_proposal("choice", "III", "de classe IIb", text, ("I", "IIa", "IIb", "III")) != ""
    assert check_proposal("choice", "IIb", "de classe IIb", text, ("I", "IIa", "IIb", "III")) == ""
    assert "possibility" in check_proposal("date", "2027-12-31", "until 31 December 2027",
                                           "Certificates may be extended until 31 December 2027 if the conditions are met.")
