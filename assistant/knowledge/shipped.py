"""The notes' vectors, computed once and shipped with them (corpus/notes-vectors.npz).

Every new data home embeds the same 271 chunks of the project's notes: 10-15 s on an idle
2-core machine, 90 s under load, before a first search can be answered. The vectors of the
default embedder are kept beside the notes, keyed by the SHA-256 of each chunk's text and the
embedder's model id, so the first build only writes them to the store. A chunk whose text
changed since (a note edited) is simply embedded, as before; another embedder ignores them.

    python -m assistant.knowledge.shipped      # (or `make notes-vectors`) after editing a note

``tests/knowledge/test_shipped_vectors.py`` fails when a note's chunk has no shipped vector, and
checks that a shipped vector is the one the embedder computes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.config import package_folder

SHIPPED = package_folder("assistant.corpus") / "notes-vectors.npz"
__all__ = ["SHIPPED", "ShippedVectors", "text_key"]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ShippedVectors:
    """The shipped vectors of one embedding model, looked up by chunk text."""

    def __init__(self, model_id: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        self.model_id = model_id
        self._rows = {key: i for i, key in enumerate(keys)}
        self._vectors = vectors

    @classmethod
    def load(cls, model_id: str, path: Path = SHIPPED) -> ShippedVectors | None:
        """The vectors shipped for `model_id`, or None (no file, another model, a damaged file)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model_id"]) != model_id:
                    return None
                return cls(model_id, data["keys"].tolist(), np.asarray(data["vectors"], dtype=np.float32))
        except (OSError, KeyError, ValueError):
            return None

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, texts: Sequence[str]) -> list[list[float] | None]:
        """Each text's shipped vector, or None for a text it does not hold."""
        rows = [self._rows.get(text_key(t)) for t in texts]
        return [None if r is None else self._vectors[r].tolist() for r in rows]


def write(path: Path = SHIPPED, models_dir: Path | None = None) -> int:
    """Embed every chunk of the notes with the default embedder and write them to `path`."""
    from assistant.config import Config
    from assistant.knowledge.embeddings.factory import default_embedder
    from assistant.knowledge.sources import NOTES_DIR, chunks_of_file, source_files

    config = Config.from_env()
    embedder = default_embedder(models_dir or config.models_dir or config.home / "models")
    files, _problems = source_files([NOTES_DIR])
    texts = sorted({c.text for f in files for c in chunks_of_file(f)})
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, model_id=np.asarray(embedder.model_id), keys=np.asarray([text_key(t) for t in texts]),
                        vectors=vectors)
    tmp.replace(path)
    return len(texts)


if __name__ == "__main__":
    print(f"{write()} note chunk(s) embedded into {SHIPPED}")
