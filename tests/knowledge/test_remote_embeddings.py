"""OpenAI(-compatible) embeddings, against a real HTTP server on 127.0.0.1: the corpus may be embedded
remotely, a case's documents never leave the machine."""

from __future__ import annotations

import pytest

from assistant.config import Config
from assistant.errors import KnowledgeError
from assistant.knowledge.embeddings.remote import OpenAIEmbedder
from assistant.knowledge.index import KnowledgeBase, collection_for_case
from assistant.knowledge.sources import SourceChunk
from assistant.service import Service

NOTE = """---
id: test-59
instrument: MDR
article: "59"
paragraph: "1"
language: en
title: Derogation from conformity assessment
citation: "MDR Art. 59(1)"
---
# MDR Article 59(1)

A competent authority may authorise a device whose conformity assessment is not complete, on a duly
justified request, in the interest of public health or patient safety.
"""


def _note(tmp_path):
    path = tmp_path / "corpus" / "art59.md"
    path.parent.mkdir(parents=True)
    path.write_text(NOTE, encoding="utf-8")
    return path


def test_the_corpus_is_embedded_by_the_configured_server_and_the_model_is_recorded(
    tmp_path, monkeypatch, llm_server
):
    monkeypatch.setenv("DEROGATION_EMBEDDER", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{llm_server.url}")
    monkeypatch.setenv("DEROGATION_LLM_EMBEDDING_MODEL", "nomic-embed-text")
    monkeypatch.setenv("DEROGATION_HOME", str(tmp_path / "home"))
    kb = Service.from_config(Config.from_env()).knowledge  # the embedding model comes from the LLM settings
    report = kb.add([_note(tmp_path)])
    assert report.added >= 1
    embedded = [r for r in llm_server.requests if r.path.endswith("/embeddings")]
    assert embedded and "duly" in "\n".join(r.text for r in embedded)
    assert embedded[0].body["model"] == "nomic-embed-text"
    meta = kb._collection("corpus").metadata
    assert meta["embedding_model"].startswith("openai:nomic-embed-text@http://127.0.0.1")
    hits = kb.search("duly justified request", k=3, language="en")
    assert hits and hits[0].citation.startswith("MDR Art. 59(1)")


def test_a_cases_documents_are_never_sent_to_a_remote_embedding_service(tmp_path, llm_server):
    remote = OpenAIEmbedder(model="text-embedding-3-small", base_url=llm_server.url, api_key="sk-test")
    remote.local = False  # stands for a service on another machine (the server is on 127.0.0.1 for the test)
    kb = KnowledgeBase(tmp_path / "home", embedder=remote)
    kb.add([_note(tmp_path)])
    secret = "Le patient P-014 présente une sténose aortique sévère, score STS 9,2 %"
    kb.sync_case("case-1", [SourceChunk(f"Lettre du clinicien (p. 1)\n{secret}", {
        "source": "evidence:abc", "case_id": "case-1", "citation": "Lettre du clinicien (p. 1)", "page": 1,
        "language": "fr",
    })])
    sent = "\n".join(r.text for r in llm_server.requests)
    assert "sténose" not in sent and "P-014" not in sent
    case_meta = kb._collection(collection_for_case("case-1")).metadata
    assert case_meta["embedding_model"] == kb.local_embedder.model_id != remote.model_id
    hits = kb.search("sténose aortique", k=3, case_id="case-1", include_corpus=False)
    assert hits and "sténose" in hits[0].text
    assert "sténose" not in "\n".join(r.text for r in llm_server.requests)  # the query about the case stays too


def test_a_remote_embedder_without_a_key_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("DEROGATION_EMBEDDER", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    kb = KnowledgeBase(tmp_path / "home")
    with pytest.raises(KnowledgeError, match="OPENAI_API_KEY"):
        kb.add([_note(tmp_path)])


def test_a_failing_embedding_service_is_one_clear_error(tmp_path, llm_server):
    llm_server.close()
    kb = KnowledgeBase(tmp_path / "home", embedder=OpenAIEmbedder(base_url=llm_server.url, timeout=2))
    with pytest.raises(KnowledgeError, match="embedding service .* failed"):
        kb.add([_note(tmp_path)])
