import os
import re
from pathlib import Path

import pytest
from docx import Document
from helpers import answer_all, attach_all_mandatory

from assistant.drafting.model import Citation, Paragraph, Span
from assistant.service import ExportBlocked


def docx_text(path):
    doc = Document(str(path))
    paragraphs = [p.text for p in doc.paragraphs]
    tables = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    return doc, paragraphs, tables


def test_export_is_refused_while_blockers_remain(svc, actor, tmp_path):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    with pytest.raises(ExportBlocked) as err:
        svc.export(case.id, "docx", tmp_path / "out.docx")
    assert any(f.question_id == "applicant_name" for f in err.value.blockers)
    assert not (tmp_path / "out.docx").exists()


def test_docx_has_cover_sections_in_order_provisions_exhibits_and_exceptions(svc, actor, make_pdf, tmp_path):
    case = svc.new_case("ansm", "global", "OsteoRod Junior", actor)
    answer_all(svc, case.id, actor, {"applicant_name": "Fixomed SAS", "patients_minors": "yes"})
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    svc.waive(case.id, "ifu_labelling", "French IFU under translation, delivered before first use", actor)
    out = tmp_path / "request.docx"
    svc.export(case.id, "docx", out)
    doc, paragraphs, tables = docx_text(out)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == [
        "1. Identification de la demande",
        "2. Justification du besoin et de l'intérêt pour les patients",
        "3. Impossibilité d'inclure les patients dans une investigation clinique",
    ]
    assert "10. Bilan des dérogations déjà accordées" in headings
    assert headings[-3:] == ["Textes et lignes directrices cités", "Liste des pièces annexées",
                             "Éléments non fournis et justification"]
    assert ["Demandeur", "Fixomed SAS"] in tables and ["Type de demande", "globale (ensemble de patients répondant à des critères définis)"] in tables
    exhibits = {row[1]: row[0] for row in tables if row[0].startswith("Pièce ")}
    assert exhibits["Bilan des dérogations déjà accordées"].startswith("Pièce ")
    body = "\n".join(paragraphs)
    assert "Notice d'utilisation et étiquetage (en français) : French IFU under translation" in body
    assert "RDM art. 59(2)" in body and f"{exhibits['Bilan des dérogations déjà accordées']} – Bilan des dérogations" in body
    # the optional written-agreement date was answered by answer_all, so no placeholder remains
    assert "À COMPLÉTER" not in body


def test_a_second_export_of_an_unchanged_case_gives_identical_text(svc, actor, make_pdf, tmp_path):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor)
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    svc.export(case.id, "md", tmp_path / "a.md")
    svc.export(case.id, "md", tmp_path / "b.md")
    assert (tmp_path / "a.md").read_text() == (tmp_path / "b.md").read_text()
    svc.export(case.id, "docx", tmp_path / "a.docx")
    svc.export(case.id, "docx", tmp_path / "b.docx")
    assert docx_text(tmp_path / "a.docx")[1:] == docx_text(tmp_path / "b.docx")[1:]


def test_markup_in_answers_is_escaped_in_markdown_and_literal_in_docx(svc, actor, make_pdf, tmp_path):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor, {"applicant_name": "<script>alert(1)</script> **Bold** [x](http://evil)"})
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    svc.export(case.id, "md", tmp_path / "x.md")
    md = (tmp_path / "x.md").read_text()
    assert "<script>" not in md and "\\<script\\>" in md and "\\*\\*Bold\\*\\*" in md
    svc.export(case.id, "docx", tmp_path / "x.docx")
    assert any("<script>alert(1)</script> **Bold**" in p for p in docx_text(tmp_path / "x.docx")[1])


def test_provisions_are_note_numbers_and_documents_exhibits_with_no_bracket(svc, actor, make_pdf, tmp_path):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor)
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    svc.export(case.id, "docx", tmp_path / "r.docx")
    doc = Document(tmp_path / "r.docx")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "[" not in text and "  " not in text and " ." not in text
    notes = [r.text for p in doc.paragraphs for r in p.runs if r.font.superscript]
    assert notes[:2] == ["1", "2"]  # "… règlement (UE) 2017/745¹ et … code de la santé publique²"
    assert "2017/745 et de l'article" not in text and "2017/7451" in text.replace("\u00b9", "1")
    svc.export(case.id, "pdf", tmp_path / "r.pdf")
    from pypdf import PdfReader

    pdf_text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages)
    assert "RDM art. 59(1)" in pdf_text and "2017/745¹" in pdf_text and "[" not in pdf_text


# -- the span walker (assistant/drafting/spans.py) must not change a byte of any export -------------
GOLDEN = Path(__file__).parent / "golden" / "request_individual_fr.md"


def _stable(markdown: str) -> str:
    """The export without what changes from run to run: the case id, today's date, file hashes."""
    markdown = re.sub(r"ansm-\d{8}-[0-9a-f]{6}", "CASE-ID", markdown)
    markdown = re.sub(r"sha256 [0-9a-f]{12}", "sha256 HASH", markdown)
    return re.sub(r"(\*\*Date\*\* : ).*", r"\1DATE", markdown)


