"""Retrieval over guidance and across languages: guidance cut by its own headings, the FR↔EN
glossary on the lexical side, BM25 postings saved with the store, official URLs and excerpts.
Small real texts written here (shaped like the pdftotext output of MDCG documents); the real
reference corpus only when ../shared is there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED, run_cli  # at import: later, "conftest" may be another folder's

from assistant.knowledge.bm25 import BM25
from assistant.knowledge.expansion import expand, query_language, render
from assistant.knowledge.guidance import sections, strip_furniture
from assistant.knowledge.index import KnowledgeBase
from assistant.knowledge.passage import excerpt
from assistant.knowledge.sources import chunks_of_file, official_url

FURNITURE = "Medical Devices\nMedical Device Coordination Group Document\n\nMDCG 2099-7\n"
GUIDANCE = f"""---
source:
  family: "MDCG"
  title: "mdcg_2099-7_en"
---
{FURNITURE}
MDCG 2099-7
Questions and Answers on showing devices at trade fairs
May 2099

This document has been endorsed by the Medical Device Coordination Group.

1

{FURNITURE}
1. Introduction
This Q&A explains how manufacturers may present devices that do not yet bear the CE marking.
2. Can a device without CE marking be shown at a trade fair?
Yes, provided a visible sign clearly indicates that such devices are intended for presentation
or demonstration purposes only and cannot be made available.
2.1 Demonstrations on people
A device shown at an exhibition may not be used on visitors.
14 See the corresponding provision of the Regulation on devices for special purposes and their
presentation, which this note does not reproduce in full.

2

{FURNITURE}
3. Which language must the sign use?
The sign is written in a language the visitors understand, as decided by the Member State.
"""


@pytest.fixture
def guidance_file(tmp_path) -> Path:
    path = tmp_path / "texts" / "mdcg_2099-7_en.md"
    path.parent.mkdir(parents=True)
    path.write_text(GUIDANCE, encoding="utf-8")
    return path


def test_guidance_is_cut_by_its_own_numbered_headings_without_page_furniture_or_footnotes(guidance_file):
    found = sections(guidance_file.read_text(encoding="utf-8"))
    assert [(s.number, s.title) for s in found if s.number] == [
        ("1", "Introduction"),
        ("2", "Can a device without CE marking be shown at a trade fair?"),
        ("2.1", "Demonstrations on people"),
        ("3", "Which language must the sign use?"),
    ]  # "14 See the corresponding provision…" is a footnote: 2.1 is not followed by 14
    kept = "\n".join(strip_furniture(guidance_file.read_text(encoding="utf-8")))
    assert "Medical Device Coordination Group Document" not in kept


def test_every_guidance_chunk_carries_the_document_number_title_and_its_section(guidance_file):
    chunks = chunks_of_file(guidance_file)
    by_section = {c.metadata["section"]: c for c in chunks}
    sign = by_section["2"]
    assert sign.metadata["citation"] == "MDCG 2099-7 § 2"
    assert sign.metadata["title"] == "Questions and Answers on showing devices at trade fairs"
    first_line = sign.text.split("\n", 1)[0]
    assert first_line.startswith("MDCG 2099-7 § 2 — Questions and Answers on showing devices at trade fairs")
    assert "shown at a trade fair?" in first_line
    assert "visible sign clearly indicates" in sign.text and "language the visitors" not in sign.text
    assert sign.metadata["instrument"] == "MDCG-2099-7" and sign.metadata["kind"] == "guidance"


UNNUMBERED = """---
source:
  family: "GUIDANCE"
  title: "commission-qa-unnumbered"
