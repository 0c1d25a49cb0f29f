"""The providers: one attempt at a call each, chosen by the settings (`DEROGATION_LLM`, or the
settings page).

- `none`: the offline mode, a real product mode. Every call raises `LLMError("offline")`; callers
  answer with the offline drafter and the profile's follow-up rules.
- `openai`: the OpenAI API (`OPENAI_API_KEY`; `OPENAI_BASE_URL` optional).
- `openai-compatible`: any server speaking the chat-completions API (Ollama, vLLM, LM Studio,
  llama.cpp's server, Azure OpenAI's v1 endpoint): a base URL, a model, an optional key.

A provider translates every client failure into one `LLMError` whose `kind` says why, so that
the session (session.py) can decide to retry, wait or stop calling.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from typing import Any, Literal

from assistant.case.privacy import is_local_url
from assistant.errors import LLMConfigError, LLMError
from assistant.llm.audit import safe_url
from assistant.llm.settings import LLMSettings

__all__ = ["OPENAI_URL", "ErrorKind", "Message", "OfflineProvider", "OpenAIProvider", "Provider", "build_provider"]

OPENAI_URL = "https://api.openai.com/v1"
Message = dict[str, str]
ErrorKind = Literal[
    "offline", "config", "refused", "timeout", "rate_limited", "connection", "server", "auth", "http", "invalid_output"
]


class Provider:
    """One attempt at a chat completion, a streamed one, or embeddings."""

    enabled = False
    name = "none"
    model = ""
    server = ""  # base URL without credentials, for notices and the audit log
    local = True

    def complete(self, messages: list[Message], *, json_mode: bool = False, temperature: float = 0.2) -> str:
        raise NotImplementedError

    def stream(self, messages: list[Message], *, temperature: float = 0.2) -> Iterator[str]:
        raise NotImplementedError

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError


class OfflineProvider(Provider):
    """No language model: the product's offline mode. `problem` says why when it was not chosen."""

    def __init__(self, problem: str = "", kind: ErrorKind = "offline") -> None:
        self.problem = problem
        self.kind: ErrorKind = kind

    def refusal(self) -> LLMError:
        return LLMError(self.kind, self.problem or "no language model is configured (offline mode)")

    def complete(self, messages: list[Message], *, json_mode: bool = False, temperature: float = 0.2) -> str:
        raise self.refusal()

    def stream(self, messages: list[Message], *, temperature: float = 0.2) -> Iterator[str]:
        raise self.refusal()

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise self.refusal()


class OpenAIProvider(Provider):
    """The OpenAI API or any OpenAI-compatible server, through the `openai` client."""

    enabled = True

    def __init__(self, settings: LLMSettings, api_key: str = "") -> None:
        import openai

        self.name = settings.provider
        key = api_key.strip()
        base = settings.base_url.strip()
        if settings.provider == "openai":
            base = base or OPENAI_URL
            if not key:
                raise LLMConfigError("DEROGATION_LLM=openai needs OPENAI_API_KEY in the environment")
        elif not base:
            raise LLMConfigError(
                "DEROGATION_LLM=openai-compatible needs a base URL (OPENAI_BASE_URL or the settings page), "
                "e.g. http://127.0.0.1:11434/v1 for Ollama"
            )
        if not base.startswith(("http://", "https://")):
            raise LLMConfigError(f"base URL {safe_url(base) or base!r}: must start with http:// or https://")
        self.model = settings.effective_model
        if not self.model:
            raise LLMConfigError("no model named: set DEROGATION_LLM_MODEL or the model on the settings page")
        self.embedding_model = settings.embedding_model or self.model
        self.server = safe_url(base)
        self.local = is_local_url(base)
        self.timeout = settings.timeout
        # Sent only when set: some models (OpenAI's reasoning ones) refuse `max_tokens`.
        self._limits: dict[str, Any] = {"max_tokens": settings.max_tokens} if settings.max_tokens else {}
        if settings.local_only and not self.local:
            raise LLMError("refused", f"{self.server} is not on this machine and the 'local only' setting is on")
        headers = {"api-key": key} if key and ".azure.com" in self.server else None
        self._openai = openai
        self._client = openai.OpenAI(
            api_key=key or "not-needed", base_url=base, timeout=settings.timeout, max_retries=0,
            default_headers=headers,
        )

    def complete(self, messages: list[Message], *, json_mode: bool = False, temperature: float = 0.2) -> str:
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if json_mode else {}
        extra.update(self._limits)
        try:
            try:
                resp = self._client.chat.completions.create(
                    model=self.model, messages=messages, temperature=temperature, **extra  # type: ignore[arg-type]
                )
            except self._openai.BadRequestError:
                if not json_mode:
                    raise
                # Some servers (LM Studio, older llama.cpp) refuse json_object: the prompt asks for JSON anyway.
                resp = self._client.chat.completions.create(
                    model=self.model, messages=messages, temperature=temperature, **self._limits  # type: ignore[arg-type]
                )
        except Exception as exc:
            raise self._translate(exc) from exc
        if not resp.choices:
            raise LLMError("invalid_output", f"{self.server} answered with no choice")
        return resp.choices[0].message.content or ""

    def stream(self, messages: list[Message], *, temperature: float = 0.2) -> Iterator[str]:
        try:
            chunks = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=temperature, stream=True,  # type: ignore[arg-type]
                **self._limits,
            )
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except Exception as exc:
            raise self._translate(exc) from exc

    def embed(self, texts: list[str]) -> list[list[float]]:
        try:
            resp = self._client.embeddings.create(model=self.embedding_model, input=texts)
        except Exception as exc:
            raise self._translate(exc) from exc
        return [list(d.embedding) for d in sorted(resp.data, key=lambda d: d.index)]

    def _translate(self, exc: Exception) -> LLMError:
        o = self._openai
        if isinstance(exc, LLMError):
            return exc
        if isinstance(exc, o.APITimeoutError) or "Timeout" in type(exc).__name__:
            return LLMError("timeout", f"no answer from {self.server} within {self.timeout:g} s")
        if isinstance(exc, o.RateLimitError):
            wait = _retry_after(exc.response.headers)
            return LLMError("rate_limited", f"{self.server} is rate-limiting requests (HTTP 429)", retry_after=wait)
        if isinstance(exc, o.APIStatusError):
            code = exc.status_code
            if code in (401, 403):
                return LLMError("auth", f"{self.server} refused the credentials (HTTP {code}): check OPENAI_API_KEY")
            kind: ErrorKind = "server" if code >= 500 else "http"
            return LLMError(kind, f"{self.server} answered HTTP {code}", retry_after=_retry_after(exc.response.headers))
        if isinstance(exc, (o.APIConnectionError, OSError)) or "Connect" in type(exc).__name__:
            return LLMError("connection", f"cannot reach {self.server}")
        return LLMError("invalid_output", f"unexpected answer from {self.server}: {type(exc).__name__}")


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def build_provider(settings: LLMSettings, api_key: str = "") -> Provider:
    """The provider the settings name; a misconfigured or refused one is the offline mode with a reason."""
    if settings.provider == "none":
        return OfflineProvider()
    try:
        return OpenAIProvider(settings, api_key)
    except LLMConfigError as exc:
        return OfflineProvider(f"language model not used: {exc}", "config")
    except LLMError as exc:
        return OfflineProvider(f"language model not used: {exc}", exc.kind)

