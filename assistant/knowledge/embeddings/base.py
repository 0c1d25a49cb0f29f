"""What every offline embedder shares: the protocol the vector store needs, optional imports that
fail with an install hint, the default thread count, and the process-wide cache of loaded models.

Loaded models are cached per process (not per embedder object) because each holds hundreds of
megabytes and a second copy would only cost memory: the app, the CLI and the tests build many
`KnowledgeBase` objects that must all share one.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import EmbedderUnavailableError

__all__ = ["SHARED_LOCK", "Embedder", "as_lists", "default_threads", "require", "shared"]


@runtime_checkable
class Embedder(Protocol):
    """What the vector store needs from an embedder."""

    model_id: str
    dimension: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def require(module: str, install_hint: str) -> Any:
    """Import an optional dependency, or say which package to install (the embedders' run-time
    modules are imported on first use so that choosing another embedder never needs them)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EmbedderUnavailableError(
            f"The embedder needs the Python module {module!r}: install it with `pip install {install_hint}`."
        ) from exc


def default_threads() -> int:
    """Intra-op threads when Config.embed_threads does not say: every core this process may use, at
    most 4 (2 on this machine)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def as_lists(vectors: np.ndarray) -> list[list[float]]:
    """Vectors as the plain Python floats LangChain and Chroma expect."""
    return [[float(x) for x in row] for row in vectors.astype(np.float64)]


# One lock for every process-wide cache (the ONNX sessions in onnx.py and the models below): a
# model is loaded once even when several threads ask for it at the same moment.
SHARED_LOCK = threading.Lock()
_SHARED: dict[str, Any] = {}


def shared(key: str, factory: Callable[[], Any]) -> Any:
    """The process's one instance of `key`, made by `factory` on first use."""
    with SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = factory()
        return _SHARED[key]
