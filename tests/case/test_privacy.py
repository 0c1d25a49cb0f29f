"""Patient identifiers are removed before a model call, the pseudonym stays, originals come back locally."""

import pytest

from assistant.case.privacy import Redactor, is_local_url


def test_names_nir_and_birth_date_are_replaced_by_tokens():
    r = Redactor(keep=["P-014"])
    text = ("Patiente P-014 (Mme Martine Durand), née le 03/04/1958, NIR 2 58 04 75 123 456 78, "
            "IPP 00123456, jointe au 06 12 34 56 78 ou martine.durand@example.org. Durand a été opérée en 2023.")
    sent, found = r.redact(text)
    for identifier in ("Martine", "Durand", "03/04/1958", "2 58 04 75 123 456 78", "00123456", "06 12 34 56 78",
                       "martine.durand@example.org"):
        assert identifier not in sent
    assert "P-014" in sent  # the pseudonym is kept
    assert "2023" in sent  # a clinical date that is not a birth date stays
    assert {f.kind for f in found} == {"NOM", "DDN", "NIR", "ID", "TEL", "EMAIL"}
    assert r.restore(sent) == text


def test_tokens_are_stable_across_calls_and_a_known_surname_is_removed_alone():
    r = Redactor()
    first, _ = r.redact("Lettre concernant Jean Dupont.")
    second, found = r.redact("Dupont est en impasse thérapeutique.")
    assert first == "Lettre concernant [NOM-1]."
    assert "Dupont" not in second and found
    assert r.restore("Le patient [NOM-1] et [NOM-2].").startswith("Le patient Jean Dupont")


def test_clinical_facts_are_left_alone():
    r = Redactor()
    text = "Homme de 67 ans, NYHA III, opéré le 12/03/2025, valve Valvix TMV-28, classe III."
    assert r.redact(text) == (text, [])


def test_the_audit_never_sees_the_original():
    r = Redactor()
    _, found = r.redact("M. Bernard Martin")
    assert [f.as_json() for f in found] == [{"kind": "NOM", "what": "person's name", "token": "[NOM-1]"}]


@pytest.mark.parametrize("url,local", [
    ("http://127.0.0.1:11434/v1", True), ("http://localhost:8080/v1", True), ("http://[::1]:8000/v1", True),
    ("http://127.5.0.9/v1", True), ("https://api.openai.com/v1", False), ("http://192.168.1.20:11434/v1", False),
    ("http://localhost.evil.example/v1", False), ("not a url", False),
])
def test_local_urls(url, local):
    assert is_local_url(url) is local
