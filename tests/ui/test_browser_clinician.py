"""The treating physician's letter in a real headless Chromium against `streamlit run`: the link a
manufacturer hands out opens that letter only; filled in, it is downloaded as DOCX and attached."""

from __future__ import annotations

from docx import Document

from assistant.case.store import CaseStore
from assistant.service import Actor, Service

FIELDS = [
    ("Nom du médecin", "Claire Martin"),
    ("Spécialité", "Cardiologie interventionnelle"),
    ("Établissement de santé", "CHU de Lyon"),
    ("Service", "Cardiologie"),
    ("Numéro RPPS", "10005173140"),
    ("Pseudonyme du patient", "P-014"),
    ("Situation clinique et contexte", "Homme de 67 ans, insuffisance mitrale sévère NYHA III."),
    ("Pourquoi une investigation clinique n'est pas possible", "Aucune investigation clinique ouverte en France."),
    ("Alternatives tentées ou écartées, et pourquoi", "Chirurgie récusée en réunion de concertation."),
    ("Urgence", "Décompensations répétées : intervention nécessaire sous trois semaines."),
    ("Bénéfice attendu", "Réduction de la fuite mitrale et retour en classe NYHA II."),
    ("Lieu de signature (facultatif)", "Lyon"),
]


def test_the_physician_fills_the_letter_from_the_link_and_it_is_attached(
    shared_streamlit_server, browser, wait_idle, screenshot, tmp_path
):
    page = browser.new_page(1400, 2300)  # tall enough for the whole form and preview in the screenshot
    svc = Service(CaseStore(shared_streamlit_server.home))
    maker = Actor("maker", "manufacturer")
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", maker)
    svc.answer(case.id, "patient_pseudonym", "P-014", maker)
    _, token = svc.create_clinician_link(case.id, maker, "Dr Martin")

    page.goto(f"{shared_streamlit_server.url}/?case={case.id}&token={token}")
    wait_idle(page)
    page.get_by_role("heading", name="Lettre du médecin demandeur").wait_for()
    assert page.get_by_test_id("stSidebar").count() == 0  # nothing but this letter is reachable

    rpps = page.get_by_label("Numéro RPPS", exact=True)
    rpps.fill("12345")
    rpps.press("Tab")
    wait_idle(page)
    page.get_by_text("RPPS number: 11 digits expected, got '12345'").wait_for()

    for label, value in FIELDS:
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Tab")
        wait_idle(page)
    assert page.get_by_text("RPPS number: 11 digits expected").count() == 0
    page.get_by_text("Je soussigné(e), Dr Claire Martin, Cardiologie interventionnelle").wait_for()
    assert svc.case(case.id).letter.fields["rpps"] == "10005173140"

    page.get_by_role("button", name="Générer la lettre et la joindre à la demande").click()
    wait_idle(page)
    page.get_by_text("Lettre jointe à la demande : lettre-medecin-P-014.pdf").wait_for()
    page.get_by_text("Déposer la lettre signée (PDF)").wait_for()
    [attached] = svc.case(case.id).evidence_of_kind("clinician_letter")
    assert (attached.origin, attached.added_by) == ("letter_flow", "Dr Claire Martin")

    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger la lettre à signer (DOCX)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "lettre-medecin-P-014.docx"
    text = "\n".join(p.text for p in Document(str(saved)).paragraphs)
    assert "Fait à Lyon" in text and "pour le patient désigné sous le pseudonyme P-014" in text
    wait_idle(page)
    screenshot(page, "clinician")
