"""Search latency at scale, and ingest time of the MDR + IVDR (a benchmark, not a test).

Latency: the notes plus the MDR and IVDR are ingested (vectors from the evaluation's cache, see
embed_cache.py), then the store is grown to `--scale` chunks by duplicating stored chunks (their
vectors with small noise, their text marked "[copy N]": scale.py, shared with bench_retrieval.py). Timed in
process, over the gold set's training questions (French and English), each figure beside its
baseline from the same run:

  hybrid      KnowledgeBase.search(q, k=5): the product's search (query embedding included)
  dense only  the query embedding plus one Chroma HNSW query (the baseline)
  main's      the search before the question lists (questions.py) and the general twin
              (`PREVIOUS`), the same run
  bm25 load   the first search of a new KnowledgeBase on that store: the postings saved beside the
              store are loaded, against building them from the chunks Chroma holds (the old way)

Ingest (`--ingest`): the MDR + IVDR (272 files) into an empty store with the real embedder (no
cache), batched across files (the product) against one file at a time (the old way).

    python evals/bench_search.py [--scale 50000] [--ingest] [--models DIR]

Prints a table and writes evals/results/bench_search.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))

from embed_cache import CachedEmbedder  # noqa: E402
from scale import CACHE, REFERENCE, grow, percentiles, timed  # noqa: E402

from assistant.knowledge.embeddings.factory import load_embedder  # noqa: E402
from assistant.knowledge.index import CORPUS, KnowledgeBase  # noqa: E402
from assistant.knowledge.search import SearchSettings  # noqa: E402
from assistant.knowledge.sources import NOTES_DIR, source_files  # noqa: E402

OUT = ROOT / "evals" / "results" / "bench_search.json"
# main's search before the question lists (and the general twin, RRF 30), for the same-run comparison
PREVIOUS = SearchSettings(questions=0.0, questions_lexical=0.0, unnamed_twin=1.0, rrf_k=60)


def latency(args, rows: dict) -> None:
    gold = yaml.safe_load((ROOT / "evals" / "gold" / "retrieval_v2.yaml").read_text(encoding="utf-8"))
    queries = [g["q"] for g in gold if g["split"] == "train"][:60]
    home = args.reuse or Path(tempfile.mkdtemp(prefix="bench-search-"))
    embedder = CachedEmbedder(load_embedder("e5-small", args.models or home / "models"), CACHE)
    kb = KnowledgeBase(home, embedder=embedder)
    if not args.reuse:
        files, _ = source_files([NOTES_DIR, REFERENCE / "01-regulation"])
        kb.add(files)
        grow(kb, args.scale)
    count = kb._collection(CORPUS).count()
    for q in queries:  # the query vectors come from the cache in every timed loop below
        embedder.embed_query(q)

    t = time.perf_counter()
    kb.search("warm up", k=5)  # builds the postings from the chunks Chroma holds, and saves them
    build_ms = (time.perf_counter() - t) * 1000 if not args.reuse else None
    fresh = KnowledgeBase(home, embedder=embedder)  # a new process's knowledge base on the same store
    fresh._collection(CORPUS).count()
    t = time.perf_counter()
    fresh.search("warm up", k=5)
    load_ms = (time.perf_counter() - t) * 1000

    collection = kb._collection(CORPUS)
    hybrid, dense, previous = [], [], []
    for _ in range(args.rounds):  # interleaved: all see the same load
        dense += timed(lambda q: collection.query(query_embeddings=[embedder.embed_query(q)], n_results=5), queries)
        hybrid += timed(lambda q: kb.search(q, k=5), queries)
        previous += timed(lambda q: kb.search(q, k=5, settings=PREVIOUS), queries)
    raw = KnowledgeBase(home, embedder=embedder.inner)  # the same store, the query embedded for real
    raw.search("warm up", k=5)
    dense_embedded = timed(lambda q: collection.query(query_embeddings=[embedder.inner.embed_query(q)], n_results=5), queries)
    embedded = timed(lambda q: raw.search(q, k=5), queries)
    rows["latency"] = {
        "chunks": count, "queries": len(queries) * args.rounds,
        "hybrid_ms": percentiles(hybrid), "dense_only_ms": percentiles(dense),
        "hybrid_before_questions_ms": percentiles(previous),
        "hybrid_with_query_embedding_ms": percentiles(embedded),
        "dense_only_with_query_embedding_ms": percentiles(dense_embedded),
        "first_search_ms": {"postings_loaded": round(load_ms),
                            "postings_built_from_chroma": round(build_ms) if build_ms else rows.get("latency", {}).get(
                                "first_search_ms", {}).get("postings_built_from_chroma")},
        "note": "hybrid_ms / dense_only_ms: query vectors from a cache; *_with_query_embedding_ms: embedded by e5-small",
    }


def ingest(args, rows: dict) -> None:
    files, _ = source_files([REFERENCE / "01-regulation"])
    out = {}
    for name, batch in (("batched (product)", None), ("one file at a time (old)", 1)):
        home = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        kb = KnowledgeBase(home, embedder=load_embedder("e5-small", args.models or home / "models"))
        kb.embedder.embed_query("warm up")
        t = time.perf_counter()
        report = kb.add(files, batch_chunks=batch)
        secs = time.perf_counter() - t
        out[name] = {"files": len(files), "chunks": report.added, "seconds": round(secs, 1),
                     "chunks_per_s": round(report.added / secs, 1)}
        print(name, out[name], flush=True)
    rows["ingest_mdr_ivdr"] = out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ingest", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--reuse", type=Path, default=None, help="a home this benchmark grew before (skip ingest and growth)")
    args = parser.parse_args()
    rows: dict = json.loads(OUT.read_text()) if OUT.exists() else {}
    if not args.no_latency:
        latency(args, rows)
    if args.ingest:
        ingest(args, rows)
    print(json.dumps(rows, indent=2))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
