"""Retrieval quality on the gold set v2 (evals/gold/retrieval_v2.yaml): recall@5 and MRR per split,
language, kind (article, guidance) and question form (paraphrase, direct), for the naive baseline
and the product's search variants, all measured in the same run over the same corpus.

Corpus: the project's notes plus every text under ../shared/reference/eu (MDR, IVDR, MDCG, MEDDEV).
A hit is a retrieved passage from a file the gold item names as answering it ("document" hit: an
article file for the regulations, one guidance document); `passage` recall@5 asks more: the
retrieved chunk holds the gold quote.

  naive     dense only (same embedder, exact cosine) over the product's chunks; with
            --naive-windows, over fixed 1,000-character windows of each file instead
  product   the knowledge base as shipped (KnowledgeBase.search with its default settings)
  other     the product with one setting changed (see VARIANTS), to show what each step brings

    python evals/retrieval_gold.py [--split validation|train|all] [--reference PATH]

Vectors are cached by text under evals/.cache/ (only changed chunks are embedded again).
Prints a table and writes evals/results/retrieval_gold.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))

from embed_cache import CachedEmbedder  # noqa: E402

from assistant.knowledge.embeddings.factory import load_embedder  # noqa: E402
from assistant.knowledge.index import KnowledgeBase  # noqa: E402
from assistant.knowledge.search import SearchSettings  # noqa: E402
from assistant.knowledge.sources import NOTES_DIR, CorpusError, chunks_of_file, source_files  # noqa: E402

RESULTS = ROOT / "evals" / "results"
GOLD = ROOT / "evals" / "gold" / "retrieval_v2.yaml"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "eu"
CACHE = ROOT / "evals" / ".cache" / "vectors.sqlite"
K = 5


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _rel(source: str, ref: Path) -> str:
    try:
        return str(Path(source).resolve().relative_to(ref.resolve()))
    except ValueError:
        return source


def ranks(hits: list[tuple[str, str]], item: dict) -> tuple[int | None, int | None]:
    """Rank of the first document hit and of the first passage hit (chunk holding a gold quote)."""
    files = {e["file"] for e in item["expected"]}
    quotes = [(e["file"], _norm(e["quote"])) for e in item["expected"]]
    doc = next((i for i, (f, _) in enumerate(hits) if f in files), None)
    passage = next((i for i, (f, t) in enumerate(hits) if any(f == qf and q[:60] in t for qf, q in quotes)), None)
    return doc, passage


def summarise(rows: list[dict]) -> dict:
    n = len(rows) or 1
    return {
        "n": len(rows),
        "recall@5": round(sum(r["doc"] is not None and r["doc"] < K for r in rows) / n, 3),
        "mrr": round(sum(1 / (r["doc"] + 1) for r in rows if r["doc"] is not None) / n, 3),
        "passage_recall@5": round(sum(r["passage"] is not None and r["passage"] < K for r in rows) / n, 3),
    }


def groups(rows: list[dict]) -> dict:
    out = {"all": summarise(rows)}
    for name, pick in (
        ("en", lambda r: r["lang"] == "en"), ("fr", lambda r: r["lang"] == "fr"),
        ("article", lambda r: r["kind"] == "article"), ("guidance", lambda r: r["kind"] == "guidance"),
        ("paraphrase", lambda r: r["paraphrase"]), ("direct", lambda r: not r["paraphrase"]),
    ):
        out[name] = summarise([r for r in rows if pick(r)])
    return out


def naive_index(files: list[Path], embedder) -> tuple:
    """Fixed 1,000-character windows of each file's text, with the file they come from."""
    import numpy as np

    texts, sources = [], []
    for path in files:
        try:
            chunks = chunks_of_file(path)
        except CorpusError:
            continue
        whole = "\n".join(c.text.split("\n", 1)[-1] for c in chunks)
        for start in range(0, len(whole), 1000):
            texts.append(whole[start : start + 1000])
            sources.append(str(path))
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return texts, sources, vectors


