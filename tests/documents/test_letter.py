"""The clinician's urgency letter through the Service: fields screened, gaps visible, DOCX to sign,
PDF attached to the case, and the links that open only one case's letter."""

from __future__ import annotations

import pytest
from docx import Document

from assistant.documents.letter import plain_text
from assistant.service import Actor, ConflictError, ServiceError


def linked_doctor(svc, case_id, actor) -> Actor:
    """The treating physician, acting through the link the manufacturer created for this case."""
    _, token = svc.create_clinician_link(case_id, actor)
    return Actor(name="Dr Claire Martin", role="clinician", token=token)


COMPLETE = {
    "physician_name": "Claire Martin",
    "specialty": "Cardiologie interventionnelle",
    "hospital": "CHU de Lyon",
    "department": "Cardiologie",
    "rpps": "10005173140",
    "patient_pseudonym": "P-014",
    "condition": "Homme de 67 ans, insuffisance mitrale sévère NYHA III, opéré le 12/03/2025 d'un pontage.",
    "ci_impossibility": "Aucune investigation clinique ouverte en France ; critères d'âge non remplis.",
    "alternatives": "Chirurgie récusée en réunion de concertation ; le clip marqué CE ne convient pas à l'anatomie.",
    "urgency": "Décompensations répétées : intervention nécessaire sous trois semaines.",
    "expected_benefit": "Réduction de la fuite mitrale et retour en classe NYHA II.",
}


@pytest.fixture
def case(svc, actor):
    return svc.new_case("ansm", "individual", "Valvix TMV-28", actor)


@pytest.fixture
def doctor(svc, case, actor) -> Actor:
    return linked_doctor(svc, case.id, actor)


def test_fields_are_recorded_as_given_and_shown_in_the_french_letter(svc, case, doctor):
    svc.save_letter(case.id, {**COMPLETE, "physician_name": "Dr Claire Martin", "rpps": "100 051 731 40"}, doctor)
    fields = svc.case(case.id).letter.fields
    assert fields["rpps"] == "10005173140"
    assert fields["physician_name"] == "Claire Martin"  # the letter adds "Dr" itself
    text = plain_text(svc.letter(case.id, doctor, "fr"))
    assert "Dr Dr" not in text
    assert "Je soussigné(e), Dr Claire Martin, Cardiologie interventionnelle" in text
    assert "« Valvix TMV-28 »" in text and "pseudonyme P-014" in text
    assert "Chirurgie récusée en réunion de concertation" in text
    assert "article 59 du règlement (UE) 2017/745" in text
    assert "À COMPLÉTER" not in text


@pytest.mark.parametrize(("site", "written"), [
    ("CHU de Lyon", "service Cardiologie du CHU de Lyon,"),
    ("Hôpital Européen Georges-Pompidou", "service Cardiologie de l'Hôpital Européen Georges-Pompidou,"),
    ("Clinique du Parc, Lyon", "service Cardiologie de la Clinique du Parc, Lyon,"),
    ("Hospices civils de Lyon", "service Cardiologie des Hospices civils de Lyon,"),
    ("Foch", "service Cardiologie (établissement : Foch),"),  # unsure: the name as given, never "de Hôpital"
])
def test_the_letter_names_the_site_with_the_article_french_takes(svc, case, doctor, site, written):
    svc.save_letter(case.id, {**COMPLETE, "hospital": site}, doctor)
    assert written in plain_text(svc.letter(case.id, doctor, "fr"))
    assert f"department of {site}," in plain_text(svc.letter(case.id, doctor, "en"))


def test_a_bad_rpps_number_is_refused_and_nothing_of_the_batch_is_recorded(svc, case, doctor):
    before = svc.case(case.id).version
    with pytest.raises(ServiceError, match="RPPS number: 11 digits expected"):
        svc.save_letter(case.id, {"physician_name": "Claire Martin", "rpps": "12345"}, doctor)
    after = svc.case(case.id)
    assert after.version == before and after.letter.fields == {}