---
EUROPEAN COMMISSION
DIRECTORATE-GENERAL FOR HEALTH AND FOOD SAFETY
Questions and answers on the presentation of devices without CE marking at international trade fairs and congresses
1. Can a device be shown?
Yes, with a visible sign that it cannot be made available.
"""


def test_a_guidance_document_without_a_number_is_cited_by_its_name_never_cut_mid_word(tmp_path):
    # one the project names (titles.yaml): the Commission's Q&A on Regulation 2023/607 (file name as
    # the EC publishes it, re-upload suffix and all)
    named = tmp_path / "texts" / "mdr_proposal_extension-q-n-a_1.md"
    named.parent.mkdir(parents=True)
    named.write_text(UNNUMBERED.replace("commission-qa-unnumbered", "mdr_proposal_extension-q-n-a_1"), encoding="utf-8")
    chunk = chunks_of_file(named)[-1]
    assert chunk.metadata["citation"] == "Commission Q&A on Regulation (EU) 2023/607, Rev. 2 (July 2024) § 1"
    assert chunk.metadata["url"].startswith("https://health.ec.europa.eu/")  # its own PDF
    assert chunk.metadata["title"].startswith("Extension of the MDR transitional period")
    # one it does not know: its title (not the Commission's letterhead), cut at a word with an ellipsis
    other = tmp_path / "texts" / "commission-qa-unnumbered.md"
    other.write_text(UNNUMBERED, encoding="utf-8")
    label = chunks_of_file(other)[-1].metadata["citation"].removesuffix(" § 1")
    assert label.startswith("Questions and answers on the presentation of devices"), label
    assert label.endswith(" …") and len(label) <= 70, label
    assert UNNUMBERED.replace("\n", " ").count(label.removesuffix(" …") + " ") == 1, label  # whole words only



def test_a_question_naming_a_series_raises_its_parts_and_no_other_document():
    from assistant.knowledge.references import named

    asked = named("MDCG 2020-10/1: when must the sponsor report a serious adverse event?")
    assert asked.holds({"instrument": "MDCG-2020-10/1"}) and asked.holds({"instrument": "MDCG-2020-10"})
    assert not asked.holds({"instrument": "MDCG-2020-1"})
    dsvg = named("what does MDCG 2024-1 say about cardiac ablation devices")
    assert dsvg.holds({"instrument": "MDCG-2024-1-1"}) and not dsvg.holds({"instrument": "MDCG-2024-11"})

def test_the_glossary_brings_the_english_terms_of_a_french_question():
    terms = expand("faut-il un organisme notifié pour un dispositif sur mesure ?")
    assert {"notifie", "body", "custom"} <= set(terms)  # BM25 tokens: 7-character stems
    assert terms["custom"] < terms["mesure"]  # the typed words weigh more than their equivalents
    assert query_language("faut-il un organisme notifié ?") == "fr"
    assert query_language("do we need a notified body?") == "en"


def test_the_glossary_renders_a_french_question_in_english_for_the_dense_side():
    english = render("Un organisme notifié peut-il auditer un dispositif sur mesure ?", "fr")
    assert "notified body" in english and "custom-made device" in english
    assert "organisme" not in english and " un " not in f" {english} "  # known terms replaced, stop words dropped
    assert "auditer" in english  # a word the glossary does not know is kept as typed
    assert render("Wie alt ist der Kapitän?", "fr") == ""  # nothing the glossary knows: no rendering


def test_bm25_with_the_glossary_finds_the_english_text_of_a_french_question(tmp_path):
    docs = [
        "The notified body shall verify the custom-made device documentation.",
        "Distributors shall keep a register of complaints and recalls.",
        "Member States shall not create obstacles to devices shown at trade fairs.",
    ]
    bm25 = BM25(docs)
    question = "un salon professionnel peut-il exposer un prototype ?"
    assert bm25.top(question, 3) == []  # no French word is in the English texts
    assert bm25.top(expand(question), 1)[0][0] == 2
    path = tmp_path / "bm25.npz"
    bm25.save(path, {"ids": ["a", "b", "c"]})
    loaded, extra = BM25.load(path)
    assert loaded.top(expand(question), 3) == bm25.top(expand(question), 3)
    assert extra["ids"].tolist() == ["a", "b", "c"]


def test_official_urls_are_the_documents_own_never_a_generic_page():
    # the consolidated act (the ELI without /oj), never the 2017 text whose Art. 120 is superseded
    assert official_url("MDR", "59") == "https://eur-lex.europa.eu/eli/reg/2017/745"
    assert official_url("IVDR", "Annex VIII") == "https://eur-lex.europa.eu/eli/reg/2017/746"
    assert official_url("MDCG-2021-3", "", "mdcg_2021-3_en.md").endswith("filename=mdcg_2021-3_en.pdf")
    assert official_url("MDCG-2023-1", "", "mdcg_2023-1_en.pdf") == "https://health.ec.europa.eu/system/files/2023-01/mdcg_2023-1_en.pdf"
    assert official_url("MDCG-2099-7", "", "mdcg_2099-7_en.md") == ""  # unknown: no URL rather than a guess


@pytest.mark.skipif(not (SHARED / "reference" / "eu").exists(), reason="the reference corpus (../shared) is not here")
def test_a_guidance_document_filed_under_an_act_is_never_linked_to_that_act(tmp_path):
    """The Commission's Q&A on Annex XVI products is filed under Regulation 2023/607: it links to its
    own PDF, and a copy under a name with no URL on record gets none rather than the regulation's page."""
    path = SHARED / "reference" / "eu" / "02-mdcg" / "annex-xvi-products" / "md_new-reg_annex-xvi_q-n-a_transition-prov.md"
    chunks = chunks_of_file(path)
    assert chunks and all(c.metadata["kind"] == "guidance" for c in chunks)
    assert {c.metadata["url"] for c in chunks} == {
        "https://health.ec.europa.eu/document/download/a396270b-926d-46b5-b15b-a930171f2f86_en"
        "?filename=md_new-reg_annex-xvi_q-n-a_transition-prov.pdf"}
    renamed = tmp_path / "annex-xvi-transition-qa.md"
    renamed.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert {c.metadata["url"] for c in chunks_of_file(renamed)} == {""}


