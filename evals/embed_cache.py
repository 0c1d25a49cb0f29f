"""An embedding cache for evaluations: the same embedder, its vectors kept on disk by text.

Embedding the ~6,500 chunks of the reference corpus takes minutes on this machine; every variant
of the retrieval evaluation re-uses the vectors of the chunks it shares with a previous run, so
only what changed (e.g. re-chunked guidance) is embedded again. Not used by the product.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np


class CachedEmbedder:
    """Wraps an embedder; `embed_documents`/`embed_query` read and fill a SQLite cache."""

    def __init__(self, inner: Any, path: Path) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.local = True
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute("CREATE TABLE IF NOT EXISTS v (key TEXT PRIMARY KEY, vec BLOB)")
        self.computed = 0

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha1(f"{self.model_id}\0{kind}\0{text}".encode()).hexdigest()

    def _get(self, keys: list[str]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            rows = self._db.execute(f"SELECT key, vec FROM v WHERE key IN ({','.join('?' * len(batch))})", batch)
            out.update({k: np.frombuffer(b, dtype=np.float32).tolist() for k, b in rows})
        return out

    def _put(self, pairs: list[tuple[str, list[float]]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO v VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in pairs],
            )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [self._key("d", t) for t in texts]
        have = self._get(keys)
        todo = [i for i, k in enumerate(keys) if k not in have]
        if todo:
            order = sorted(todo, key=lambda i: len(texts[i]))  # similar lengths batch with less padding
            for start in range(0, len(order), 64):
                part = order[start : start + 64]
                vecs = self.inner.embed_documents([texts[i] for i in part])
                self._put([(keys[i], v) for i, v in zip(part, vecs, strict=True)])
                have.update({keys[i]: list(v) for i, v in zip(part, vecs, strict=True)})
                self.computed += len(part)
        return [have[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        key = self._key("q", text)
        got = self._get([key])
        if key in got:
            return got[key]
        vec = self.inner.embed_query(text)
        self._put([(key, vec)])
        return list(vec)
