"""The questions the reference texts answer (knowledge/questions.py): the shipped bank is the YAML
files' content with the embedder's vector for each question, every question leads to a passage of
the text it names, and a question asked in other words and another language finds that text."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from assistant.knowledge.embeddings.factory import default_embedder
from assistant.knowledge.index import KnowledgeBase
from assistant.knowledge.questions import SOURCES, Question, QuestionBank, file_key, read_sources, signature
from assistant.knowledge.search import SearchSettings
from tests.conftest import MODELS, SHARED

EU = SHARED / "reference" / "eu"
needs_eu = pytest.mark.skipif(not EU.exists(), reason="shared reference texts absent")
OFF = replace(SearchSettings(), questions=0.0, questions_lexical=0.0)


@pytest.fixture(scope="module")
def embedder():
    return default_embedder(MODELS)


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    loaded = QuestionBank.load()
    assert loaded is not None, "corpus/questions.npz is missing: run `make questions`"
    return loaded


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def test_the_shipped_bank_is_the_yaml_files(bank) -> None:
    sources = read_sources()
    assert len(sources) > 1000
    assert bank.signature == signature(sources), "a questions YAML file changed since: run `make questions`"
    assert bank.vectors is not None and bank.vectors.shape[0] == len(sources)
    langs = [q.lang for q in sources]
    assert 0.4 < langs.count("fr") / len(langs) < 0.6  # French and English alike


def test_a_shipped_vector_is_the_one_the_embedder_computes(bank, embedder) -> None:
    assert bank.model_id == embedder.model_id
    rows = list(range(0, len(bank), max(1, len(bank) // 6)))
    computed = embedder.encode([bank.questions[i].text for i in rows], query=True)
    computed /= np.linalg.norm(computed, axis=1, keepdims=True)
    cosines = (computed * bank.vectors[rows]).sum(axis=1)
    assert cosines.min() > 0.999, cosines


@needs_eu
def test_every_question_leads_to_a_passage_of_the_text_it_names() -> None:
    problems = []
    for path in sorted(SOURCES.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        text = EU / data["file"]
        if not text.exists():
            problems.append(f"{path.name}: {data['file']} is not a reference file")
            continue
        body = _norm(text.read_text(encoding="utf-8"))
        problems += [f"{path.name}: {q['quote']!r}" for q in data["questions"] if _norm(q["quote"]) not in body]
        if {q["lang"] for q in data["questions"]} != {"fr", "en"}:
            problems.append(f"{path.name}: questions in one language only")
    assert problems == []


@needs_eu
def test_no_question_leads_to_a_superseded_passage() -> None:
    """The 2017 wording of MDR Art. 120(2)-(4) and IVDR Art. 110(2)-(4) is not indexed (superseded.py):
    a question quoting it would lead to another paragraph of the article, which does not answer it.
    Those questions are asked of the guidance quoting the amended articles instead."""
    from assistant.knowledge.sources import chunks_of_file
    from assistant.knowledge.superseded import superseded

    problems = []
    for path in sorted(SOURCES.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        stale = [_norm(c.text) for c in chunks_of_file(EU / data["file"]) if superseded(c.text)]
        problems += [f"{data['file']}: {q['q']!r}" for q in data["questions"]
                     if stale and any(_norm(q["quote"]) in text for text in stale)]
    assert problems == []


@needs_eu
def test_every_reference_text_has_its_questions() -> None:
    texts = {file_key(str(p)) for p in EU.rglob("*.md") if p.name not in ("recitals.md", "preamble.md")}
    covered = {q.key for q in read_sources()}
    assert sorted(texts - covered) == []


def test_a_question_leads_to_the_chunk_holding_its_quote() -> None:
    questions = [
        Question("who is the manufacturer?", "en", "mdr-2017-745/article-016.md", "under its name, registered trade name"),
        Question("what is relabelled?", "en", "mdr-2017-745/article-016.md", "at least 28 days prior to making"),
        Question("an article the store lacks", "en", "mdr-2017-745/article-099.md", "whatever words of it here"),
    ]
    bank = QuestionBank(questions, None, "none")
    sources = ["/a/notes/x.md", "/b/mdr-2017-745/article-016.md", "/b/mdr-2017-745/article-016.md",
               "/b/ivdr-2017-746/article-016.md"]
    texts = ["a note", "makes available a device under its name, registered trade name or mark",
             "At least 28 days prior to making the relabelled device", "under its name, registered trade name"]
    assert bank.resolve(sources, texts).tolist() == [1, 2, -1]  # the MDR's article, not the IVDR's twin
    cut = ["makes available a device under its name,", "registered trade name. At least 28 days"]  # quote cut in two
    assert bank.resolve(["/b/mdr-2017-745/article-016.md"] * 2, cut).tolist()[0] in (0, 1)


def test_another_embedder_embeds_the_questions_once(tmp_path, bank, embedder) -> None:
    small = QuestionBank(bank.questions[:20], bank.vectors[:20], bank.model_id)
    calls = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return embedder.encode(texts, query=True)

    cache = tmp_path / "questions-vectors.npz"
    other = small.for_model("another-model@1", embed, cache)
    assert calls == [20] and other.vectors.shape == (20, small.vectors.shape[1])
    again = small.for_model("another-model@1", embed, cache)
    assert calls == [20] and np.allclose(again.vectors, other.vectors)
    assert small.for_model(bank.model_id, embed, cache) is small  # the shipped vectors: nothing computed


@needs_eu
def test_a_french_paraphrase_finds_the_english_article_through_the_questions(tmp_path, embedder) -> None:
    files = [EU / "01-regulation" / "mdr-2017-745" / f"article-{n:03d}.md" for n in (13, 14, 16, 20, 21, 22, 52, 59)]
    kb = KnowledgeBase(tmp_path / "home", embedder=embedder)
    assert not kb.add(files).problems
    question = "un hôpital peut-il obtenir l'autorisation d'utiliser un dispositif sans marquage CE pour sauver un patient ?"
    assert question not in {q.text for q in read_sources()}  # asked in other words than the bank's
    found = [Path(p.source).name for p in kb.search(question, k=3)]
    assert found[0] == "article-059.md", found  # the derogation, in the English text
    without = [Path(p.source).name for p in kb.search(question, k=3, settings=OFF)]
    assert without[0] != "article-059.md", without  # what the questions bring: the conformity assessment came first


def test_a_store_without_the_reference_texts_searches_as_before(tmp_path, embedder) -> None:
    kb = KnowledgeBase(tmp_path / "home", embedder=embedder)
    kb.ensure_notes()
    question = "qui décide d'une dérogation pour un dispositif sans marquage CE ?"
    assert [p.id for p in kb.search(question, k=5)] == [p.id for p in kb.search(question, k=5, settings=OFF)]
    again = KnowledgeBase(tmp_path / "home", embedder=embedder)  # as the next process: the index is on disk
    assert [p.id for p in again.search(question, k=5)] == [p.id for p in kb.search(question, k=5)]
    assert again._questions is None  # nor loaded: a search there does not pay for reading 9,000 questions