def test_every_guidance_url_on_record_opens_that_documents_own_file():
    """urls.yaml: a document's link names its file (the EC's re-upload suffix aside), so a typo or a
    link pasted against the wrong document fails here rather than in a reviewer's browser."""
    import re

    import yaml

    from assistant.knowledge.sources import URLS_FILE

    documents = yaml.safe_load(URLS_FILE.read_text(encoding="utf-8"))["documents"]
    assert len(documents) > 100
    for stem, url in documents.items():
        assert url.startswith(("https://health.ec.europa.eu/", "https://ec.europa.eu/")), (stem, url)
        name = re.search(r"(?:filename=|/)([^/=?]+)\.pdf$", url)
        if name:  # the docsroom's renditions carry no file name
            assert re.sub(r"_[01]$", "", name.group(1)) == stem, (stem, url)


def test_an_excerpt_is_the_sentence_that_matches_the_question_on_one_line():
    text = ("Member States shall not create obstacles to the presentation of devices.\n"
            "At trade fairs, a visible sign clearly indicates that such devices are intended for "
            "presentation or demonstration purposes only. Other sentence.")
    line = excerpt(text, set(expand("can we show a prototype at a trade fair?")))
    assert line.startswith("At trade fairs, a visible sign") and "\n" not in line and len(line) <= 160


def test_a_french_question_finds_the_guidance_section_and_its_postings_are_saved(tmp_path, embedder, guidance_file):
    kb = KnowledgeBase(tmp_path / "home", embedder=embedder)
    kb.add([guidance_file.parent])
    hits = kb.search("peut-on présenter un prototype non marqué CE sur un salon professionnel ?", k=3)
    assert hits[0].citation == "MDCG 2099-7 § 2"
    assert hits[0].title.startswith("Questions and Answers on showing devices")
    assert "visible sign" in hits[0].excerpt
    saved = tmp_path / "home" / "index" / "bm25" / "corpus.npz"
    assert saved.exists()
    again = KnowledgeBase(tmp_path / "home", embedder=embedder)  # another process: loads the postings
    assert [h.id for h in again.search("salon professionnel prototype", k=3)] == [
        h.id for h in kb.search("salon professionnel prototype", k=3)]
    (guidance_file.parent / "extra.md").write_text("# Article 97\n\n1. A brand-new xylophone provision.\n", encoding="utf-8")
    again.add([guidance_file.parent])  # the postings follow the store
    assert again.search("xylophone", k=1)[0].source.endswith("extra.md")


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    import os

    from assistant.knowledge.embeddings.factory import load_embedder

    cache = os.environ.get("DEROGATION_MODELS") or str(tmp_path_factory.mktemp("models"))
    return load_embedder("e5-small", Path(cache))


REAL = SHARED / "reference" / "eu" / "02-mdcg" / "other-topics" / "mdcg_2022-18_en_1.md"


