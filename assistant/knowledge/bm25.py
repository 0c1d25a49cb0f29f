"""Lexical retrieval: Okapi BM25 over accent-folded, stop-word-free, crudely stemmed words.

It finds what the dense embedder misses (article numbers, acronyms, exact terms such as
"Art. 59") and is fused with it by the knowledge base's hybrid search (search.py). French and
English share one tokeniser: accents are folded and both languages' stop words are dropped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Any

__all__ = ["BM25", "fold", "tokens"]

_STOP = set(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "which", "with", "shall", "may", "must", "not", "any", "other", "such", "where", "when", "who", "whom", "what", "under", "into", "than", "then", "there", "these", "those", "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "est", "et", "il", "ils", "la", "le", "les", "leur", "lui", "mais", "ne", "ni", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sont", "sur", "un", "une", "vos", "votre", "été", "être", "sans", "entre", "dont", "lorsque"]
)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Lowercase, accent-free words, without stop words, cut to 7 characters (a cheap stemmer
    that joins "dérogation"/"dérogations"/"derogation")."""
    return [w[:7] for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) > 1 and w not in _STOP]


class BM25:
    """Okapi BM25 over an inverted index held as numpy arrays: a query costs one vectorised
    update per query term, so latency stays low at tens of thousands of chunks."""

    def __init__(self, docs: list[str], k1: float = 1.4, b: float = 0.75) -> None:
        import numpy as np

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
        self.postings = {t: (np.asarray(ids[t], np.int32), np.asarray(weights[t], np.float32)) for t in ids}
        self.idf = {t: math.log(1 + (self.n - len(v) + 0.5) / (len(v) + 0.5)) for t, v in ids.items()}
        self._masks: dict[tuple, Any] = {}

    def mask(self, metas: list[dict], filters: dict[str, str]) -> Any:
        """Which chunks pass the metadata filters (computed once per filter set)."""
        import numpy as np

        key = tuple(sorted((k, v) for k, v in filters.items() if v))
        if key not in self._masks:
            self._masks[key] = np.fromiter(
                (all(m.get(k) == v for k, v in key) for m in metas), dtype=bool, count=len(metas)
            ) if key else None
        return self._masks[key]

    def top(self, query: str, n: int, allowed: Any = None) -> list[tuple[int, float]]:
        """The `n` best chunks for `query`, among those `allowed` (a boolean mask) if given."""
        import numpy as np

        scores = np.zeros(self.n, np.float32)
        hit = np.zeros(self.n, bool)
        for t in set(tokens(query)):
            posting = self.postings.get(t)
            if posting is None:
                continue
            scores[posting[0]] += self.idf[t] * posting[1]
            hit[posting[0]] = True
        if allowed is not None:
            hit &= allowed
        candidates = np.flatnonzero(hit)
        if len(candidates) > n:
            candidates = candidates[np.argpartition(-scores[candidates], n - 1)[:n]]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [(int(i), float(scores[i])) for i in order]
