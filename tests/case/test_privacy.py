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


# -- the adversarial set (evals/adversarial/identifiers.yaml) ------------------------------------
def _adversarial():
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[2] / "evals" / "adversarial" / "identifiers.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", _adversarial(), ids=lambda i: f"{i['id']}-{i['kind']}")
def test_every_identifier_form_is_redacted_and_every_control_kept(item):
    # The applicant's own fields reach the model as written (the product passes them as `keep`).
    keep = ["P-014"] + ([item["text"]] if item["field"].startswith("applicant_") else [])
    sent, _ = Redactor(keep).redact(item["text"])
    if item["must_redact"]:
        assert item["identifier"] not in sent, sent
    else:
        assert item["identifier"] in sent, sent


def test_the_screen_and_the_redactor_find_the_same_things():
    from assistant.case.privacy import find_identifiers, screen

    text = "Patient Gaëtan Lefebvre, DN 12-03-1958, joignable au +33 (0)6 12 34 56 78, 12 rue de la Paix."
    assert [f.kind for f in screen(text)] == ["NOM", "DDN", "TEL", "ADR"]
    assert screen(text) == find_identifiers(text)


def test_a_date_old_enough_to_be_a_birth_date_is_not_one_after_a_certificate_word():
    from assistant.case.privacy import screen

    assert [f.kind for f in screen("Patiente (12 mars 1958), NYHA III.")] == ["DDN"]
    assert screen("Certificat CE délivré le 12/03/2004, expiré le 26/05/2024.") == []
    assert screen("Directive 93/42/CEE du 14 juin 1993.") == []


def test_local_is_decided_from_the_resolved_address_not_the_name():
    mapped = {"localhost.localdomain": ["203.0.113.7"], "llm.localhost": ["203.0.113.8"],
              "mixed.example": ["127.0.0.1", "203.0.113.9"], "box.example": ["127.0.0.1", "::1"]}
    resolve = lambda host: mapped.get(host, [])  # noqa: E731 (a hosts file, as a function)
    assert not is_local_url("http://localhost.localdomain:11434/v1", resolve)
    assert not is_local_url("http://llm.localhost/v1", resolve)
    assert not is_local_url("http://mixed.example/v1", resolve)  # one address elsewhere is enough
    assert is_local_url("http://box.example/v1", resolve)
    assert not is_local_url("http://unresolvable.invalid/v1", resolve)
    assert is_local_url("http://127.0.0.1:8080/v1", lambda h: ["203.0.113.7"])  # a literal is what it says


def test_local_only_refuses_a_name_that_resolves_elsewhere(remote_llm_server):
    from assistant.llm.providers import build_provider
    from assistant.llm.settings import LLMSettings

    # The scripted server listens on a non-loopback address of this machine: not "on this machine".
    settings = LLMSettings(provider="openai-compatible", model="m", base_url=remote_llm_server.url, local_only=True)
    provider = build_provider(settings)
    assert not provider.enabled and "not on this machine" in provider.problem


@pytest.mark.parametrize(("text", "identifier"), [
    ("Mr. Thomas Becker, 71, NYHA III.", "Thomas Becker"), ("Vu le patient Hélène Garnier-Dubois ce matin.", "Garnier-Dubois"),
    ("BERNARD Jean-Luc, 74 ans.", "BERNARD Jean-Luc"), ("DOB: 03/01/1949, severe AS.", "03/01/1949"),
    ("Tél. 06-12-34-56-78.", "06-12-34-56-78"), ("Joindre au +33612345678.", "+33612345678"),
    ("Habite 3 impasse du Moulin, 69003 Lyon.", "69003 Lyon"), ("Patient: O'BRIEN, Sean.", "O'BRIEN"),
    ("born on 4th July 1950", "4th July 1950"), ("Le patient, M. Durand, 80 ans.", "Durand"),
    ("Tel +44 20 7946 0958", "7946 0958"), ("Dossier n° 88-12345", "88-12345"),
])
def test_forms_beyond_the_adversarial_set_are_redacted(text, identifier):
    assert identifier not in Redactor(["P-014"]).redact(text)[0]


@pytest.mark.parametrize(("text", "kept"), [
    ("Lettre du Dr Jean Dupont, cardiologue.", "Jean Dupont"), ("Avis du Pr Martin Leroy (CHU de Lille).", "Martin Leroy"),
    ("Pose d'un MitraClip G4.", "MitraClip G4"), ("Heart Team du 4 novembre 2026.", "4 novembre 2026"),
    ("Certificat émis le 15/06/2003 par l'organisme notifié.", "15/06/2003"), ("Insuffisance mitrale de Barlow.", "Barlow"),
])
def test_physicians_devices_and_clinical_dates_stay(text, kept):
    assert kept in Redactor(["P-014"]).redact(text)[0]


def test_an_elided_article_before_a_study_name_is_not_a_first_name():
    from assistant.case.privacy import find_identifiers

    assert find_identifiers("L'investigation VALVIX-EU rouvrira un centre en France.") == []
    assert find_identifiers("D'après l'étude NEO-SEQ, le délai est de 48 heures.") == []
