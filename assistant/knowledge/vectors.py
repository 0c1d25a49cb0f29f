"""Exact nearest-neighbour search over a small matrix of unit vectors, kept in memory: a filtered
part of a collection (search.py) and the question bank (questions.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["nearest", "unit"]


def unit(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def nearest(vectors: np.ndarray, qvec: Sequence[float], n: int) -> list[tuple[int, float]]:
    """The `n` rows of `vectors` (unit rows) nearest to `qvec`, as (row, cosine similarity), best first."""
    q = np.asarray(qvec, dtype=np.float32)
    sims = vectors @ (q / (np.linalg.norm(q) or 1))
    best = np.argpartition(-sims, n - 1)[:n] if len(sims) > n else np.arange(len(sims))
    best = best[np.argsort(-sims[best], kind="stable")]
    return [(int(i), float(sims[i])) for i in best]
