"""What the search benchmarks share (bench_search.py, bench_retrieval.py): the reference corpus's
place, a store grown to a given size by duplicating its chunks, and latency percentiles.

A grown store holds copies of the ingested chunks: their vectors with small noise (so HNSW sees
distinct points) and their text marked "[copy N]" (so BM25 sees the same term statistics, scaled).
The embedder is not what is measured there, so nothing is embedded again.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from assistant.knowledge.index import CORPUS, KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "eu"
CACHE = ROOT / "evals" / ".cache" / "vectors.sqlite"  # embed_cache.CachedEmbedder's vectors

__all__ = ["CACHE", "REFERENCE", "grow", "percentiles", "timed"]


def grow(kb: KnowledgeBase, target: int, sample: int | None = None) -> int:
    """Duplicate the corpus's stored chunks (at most `sample` of them, all when None) until the
    collection holds `target` chunks; the lexical index is dropped so the next search rebuilds it.
    Returns the collection's size."""
    collection = kb._collection(CORPUS)
    count = collection.count()
    data = collection.get(include=["documents", "metadatas", "embeddings"], limit=min(count, sample or count))
    base = len(data["ids"])
    rng = np.random.default_rng(0)
    copy = 0
    while count < target:
        copy += 1
        n = min(base, target - count)
        vecs = np.asarray(data["embeddings"][:n], dtype=np.float32)
        vecs = vecs + rng.normal(0, 0.01, vecs.shape).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        for start in range(0, n, 2000):
            end = min(n, start + 2000)
            collection.add(
                ids=[f"dup{copy}-{i}" for i in range(start, end)],
                embeddings=vecs[start:end].tolist(),
                documents=[f"{d} [copy {copy}]" for d in data["documents"][start:end]],
                metadatas=data["metadatas"][start:end],
            )
        count = collection.count()
    kb._lexical.drop(CORPUS)
    return count


def percentiles(times: list[float]) -> dict[str, float]:
    """p50 and p95 of `times` (ms), the p95 as the value 95 % of the runs stay at or under."""
    times = sorted(times)
    return {"p50": round(statistics.median(times), 1), "p95": round(times[max(0, int(len(times) * 0.95) - 1)], 1)}


def timed(run: Callable[[str], object], queries: Iterable[str], rounds: int = 1) -> list[float]:
    """Milliseconds of `run(q)` for each query, `rounds` times over."""
    queries = list(queries)
    times = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            run(q)
            times.append((time.perf_counter() - t) * 1000)
    return times
