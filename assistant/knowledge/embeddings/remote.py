"""Embeddings from the OpenAI API or an OpenAI-compatible server (`DEROGATION_EMBEDDER=openai`).

The corpus (regulation texts, guidance, the project's notes) holds no patient data, so it may be
embedded by a remote service. A case's own documents may: they are embedded by a remote service
only when its base URL is on this machine; otherwise the knowledge base uses the bundled local
embedder for them (see `KnowledgeBase.embedder_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.case.privacy import is_local_url
from assistant.errors import (
    RemoteEmbedderError,
)

DEFAULT_MODEL = "text-embedding-3-small"
OPENAI_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class RemoteEmbedding:
    """Which remote model embeds the corpus: the language-model settings' embedding model and server
    (the service builds it from them, so the saved 'embedding model' setting is the one used)."""

    model: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)


class OpenAIEmbedder:
    """LangChain's OpenAIEmbeddings behind our Embedder protocol (model_id, dimension, embed_*)."""

    def __init__(self, model: str = "", base_url: str = "", api_key: str = "", timeout: float = 60.0) -> None:
        self.model = model or DEFAULT_MODEL
        self.base_url = (base_url or OPENAI_URL).rstrip("/")
        key = api_key
        if not key and not is_local_url(self.base_url):
            raise RemoteEmbedderError(
                "DEROGATION_EMBEDDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL pointing at a local server)"
            )
        self.local = is_local_url(self.base_url)
        # The id records the service as well as the model: two servers may serve different weights.
        where = "openai" if self.base_url == OPENAI_URL else self.base_url
        self.model_id = f"openai:{self.model}@{where}"
        self.dimension = 0  # known after the first call
        self._key = key or "not-needed"
        self._timeout = timeout
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from langchain_openai import OpenAIEmbeddings

            # check_embedding_ctx_length=False: send text, not tiktoken ids (compatible servers
            # such as Ollama or llama.cpp expect strings); our chunks are well under the limit.
            self._client = OpenAIEmbeddings(
                model=self.model, base_url=self.base_url, api_key=self._key, timeout=self._timeout,
                check_embedding_ctx_length=False, max_retries=2,
            )
        return self._client

    def _call(self, fn: Any, arg: Any) -> Any:
        try:
            out = fn(arg)
        except Exception as exc:  # the client raises many kinds; the user needs one line
            raise RemoteEmbedderError(
                f"the embedding service at {self.base_url} failed ({type(exc).__name__}: {str(exc)[:200]})"
            ) from exc
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._call(self.client.embed_documents, list(texts))
        self.dimension = len(vectors[0]) if vectors else self.dimension
        return vectors

    def embed_query(self, text: str) -> list[float]:
        vector = self._call(self.client.embed_query, text)
        self.dimension = len(vector)
        return vector
