"""Every error the product raises, in one tree with one root.

A face (the CLI, a page) catches `AssistantError` and shows its message: each one says in one line
what cannot be done as asked and why. Each class also keeps the built-in base it had before the
tree existed (`ValueError` for bad input, `RuntimeError` for a part that failed), so code that
catches those keeps working.
"""


class AssistantError(Exception):
    """The root: something the product cannot do as asked, with the reason in one line."""


# -- what the user asked -----------------------------------------------------------------------
class ServiceError(AssistantError, ValueError):
    """Something the user asked that cannot be done as asked, with the reason in one line."""


class Forbidden(ServiceError):
    """The actor's role may not do this (assistant/access.yaml)."""


class ConflictError(ServiceError):
    """The case changed since the caller read it; the caller must reload and redo its change."""


class NotFound(ServiceError, KeyError):
    """An id the authority's profile or the case does not know (a question, a section, a kind)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


# -- the case and its inputs -------------------------------------------------------------------
class ProfileError(AssistantError, ValueError):
    """An authority profile that cannot be used, naming the file and the field at fault."""


class CaseError(AssistantError, ValueError):
    """A journal event that cannot be applied to the case."""


class AnswerError(AssistantError, ValueError):
    """An answer that does not fit its question (a date that is not a date, …)."""


class EvidenceError(AssistantError, ValueError):
    """A document that cannot be attached (not a PDF, damaged, password-protected, too large)."""


class StoreError(AssistantError, RuntimeError):
    """The store cannot do what was asked (unknown case, unreadable journal)."""


class StoreConflict(StoreError):
    """The case changed since the caller read it: a later save would overwrite someone's work."""


class InvalidCaseId(StoreError, ServiceError):
    """A case id that is not a slug: refused wherever it arrives, as the user's error."""


# -- the knowledge base ------------------------------------------------------------------------
class KnowledgeError(AssistantError, RuntimeError):
    """The knowledge base cannot do what was asked (store unreachable, corrupt, or mismatched)."""


class EmbeddingMismatch(KnowledgeError):
    """The store holds vectors made by another embedding model."""


class RemoteEmbedderError(KnowledgeError):
    """The remote embedder is not configured, or the service failed (the message says which)."""


class EmbedderUnavailableError(AssistantError, RuntimeError):
    """A package the embedder needs is not installed (the message says which)."""


class CorpusError(AssistantError, ValueError):
    """A source file that cannot be ingested, with the reason in one line."""


# -- drafting and documents --------------------------------------------------------------------
class RevisionError(AssistantError, ValueError):
    """A reviewer's text that cannot be kept as a version (an unknown citation, …)."""


class LetterError(AssistantError, ValueError):
    """A clinician-letter field that cannot be recorded as given."""


class PdfFontError(AssistantError, RuntimeError):
    """No Unicode font was found to write a PDF."""


# -- the language model ------------------------------------------------------------------------
class LLMConfigError(AssistantError, ValueError):
    """Language-model settings that cannot be used."""


class LLMError(AssistantError, RuntimeError):
    """A call that did not give a usable answer. `kind` says why (one of llm.providers.ErrorKind);
    the message is for the user."""

    RETRYABLE = frozenset({"timeout", "rate_limited", "connection", "server"})

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in self.RETRYABLE


class PromptError(AssistantError, ValueError):
    """A prompt file that cannot be found or rendered as asked."""
