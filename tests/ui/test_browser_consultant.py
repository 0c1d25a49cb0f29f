"""The consultant's review desk in a real headless Chromium against `streamlit run`: a section with
its sources side by side; opening a citation shows what it rests on; approving it is recorded."""

from __future__ import annotations

from helpers import answer_all

from assistant.case.store import CaseStore
from assistant.service import Actor, Service


def test_the_consultant_checks_a_source_and_approves_a_section(shared_streamlit_server, browser, wait_idle, screenshot):
    page = browser.new_page(1400, 1700)  # the whole section in the screenshot
    svc = Service(CaseStore(shared_streamlit_server.home))
    maker = Actor("maker", "manufacturer")
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", maker)
    answer_all(svc, case.id, maker)
    for qid, text in {
        "patient_condition": "Homme de 67 ans, insuffisance mitrale sévère NYHA III, fraction d'éjection à 35 %, "
        "deux hospitalisations pour décompensation cardiaque au cours des six derniers mois.",
        "urgency": "Décompensations répétées malgré un traitement médical maximal ; l'équipe estime qu'une "
        "intervention est nécessaire sous trois semaines, faute de quoi le pronostic vital est engagé.",
        "expected_benefit": "Réduction de la fuite mitrale à un grade inférieur ou égal à 2 et retour en classe "
        "NYHA II, d'après les résultats du registre du fabricant sur 212 patients.",
    }.items():
        svc.answer(case.id, qid, text, maker, replace=True)

    page.goto(f"{shared_streamlit_server.url}/?role=consultant&case={case.id}&section=need&user=a.reviewer")
    wait_idle(page)
    page.get_by_role("heading", name="2. Justification du besoin et de l'intérêt pour le patient").wait_for()
    page.get_by_role("button", name="Approuver", exact=True).click()  # the page speaks French (an ANSM case)
    wait_idle(page)
    page.get_by_text("Section marquée : approuvée.").wait_for()
    review = svc.case(case.id).review("need")
    assert (review.status, review.history[-1].by, review.history[-1].role) == ("approved", "a.reviewer", "consultant")
    assert page.get_by_role("button", name="Approuver", exact=True).is_disabled()
    assert page.evaluate("document.documentElement.lang") == "fr"
    # what the urgency sentence rests on, named as the reader knows it (never by its id)
    page.get_by_text("[3] Réponse : urgence de la situation et conséquences d'une absence de traitement").click()
    page.get_by_text("Réponse à « urgence de la situation et conséquences d'une absence de traitement » · "
                     "donnée par maker").wait_for()
    page.wait_for_timeout(800)  # the expander's opening animation
    screenshot(page, "consultant")
    # the sections' list reads as a list: every title starts at the same left edge, short or long
    starts = page.evaluate("""() => [...document.querySelectorAll(
            '.st-key-review-nav button[data-testid="stBaseButton-tertiary"]')]  // the sections not open
        .filter(b => b.getBoundingClientRect().width > 0)  // Streamlit also keeps hidden copies
        .map(b => Math.round(b.querySelector('p').getBoundingClientRect().left))""")
    assert len(starts) >= 9 and max(starts) - min(starts) <= 2, starts

    # the edit box: references by name, never an id; one word changed, the citations kept
    page.get_by_role("tab", name="Modifier").click()
    box = page.get_by_role("textbox", name="Texte de la section")
    shown = box.input_value()
    assert "[RDM art. 59(1)]" in shown and "[@" not in shown and "passage:" not in shown
    box.fill(shown.replace("Urgence :", "Urgence vitale :", 1))
    box.press("Tab")
    page.get_by_role("button", name="Enregistrer une nouvelle version").click()
    wait_idle(page)
    page.get_by_text("Enregistré comme nouvelle version.").wait_for()
    stored = svc.section_versions(case.id, "need", "fr")
    assert stored[-1].text == stored[0].text.replace("Urgence :", "Urgence vitale :", 1)

    # a comment typed just after that save: the message shown once goes away on the next rerun, and
    # the Comments tab the reader opened stays open (it closed before: the button was out of sight)
    page.get_by_role("tab", name="Commentaires (0)").click()
    comment = page.get_by_role("textbox", name="Votre commentaire")
    comment.fill("Préciser la source du chiffre de 212 patients.")
    comment.press("Tab")  # the text is sent when the box loses focus: a rerun
    wait_idle(page)
    assert page.get_by_text("Enregistré comme nouvelle version.").count() == 0
    page.get_by_role("button", name="Ajouter le commentaire").click(timeout=10_000)
    wait_idle(page)
    assert page.get_by_role("tab", name="Commentaires (1)").get_attribute("aria-selected") == "true"
    page.get_by_test_id("stChatMessageContent").get_by_text("Préciser la source du chiffre de 212 patients.").wait_for()
    assert [c.text for c in svc.case(case.id).comments] == ["Préciser la source du chiffre de 212 patients."]
