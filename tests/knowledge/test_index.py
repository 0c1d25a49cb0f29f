"""Retrieval with the real default embedder, a real Chroma store on a temp dir, and PDFs the
tests render themselves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SHARED

from assistant.documents.pdf import text_pdf
from assistant.errors import EmbeddingMismatch
from assistant.knowledge.index import KnowledgeBase
from assistant.knowledge.sources import NOTES_DIR

REGULATION_PDF = [
    "Regulation (EU) 2017/745 of the European Parliament and of the Council on medical devices.\n\n"
    "This rendering was made by the test suite.",
    "Article 59\n\nDerogation from the conformity assessment procedures\n\n"
    "1. By way of derogation from Article 52, a competent authority may, on a duly justified request, "
    "authorise the placing on the market of a specific device that has not undergone the conformity "
    "assessment procedures, where its use is in the interest of public health or patient safety.\n\n"
    "2. The Member State informs the Commission and the other Member States of any such authorisation "
    "granted for use other than for a single patient.",
    "Article 87\n\nReporting of serious incidents\n\n"
    "1. Manufacturers shall report any serious incident involving devices made available on the Union market.",
]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    import os

    from assistant.knowledge.embeddings.factory import load_embedder

    cache = os.environ.get("DEROGATION_MODELS") or str(tmp_path_factory.mktemp("models"))
    return load_embedder("e5-small", __import__("pathlib").Path(cache))


@pytest.fixture
def kb(tmp_path, embedder):
    return KnowledgeBase(tmp_path / "home", embedder=embedder)


@pytest.fixture
def kb_with_notes(tmp_path, embedder, with_notes):
    """The same, with the shipped notes already embedded (a copy of the session's index): what a
    first search or draft leaves in a new home, without embedding them again in every test."""
    return KnowledgeBase(with_notes(tmp_path / "home"), embedder=embedder)


def test_a_rendered_pdf_is_found_by_a_french_query_with_its_page(kb, tmp_path):
    pdf = text_pdf(REGULATION_PDF, tmp_path / "texts" / "mdr-extract.pdf")
    report = kb.add([pdf])
    assert report.added > 0 and not report.problems
    hits = kb.search("une autorité peut-elle autoriser un dispositif qui n'a pas suivi l'évaluation de la conformité ?", k=3)
    assert hits[0].citation == "MDR Art. 59(1) (p. 2)"
    assert (hits[0].page, hits[0].article, hits[0].paragraph, hits[0].instrument) == (2, "59", "1", "MDR")
    assert "duly justified request" in hits[0].text


def test_reingest_is_idempotent_and_a_deleted_file_loses_its_chunks(kb, tmp_path):
    folder = tmp_path / "texts"
    text_pdf(REGULATION_PDF, folder / "a.pdf")
    (folder / "b.md").write_text("# Article 97\n\n1. Where a competent authority finds a device non-compliant...\n", encoding="utf-8")
    first = kb.add([folder])
    total = sum(c for _, c in kb.sources())
    again = kb.add([folder])
    assert (again.added, again.deleted) == (0, 0) and again.skipped == first.added
    assert sum(c for _, c in kb.sources()) == total
    # a changed file: only its chunks are re-embedded
    (folder / "b.md").write_text("# Article 97\n\n1. Where a competent authority finds a device non-compliant, it acts.\n", encoding="utf-8")
    changed = kb.add([folder])
    assert changed.added == 1 and changed.deleted == 1
    (folder / "b.md").unlink()
    gone = kb.add([folder])
    assert gone.deleted == 1
    assert not any(s.endswith("b.md") for s, _ in kb.sources())
    assert all(h.article != "97" for h in kb.search("non-compliant device competent authority", k=5))


def test_unusable_pdfs_get_a_clear_message_and_leave_the_store_intact(kb, tmp_path, encrypted_pdf, image_only_pdf):
    good = text_pdf(REGULATION_PDF, tmp_path / "texts" / "good.pdf")
    kb.add([good])
    before = kb.sources()
    corrupt = tmp_path / "texts" / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + good.read_bytes()[9:300])
    report = kb.add([corrupt, encrypted_pdf, image_only_pdf])
    messages = " | ".join(report.problems)
    assert "corrupt.pdf: the PDF is damaged" in messages
    assert "encrypted.pdf: the PDF is password-protected" in messages
    assert "scan.pdf: no text layer" in messages
    assert report.added == 0 and kb.sources() == before
    assert kb.search("Article 59 derogation", k=1)[0].article == "59"


def test_a_case_never_sees_another_cases_documents(kb):
    from assistant.knowledge.sources import SourceChunk

    def chunk(case_id: str, text: str) -> SourceChunk:
        meta = {"source": f"evidence:{case_id}", "case_id": case_id, "citation": f"Doc {case_id} (p. 1)",
                "page": 1, "kind": "evidence", "language": "fr", "instrument": "", "article": "", "paragraph": "", "url": ""}
        return SourceChunk(text, meta)

    kb.sync_case("case-a", [chunk("case-a", "Certificat CE n° CM-111 de la valve Alpha, organisme notifié 9876")])
    kb.sync_case("case-b", [chunk("case-b", "Certificat CE n° CM-222 de la valve Beta, organisme notifié 1234")])
    hits_a = kb.search("certificat CE de la valve", k=10, case_id="case-a", include_corpus=False)
    assert [h.case_id for h in hits_a] == ["case-a"]
    assert "CM-222" not in " ".join(h.text for h in hits_a)
    kb.sync_case("case-a", [])  # the document was removed from the case
    assert kb.search("certificat CE", k=10, case_id="case-a", include_corpus=False) == []


def test_vectors_from_another_embedding_model_are_refused(kb, tmp_path):
    kb.add([text_pdf(REGULATION_PDF, tmp_path / "texts" / "a.pdf")])

    class OtherModel:
        model_id = "some-other-model@1"
        dimension = 384

        def embed_documents(self, texts):
            return [[1.0] + [0.0] * 383 for _ in texts]

        def embed_query(self, text):
            return [1.0] + [0.0] * 383

    other = KnowledgeBase(kb.home, embedder=OtherModel())
    with pytest.raises(EmbeddingMismatch, match="built with the embedding model"):
        other.search("derogation", k=1)
    with pytest.raises(EmbeddingMismatch):
        other.add([tmp_path / "texts" / "a.pdf"])


def test_a_deleted_store_is_detected_and_rebuilt_from_its_sources(tmp_path, embedder):
    # The rebuild re-indexes the notes too, from their shipped vectors (shipped.py): only the PDF's
    # chunks (and the queries) are embedded.
    counting = CountingEmbedder(embedder)
    kb = KnowledgeBase(tmp_path / "home", embedder=counting)
    pdf = text_pdf(REGULATION_PDF, tmp_path / "texts" / "a.pdf")
    kb.add([pdf])
    pdf_chunks = counting.embedded
    assert pdf_chunks > 0
    kb._client = None
    shutil.rmtree(kb.dir / "chroma")  # someone deleted the index folder
    fresh = KnowledgeBase(kb.home, embedder=counting)
    report = fresh.ensure_notes()  # what the product does before any search
    assert report is not None and report.added > pdf_chunks  # the notes and the PDF, back
    assert counting.embedded == 2 * pdf_chunks  # the notes' vectors were not computed
    assert {s for s, _ in fresh.sources()} >= {str(pdf.resolve())}
    assert fresh.search("Article 59 derogation competent authority", k=1)[0].article == "59"


class CountingEmbedder:
    """The real embedder, counting the texts it embeds for documents."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.embedded = 0

    def __getattr__(self, name: str):
        return getattr(self.embedder, name)  # model_id, dimension, embed_query, …

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return self.embedder.embed_documents(texts)


@pytest.mark.skipif(not (SHARED / "reference" / "eu").exists(), reason="shared reference texts absent")
def test_hybrid_search_finds_the_english_article_and_the_french_note_for_a_french_query(kb_with_notes):
    kb = kb_with_notes
    article = SHARED / "reference" / "eu" / "01-regulation" / "mdr-2017-745" / "article-059.md"
    kb.add([article, NOTES_DIR])
    hits = kb.search("qui informe la Commission quand une dérogation vise plusieurs patients", k=6)
    kinds = {(h.language, h.article, h.paragraph) for h in hits}
    assert ("en", "59", "2") in kinds, kinds  # the official English text
    assert ("fr", "59", "2") in kinds, kinds  # the project's French note
    assert any(h.citation == "RDM art. 59(2)" for h in hits)
    french_only = kb.search("incident grave délai de notification", k=3, language="fr")
    assert french_only and all(h.language == "fr" for h in french_only)
    mdr_only = kb.search("derogation", k=5, instrument="MDR")
    assert all(h.instrument == "MDR" for h in mdr_only)


EU = SHARED / "reference" / "eu"
SOME_TEXTS = [EU / "01-regulation" / "mdr-2017-745" / f"article-{n:03d}.md" for n in (52, 59, 97, 120)] + [
    EU / "01-regulation" / "ivdr-2017-746" / "article-054.md"]


@pytest.mark.skipif(not EU.exists(), reason="shared reference texts absent")
def test_a_french_paraphrase_finds_the_english_article_among_the_official_texts_and_the_french_note_apart(kb_with_notes):
    kb = kb_with_notes
    kb.add(SOME_TEXTS)
    hits = kb.search("un patient a besoin d'un dispositif sans marquage CE : l'autorité peut-elle l'autoriser à titre exceptionnel ?", k=3)
    official, notes = hits[:3], hits[3:]
    # The first places are the official texts only: no French note takes them any more.
    assert [h.is_note for h in hits] == [False] * 3 + [True] * len(notes) and notes
    assert any((h.instrument, h.article) == ("MDR", "59") for h in official), [h.citation for h in official]
    assert all(h.url.startswith("https://eur-lex.europa.eu/") for h in official)
    # The project's own French note on the same provision is there, in its own short list.
    assert any(h.language == "fr" and h.article.startswith("59") for h in notes), [h.citation for h in notes]
    assert len(notes) <= 3
    assert not any(h.is_note for h in kb.search("dérogation article 59", k=3, notes=0))


@pytest.mark.skipif(not EU.exists(), reason="shared reference texts absent")
def test_a_question_about_an_in_vitro_test_ranks_the_ivdr_above_its_twin_article_and_one_naming_neither_keeps_both(
        kb_with_notes):
    kb = kb_with_notes
    kb.add(SOME_TEXTS)

    def ranks(question: str) -> list[tuple[str, str]]:
        return [(h.instrument, h.article) for h in kb.search(question, k=5, notes=0)]

    def above(hits: list, one: tuple[str, str], twin: tuple[str, str]) -> bool:
        return one in hits and (twin not in hits or hits.index(one) < hits.index(twin))

    # MDR Art. 59 and IVDR Art. 54 say the same thing in the same words: the question's own words decide
    mdr, ivdr = ("MDR", "59"), ("IVDR", "54")
    ivd = ranks("dérogation pour un test de diagnostic in vitro non marqué CE : que peut faire l'autorité ?")
    assert ivd[0] == ivdr and above(ivd, ivdr, mdr), ivd
    implant = ranks("derogation for a custom-made implant that has no CE marking")
    assert above(implant, mdr, ivdr), implant
    neither = ranks("derogation from the conformity assessment procedures for a device in the interest of public health")
    assert {mdr, ivdr} <= set(neither), neither


@pytest.mark.skipif(not EU.exists(), reason="shared reference texts absent")
def test_a_case_reads_the_guidance_of_its_own_regulation_first(kb_with_notes):
    # the Commission's Q&As on the MDR's and on the IVDR's transition answer the same words alike
    topics = EU / "02-mdcg" / "other-topics"
    kb_with_notes.add([topics / "mdr_proposal_extension-q-n-a_1.md", topics / "mdr_qna-ext-ivdr.md"])
    query = "statut réglementaire certificat CE expiré renouvellement tardif période de transition organisme notifié"
    for excluded, own in ((["IVDR"], "mdr_proposal_extension-q-n-a_1.md"), (["MDR"], "mdr_qna-ext-ivdr.md")):
        hits = kb_with_notes.search(query, k=3, notes=0, excluded=excluded)
        assert hits and Path(hits[0].source).name == own, (excluded, [h.citation for h in hits])


def test_the_notes_list_shows_one_passage_per_note(kb_with_notes):
    # two chunks of the labelling note used to follow each other, with the same heading and excerpt
    hits = kb_with_notes.search("notre distributeur traduit la notice et colle son étiquette : devient-il fabricant ?", k=3,
                                notes_language="fr")
    notes = [h for h in hits if h.is_note]
    assert notes and len({h.source for h in notes}) == len(notes), [h.citation for h in notes]


@pytest.mark.skipif(not EU.exists(), reason="shared reference texts absent")
def test_a_question_naming_an_article_gets_that_article_first(kb_with_notes):
    kb = kb_with_notes
    kb.add(SOME_TEXTS)
    # its words are those of Article 59 (a derogation by the competent authority); it names Article 52
    hits = kb.search("Article 52 MDR : quelles procédures avant la dérogation de l'autorité compétente ?", k=3, notes=0)
    assert (hits[0].instrument, hits[0].article) == ("MDR", "52"), [h.citation for h in hits]


def test_an_ivd_case_is_grounded_in_the_ivdr_and_a_device_case_in_the_mdr(kb_with_notes, tmp_path):
    from assistant.case.store import CaseStore
    from assistant.service import Actor, Service

    kb = kb_with_notes
    svc = Service(CaseStore(tmp_path / "home"), knowledge=kb)
    maker = Actor("maker", "manufacturer")
    instruments = {}
    for device, is_ivd in (("Test HbA1c rapide", "yes"), ("Valvix TMV-28", "no")):
        case = svc.new_case("ansm", "individual", device, maker)
        svc.answer(case.id, "is_ivd", is_ivd, maker)
        find = svc.passages_for(case.id, "fr")
        section = svc.profile(case).section("need")
        instruments[is_ivd] = {p.instrument for p in find(section)}
    assert instruments["yes"] and "MDR" not in instruments["yes"]
    assert instruments["no"] and "IVDR" not in instruments["no"]


def test_a_section_cites_each_source_once(kb_with_notes, tmp_path):
    from assistant.case.store import CaseStore
    from assistant.service import Actor, Service

    kb = kb_with_notes
    svc = Service(CaseStore(tmp_path / "home"), knowledge=kb)
    maker = Actor("maker", "manufacturer")
    case = svc.new_case("ansm", "global", "Valvix TMV-28", maker)
    svc.answer(case.id, "is_ivd", "no", maker)
    find = svc.passages_for(case.id, "fr")
    notes_cited = 0
    for section in svc.profile(case).sections:
        found = find(section)
        citations = [p.citation for p in found]
        assert len(citations) == len(set(citations)), section.id
        # A note and its translation are one source: the French draft cites it once, in French.
        notes = [p for p in found if p.source.endswith((".en.md", ".fr.md"))]
        stems = [p.source[: -len(".fr.md")] for p in notes]
        assert len(stems) == len(set(stems)), section.id
        notes_cited += len(notes)
    assert notes_cited


def test_a_cases_documents_ground_only_the_sections_that_call_for_their_kind(kb_with_notes, tmp_path, make_pdf):
    from assistant.case.store import CaseStore
    from assistant.service import Actor, Service

    kb = kb_with_notes
    svc = Service(CaseStore(tmp_path / "home"), knowledge=kb)
    maker = Actor("maker", "manufacturer")
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", maker)
    svc.answer(case.id, "is_ivd", "no", maker)
    letter = make_pdf(["Lettre du médecin : urgence, le patient P-014 en impasse thérapeutique, aucune "
                       "alternative, intervention nécessaire sous trois semaines, intérêt du patient."], "lettre.pdf")
    svc.attach(case.id, letter, maker, kind="clinician_letter")
    profile = svc.profile(svc.case(case.id))
    find = svc.passages_for(case.id, "fr")
    own = {s.id: [p for p in find(s) if p.case_id] for s in profile.sections}
    letter_sections = set(profile.evidence_kind("clinician_letter").sections)
    assert any(own[s] for s in letter_sections)
    for section_id, passages in own.items():
        if section_id not in letter_sections:
            assert passages == [], section_id


BASE_ARTICLE_120 = [  # the 2017 wording, as the EUR-Lex base text still prints it
    "Regulation (EU) 2017/745 on medical devices, as published in 2017.\n\nRendered by the test suite.",
    "Article 120\n\nTransitional provisions\n\n"
    "2. Certificates issued by notified bodies in accordance with Directives 90/385/EEC and 93/42/EEC "
    "from 25 May 2017 shall remain valid until the end of the period indicated on the certificate. "
    "They shall however become void at the latest on 27 May 2024.",
]
BASE_ARTICLE_120_3 = (  # replaced by Regulation (EU) 2023/607: now a derogation until the dates of 3a/3b
    "3. By way of derogation from Article 5 of this Regulation, a device with a certificate that was issued "
    "in accordance with Directive 90/385/EEC or Directive 93/42/EEC and which is valid by virtue of paragraph 2 "
    "of this Article may only be placed on the market or put into service provided that from the date of "
    "application of this Regulation it continues to comply with either of those Directives."
)


def test_the_superseded_wording_of_article_120_is_refused_with_a_reason(kb, tmp_path):
    pages = [BASE_ARTICLE_120[0], BASE_ARTICLE_120[1] + "\n\n" + BASE_ARTICLE_120_3]
    pdf = text_pdf(pages, tmp_path / "texts" / "CELEX_32017R0745.pdf")
    report = kb.add([pdf])
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert "superseded wording of MDR Art. 120(2)" in problem and "consolidated text" in problem
    assert "MDR Art. 120(3) / IVDR Art. 110(3), 2017 wording (replaced by Regulations (EU) 2022/112 and 2023/607)" in problem
    for query in ("certificates void 27 May 2024 Article 120", "legacy device may only be placed on the market provided"):
        for hit in kb.search(query, k=5):
            assert "27 May 2024" not in hit.text and "may only be placed" not in hit.text  # never retrieved as the law
    assert report.added == 1  # the rest of the file is indexed


def test_a_question_naming_a_partly_superseded_article_reads_the_guidance_quoting_the_amended_text(kb):
    """The 2017 Art. 120 left after its superseded paragraphs are refused says nothing of the
    transition's current dates: naming the article no longer puts those remains first, above MDCG
    2021-25, which quotes the article as Regulation 2023/607 amended it."""
    eu = SHARED / "reference" / "eu"
    files = [eu / "01-regulation" / "mdr-2017-745" / "article-120.md",
             eu / "02-mdcg" / "other-topics" / "md_mdcg_2021_25_en.md"]
    if not all(f.exists() for f in files):
        pytest.skip("the reference corpus (../shared) is not here")
    kb.add(files)
    hits = kb.search("MDR Article 120: until when may a class III legacy device with a directive certificate "
                     "be placed on the market?", k=3)
    assert hits[0].instrument == "MDCG-2021-25", [h.citation for h in hits]
    # a question naming a current article still gets it first
    assert kb.search("Article 120(1) notified bodies designated under the Directives: publication of "
                     "notifications", k=1)[0].citation.startswith("MDR Art. 120(1)")


def test_the_mdr_is_never_said_to_apply_from_26_may_2020(kb):
    """MDR Art. 123(2) as enacted reads "It shall apply from 26 May 2020"; Regulation (EU) 2020/561
    deferred the date of application to 26 May 2021. Before, the question a regulatory manager asks
    ("from what date does the MDR apply?") read that 2017 sentence first, unflagged. Now it is refused
    with the reason, the rest of Art. 123 is flagged, and the Commission's statement of the date
    (its Q&A on Regulation 2023/607) is among the first hits, in English and in French."""
    eu = SHARED / "reference" / "eu"
    files = [eu / "01-regulation" / "mdr-2017-745" / "article-123.md",
             eu / "02-mdcg" / "other-topics" / "mdr_proposal_extension-q-n-a_1.md"]
    if not all(f.exists() for f in files):
        pytest.skip("the reference corpus (../shared) is not here")
    report = kb.add(files)
    assert len(report.problems) == 1, report.problems
    assert "MDR Art. 123(2), 2017 wording" in report.problems[0] and "2020/561" in report.problems[0]
    for query in ("from what date does the MDR apply?",
                  "à partir de quelle date le règlement relatif aux dispositifs médicaux est-il applicable ?"):
        hits = kb.search(query, k=3, notes=0)
        assert not [h.citation for h in hits if "apply from 26 May 2020" in h.text]
        assert all(h.superseded for h in hits if h.citation.startswith("MDR Art. 123")), [h.citation for h in hits]
        assert any("26 May 2021" in h.text and h.citation.startswith("Commission Q&A") for h in hits), \
            [(h.citation, h.text[:80]) for h in hits]


def _valve_case_grounds(kb, tmp_path) -> list:
    """The passages every section of a new valve case (MDR) rests on, over `kb`."""
    from assistant.case.store import CaseStore
    from assistant.service import Actor, Service

    svc = Service(CaseStore(tmp_path / "home"), knowledge=kb)
    maker = Actor("maker", "manufacturer")
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", maker)
    svc.answer(case.id, "is_ivd", "no", maker)
    find = svc.passages_for(case.id, "en")
    return [p for section in svc.profile(case).sections for p in find(section)]


def test_no_section_rests_on_what_is_left_of_a_partly_superseded_article(kb_with_notes, tmp_path):
    """A legacy device's case (the transition of MDR Art. 120 is its subject): its sections are
    grounded in the notes and guidance stating the amended article, never in the 2017 Art. 120's
    remaining paragraphs, which still carry the 2017 dates ("26 May 2020", the date of application
    Regulation 2020/561 moved to 26 May 2021)."""
    eu = SHARED / "reference" / "eu"
    files = [eu / "01-regulation" / "mdr-2017-745" / "article-120.md",
             eu / "01-regulation" / "mdr-2017-745" / "article-059.md"]
    if not all(f.exists() for f in files):
        pytest.skip("the reference corpus (../shared) is not here")
    kb = kb_with_notes
    kb.add(files)
    remains = [h for h in kb.search("MDR Article 120 transitional provisions: devices placed on the market "
                                    "under the Directives' certificates", k=5, notes=0) if h.superseded]
    assert remains  # the search still shows them, flagged
    grounds = _valve_case_grounds(kb, tmp_path)
    assert any(p.instrument == "MDR" and p.article == "59" for p in grounds)
    assert not [p.citation for p in grounds if p.superseded]


def test_a_2017_provision_re_worded_since_is_flagged_and_grounds_no_section(kb_with_notes, tmp_path):
    """MDR Art. 34 as enacted says Eudamed is audited and declared functional as a whole; Regulation
    (EU) 2024/1860 re-worded it for a roll-out module by module (the Commission's Q&A on that
    roll-out, in the corpus). No sentence of the 2017 text is known to be wrong, so it is indexed,
    but marked: a search shows it as the 2017 text of an article amended since, and no section rests
    on it. Art. 120(8), which that Regulation deleted, is refused with its reason."""

    eu = SHARED / "reference" / "eu"
    files = [eu / "01-regulation" / "mdr-2017-745" / "article-034.md",
             eu / "01-regulation" / "mdr-2017-745" / "article-120.md",
             eu / "01-regulation" / "mdr-2017-745" / "article-059.md"]
    if not all(f.exists() for f in files):
        pytest.skip("the reference corpus (../shared) is not here")
    kb = kb_with_notes
    report = kb.add(files)
    assert any("MDR Art. 120(8) / IVDR Art. 110(8), 2017 wording" in p and "2024/1860" in p
               for p in report.problems), report.problems
    assert not [h.citation for h in kb.search("registration deemed to comply with Decision 2010/227/EU", k=5, notes=0)
                if "2010/227/EU" in h.text]
    hits = kb.search("when is Eudamed declared functional after the independent audit?", k=3, notes=0)
    eudamed = [h for h in hits if h.citation.startswith("MDR Art. 34")]
    assert eudamed, [h.citation for h in hits]
    assert all(h.amended == "MDR Art. 34, 2017 wording (amended by Regulation (EU) 2024/1860)" for h in eudamed)
    # Art. 59(3), re-worded by Regulation 2020/561, is flagged; 59(1) and (2) are current and are not
    by_paragraph = {h.paragraph: h.amended for q in ("MDR Article 59: the Commission extends a national derogation "
                                                      "to the territory of the Union by implementing acts",
                                                      "MDR Article 59(1): derogation by a competent authority")
                    for h in kb.search(q, k=5, notes=0) if h.citation.startswith("MDR Art. 59")}
    assert by_paragraph.get("3", "").startswith("MDR Art. 59(3), 2017 wording"), by_paragraph
    assert by_paragraph.get("1") == "", by_paragraph
    grounds = _valve_case_grounds(kb, tmp_path)
    assert any(p.citation.startswith("MDR Art. 59(1)") for p in grounds)
    assert not [p.citation for p in grounds if p.amended]


def test_only_the_2017_text_is_marked_as_amended_not_a_consolidated_version():
    """The mark rests on the act a file says it is: EUR-Lex's CELEX number of the act as adopted
    (32017R0745) is the 2017 text; a consolidated version's (02017R0745-…) is the text in force, and
    a file that does not say (an HTML page a user saved) is not marked."""
    from assistant.knowledge.superseded import amended

    art34 = {"instrument": "MDR", "article": "34", "paragraph": "2", "kind": "official"}
    assert amended({**art34, "base_act": "32017R0745"}).by == "Regulation (EU) 2024/1860"
    assert amended({**art34, "base_act": "02017R0745-20240709"}) is None
    assert amended(art34) is None
    assert amended({**art34, "base_act": "32017R0745", "kind": "note"}) is None
    assert amended({**art34, "base_act": "32017R0745", "article": "35"}) is None
    # a paragraph-level entry marks that paragraph only
    art59 = {"instrument": "MDR", "article": "59", "kind": "official", "base_act": "32017R0745"}
    assert amended({**art59, "paragraph": "3"}) is not None and amended({**art59, "paragraph": "1"}) is None
