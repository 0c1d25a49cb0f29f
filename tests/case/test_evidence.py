import json

import pytest
from conftest import SHARED

from assistant.case.evidence import EvidenceError, read_pdf
from assistant.service import ServiceError


def test_attach_stores_the_file_by_hash_with_pages_and_provenance(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    pdf = make_pdf(["Certificate No. CM-734215", "Valid until: 26/05/2024"], "../../évil name.pdf")
    result = svc.attach(case.id, pdf, actor, kind="previous_ce_certificate")
    f = result.file
    stored = svc.store.folder(case.id) / f.stored_as
    assert stored.read_bytes() == pdf.read_bytes()
    assert stored.name == f"{f.sha256}.pdf"  # never a name the user chose
    assert f.filename == "évil name.pdf" and (f.pages, f.text_pages) == (2, 2)
    assert (f.added_by, f.role) == ("tester", "manufacturer")
    assert svc.case(case.id).evidence_of_kind("previous_ce_certificate") == [f]


def test_the_kind_is_guessed_from_the_content_when_not_given(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    pdf = make_pdf(["EC DESIGN-EXAMINATION CERTIFICATE issued by the notified body. Valid until 2024."], "scan0001.pdf")
    result = svc.attach(case.id, pdf, actor)
    assert result.guessed_kind and result.file.kind == "previous_ce_certificate"


@pytest.mark.parametrize(
    ("maker", "message"),
    [
        ("encrypted", "password-protected"),
        ("not_pdf", "not a PDF"),
        ("truncated", "damaged"),
        ("empty", "empty"),
        ("missing", "no such file"),
    ],
)
def test_unusable_files_are_refused_clearly_and_the_case_is_untouched(svc, actor, make_pdf, encrypted_pdf, tmp_path, maker, message):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    good = make_pdf(["A real page of text"] * 3, "good.pdf")
    paths = {
        "encrypted": encrypted_pdf,
        "not_pdf": tmp_path / "letter.pdf",
        "truncated": tmp_path / "truncated.pdf",
        "empty": tmp_path / "empty.pdf",
        "missing": tmp_path / "nowhere.pdf",
    }
    paths["not_pdf"].write_text("Dear ANSM, this is a Word document renamed to .pdf")
    paths["truncated"].write_bytes(b"%PDF-1.7\n" + good.read_bytes()[9:200])
    paths["empty"].write_bytes(b"")
    with pytest.raises(ServiceError, match=message) as err:
        svc.attach(case.id, paths[maker], actor, kind="clinical_data")
    assert "\n" not in str(err.value)
    assert svc.case(case.id).version == case.version
    assert not (svc.store.folder(case.id) / "files").exists() or not list((svc.store.folder(case.id) / "files").glob("*.pdf"))


def test_a_scanned_pdf_is_attached_with_a_warning_in_the_cases_language_or_the_one_asked(svc, actor, image_only_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    result = svc.attach(case.id, image_only_pdf, actor, kind="clinician_letter")
    assert result.file.text_pages == 0
    assert "aucune couche de texte (document numérisé ?)" in result.warnings[0]  # an ANSM case is French
    again = svc.attach(case.id, image_only_pdf, actor, kind="clinical_data", lang="en")
    assert "no text layer" in again.warnings[0]
    assert any(f.kind == "no_text_layer" for f in svc.check(case.id))


@pytest.mark.skipif(not (SHARED / "reference" / "pdfs" / "files.json").exists(), reason="shared reference PDFs absent")
def test_real_world_pdfs_either_yield_text_by_page_or_a_clear_message():
    folder = SHARED / "reference" / "pdfs"
    listing = json.loads((folder / "files.json").read_text())["data"]
    outcomes = {"text": 0, "refused": 0}
    for item in listing:
        path = folder / item["path"]
        if not path.exists():
            continue
        try:
            _, pdf = read_pdf(path)
        except EvidenceError as exc:
            assert str(exc).startswith(path.name) and "\n" not in str(exc)
            outcomes["refused"] += 1
            continue
        assert len(pdf.pages) == item["pages"] or item["pages"] in (None, 0)
        outcomes["text"] += 1
    assert outcomes["text"] >= 20