@pytest.mark.skipif(not REAL.exists(), reason="the reference corpus (../shared) is not here")
def test_the_real_mdcg_2022_18_is_cut_into_its_seven_roman_numbered_parts():
    chunks = chunks_of_file(REAL)
    assert {c.metadata["section"] for c in chunks} >= {"I", "II", "III", "IV", "V", "VI", "VII"}
    vii = next(c for c in chunks if c.metadata["section"] == "VII")
    assert vii.metadata["citation"] == "MDCG 2022-18 § VII"
    assert "Relationship with Article 59 MDR" in vii.text.split("\n", 1)[0]
    assert "Position Paper on the application of Article 97" in vii.metadata["title"]



# A revision's first page as the MDCG prints it: the number on every page (page furniture, so gone
# from the text the title is read from), the endorsement notice, then a page listing the changes
REVISED = """---
source:
  family: "MDCG"
  title: "mdcg_2099-8_en"
---
Medical Device Coordination Group Document
MDCG 2099-8 Rev.1
1(3)
Questions and Answers on showing devices
at trade fairs
March 2099
This document has been endorsed by the Medical Device Coordination Group (MDCG)
established by Article 103 of Regulation (EU) 2017/745. The MDCG is composed of
representatives of all Member States and it is chaired by a representative of the
European Commission. Any views expressed in this document are not legally binding and only
the Court of Justice of the European Union can give binding interpretations of Union law.

Medical Device Coordination Group Document
MDCG 2099-8 Rev.1
2(3)
MDCG 2099-8 Rev 1 changes (March 2099)
Question 3 new
Footnote 5 amended

Medical Device Coordination Group Document
MDCG 2099-8 Rev.1
3(3)
1. Introduction
This Q&A explains how manufacturers may present devices that do not yet bear the CE marking.
"""


def test_a_revised_mdcg_document_is_titled_as_its_first_page_not_by_its_list_of_changes(tmp_path):
    path = tmp_path / "mdcg_2099-8_en.md"
    path.write_text(REVISED, encoding="utf-8")
    chunk = chunks_of_file(path)[-1]
    assert chunk.metadata["title"] == "Questions and Answers on showing devices at trade fairs"
    assert chunk.metadata["citation"] == "MDCG 2099-8 § 1"



# A Commission Q&A as pdftotext gives it: page numbers printed "- 2 -", a question whose heading
# runs over two lines and whose answer opens with "Article …"
QA_PAGES = """---
source:
  family: "MDCG"
  title: "qna-pages"
---
Questions and answers on clinical investigations

1.
What documents do I have to submit for a clinical investigation that follows article
74(1) of the MDR?

Article 74(1) of the MDR points out that the same documentation has to be provided with a
notification as for an application, see chapter II in Annex XV of the MDR.

- 2 -

2.
Who signs the application?
The sponsor signs the application and keeps a copy of it with the investigation file.
Page 3 of 31
"""


def test_no_passage_is_a_page_number_or_the_tail_of_a_heading(tmp_path):
    path = tmp_path / "qna-pages.md"
    path.write_text(QA_PAGES, encoding="utf-8")
    bodies = [c.text.split("\n", 1)[1] for c in chunks_of_file(path)]
    assert not any("- 2 -" in b or "Page 3 of 31" in b for b in bodies), bodies
    first = next(b for b in bodies if "74(1) of the MDR?" in b)
    assert "the same documentation has to be provided" in first, bodies  # the heading's tail stays with its answer


EU = SHARED / "reference" / "eu"