@pytest.mark.parametrize(
    ("fid", "value", "reason"),
    [
        ("patient_pseudonym", "Jean Dupont", "looks like a person's name"),
        ("patient_pseudonym", "P-014 né le 12/03/1958", "date of birth"),
        ("condition", "Mme Durand, 71 ans, sténose aortique serrée", "looks like a person's name"),
        ("urgency", "Patient 1 58 03 75 123 456 78, à opérer vite", "social-security number"),
    ],
)
def test_identifying_patient_data_is_refused_with_the_reason(svc, case, fid, value, reason, doctor):
    with pytest.raises(ServiceError, match=reason):
        svc.save_letter(case.id, {fid: value}, doctor)
    assert fid not in svc.case(case.id).letter.fields


def test_clinical_facts_with_a_surgery_date_are_not_mistaken_for_identity(svc, case, doctor):
    svc.save_letter(case.id, {"condition": COMPLETE["condition"]}, doctor)
    assert svc.case(case.id).letter.fields["condition"] == COMPLETE["condition"]


def test_missing_fields_are_visible_gaps_and_block_the_file(svc, case, tmp_path, doctor):
    svc.save_letter(case.id, {"physician_name": "Claire Martin"}, doctor)
    blocks = svc.letter(case.id, doctor, "fr")
    gaps = [r.text for b in blocks for r in b.runs if r.mark]
    assert "[À COMPLÉTER : numéro RPPS]" in gaps and "[À COMPLÉTER : pseudonyme du patient]" in gaps
    with pytest.raises(ServiceError, match="not complete: .*rpps number"):
        svc.letter_file(case.id, doctor, "fr", "docx", tmp_path / "l.docx")
    assert not (tmp_path / "l.docx").exists()


def test_an_empty_value_clears_a_field(svc, case, doctor):
    svc.save_letter(case.id, {"specialty": "Cardiologie", "place": "Lyon"}, doctor)
    svc.save_letter(case.id, {"place": ""}, doctor)
    assert "place" not in svc.case(case.id).letter.fields
    assert "Fait à" not in plain_text(svc.letter(case.id, doctor, "fr"))


def test_the_complete_letter_is_a_docx_to_sign_in_french_or_english(svc, case, tmp_path, doctor):
    svc.save_letter(case.id, {**COMPLETE, "place": "Lyon"}, doctor)
    fr = Document(str(svc.letter_file(case.id, doctor, "fr", "docx", tmp_path / "fr.docx")))
    fr_text = "\n".join(p.text for p in fr.paragraphs)
    assert "Objet : demande d'accès dérogatoire" in fr_text and "Fait à Lyon" in fr_text
    assert "Signature :" in fr_text and "consentement libre et éclairé" in fr_text
    en = Document(str(svc.letter_file(case.id, doctor, "en", "docx", tmp_path / "en.docx")))
    en_text = "\n".join(p.text for p in en.paragraphs)
    assert "Dear Sir or Madam," in en_text and "for the patient referred to by the pseudonym P-014" in en_text
    assert "Décompensations répétées" in en_text  # the physician's words are never translated or rewritten


def test_the_letter_is_attached_as_clinician_letter_evidence_and_replaced_when_regenerated(svc, case, doctor):
    svc.save_letter(case.id, COMPLETE, doctor)
    first = svc.attach_letter(case.id, doctor)
    assert first.file.kind == "clinician_letter" and first.file.origin == "letter_flow"
    assert first.file.filename == "lettre-medecin-P-014.pdf"
    pages = svc.pages(case.id)(first.file.sha256)
    assert "P-014" in pages[0] and "Valvix TMV-28" in pages[0]
    svc.save_letter(case.id, {"urgency": "Aggravation : intervention nécessaire sous dix jours."}, doctor)
    second = svc.attach_letter(case.id, doctor)
    letters = svc.case(case.id).evidence_of_kind("clinician_letter")
    assert [e.id for e in letters] == [second.file.id] != [first.file.id]
    assert svc.case(case.id).letter.attached_evidence == second.file.id
    # the need section now finds its mandatory letter
    need = svc.draft(case.id, "fr", use_llm=False).section("need")
    assert [line.files for line in need.evidence if line.kind == "clinician_letter"] == [[second.file.id]]


