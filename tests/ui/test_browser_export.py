"""The export page in a real headless Chromium: the submission and the review pack are prepared and
downloaded as files a user opens (the browser's download, not the app's memory)."""

from __future__ import annotations

import docx
from helpers import answer_all, attach_all_mandatory

from assistant.case.store import CaseStore
from assistant.service import Actor, Service


def test_the_submission_and_the_review_pack_download_from_the_page(shared_streamlit_server, browser, wait_idle,
                                                                   screenshot, make_pdf, tmp_path):
    svc = Service(CaseStore(shared_streamlit_server.home))
    maker = Actor("maker", "manufacturer")
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", maker)
    answer_all(svc, case.id, maker)
    attach_all_mandatory(svc, case.id, maker, make_pdf)
    page = browser.new_page(1400, 1400)
    page.goto(f"{shared_streamlit_server.url}/?case={case.id}&view=export&lang=fr")
    wait_idle(page)
    page.get_by_text("Aucun point bloquant : la demande peut être exportée.").wait_for()

    page.get_by_role("button", name="Préparer Word (DOCX)").click()
    wait_idle(page)
    with page.expect_download() as got:
        page.get_by_role("button", name="Word (DOCX)", exact=True).click()
    saved = tmp_path / "submission.docx"
    got.value.save_as(saved)
    assert got.value.suggested_filename == f"derogation-{case.id}-fr.docx"
    text = "\n".join(p.text for p in docx.Document(saved).paragraphs)
    assert "Valvix TMV-28" in text and "[Réponse" not in text and "**" not in text

    page.get_by_role("button", name="Préparer Dossier de revue, Markdown").click()
    wait_idle(page)
    with page.expect_download() as got:
        page.get_by_role("button", name="Dossier de revue, Markdown", exact=True).click()
    assert got.value.suggested_filename == f"derogation-{case.id}-fr-review.md"
    review = (tmp_path / "review.md")
    got.value.save_as(review)
    assert "Document de travail interne, à ne pas déposer" in review.read_text(encoding="utf-8")
    screenshot(page, "export")
