"""The export panel when one format cannot be made (issue 12): that format says so, the others download."""

from __future__ import annotations

from helpers import answer_all, attach_all_mandatory


def test_one_failing_format_never_takes_the_export_panel_down(app_test, svc, actor, make_pdf, monkeypatch):
    from assistant.documents import submission

    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    answer_all(svc, case_id, actor, {"applicant_name": "Valvix Medical " + "Raison Sociale Très Longue " * 12})
    attach_all_mandatory(svc, case_id, actor, make_pdf)

    def broken(*_args):
        raise RuntimeError("the DOCX library failed")

    monkeypatch.setattr(submission, "to_docx", broken)
    at = app_test(case=case_id, view="export").run()
    assert not at.exception, at.exception
    for label in ("Word (DOCX)", "Markdown", "PDF"):  # each file is prepared when asked for
        at = next(b for b in at.button if b.label == f"Prepare {label}").click().run()
        assert not at.exception, at.exception
    assert any("Word (DOCX)" in e.value and "could not be made" in e.value for e in at.error)
    held = {fmt: at.session_state[f"memo:export:{fmt}:{case_id}"][1] for fmt in ("docx", "md", "pdf")}
    assert isinstance(held["docx"], str)
    assert held["md"].decode().count("Raison Sociale Très Longue") >= 12 and held["pdf"][:5] == b"%PDF-"
    assert len(at.get("download_button")) == 2


IFU = ("Notice d'utilisation - Valvix TMV-28\n\nDispositif stérile, stérilisé à l'oxyde d'éthylène. "
       "Durée de validité : 24 mois.\nConserver entre 5 et 25 °C.")


def _contradicted_case(svc, actor, make_pdf) -> str:
    """A case whose shelf life (18 months) contradicts its IFU (24) and whose certificate number is "n/a"."""
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    answer_all(svc, case_id, actor, {"shelf_life": "18 mois", "previous_certificate_number": "n/a"})
    svc.attach(case_id, make_pdf([IFU], "notice.pdf"), actor, kind="ifu_labelling")
    return case_id


def _page_texts(at) -> list[str]:
    """Every word the page shows: text, labels, buttons, captions, alerts."""
    out = [m.value for m in at.markdown] + [c.value for c in at.caption]
    out += [e.value for kind in ("error", "warning", "success", "info") for e in at.get(kind)]
    out += [b.label for b in at.button] + [r.label for r in at.radio] + [x.label for x in at.get("expander")]
    out += [p.proto.popover.label for p in at.get("popover")] + [ta.label for ta in at.text_area]
    return out


def test_the_export_page_speaks_french_and_accepts_a_contradiction_with_a_reason(app_test, svc, actor, make_pdf):
    from assistant import words

    case_id = _contradicted_case(svc, actor, make_pdf)
    at = app_test(case=case_id, view="export", lang="fr").run()
    assert not at.exception, at.exception
    texts = _page_texts(at)
    # the contradiction shows both values and both sources
    sides = next(t for t in texts if t.startswith("Les deux valeurs et leurs sources")).replace("\\", "")
    assert "« 18 mois » — réponse « durée de validité" in sides and "« 24 mois » — notice.pdf, p. 1" in sides
    # no English word of this page's catalogue on the French page
    english = {e["en"] for k, e in words.load().items() if k.startswith("exp_") and e["en"] != e["fr"]}
    english = {e.split("{}")[0].strip() for e in english if len(e.split("{}")[0].strip()) > 4}
    leaked = [(e, t) for t in texts for e in english if e in t]
    assert not leaked, leaked

    # accept the difference, with a reason: the same waiver the CLI records, on the rule's id
    at = at.text_area(key=f"waive-reason:{case_id}:document_shelf_life").input(
        "Le lot livré suit l'ancienne spécification de 18 mois").run()
    at = at.button(key="waive:document_shelf_life").click().run()
    assert not at.exception, at.exception
    waiver = svc.case(case_id).waivers["document_shelf_life"]
    assert "ancienne spécification" in waiver.reason and waiver.by == "tester"
    assert any("Écart accepté sur « Durée de validité : réponse et pièce »" in s.value for s in at.success)
    shelf = next(f for f in svc.check(case_id) if f.rule == "document_shelf_life")
    assert shelf.waived and not shelf.blocks
    assert any(m.value.replace("\\", "").startswith("Durée de validité : réponse et pièce: Le lot livré")
               for m in at.markdown)


def test_a_non_fact_is_left_unanswered_with_a_reason_and_a_short_reason_is_refused(app_test, svc, actor, make_pdf):
    case_id = _contradicted_case(svc, actor, make_pdf)
    at = app_test(case=case_id, view="export").run()
    assert any('"n/a" for' in m.value for m in at.markdown)  # the non-fact, named with its question
    field = at.text_area(key=f"waive-reason:{case_id}:previous_certificate_number")
    at = field.input("perdu").run()
    at = at.button(key="waive:previous_certificate_number").click().run()
    assert any("a waiver needs a reason" in e.value for e in at.error)  # refused: nothing recorded, text kept
    assert "previous_certificate_number" not in svc.case(case_id).waivers
    assert at.text_area(key=field.key).value == "perdu"
    at = at.text_area(key=field.key).input("Le certificat d'origine a été perdu lors du déménagement du site").run()
    at = at.button(key="waive:previous_certificate_number").click().run()
    assert "perdu lors du déménagement" in svc.case(case_id).waivers["previous_certificate_number"].reason
    assert not any(f.kind == "non_fact" and f.blocks for f in svc.check(case_id))


def test_the_review_pack_downloads_while_blockers_remain(app_test, svc, actor, make_pdf):
    import io

    import docx

    case_id = _contradicted_case(svc, actor, make_pdf)
    at = app_test(case=case_id, view="export").run()
    assert any(e.value.startswith("The downloads are available once") for e in at.caption)
    labels = [b.label for b in at.button]
    assert "Prepare Word (DOCX)" not in labels  # the submission waits for the blockers
    for fmt in ("Word (DOCX)", "Markdown"):
        at = at.button(key="prepare:review:" + ("docx" if fmt.startswith("Word") else "md")).click().run()
        assert not at.exception, at.exception
    held = {fmt: at.session_state[f"memo:export:review:{fmt}:{case_id}"][1] for fmt in ("docx", "md")}
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(held["docx"])).paragraphs)
    assert "Document de travail interne" in text and "24 mois" in held["md"].decode()  # the case is French
    assert {d.label for d in at.get("download_button")} >= {"Review pack, Word (DOCX)", "Review pack, Markdown"}