def test_the_markdown_export_of_a_case_is_the_recorded_one(svc, actor, make_pdf, tmp_path):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor, {"applicant_name": "Valvix (SAS) « Lyon »"})
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    svc.export(case.id, "md", tmp_path / "r.md")
    if os.environ.get("UPDATE_GOLDEN") == "1":  # after a deliberate change of the wording: review the diff
        GOLDEN.write_text(_stable((tmp_path / "r.md").read_text()))
    assert _stable((tmp_path / "r.md").read_text()) == GOLDEN.read_text()


CITATIONS = {
    "linked": Citation(id="linked", kind="provision", label="RDM art. 59(1)", url="https://eur-lex.europa.eu/x"),
    "plain": Citation(id="plain", kind="answer", label="Réponse : a.b", source="b", text="v"),
}
EVERY_NEIGHBOUR = Paragraph(spans=[
    Span(kind="cite", ref="plain"), Span(kind="text", text="Voir"), Span(kind="cite", ref="linked"),
    Span(kind="cite", ref="plain"), Span(kind="text", text=" puis ("), Span(kind="cite", ref="plain"),
    Span(kind="text", text=") et "), Span(kind="placeholder", ref="q", text="À COMPLÉTER : q"),
    Span(kind="placeholder", ref="r", text="À COMPLÉTER : r"), Span(kind="text", text=" « "),
    Span(kind="cite", ref="linked"), Span(kind="text", text="«"), Span(kind="placeholder", ref="q", text="x"),
    Span(kind="text", text="12\u00a0"), Span(kind="cite", ref="plain"), Span(kind="text", text="."),
])


def test_one_space_before_a_bracket_in_every_format_unless_the_text_already_ends_so():
    from docx import Document as NewDocument

    from assistant.documents.pdf import Run
    from assistant.documents.request import _docx_paragraph, _pdf_runs, paragraph_markdown

    assert paragraph_markdown(EVERY_NEIGHBOUR, CITATIONS) == (
        "\\[Réponse : a.b\\]Voir [RDM art. 59(1)](https://eur-lex.europa.eu/x) \\[Réponse : a.b\\] puis ("
        "\\[Réponse : a.b\\]) et **\\[À COMPLÉTER : q\\]** **\\[À COMPLÉTER : r\\]** « "
        "[RDM art. 59(1)](https://eur-lex.europa.eu/x)«**\\[x\\]**12\u00a0\\[Réponse : a.b\\]."
    )
    doc = NewDocument()
    _docx_paragraph(doc, EVERY_NEIGHBOUR, CITATIONS)
    assert doc.paragraphs[-1].text == (
        "[Réponse : a.b]Voir [RDM art. 59(1)] [Réponse : a.b] puis ([Réponse : a.b]) et [À COMPLÉTER : q] "
        "[À COMPLÉTER : r] « [RDM art. 59(1)]«[x]12\u00a0[Réponse : a.b]."
    )
    runs = _pdf_runs(EVERY_NEIGHBOUR, CITATIONS)
    assert [r.text for r in runs] == [
        "[", "Réponse : a.b", "]", "Voir", " [", "RDM art. 59(1)", "]", " [", "Réponse : a.b", "]", " puis (", "[",
        "Réponse : a.b", "]", ") et ", "[À COMPLÉTER : q]", " [À COMPLÉTER : r]", " « ", "[", "RDM art. 59(1)", "]",
        "«", "[x]", "12\u00a0", "[", "Réponse : a.b", "]", ".",
    ]
    assert [r for r in runs if r.link or r.italic or r.mark] == [
        Run("Réponse : a.b", italic=True), Run("RDM art. 59(1)", link="https://eur-lex.europa.eu/x"),
        Run("Réponse : a.b", italic=True), Run("Réponse : a.b", italic=True),
        Run("[À COMPLÉTER : q]", mark=True), Run(" [À COMPLÉTER : r]", mark=True),
        Run("RDM art. 59(1)", link="https://eur-lex.europa.eu/x"), Run("[x]", mark=True),
        Run("Réponse : a.b", italic=True),
    ]


def test_the_source_form_and_the_evaluation_read_the_same_spaces_as_the_exports():
    from assistant.documents.request import _pdf_runs
    from assistant.drafting.model import SectionDraft
    from assistant.drafting.revisions import to_source
    from assistant.evaluation import paragraph_text

    section = SectionDraft(section_id="s", number=1, title="S", paragraphs=[EVERY_NEIGHBOUR], citations=CITATIONS,
                           placeholders=[], evidence=[], used_answers=[], used_evidence=[], used_provisions=[],
                           fingerprint="f")

    def brackets_emptied(text: str) -> str:
        return re.sub(r"\[[^\]]*\]", "[]", text)

    exported = brackets_emptied("".join(r.text for r in _pdf_runs(EVERY_NEIGHBOUR, CITATIONS)))
    assert exported == "[]Voir [] [] puis ([]) et [] [] « []«[]12\u00a0[]."
    assert brackets_emptied(to_source(section)) == exported
    assert brackets_emptied(paragraph_text(EVERY_NEIGHBOUR, section)) == exported