def test_a_global_request_asks_for_the_patient_group_not_a_pseudonym(svc, actor):
    case = svc.new_case("ansm", "global", "OsteoRod Junior", actor)
    doctor = linked_doctor(svc, case.id, actor)
    ids = [f.id for f in svc.letter_fields(case.id, doctor)]
    assert "patient_group" in ids and "patient_pseudonym" not in ids
    with pytest.raises(ServiceError, match="unknown letter field"):
        svc.save_letter(case.id, {"patient_pseudonym": "P-1"}, doctor)
    svc.save_letter(case.id, {"patient_group": "Enfants de 4 à 12 ans avec ostéogenèse imparfaite sévère."}, doctor)
    assert "pour un groupe de patients" in plain_text(svc.letter(case.id, doctor, "fr"))


def test_a_save_on_an_old_version_is_refused(svc, case, doctor):
    seen = svc.case(case.id).version
    svc.save_letter(case.id, {"specialty": "Cardiologie"}, doctor)
    with pytest.raises(ConflictError):
        svc.save_letter(case.id, {"specialty": "Rythmologie"}, doctor, expected_version=seen)
    assert svc.case(case.id).letter.fields["specialty"] == "Cardiologie"


def test_a_link_opens_only_its_case_until_revoked_and_its_token_is_not_stored(svc, case, actor, home):
    other = svc.new_case("ansm", "individual", "Other device", actor)
    link, token = svc.create_clinician_link(case.id, actor, "Dr Martin, CHU Lyon")
    assert svc.clinician_link(case.id, token) == link
    assert svc.clinician_link(other.id, token) is None
    assert svc.clinician_link(case.id, token + "x") is None
    assert svc.clinician_link("no-such-case", token) is None
    stored = "".join(p.read_text(errors="ignore") for p in home.rglob("*") if p.is_file())
    assert token not in stored
    svc.revoke_clinician_link(case.id, link.id, actor)
    assert svc.clinician_link(case.id, token) is None
    with pytest.raises(ServiceError, match="no active link"):
        svc.revoke_clinician_link(case.id, link.id, actor)


def test_a_clinician_reads_only_the_letter_its_link_opens(svc, case, doctor, actor):
    """Issue 12: reads are tied to the link too, not only changes."""
    other = svc.new_case("ansm", "individual", "Another device", actor)
    svc.save_letter(case.id, COMPLETE, doctor)
    assert "P-014" in plain_text(svc.letter(case.id, doctor, "fr"))
    assert svc.case(case.id, actor=doctor).letter.fields["patient_pseudonym"] == "P-014"
    for read in (lambda: svc.letter(other.id, doctor, "fr"), lambda: svc.letter_status(other.id, doctor),
                 lambda: svc.letter_fields(other.id, doctor), lambda: svc.case(other.id, actor=doctor)):
        with pytest.raises(ServiceError, match="only through an active link"):
            read()
    tokenless = Actor(name="Dr Claire Martin", role="clinician")
    with pytest.raises(ServiceError, match="only through an active link"):
        svc.letter_status(case.id, tokenless)
    link = svc.case(case.id).clinician_links[0]
    svc.revoke_clinician_link(case.id, link.id, actor)
    with pytest.raises(ServiceError, match="only through an active link"):
        svc.letter(case.id, doctor, "fr")
    assert svc.letter_status(case.id, actor).filled == svc.letter_status(case.id, actor).required  # the team still reads


def test_the_pseudonym_of_the_request_is_pre_filled_until_the_physician_gives_another(svc, case, actor, doctor):
    svc.answer(case.id, "patient_pseudonym", "P-207", actor)
    assert "pseudonyme P-207" in plain_text(svc.letter(case.id, doctor, "fr"))
    assert "patient_pseudonym" not in [f.id for f in svc.letter_status(case.id, doctor).missing]
    assert svc.letter_status(case.id, doctor).file_stems["fr"] == "lettre-medecin-P-207"
    svc.save_letter(case.id, {"patient_pseudonym": "P-208"}, doctor)
    assert "pseudonyme P-208" in plain_text(svc.letter(case.id, doctor, "fr"))
