"""Errors of the knowledge base, importable without loading the vector store."""


class KnowledgeError(RuntimeError):
    """The knowledge base cannot do what was asked (store unreachable, corrupt, or mismatched)."""


class EmbeddingMismatch(KnowledgeError):
    """The store holds vectors made by another embedding model."""
