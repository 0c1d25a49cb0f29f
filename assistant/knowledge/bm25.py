"""Lexical retrieval: Okapi BM25 over accent-folded, stop-word-free, crudely stemmed words.

It finds what the dense embedder misses (article numbers, acronyms, exact terms such as
"Art. 59") and is fused with it by the knowledge base's hybrid search (search.py). French and
English share one tokeniser: accents are folded and both languages' stop words are dropped.

The index is a set of sparse postings (per term: the chunks holding it and their BM25 weights) in
flat numpy arrays, saved beside the vector store (`save`/`load`) so that a process opens it in
milliseconds instead of re-reading and re-tokenising every chunk. A query touches only the
postings of its own terms, so its cost grows with how common its words are, not with the corpus.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BM25", "fold", "tokens"]

_STOP = set(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "which", "with", "shall", "may", "must", "not", "any", "other", "such", "where", "when", "who", "whom", "what", "under", "into", "than", "then", "there", "these", "those", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "est", "et", "il", "ils", "la", "le", "les", "leur", "lui", "mais", "ne", "ni", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sont", "sur", "un", "une", "vos", "votre", "été", "être", "sans", "entre", "dont", "lorsque"]
    + ["can", "do", "does", "did", "we", "our", "us", "you", "your", "how", "if", "should", "would", "could", "will",
       "need", "there", "still", "also", "only", "so", "one", "ete", "etre", "notre", "nos", "faut", "peut", "doit",
       "doivent", "peuvent", "quel", "quelle", "quels", "quelles", "cela", "ca", "cet", "cette", "elles", "on", "si",
       "aussi", "encore", "comme", "est-ce", "y", "leurs", "tout", "tous", "toute", "toutes", "fait", "faire"]
)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Lowercase, accent-free words, without stop words, cut to 7 characters (a cheap stemmer
    that joins "dérogation"/"dérogations"/"derogation")."""
    return [w[:7] for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) > 1 and w not in _STOP]


class BM25:
    """Okapi BM25 over sparse postings held as flat numpy arrays (see the module docstring)."""

    def __init__(self, docs: list[str] | None = None, k1: float = 1.4, b: float = 0.75) -> None:
        self.n = 0
        self.terms: dict[str, int] = {}
        self.offsets = np.zeros(1, np.int64)  # postings of term t: [offsets[t], offsets[t + 1])
        self.doc_ids = np.zeros(0, np.int32)
        self.weights = np.zeros(0, np.float32)  # the BM25 term-frequency part, times the idf
        if docs is not None:
            self._build(docs, k1, b)

    def _build(self, docs: list[str], k1: float, b: float) -> None:
        tfs = [Counter(tokens(d)) for d in docs]
        lens = [sum(tf.values()) for tf in tfs]
        avg = (sum(lens) / len(lens)) if lens else 0.0
        self.n = len(docs)
        ids: dict[str, list[int]] = {}
        weights: dict[str, list[float]] = {}
        for i, tf in enumerate(tfs):
            norm = k1 * (1 - b + b * lens[i] / (avg or 1))
            for t, f in tf.items():
                ids.setdefault(t, []).append(i)
                weights.setdefault(t, []).append(f * (k1 + 1) / (f + norm))
        self.terms = {t: n for n, t in enumerate(ids)}
        sizes = np.fromiter((len(ids[t]) for t in ids), np.int64, count=len(ids))
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.doc_ids = np.fromiter((i for t in ids for i in ids[t]), np.int32, count=int(self.offsets[-1]))
        idf = {t: math.log(1 + (self.n - len(v) + 0.5) / (len(v) + 0.5)) for t, v in ids.items()}
        self.weights = np.fromiter((w * idf[t] for t in ids for w in weights[t]), np.float32, count=int(self.offsets[-1]))

    # -- persistence ---------------------------------------------------------------------------------------
    def save(self, path: Path, extra: dict[str, Any]) -> None:
        """Write the postings and `extra` arrays (the chunk ids, metadata columns, a signature)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp, n=np.asarray(self.n), terms=np.asarray(list(self.terms), dtype=str), offsets=self.offsets,
            doc_ids=self.doc_ids, weights=self.weights, **{f"x_{k}": np.asarray(v) for k, v in extra.items()},
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> tuple[BM25, dict[str, Any]]:
        with np.load(path, allow_pickle=False) as data:
            index = cls()
            index.n = int(data["n"])
            index.terms = {t: n for n, t in enumerate(data["terms"].tolist())}
            index.offsets, index.doc_ids, index.weights = data["offsets"], data["doc_ids"], data["weights"]
            extra = {k[2:]: data[k] for k in data.files if k.startswith("x_")}
        return index, extra

    # -- queries ---------------------------------------------------------------------------------------------
    def scores(self, query: str | dict[str, float]) -> np.ndarray:
        """Every chunk's score for `query` (text, or terms with their weights): one pass over the
        postings of the query's own terms."""
        terms = {t: 1.0 for t in tokens(query)} if isinstance(query, str) else query
        parts_ids, parts_w = [], []
        for t, weight in terms.items():
            k = self.terms.get(t)
            if k is None:
                continue
            lo, hi = self.offsets[k], self.offsets[k + 1]
            parts_ids.append(self.doc_ids[lo:hi])
            parts_w.append(self.weights[lo:hi] * np.float32(weight))
        if not parts_ids:
            return np.zeros(self.n, np.float32)
        return np.bincount(np.concatenate(parts_ids), weights=np.concatenate(parts_w), minlength=self.n)

    def top(self, query: str | dict[str, float] | np.ndarray, n: int, allowed: Any = None) -> list[tuple[int, float]]:
        """The `n` best chunks for `query` (text, terms with their weights, or `scores` already
        computed), among those `allowed` (a boolean mask) if given."""
        scores = query if isinstance(query, np.ndarray) else self.scores(query)
        hit = scores > 0
        if allowed is not None:
            hit &= allowed
        candidates = np.flatnonzero(hit)
        if len(candidates) > n:
            candidates = candidates[np.argpartition(-scores[candidates], n - 1)[:n]]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [(int(i), float(scores[i])) for i in order]
