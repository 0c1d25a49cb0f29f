"""The conversation in a real headless Chromium against `streamlit run`: the opening description fills
several facts through one card, a PDF dropped in the chat gets its feedback in the chat, the FR/EN
switch, a conflict only when the same answer changed, the consultant's comment where the manufacturer
works, a clinician link that opens only its letter, and `derogation ui --host` refused without accounts."""

from __future__ import annotations

from assistant.case.store import CaseStore
from assistant.documents.pdf import text_pdf
from assistant.service import Actor, Service
from assistant.service import accounts as users

ME = Actor("tester", "manufacturer")
DESCRIPTION = ("Nous sommes Cardiostim Medical SAS, 8 avenue du Général Leclerc, 69003 Lyon, France. "
               "Le stimulateur Cardiostim CS-40, références CS-40-DR et CS-40-SR, dispositif de classe III, "
               "est destiné à la patiente P-207 prise en charge au CHU de Lyon-Est, service de rythmologie.")
CERTIFICATE = ["Organisme notifié : TÜV Rheinland LGA Products GmbH, numéro d'identification 2915\n\n"
               "CERTIFICAT CE\nCertificat n° TR-2291-7\nValable jusqu'au : 14/06/2022"]


def test_the_opening_description_and_a_dropped_pdf_fill_facts_through_one_card_in_french_and_english(
    shared_streamlit_server, page, wait_idle, send, screenshot, tmp_path
):
    server = shared_streamlit_server
    svc = Service(CaseStore(server.home))
    case_id = svc.new_case("ansm", "individual", "Cardiostim CS-40", ME).id
    page.goto(f"{server.url}/?case={case_id}")
    wait_idle(page)
    page.get_by_text("Parlez-moi de votre demande").first.wait_for()  # an ANSM case speaks French
    page.get_by_test_id("stSidebar").get_by_text("English").click()  # the FR/EN switch
    wait_idle(page)
    page.get_by_text("Tell me about your request").first.wait_for()
    assert "lang=en" in page.url
    page.get_by_test_id("stSidebar").get_by_text("Français").click()
    wait_idle(page)
    page.get_by_text("Parlez-moi de votre demande").first.wait_for()

    send(page, DESCRIPTION)
    card = page.locator(".st-key-told-card")
    card.get_by_text("Voici ce que j'ai compris").wait_for()
    assert card.get_by_text("Source : votre description").count() >= 5
    assert svc.case(case_id).values() == {"device_name": "Cardiostim CS-40"}  # nothing recorded yet
    screenshot(page, "conversation-card")
    card.get_by_role("button", name="Confirmer et enregistrer").click()
    wait_idle(page)
    page.get_by_text("réponse(s) enregistrée(s)").first.wait_for()
    values = svc.case(case_id).values()
    assert values["applicant_name"] == "Cardiostim Medical SAS"
    assert values["applicant_address"] == "8 avenue du Général Leclerc, 69003 Lyon, France"
    assert (values["patient_pseudonym"], values["device_class"], values["is_ivd"]) == ("P-207", "III", "no")
    assert values["healthcare_facilities"].startswith("CHU de Lyon-Est")
    asked = page.locator(".st-key-chat-question, .st-key-chat-block")
    asked.first.wait_for()
    assert "raison sociale" not in asked.first.inner_text()  # never asked what was told

    # a PDF dropped in the chat: what happened is said in the chat, and its facts come on the card
    svc.answer(case_id, "previously_ce_marked", "oui", ME)
    page.reload()
    wait_idle(page)
    pdf = text_pdf(CERTIFICATE, tmp_path / "certificat-TR.pdf")
    page.get_by_test_id("stChatInput").locator("input[type=file]").set_input_files(str(pdf))
    page.get_by_test_id("stChatInputSubmitButton").click()
    wait_idle(page)
    # said in the chat column, right above the card (not in the side panel)
    page.get_by_test_id("stAlertContainer").filter(has_text="certificat-TR.pdf est joint").first.wait_for()
    assert page.locator(".st-key-side-uploader").get_by_text("est joint").count() == 0
    card = page.locator(".st-key-told-card")
    card.get_by_text("certificat-TR.pdf, p. 1").first.wait_for()
    screenshot(page, "conversation-dropped-pdf")
    card.get_by_role("button", name="Confirmer et enregistrer").click()
    wait_idle(page)
    values = svc.case(case_id).values()
    assert values["previous_certificate_nb"] == "TÜV Rheinland LGA Products GmbH, numéro d'identification 2915"
    assert (values["previous_certificate_number"], values["previous_certificate_expiry"]) == ("TR-2291-7", "2022-06-14")


