"""Retrieval quality: recall@5 and MRR on the gold queries, for a naive baseline and the product.

(a) baseline, measured in the same run: fixed 1,000-character chunks, dense only, same embedder;
(b) the product: structure-aware chunks with metadata, BM25 + dense fused per language.
Both index the project's notes plus every text under ../shared/reference/eu/ when present.

    python evals/retrieval_eval.py [--reference PATH] [--limit-files N]

Prints a table and writes evals/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.knowledge.embeddings.factory import load_embedder  # noqa: E402
from assistant.knowledge.index import KnowledgeBase  # noqa: E402
from assistant.knowledge.sources import NOTES_DIR, CorpusError, chunks_of_file, source_files  # noqa: E402

RESULTS = ROOT / "evals" / "results"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "eu"


def matches(meta: dict, gold: str) -> bool:
    instrument, article, paragraph = (gold.split("|") + ["", ""])[:3]
    if meta.get("instrument") != instrument:
        return False
    if not article:
        return True
    chunk_article = str(meta.get("article", ""))
    slug = not article[:1].isdigit() and not article.startswith(("Annex", "L.", "R."))
    if chunk_article != article and not (slug and chunk_article == ""):
        return False  # an official guidance text has no section slug: any chunk of it counts
    return not paragraph or not meta.get("paragraph") or str(meta.get("paragraph")) == paragraph


def score(ranked_metas: list[list[dict]], gold: list[dict], k: int = 5) -> dict:
    recall, rr = [], []
    for metas, item in zip(ranked_metas, gold, strict=True):
        hit_rank = next((i for i, m in enumerate(metas) if any(matches(m, g) for g in item["expected"])), None)
        recall.append(1.0 if hit_rank is not None and hit_rank < k else 0.0)
        rr.append(1.0 / (hit_rank + 1) if hit_rank is not None else 0.0)
    n = len(gold) or 1
    return {"recall@5": round(sum(recall) / n, 3), "mrr": round(sum(rr) / n, 3)}


def by_language(gold: list[dict], metas: list[list[dict]]) -> dict:
    out = {}
    for lang in ("en", "fr"):
        idx = [i for i, g in enumerate(gold) if g["lang"] == lang]
        out[lang] = score([metas[i] for i in idx], [gold[i] for i in idx])
    return out


def naive_chunks(files: list[Path]) -> tuple[list[str], list[dict]]:
    """Fixed 1,000-character windows with only the file-level metadata."""
    texts, metas = [], []
    for path in files:
        try:
            chunks = chunks_of_file(path)
        except CorpusError:
            continue
        if not chunks:
            continue
        meta = {k: chunks[0].metadata.get(k, "") for k in ("instrument", "language", "source")}
        if chunks[0].metadata.get("kind") == "note":  # a note is about one provision
            meta.update(article=chunks[0].metadata["article"], paragraph=chunks[0].metadata["paragraph"])
        whole = "\n".join(c.text.split("\n", 1)[-1] for c in chunks)
        for start in range(0, len(whole), 1000):
            texts.append(whole[start : start + 1000])
            metas.append({**meta, "article": meta.get("article", ""), "paragraph": meta.get("paragraph", "")})
    return texts, metas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--limit-files", type=int, default=0, help="index only the first N reference files")
    args = parser.parse_args()
    gold = yaml.safe_load((ROOT / "evals" / "gold_queries.yaml").read_text(encoding="utf-8"))
    paths = [NOTES_DIR] + ([args.reference] if args.reference.exists() else [])
    files, _ = source_files(paths)
    if args.limit_files:
        files = [f for f in files if f.is_relative_to(NOTES_DIR)] + [f for f in files if not f.is_relative_to(NOTES_DIR)][: args.limit_files]
    home = Path(tempfile.mkdtemp(prefix="retrieval-eval-"))
    embedder = load_embedder("e5-small", home / "models")
    embedder.embed_query("warm up")

    # (a) baseline: naive chunks, dense only (numpy cosine, same embedder)
    import numpy as np

    t0 = time.perf_counter()
    texts, metas = naive_chunks(files)
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    base_ingest = time.perf_counter() - t0
    base_ranked = []
    for item in gold:
        q = np.asarray(embedder.embed_query(item["q"]), dtype=np.float32)
        top = np.argsort(-(vectors @ q))[:10]
        base_ranked.append([metas[i] for i in top])

    # (b) the product
    kb = KnowledgeBase(home, embedder=embedder)
    t0 = time.perf_counter()
    report = kb.add(files, progress=True)
    product_ingest = time.perf_counter() - t0
    product_ranked, latencies = [], []
    for item in gold:
        t = time.perf_counter()
        hits = kb.search(item["q"], k=10)
        latencies.append(time.perf_counter() - t)
        product_ranked.append([{"instrument": h.instrument, "article": h.article, "paragraph": h.paragraph} for h in hits])

    result = {
        "queries": len(gold),
        "files": len(files),
        "embedder": embedder.model_id,
        "baseline": {"chunks": len(texts), "ingest_s": round(base_ingest, 1), **score(base_ranked, gold),
                     "by_language": by_language(gold, base_ranked)},
        "product": {"chunks": report.chunks, "ingest_s": round(product_ingest, 1), **score(product_ranked, gold),
                    "by_language": by_language(gold, product_ranked),
                    "query_p50_ms": round(1000 * sorted(latencies)[len(latencies) // 2], 1)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    b, p = result["baseline"], result["product"]
    print(f"{'':10} {'chunks':>7} {'recall@5':>9} {'MRR':>6} {'fr r@5':>7} {'en r@5':>7}")
    for name, r in (("baseline", b), ("product", p)):
        print(f"{name:10} {r['chunks']:>7} {r['recall@5']:>9} {r['mrr']:>6} {r['by_language']['fr']['recall@5']:>7} {r['by_language']['en']['recall@5']:>7}")
    if b["recall@5"]:
        print(f"product / baseline recall@5: {p['recall@5'] / b['recall@5']:.2f}x, MRR: {p['mrr'] / max(b['mrr'], 1e-9):.2f}x")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
