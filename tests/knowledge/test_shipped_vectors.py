"""The notes' shipped vectors: every chunk has one, each is the vector the embedder gives its text,
and a new data home's first build writes them instead of computing them."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.knowledge.embeddings.factory import default_embedder
from assistant.knowledge.index import KnowledgeBase
from assistant.knowledge.shipped import SHIPPED, ShippedVectors
from assistant.knowledge.sources import NOTES_DIR, chunks_of_file, source_files
from tests.conftest import MODELS
from tests.knowledge.test_index import CountingEmbedder


@pytest.fixture(scope="module")
def embedder():
    return default_embedder(MODELS)


@pytest.fixture(scope="module")
def notes_texts() -> list[str]:
    files, _ = source_files([NOTES_DIR])
    return [c.text for f in files for c in chunks_of_file(f)]


def test_every_chunk_of_the_notes_has_its_shipped_vector(embedder, notes_texts) -> None:
    shipped = ShippedVectors.load(embedder.model_id)
    assert shipped is not None, f"{SHIPPED} is missing or for another model: run `make notes-vectors`"
    missing = [t[:60] for t, v in zip(notes_texts, shipped.lookup(notes_texts), strict=True) if v is None]
    assert missing == [], "a note changed since its vectors were written: run `make notes-vectors`"


def test_a_shipped_vector_is_the_one_the_embedder_computes(embedder, notes_texts) -> None:
    shipped = ShippedVectors.load(embedder.model_id)
    assert shipped is not None
    sample = notes_texts[:: max(1, len(notes_texts) // 6)]
    computed = np.asarray(embedder.embed_documents(sample))
    stored = np.asarray(shipped.lookup(sample))
    cosines = (computed * stored).sum(axis=1) / (np.linalg.norm(computed, axis=1) * np.linalg.norm(stored, axis=1))
    assert cosines.min() > 0.9999, cosines


def test_another_model_ignores_them(embedder) -> None:
    assert ShippedVectors.load("some-other-model@1") is None
    assert ShippedVectors.load(embedder.model_id, SHIPPED.with_name("absent.npz")) is None


def test_a_new_home_writes_the_notes_without_embedding_them(tmp_path, embedder, notes_texts) -> None:
    counting = CountingEmbedder(embedder)
    kb = KnowledgeBase(tmp_path / "home", embedder=counting)
    report = kb.ensure_notes()
    assert report is not None and report.added == len(notes_texts)
    assert counting.embedded == 0
    edited = tmp_path / "note.md"  # a text the shipped file does not hold is embedded, as before
    edited.write_text("# Une note ajoutée\n\nLa dérogation individuelle vise un patient nommément désigné.\n")
    kb.add([edited])
    assert counting.embedded == 1
    hits = kb.search("qui notifie la Commission pour une dérogation de plusieurs patients ?", k=5)
    assert any(h.article == "59" for h in hits)