def test_a_conflict_only_on_the_same_answer_and_the_consultants_comment_is_shown(
    shared_streamlit_server, browser, page, wait_idle, send, screenshot
):
    server = shared_streamlit_server
    svc = Service(CaseStore(server.home))
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", ME).id
    svc.answer(case_id, "is_ivd", "non", ME)
    page.goto(f"{server.url}/?case={case_id}&lang=en")
    wait_idle(page)
    page.get_by_text("Is the device custom-made").first.wait_for()
    # another window changes another answer: this page's save goes through
    svc.answer(case_id, "first_in_man", "non", Actor("colleague", "manufacturer"))
    send(page, "no")
    assert svc.case(case_id).value("custom_made") == "no"
    assert page.get_by_text("was not saved").count() == 0
    # another window changes the same answer this page is about to save: a conflict, the text kept
    page.goto(f"{server.url}/?case={case_id}&lang=en&ask=custom_made")
    wait_idle(page)
    svc.answer(case_id, "custom_made", "non", Actor("colleague", "manufacturer"), replace=True)
    svc.answer(case_id, "custom_made", "yes", Actor("colleague", "manufacturer"), replace=True)
    send(page, "no")
    page.get_by_text("was changed elsewhere since this page was shown").first.wait_for()
    assert svc.case(case_id).value("custom_made") == "yes"
    page.get_by_role("button", name="Replace it with my text").click()
    wait_idle(page)
    assert svc.case(case_id).value("custom_made") == "no"

    svc.comment(case_id, "need", "Give the patient's NYHA class and the date of the last hospitalisation.",
                Actor("c.consultant", "consultant"))
    page.goto(f"{server.url}/?case={case_id}&lang=en")
    wait_idle(page)
    box = page.locator(".st-key-consultant-comments")
    box.get_by_text("Your consultant's comments (1)").wait_for()
    box.get_by_text("Give the patient's NYHA class").wait_for()
    screenshot(page, "manufacturer-comment")
    assert page.evaluate("document.documentElement.lang") == "en"

    # a link for the physician: the panel that shows the one-time link does not collapse
    page.get_by_text("A link for the treating physician").click()
    wait_idle(page)  # opening the panel reruns the page: a click sent during that rerun may be lost
    for_whom = page.get_by_role("textbox", name="For whom")
    for_whom.wait_for()
    for_whom.fill("Dr Martel, CHU Lyon")
    page.get_by_role("button", name="Create a link for the physician").click()
    wait_idle(page)
    one_time = page.get_by_test_id("stCode").filter(has_text="token=")
    one_time.wait_for()
    assert one_time.is_visible() and page.get_by_role("button", name="I have copied it").is_visible()
    assert len(svc.case(case_id).clinician_links) == 1

    # on a phone (390 px) the sidebar is folded away: the progress shows under the title
    phone = browser.new_page(390, 900)
    phone.goto(f"{server.url}/?case={case_id}")
    wait_idle(phone)
    progress = phone.locator(".st-key-narrow-progress")
    progress.get_by_text("point(s) bloquant(s)").wait_for()
    assert progress.is_visible() and phone.evaluate("document.documentElement.lang") == "fr"
    assert not page.locator(".st-key-narrow-progress").is_visible()  # 1400 px: the sidebar shows it

    # "Attach" from a blocker, on the phone: the page lands with the uploader on screen
    phone.goto(f"{server.url}/?case={case_id}&view=interview&attach=clinical_data")
    wait_idle(phone)
    attach = phone.locator(".st-key-chat-attach")
    attach.get_by_text("Joignez ici").wait_for()
    phone.wait_for_function("""() => {  // the drop zone wholly on screen
        const e = document.querySelector('.st-key-chat-attach [data-testid="stFileUploaderDropzone"]');
        const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }""")


def test_a_clinician_link_opens_only_its_letter_and_without_its_token_nothing(
    shared_streamlit_server, page, wait_idle, screenshot
):
    """Last on the shared server: it sets up an account (the app then asks for a login), removed after."""
    server = shared_streamlit_server
    users.add("m.martin", "manufacturer", "a long enough secret", server.home)
    try:
        _links_open_only_their_letter(server, page, wait_idle, screenshot)
    finally:
        users.remove("m.martin", server.home)


def _links_open_only_their_letter(server, page, wait_idle, screenshot) -> None:
    svc = Service(CaseStore(server.home))
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", ME).id
    _, token = svc.create_clinician_link(case_id, ME, "Dr Martel")
    page.goto(f"{server.url}/?case={case_id}&token={token}")
    wait_idle(page)
    page.get_by_text("Lettre du médecin demandeur").first.wait_for()
    page.goto(f"{server.url}/?case={case_id}")  # the same link without its token
    wait_idle(page)
    page.get_by_role("button", name="Se connecter").wait_for()  # a login, nothing of the case
    assert page.get_by_text("Valvix").count() == 0
    page.goto(f"{server.url}/?case={case_id}&token=forged-token&role=consultant")
    wait_idle(page)
    page.get_by_text("Ce lien n'ouvre aucune lettre").first.wait_for()
    assert page.get_by_text("Valvix").count() == 0
    screenshot(page, "clinician-link-refused")


def test_derogation_ui_host_is_refused_without_accounts_and_serves_a_login_with_them(
    data_home, page, wait_idle, derogation_ui
):
    refused = derogation_ui(data_home, "--host", "0.0.0.0", "--lang", "fr")
    assert refused.proc.wait(timeout=120) != 0
    assert "Refusé" in refused.log and "derogation users add" in refused.log

    users.add("m.martin", "manufacturer", "a long enough secret", data_home)
    served = derogation_ui(data_home, "--host", "0.0.0.0")
    assert served.wait_health() == "ok", served.log
    page.goto(served.url + "/")
    wait_idle(page)
    page.get_by_role("button", name="Se connecter").wait_for()
    assert page.get_by_text("Nouveau dossier").count() == 0


def test_derogation_ui_serves_the_app_on_localhost(data_home, derogation_ui):
    """`derogation ui --port N` starts the same app on 127.0.0.1:N."""
    served = derogation_ui(data_home)
    assert served.wait_health() == "ok", served.log