@pytest.mark.skipif(not EU.exists(), reason="the reference corpus (../shared) is not here")
def test_real_guidance_documents_are_cited_by_their_own_number_and_first_page_title():
    def first(name: str) -> dict:
        return chunks_of_file(next(EU.glob(f"**/{name}")))[0].metadata

    # the number printed on every page (furniture): the title was read from the table of acronyms
    assert first("mdcg_2021-28_en.md")["title"] == "Substantial modification of clinical investigation under Medical Device Regulation"
    # a revision: the title was read from the list of changes ("Rev 1 changes (Dec 2023) General …")
    assert first("mdcg_2021-27_en.md")["title"] == \
        "Questions and Answers on Articles 13 & 14 of Regulation (EU) 2017/745 and Regulation (EU) 2017/746"
    assert first("mdcg_2024-14_en.md")["title"] == "Guidance on the implementation of the Master UDI-DI solution for contact lenses"
    # the endorsement notice first, then the number and the title
    assert first("md_mdcg_2018_2_nomenclature_en.md")["title"] == "Future EU medical device nomenclature Description of requirements"
    # printed "MDCG 2019-07" and "MDCG 2021- 23"
    assert first("md_mdcg_2019_7_guidance_art15_mdr_ivdr_en.md")["title"].startswith("Guidance on Article 15 of the medical device regulation")
    assert first("mdcg_2021-23_en.md")["title"].startswith("Guidance for notified bodies, distributors and importers")
    # the Commission's note on the CND only refers to MDCG 2018-2 in a footnote: it is not MDCG 2018-2
    cnd = first("md_cnd_general_principles_en.md")
    assert cnd["citation"].startswith("Commission note on the CND nomenclature (January 2020)")
    assert cnd["instrument"] != "MDCG-2018-2"
    # the Commission's list of MEDDEVs is not MEDDEV 2.1/1, the first it lists
    assert first("md_guidance_meddevs.md")["citation"].startswith("List of MEDDEV guidance documents")
    # the parts of a series by their own number, as the Commission lists them
    assert first("mdcg_2024-1-3_en.md")["citation"].startswith("MDCG 2024-1-3")
    assert first("md_mdcg_2020-10-1_guidance_safety_reporting_en.md")["citation"].startswith("MDCG 2020-10/1")
    # an addendum as its first page prints it (it was "MDCG 2022-18-ADD1", the internal id)
    assert first("mdcg_2022-18_add-1_en.md")["citation"] == "MDCG 2022-18 ADD.1"