def tune(gold: list[dict], product) -> SearchSettings:
    """Coordinate ascent on the training split: each setting in turn takes the value that gives the
    best recall@5 + MRR (on that language's questions only, for a per-language weight)."""
    from dataclasses import replace

    def score(settings: SearchSettings, lang: str | None = None) -> float:
        run = product(settings)
        rows = []
        for item in gold:
            if lang and item["lang"] != lang:
                continue
            doc, _ = ranks(run(item["q"]), item)
            rows.append({"doc": doc, "passage": None})
        s = summarise(rows)
        return s["recall@5"] + s["mrr"]

    grid = {
        "expansion": [0.0, 0.5],
        "lexical_fr": [0.5, 1.0, 2.0],
        "lexical_en": [0.5, 1.0, 2.0],
        "heading_boost": [0.0, 1.0],
        "per_document": [0, 2],
    }
    current = SearchSettings(expansion=0.0, heading_boost=0.0, per_document=0)
    log = []
    for _round in range(1):
        for name, values in grid.items():
            lang = {"lexical_fr": "fr", "lexical_en": "en"}.get(name)
            scores = {v: score(replace(current, **{name: v}), lang) for v in values}
            best = max(values, key=lambda v: (round(scores[v], 4), v == getattr(current, name)))
            current = replace(current, **{name: best})
            log.append({"setting": name, "scores": {str(k): round(v, 4) for k, v in scores.items()}, "chosen": best})
            print(f"{name:14} " + "  ".join(f"{k}:{v:.3f}" for k, v in scores.items()) + f"  -> {best}", flush=True)
    print("tuned on train:", current)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval_tuning.json").write_text(
        json.dumps({"split": "train", "questions": len(gold), "steps": log, "chosen": current.__dict__}, indent=2),
        encoding="utf-8")
    return current


