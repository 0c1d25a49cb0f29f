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