def test_derogation_search_lists_the_official_texts_then_the_project_notes_each_with_url_and_excerpt(
        tmp_path, with_notes, embedder):
    articles = [SHARED / "reference" / "eu" / "01-regulation" / "mdr-2017-745" / f"article-{n:03d}.md" for n in (52, 59)]
    if not all(a.exists() for a in articles):
        pytest.skip("the reference corpus (../shared) is not here")
    home = with_notes(tmp_path / "home")
    KnowledgeBase(home, embedder=embedder).add(articles)
    done = run_cli("search", "dérogation aux procédures d'évaluation de la conformité", "--k", "3", home=home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # a French question: the headings in French; the official texts first, then the notes apart
    assert lines[0] == "Textes officiels", done.stdout
    notes_at = lines.index(next(line for line in lines if line.startswith("Notes du projet")))
    official, notes = lines[1:notes_at - 1], lines[notes_at + 1:]
    assert len(official) == 9 and len(notes) == 9, done.stdout  # per hit: citation and title, official URL, excerpt
    for block in (official, notes):
        for n in range(3):
            head, url, quote = block[3 * n : 3 * n + 3]
            assert head.startswith(f"{n + 1}. ")
            assert url.strip().startswith("https://"), url
            assert quote.strip().startswith("«") and quote.strip().endswith("»") and len(quote) < 175
    assert official[0].startswith("1. MDR Art. 59"), done.stdout  # the regulation itself, not a note on it
    assert any("59" in line for line in notes[::3])
    # each note exists in French and in English: a French reader is shown the French one, not both
    assert all(" MDR " not in line and "Derogation:" not in line for line in notes[::3]), done.stdout
    assert not any("**" in line for line in notes[2::3]), done.stdout  # no Markdown in an excerpt



def test_a_document_added_from_two_folders_is_one_hit_not_two(tmp_path, guidance_file, embedder):
    """A user who adds the same guidance from a download folder and again from a shared drive sees
    its passage once, and the next hit in its place."""
    copy = tmp_path / "shared-drive" / guidance_file.name
    copy.parent.mkdir()
    copy.write_text(guidance_file.read_text(encoding="utf-8"), encoding="utf-8")
    home = tmp_path / "home"
    kb = KnowledgeBase(home, embedder=embedder)
    kb.add([guidance_file, copy])
    hits = kb.search("can a device without CE marking be shown at a trade fair", k=3, notes=0)
    assert len({(h.citation, h.text) for h in hits}) == len(hits) == 3, [h.citation for h in hits]
    assert hits[0].citation == "MDCG 2099-7 § 2"


def test_derogation_search_says_when_a_hit_is_what_is_left_of_a_partly_superseded_article(
        tmp_path, with_notes, embedder):
    """The 2017 MDR Art. 120 minus its refused paragraphs: the reader is told that what is shown is
    the 2017 wording of an article amended since, to be read in its consolidated version before it
    is cited."""
    folder = SHARED / "reference" / "eu" / "01-regulation" / "mdr-2017-745"
    articles = [folder / "article-120.md", folder / "article-059.md", folder / "article-034.md"]
    if not all(a.exists() for a in articles):
        pytest.skip("the reference corpus (../shared) is not here")
    home = with_notes(tmp_path / "home")
    report = KnowledgeBase(home, embedder=embedder).add(articles)
    assert any("superseded wording of MDR Art. 120(2)" in p for p in report.problems), report.problems
    query = "Article 120 MDR: notifications of bodies designated under the Directives"
    done = run_cli("search", query, "--k", "2", "--notes", "0", "--lang", "en", home=home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("1. "))
    assert lines[first].startswith("1. MDR Art. 120"), done.stdout
    warning = lines[first + 2].strip()
    assert warning.startswith("Partly superseded text: this is the 2017 wording") and "MDR Art. 120(2)" in warning, done.stdout
    assert "consolidated version" in warning
    # --json says it too
    hits = json.loads(run_cli("search", query, "--k", "2", "--notes", "0", "--json", home=home, check=True).stdout)
    assert "MDR Art. 120(2)" in hits[0]["superseded"]
    done = run_cli("search", "derogation by a competent authority Article 59", "--k", "1", "--notes", "0",
                   "--lang", "en", home=home)
    assert "2. " not in done.stdout and "1. MDR Art. 59" in done.stdout, done.stdout
    assert "superseded" not in done.stdout and "Amended" not in done.stdout  # a current paragraph carries no such line
    # a 2017 article re-worded since (amended.yaml) says so, in the reader's language
    done = run_cli("search", "Article 34 MDR functionality of Eudamed", "--k", "1", "--notes", "0", "--lang", "fr",
                   home=home, check=True)
    assert "1. MDR Art. 34" in done.stdout and ("Texte modifié depuis : MDR Art. 34, 2017 wording (amended by "
                                                  "Regulation (EU) 2024/1860)") in done.stdout, done.stdout


@pytest.mark.skipif(not EU.exists(), reason="the reference corpus (../shared) is not here")
def test_a_section_repeated_word_for_word_by_each_guide_of_a_series_is_one_hit(tmp_path, embedder):
    """The device-specific vigilance guides (MDCG 2024-1-1 … -3) repeat their template's section on
    trend reporting word for word: a search listed that one text three times under three numbers.
    Now it is one hit, which says where else the same text stands (a manufacturer of another device
    type finds its own guide), and the other places go to other passages; the sections that differ
    by device (each guide's scope) are still each a hit of their own."""
    guides = [next(EU.glob(f"**/mdcg_2024-1-{n}_en.md")) for n in (1, 2, 3)]
    home = tmp_path / "home"
    kb = KnowledgeBase(home, embedder=embedder)
    kb.add(guides)
    query = "manufacturer trend reporting under the vigilance system"
    hits = kb.search(query, k=5, notes=0)
    trend = [h for h in hits if "Trend Reporting" in h.text]
    assert len(trend) == 1, [h.citation for h in hits]
    numbers = {c.split(" §")[0] for c in (trend[0].citation, *trend[0].same_text_in)}
    assert numbers == {"MDCG 2024-1-1", "MDCG 2024-1-2", "MDCG 2024-1-3"}, trend[0].same_text_in
    done = run_cli("search", query, "--k", "5", "--notes", "0", "--lang", "en", home=home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "Trend Reporting" in line)  # the hit's excerpt
    assert lines[at - 1].strip() == "Same text in: " + "; ".join(trend[0].same_text_in), done.stdout
    scopes = kb.search("which devices does each device-specific vigilance guidance cover", k=5, notes=0)
    assert len({h.instrument for h in scopes}) >= 2, [h.citation for h in scopes]