def with_settings(base: SearchSettings, spec: str) -> SearchSettings:
    """`base` with the settings named in `spec` ("rendering=1,rrf_k=20") changed."""
    from dataclasses import fields, replace

    types = {f.name: type(getattr(base, f.name)) for f in fields(base)}
    changes = {}
    for part in filter(None, spec.split(",")):
        name, value = part.split("=", 1)
        changes[name.strip()] = types[name.strip()](float(value) if types[name.strip()] is float else int(value))
    return replace(base, **changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--split", default="validation", choices=("validation", "train", "all"))
    parser.add_argument("--models", type=Path, default=None, help="converted models folder (kept between runs)")
    parser.add_argument("--variants", default="", help="comma-separated subset of variants to run")
    parser.add_argument("--dump", type=Path, default=None, help="write every item's ranked files here")
    parser.add_argument("--tune", action="store_true",
                        help="coordinate ascent of the search settings on the TRAINING split (never validation)")
    parser.add_argument("--naive-windows", action="store_true", help="naive baseline on fixed 1,000-character windows")
    parser.add_argument("--home", type=Path, default=None,
                        help="a data home kept between runs (the store is then only synced: seconds, not minutes)")
    parser.add_argument("--try", dest="tries", action="append", default=[],
                        help="a variant: the defaults with some settings changed, e.g. 'rendering=1,rrf_k=20' (repeatable)")
    parser.add_argument("--only-tries", action="store_true", help="run the naive baseline, the product and the --try variants only")
    args = parser.parse_args()
    if not args.reference.exists():
        sys.exit(f"{args.reference} is missing: the gold set is over that corpus")
    everything = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    gold = [g for g in everything if args.split == "all" or g["split"] == args.split]
    files, _ = source_files([NOTES_DIR, args.reference])
    home = args.home or Path(tempfile.mkdtemp(prefix="retrieval-gold-"))
    embedder = CachedEmbedder(load_embedder("e5-small", args.models or home / "models"), CACHE)
    t0 = time.perf_counter()

    # The product's chunks, embedded in one length-sorted pass (then ingestion reads the cache).
    all_chunks = []
    for path in files:
        with contextlib.suppress(CorpusError):
            all_chunks += chunks_of_file(path)
    vecs = embedder.embed_documents([c.text for c in all_chunks])
    if args.naive_windows:
        texts, sources, vectors = naive_index(files, embedder)
    else:
        import numpy as np

        texts = [c.text.split("\n", 1)[-1] for c in all_chunks]
        sources = [str(c.metadata["source"]) for c in all_chunks]
        vectors = np.asarray(vecs, dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kb = KnowledgeBase(home, embedder=embedder)
    report = kb.add(files)
    prep = time.perf_counter() - t0

    import numpy as np

    def naive(q: str) -> list[tuple[str, str]]:
        qv = np.asarray(embedder.embed_query(q), dtype=np.float32)
        top = np.argsort(-(vectors @ qv))[:10]
        return [(_rel(sources[i], args.reference), _norm(texts[i])) for i in top]

    def product(settings: SearchSettings | None):
        def run(q: str) -> list[tuple[str, str]]:
            return [(_rel(p.source, args.reference), _norm(p.text)) for p in kb.search(q, k=10, settings=settings)]
        return run

    chosen = tune([g for g in everything if g["split"] == "train"], product) if args.tune else SearchSettings()
    variants = {"naive": naive}
    for name, settings in chosen.variants().items():
        if name == "hybrid (plain)" or settings != chosen.variants()["hybrid (plain)"]:
            variants[name] = product(settings)
    variants["product" + (" (tuned on train)" if args.tune else "")] = product(chosen)
    if args.variants:
        keep = set(args.variants.split(",")) | {"naive", "product"}
        variants = {k: v for k, v in variants.items() if k in keep}
    if args.only_tries:
        variants = {k: v for k, v in variants.items() if k == "naive" or k.startswith("product")}
    for spec in args.tries:
        variants[spec] = product(with_settings(chosen, spec))

    results: dict[str, dict] = {}
    dump: dict[str, list] = {}
    for name, run in variants.items():
        rows = []
        for item in gold:
            hits = run(item["q"])
            doc, passage = ranks(hits, item)
            rows.append({"id": item["id"], "lang": item["lang"], "kind": item["kind"],
                         "paraphrase": item["paraphrase"], "doc": doc, "passage": passage})
            dump.setdefault(name, []).append({"id": item["id"], "split": item["split"], "lang": item["lang"],
                                              "kind": item["kind"], "paraphrase": item["paraphrase"], "q": item["q"],
                                              "gold": [e["file"] for e in item["expected"]], "doc": doc,
                                              "passage": passage, "top": [f for f, _ in hits[:5]]})
        results[name] = groups(rows)

    out = {
        "settings": chosen.__dict__, "tuned_on_train": args.tune,
        "split": args.split, "items": len(gold), "files": len(files), "embedder": embedder.model_id,
        "product_chunks": report.chunks, "naive_chunks": len(texts), "prep_s": round(prep, 1),
        "embedded_now": embedder.computed, "results": results,
    }
    cols = ["all", "en", "fr", "article", "guidance", "paraphrase", "direct"]
    print(f"split {args.split}: {len(gold)} questions; corpus {len(files)} files, product {report.chunks} chunks, naive {len(texts)}")
    print(f"{'recall@5 / MRR':16}" + "".join(f"{c:>14}" for c in cols) + f"{'passage r@5':>13}")
    for name, res in results.items():
        cells = "".join(f"{res[c]['recall@5']:>7.3f}/{res[c]['mrr']:<6.3f}" for c in cols)
        print(f"{name:16}{cells}{res['all']['passage_recall@5']:>13.3f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.split == "validation" else f"_{args.split}"
    (RESULTS / f"retrieval_gold{suffix}.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    if args.dump:
        args.dump.write_text(json.dumps(dump, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
