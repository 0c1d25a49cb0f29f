"""The submission an assessor receives, read back from the DOCX (python-docx) and the PDF (pypdf): the
demo's two cases (examples/*/build.sh and complete.sh, replayed through the Service), in French and
English; and the review pack that keeps the traceability the submission leaves out."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from docx import Document

from assistant.documents import inspect
from assistant.service import Actor, ExportBlocked

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONSULTANT = Actor(name="j.durand (consultant)", role="consultant")


def replay(svc, which: str, evidence: Path) -> str:
    """Build the demo case `which` as examples/<which>/build.sh then complete.sh do, line by line."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_evidence
    finally:
        sys.path.pop(0)
    make_evidence.main(evidence)
    manufacturer = Actor(name="demo (manufacturer)", role="manufacturer")
    case_id = ""
    for script in ("build.sh", "complete.sh"):
        for line in (EXAMPLES / which / script).read_text(encoding="utf-8").splitlines():
            words = shlex.split(line.replace("$EVIDENCE", str(evidence)).replace(">/dev/null", ""), comments=True)
            if words[:1] == ["CASE=$($D"]:
                device = words[words.index("--device") + 1].rstrip(")")
                case_id = svc.new_case("ansm", words[words.index("--type") + 1], device, manufacturer).id
            elif words[:1] == ["a"] and len(words) >= 3:
                svc.answer(case_id, words[1], " ".join(words[2:]), manufacturer)
            elif "attach" in words:
                kind = words[words.index("--kind") + 1] if "--kind" in words else None
                svc.attach(case_id, Path(words[words.index("attach") + 2]), manufacturer, kind=kind)
            elif "approve" in words:
                svc.approve(case_id, words[words.index("approve") + 2], CONSULTANT)
            elif "waive" in words:
                svc.waive(case_id, words[words.index("waive") + 2], words[words.index("--reason") + 1], manufacturer)
    return case_id


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The two demo cases and their submissions (FR, EN; DOCX, PDF) and review packs, written once."""
    import os

    from assistant.case.store import CaseStore
    from assistant.service import Service

    root = tmp_path_factory.mktemp("demo")
    old = os.environ.get("DEROGATION_RETRIEVAL")
    os.environ["DEROGATION_RETRIEVAL"] = "off"
    try:
        svc = Service(CaseStore(root / "home"))
        out = {}
        for which in ("individual", "global"):
            case_id = replay(svc, which, root / "evidence")
            files = {}
            for lang in ("fr", "en"):
                for fmt in ("docx", "pdf", "md"):
                    path = root / f"{which}.{lang}.{fmt}"
                    svc.export(case_id, fmt, path, lang)
                    files[lang, fmt] = path
            for fmt in ("docx", "md"):
                files["review", fmt] = root / f"{which}.review.{fmt}"
                svc.export(case_id, fmt, files["review", fmt], "fr", pack="review")
            out[which] = (svc, case_id, files)
        yield out
    finally:
        if old is None:
            os.environ.pop("DEROGATION_RETRIEVAL", None)
        else:
            os.environ["DEROGATION_RETRIEVAL"] = old


CASES = [(w, lang) for w in ("individual", "global") for lang in ("fr", "en")]


@pytest.mark.parametrize(("which", "lang"), CASES)
def test_the_submission_carries_no_internal_markup_and_is_mostly_the_request(demo, which, lang):
    _svc, case_id, files = demo[which]
    reading = inspect.read_docx(files[lang, "docx"])
    pdf_text, blank_pages = inspect.read_pdf(files[lang, "pdf"])
    assert inspect.markup_in(reading.text) == [] and inspect.markup_in(pdf_text) == []
    assert blank_pages == 0
    assert reading.section_share >= 0.75, reading.section_share
    # read independently of the checker: what issue 11 found in every export is gone
    for text in (reading.text, pdf_text):
        text = re.sub(r"https?://\S+", " ", text)  # an official URL may end in .pdf
        for leaked in ("[Réponse", "[Answer", "**", "sha256", ".pdf", case_id, "notified_body_correspondence",
                       "Sources consultées", "Sources consulted"):
            assert leaked not in text, leaked
    assert "Pièce 1" in reading.text if lang == "fr" else "Exhibit 1" in reading.text


def test_the_checker_finds_each_kind_of_markup_issue_11_found():
    leaked = ("Nom [Réponse : identification.applicant_name] **gras** - puce\nnotified_body_correspondence "
              "document:3f2a9c1b document 3f2a9c1b0d4e5f60 ansm-20261130-7788ad certificat.pdf Sources consultées")
    kinds = {m.split(":")[0] for m in inspect.markup_in(leaked)}
    assert kinds == {"answer tag", "Markdown emphasis", "internal id", "document source", "hash", "case id",
                     "file name or path", "retrieved note"}
    assert inspect.markup_in("Voir https://www.legifrance.gouv.fr/codes/texte_lc/LEGITEXT000006072665.") == []


def _docx(path: Path):
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return doc, headings, tables


def test_the_individual_submission_reads_as_filed(demo):
    _svc, _case_id, files = demo["individual"]
    doc, headings, tables = _docx(files["fr", "docx"])
    assert headings[:3] == ["1. Identification de la demande", "2. Justification du besoin et de l'intérêt pour le patient",
                             "3. Impossibilité d'inclure le patient dans une investigation clinique"]
    assert headings[-3:] == ["Textes et lignes directrices cités", "Liste des pièces annexées",
                             "Éléments non fournis et justification"]
    body = "\n".join(p.text for p in doc.paragraphs)
    # one patient: no "du ou des patients"; the signed certificate is "signée par"; no IVD article
    assert "du ou des patients" not in body and "le ou les patients" not in body
    assert "est signée par Claire Roussel" in body
    assert "L. 5221-3" not in body and "59(3)" not in body and "2020/C 171" not in body
    # documents cited as exhibits, with the page
    assert "certificat CE n° CM-734215 (Pièce " in body and re.search(r"\(Pièce \d+, p\. 1\)", body)
    # the provisions actually cited: title, reference, official URL
    assert any("RDM art. 59(1) — Dérogation aux procédures d'évaluation de la conformité — https://eur-lex.europa.eu"
               in p.text for p in doc.paragraphs)
    exhibits = next(t for t in tables if t[0] == ["Pièce", "Intitulé", "Date", "Signataire"])
    rows = {row[1]: row for row in exhibits[1:]}
    assert rows["Attestation certifiant que toutes les précautions nécessaires ont été prises"][2:] == [
        "5 novembre 2026", "Claire Roussel, directrice qualité et affaires réglementaires"]
    assert rows["Lettre du médecin demandeur (urgence et justification médicale)"][2:] == [
        "12 novembre 2026", "Dr A. Martel, RPPS 10001234567 (fictif)"]
    assert [row[0] for row in exhibits[1:]] == [f"Pièce {n}" for n in range(1, len(exhibits))]


def test_the_global_submission_shows_the_exception_and_the_parental_consent(demo):
    _svc, _case_id, files = demo["global"]
    doc, headings, _tables = _docx(files["fr", "docx"])
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "2. Justification du besoin et de l'intérêt pour les patients" in headings
    assert "titulaires de l'autorité parentale" in body
    assert "Attestation certifiant que toutes les précautions nécessaires ont été prises : Attestation signée par le responsable" in body
    # the certificate was waived, not attached: the text never says it "est signée"
    assert "est signée par" not in body and "sera signée par Paul Nguyen" in body


@pytest.mark.parametrize("which", ["individual", "global"])
def test_the_english_submission_says_the_same_as_the_french_one(demo, which):
    _svc, _case_id, files = demo[which]
    fr_doc, fr_headings, fr_tables = _docx(files["fr", "docx"])
    en_doc, en_headings, en_tables = _docx(files["en", "docx"])
    numbered = lambda hs: [h.split(".")[0] for h in hs if re.match(r"\d+\. ", h)]  # noqa: E731
    assert numbered(fr_headings) == numbered(en_headings) and len(numbered(fr_headings)) >= 9
    # the same exhibits, numbered alike, dated alike; the same provisions cited
    assert [r[0].split()[-1] for r in fr_tables[-1][1:]] == [r[0].split()[-1] for r in en_tables[-1][1:]]
    cited = lambda doc: [p.text.split(" — ")[-1] for p in doc.paragraphs  # noqa: E731
                         if not p.style.name.startswith("Heading") and re.match(r"\d+\. ", p.text)]
    assert cited(fr_doc) == cited(en_doc) and cited(fr_doc)
    en_body = "\n".join(p.text for p in en_doc.paragraphs)
    assert "quoted in their original language" in en_body and "“" in en_body


def test_the_review_pack_keeps_every_source_the_waivers_and_the_hashes(demo):
    svc, case_id, files = demo["global"]
    case = svc.case(case_id)
    doc, headings, tables = _docx(files["review", "docx"])
    assert {"Traçabilité des phrases", "Points ouverts du contrôle", "Exceptions (qui, quand, pourquoi)",
            "Pièces et empreintes"} <= set(headings)
    trace = next(t for t in tables if t[0] == ["Section", "Phrase", "Sources"])
    sources = "\n".join(row[2] for row in trace[1:])
    assert "réponse « raison sociale du fabricant » : Fixomed SAS" in sources
    assert re.search(r"Pièce \d+ \([\w\-]+\.pdf\), p\. 1 : « ", sources)
    assert all(row[2] for row in trace[1:])
    waivers = next(t for t in tables if t[0] == ["Objet", "Motif", "Par", "Date"])
    assert any("Attestation signée par le responsable" in row[1] and row[2] for row in waivers[1:])
    hashes = "\n".join(row[-1] for row in tables[-1][1:])
    assert all(ev.sha256 in hashes for ev in case.evidence)
    md = files["review", "md"].read_text(encoding="utf-8")
    assert "Traçabilité des phrases" in md and case.evidence[0].sha256 in md


def test_a_case_answered_na_cannot_be_exported_with_those_words_as_facts(svc, actor, make_pdf, tmp_path):
    from helpers import answer_all, attach_all_mandatory

    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor, {"vigilance_contact": "n/a", "sterility": "oui", "ci_status": "voir dossier"})
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    with pytest.raises(ExportBlocked) as refused:
        svc.export(case.id, "docx", tmp_path / "s.docx")
    assert {f.question_id for f in refused.value.blockers if f.kind == "non_fact"} == {
        "vigilance_contact", "sterility", "ci_status"}
    # the review pack is written while blockers remain, and names them
    svc.export(case.id, "md", tmp_path / "r.md", pack="review")
    review = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "n'est pas un fait" in review and "Correspondant de matériovigilance : n/a" not in review
    for target in ("vigilance_contact", "sterility", "ci_status"):
        svc.waive(case.id, target, "Information transmise séparément à l'évaluateur", actor)
    svc.export(case.id, "docx", tmp_path / "s.docx")
    text = inspect.read_docx(tmp_path / "s.docx").text
    assert "Stérilité : oui" not in text and "Correspondant de matériovigilance : n/a" not in text
    assert "NON FOURNI : correspondant de matériovigilance (réactovigilance pour un DMDIV) du fabricant — exception : Information transmise" in text


def test_the_review_pack_is_docx_or_markdown_only(svc, actor, tmp_path):
    from assistant.service import ServiceError

    case = svc.new_case("ansm", "individual", "Valve", actor)
    with pytest.raises(ServiceError, match="review pack is written as DOCX or Markdown"):
        svc.export(case.id, "pdf", tmp_path / "r.pdf", pack="review")


def test_the_cli_writes_the_review_pack_while_the_submission_is_refused(in_process, tmp_path):
    case_id = in_process("new", "--type", "individual", "--device", "Valve", check=True).stdout.strip()
    in_process("answer", case_id, "vigilance_contact", "n/a", check=True)
    refused = in_process("export", case_id, "--format", "docx", "--out", str(tmp_path / "s.docx"))
    assert refused.returncode == 3 and not (tmp_path / "s.docx").exists()
    done = in_process("export", case_id, "--pack", "review", "--format", "md", "--out", str(tmp_path / "r.md"))
    assert done.returncode == 0, done.stderr
    review = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "Dossier de revue" in review and "« n/a »" in review


def test_a_cited_notes_markdown_is_not_printed_in_the_references(demo, tmp_path):
    from assistant.case.model import Citation
    from assistant.documents.request import to_docx, to_markdown, to_pdf

    svc, case_id, _files = demo["individual"]
    case = svc.case(case_id)
    draft = svc.draft(case_id, use_llm=False)
    section = draft.sections[0]
    section.citations["p-note"] = Citation(  # a project note's passage, as retrieval cites it
        id="p-note", kind="passage", label="ANSM — procedure", url="https://ansm.sante.fr/",
        text="**Channel.** Since **27 January 2025**, requests use an `online` form:\n- one\n- two")
    reference = "Channel. Since 27 January 2025, requests use an online form: one two"
    md = to_markdown(svc.profile(case), case, draft)
    assert f"ANSM — procedure — {reference}" in md.replace("\\", "")
    to_docx(svc.profile(case), case, draft, tmp_path / "r.docx")
    doc, _headings, _tables = _docx(tmp_path / "r.docx")
    assert any(p.text.endswith(f"— {reference}") for p in doc.paragraphs)
    to_pdf(svc.profile(case), case, draft, tmp_path / "r.pdf")
    from pypdf import PdfReader

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(str(tmp_path / "r.pdf")).pages).split())
    assert reference in text and "**" not in text


def test_the_review_pack_lists_the_passages_consulted_as_sources_not_as_bare_separators(
        home, with_notes, actor, make_pdf, tmp_path):
    """With retrieval on, each section lists the passages it consulted; in the review pack's trace
    that sentence read "Sources consultées : ; ; ; ; ;." once the links were taken out."""
    from helpers import answer_all, attach_all_mandatory

    from assistant.case.store import CaseStore
    from assistant.service import Service

    with_notes(home)
    svc = Service(CaseStore(home), knowledge="auto")
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor)
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    svc.export(case.id, "docx", tmp_path / "r.docx", "fr", pack="review")
    trace = next(t for t in _docx(tmp_path / "r.docx")[2] if t[0] == ["Section", "Phrase", "Sources"])
    assert not [row[1] for row in trace[1:] if re.search(r"[;:]\s*;|:\s*\.$", row[1])]
    listed = [row for row in trace[1:] if row[1] == "Sources consultées"]
    assert listed and all("note :" in row[2] for row in listed)
