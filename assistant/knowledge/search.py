"""Hybrid search: one dense (Chroma) and one lexical (BM25) ranked list per target, fused by
reciprocal rank.

A target is a collection and the metadata filters to apply in it; the knowledge base decides
which targets a query has (index.py). Fusing ranks rather than scores needs no calibration
between cosine similarities and BM25 scores, and a passage found by both lists rises above
one found by either alone. Every returned passage also carries its cosine similarity to the
query, measured for lexical-only hits too, so callers can apply one relevance threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.knowledge.bm25 import BM25
from assistant.knowledge.passage import Passage

__all__ = ["GET_PAGE", "RRF_K", "LexicalIndexes", "Target", "hybrid_search"]

RRF_K = 60
GET_PAGE = 5000  # chunks read from Chroma per call when building the lexical index

# (collection name, metadata filters, the case it is scoped to or None for the corpus)
Target = tuple[str, dict[str, str], str | None]


class LexicalIndexes:
    """One BM25 index per collection, built from the chunks Chroma holds and rebuilt when the
    collection's size changes; ingestion drops a collection's index (`drop`)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple, BM25, list[str], list[dict], list[str]]] = {}

    def get(self, name: str, collection: Any) -> tuple[BM25, list[str], list[dict], list[str]]:
        """The index of `collection`, with the documents, metadata and ids its positions refer to."""
        signature = (collection.count(),)
        cached = self._cache.get(name)
        if cached and cached[0] == signature:
            return cached[1], cached[2], cached[3], cached[4]
        docs, metas, ids = [], [], []
        for offset in range(0, signature[0], GET_PAGE):  # paged: SQLite caps the variables per query
            data = collection.get(include=["documents", "metadatas"], limit=GET_PAGE, offset=offset)
            docs += data["documents"] or []
            metas += data["metadatas"] or []
            ids += data["ids"] or []
        bm25 = BM25(docs)
        self._cache[name] = (signature, bm25, docs, metas, ids)
        return bm25, docs, metas, ids

    def drop(self, name: str) -> None:
        self._cache.pop(name, None)

    def clear(self) -> None:
        self._cache.clear()


def hybrid_search(
    query: str,
    k: int,
    targets: list[Target],
    *,
    collection: Callable[[str, bool], Any],
    embedder_for: Callable[[str], Any],
    lexical: LexicalIndexes,
) -> list[Passage]:
    """The `k` best passages over `targets`. `collection(name, create)` opens a collection (None
    when it does not exist and `create` is false); `embedder_for(name)` is the embedder of its
    vectors (the query is embedded once per embedding model: a case's documents may use another)."""
    qvecs: dict[str, list[float]] = {}  # per embedding model: a case's documents may use another
    fused: dict[str, float] = {}
    found: dict[str, tuple[str, dict, float | None]] = {}
    model_of: dict[str, str] = {}
    for name, filters, scoped_case in targets:
        store = collection(name, scoped_case is None)
        if store is None or store.count() == 0:
            continue
        embedder = embedder_for(name)
        if embedder.model_id not in qvecs:
            qvecs[embedder.model_id] = embedder.embed_query(query)
        qvec = qvecs[embedder.model_id]
        n = min(max(k * 4, 20), store.count())
        where = _where(filters)
        dense = store.query(
            query_embeddings=[qvec], n_results=n, where=where, include=["documents", "metadatas", "distances"]
        )
        for rank, (vid, doc, meta, dist) in enumerate(
            zip(dense["ids"][0], dense["documents"][0], dense["metadatas"][0], dense["distances"][0], strict=True)
        ):
            fused[vid] = fused.get(vid, 0.0) + 1 / (RRF_K + rank + 1)
            found[vid] = (doc, meta, 1 - dist)
            model_of[vid] = name
        bm25, docs, metas, ids = lexical.get(name, store)

        for rank, (i, _score) in enumerate(bm25.top(query, n, bm25.mask(metas, filters))):
            vid = ids[i]
            fused[vid] = fused.get(vid, 0.0) + 1 / (RRF_K + rank + 1)
            if vid not in found:
                found[vid] = (docs[i], metas[i], None)
                model_of[vid] = name
    ranked = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
    missing = [vid for vid, _ in ranked if found[vid][2] is None]
    for name in {model_of[v] for v in missing}:  # lexical-only hits: measure their similarity
        these = [v for v in missing if model_of[v] == name]  # too, so thresholds are comparable
        embedder = embedder_for(name)
        sims = _similarities(collection(name, True), qvecs[embedder.model_id], these)
        for vid, sim in zip(these, sims, strict=True):
            found[vid] = (found[vid][0], found[vid][1], sim)
    return [_passage(vid, *found[vid], score=score) for vid, score in ranked]


def _where(filters: dict[str, str]) -> dict | None:
    clauses = [{k: v} for k, v in filters.items() if v]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _similarities(collection: Any, qvec: list[float], ids: list[str]) -> list[float]:
    """Cosine similarity of the query to stored chunks, from their stored vectors."""
    import numpy as np

    got = collection.get(ids=ids, include=["embeddings"])
    by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
    vecs = np.asarray([by_id[i] for i in ids], dtype=float)
    q = np.asarray(qvec, dtype=float)
    norms = np.linalg.norm(vecs, axis=1) * (np.linalg.norm(q) or 1)
    return [float(s) for s in (vecs @ q) / np.where(norms == 0, 1, norms)]


def _passage(vid: str, text: str, meta: dict, similarity: float | None, score: float) -> Passage:
    page = int(meta.get("page") or 0) or None
    return Passage(
        id=f"passage:{vid}",
        citation=str(meta.get("citation", "")),
        text=text.split("\n", 1)[1] if "\n" in text else text,
        source=str(meta.get("filename") or meta.get("source", "")),
        instrument=str(meta.get("instrument", "")),
        article=str(meta.get("article", "")),
        paragraph=str(meta.get("paragraph", "")),
        page=page,
        language=str(meta.get("language", "")),
        url=str(meta.get("url", "")),
        case_id=str(meta.get("case_id", "")),
        evidence_kind=str(meta.get("evidence_kind", "")),
        score=round(score, 6),
        similarity=None if similarity is None else round(similarity, 4),
    )
