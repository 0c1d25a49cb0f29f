"""The guarded session every caller uses: `LLM`, one per case and task, around one provider.

A provider makes one attempt (providers.py); `LLM` wraps it with what the product guarantees:
patient identifiers removed before anything is sent (case/privacy.py), every prompt and response
appended to the case's audit log (audit.py), timeouts, retries with backoff honouring a 429's
Retry-After, a notice for each thing the user should know, and a circuit that stops calling a
server that failed so the offline mode answers at once.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.case.privacy import Redaction, Redactor
from assistant.config import Config
from assistant.errors import LLMError
from assistant.llm.audit import AuditLog, scrub
from assistant.llm.providers import Message, OfflineProvider, Provider, build_provider
from assistant.llm.settings import LLMSettings

__all__ = ["LLM", "open_llm"]

T = TypeVar("T", bound=BaseModel)
# The failures after which the session stops calling the server: the next calls answer offline at once.
_CIRCUIT = {"timeout", "connection", "auth", "refused", "config", "offline"}


class LLM:
    """What callers use: redaction, audit, retries, notices and a circuit around one provider."""

    def __init__(
        self,
        provider: Provider,
        settings: LLMSettings | None = None,
        *,
        audit: AuditLog | None = None,
        keep: Iterable[str] = (),
        case_id: str = "",
        sleep: Callable[[float], None] = time.sleep,
        secrets: Iterable[str] = (),
        prompts_dir: Path | None = None,
    ) -> None:
        self.provider = provider
        self.secrets = tuple(secrets)
        self.prompts_dir = prompts_dir
        self.settings = settings or LLMSettings()
        self.audit = audit
        self.case_id = case_id
        self.redactor = Redactor(keep)
        # The audit log never keeps an identifier in clear, even when the text sent keeps them (a
        # server on this machine with `redact_local` off): what it logs is redacted with this one.
        self._audit_redactor = Redactor(keep)
        self.notices: list[str] = []
        self.broken: LLMError | None = None
        self._sleep = sleep

    @property
    def enabled(self) -> bool:
        return self.provider.enabled and self.broken is None

    @property
    def problem(self) -> str:
        """Why the model is not used ('' when it is, or when the offline mode was chosen)."""
        if self.broken is not None:
            return str(self.broken)
        return getattr(self.provider, "problem", "")

    @property
    def label(self) -> str:
        return f"llm:{self.provider.model}" if self.provider.enabled else "offline"

    @property
    def redacting(self) -> bool:
        return not self.provider.local or self.settings.redact_local

    # -- calls --------------------------------------------------------------------------------
    def chat(self, messages: list[Message], *, purpose: str, json_mode: bool = False) -> str:
        sent, redactions = self._prepare(messages)
        text = self._attempts(
            purpose, sent, redactions, stream=False, json_mode=json_mode,
            call=lambda: self.provider.complete(sent, json_mode=json_mode, temperature=self.settings.temperature),
        )
        return scrub(self.redactor.restore(text), self.secrets)

    def stream(self, messages: list[Message], *, purpose: str) -> Iterator[str]:
        """The answer in chunks as they arrive (identifiers restored). Retried only before the first chunk."""
        sent, redactions = self._prepare(messages)
        started = time.monotonic()
        attempts: list[dict[str, Any]] = []
        received: list[str] = []
        chunks: Iterator[str] | None = None
        opened = False

        def open_stream() -> str:
            nonlocal chunks
            chunks = iter(self.provider.stream(sent, temperature=self.settings.temperature))
            return next(chunks, "")

        try:
            first = self._retry(open_stream, attempts)
            opened = True
            received.append(first)
            held = first
            assert chunks is not None
            for chunk in chunks:
                received.append(chunk)
                held += chunk
                ready, held = _split_restorable(held)
                if ready:
                    yield scrub(self.redactor.restore(ready), self.secrets)
            if held:
                yield scrub(self.redactor.restore(held), self.secrets)
        except LLMError as exc:
            if opened:
                attempts.append({"attempt": len(attempts), "outcome": exc.kind, "error": f"mid-stream: {exc}"})
            self._fail(exc)
            self._log(purpose, sent, redactions, "".join(received), started, attempts, exc, stream=True)
            raise
        self._log(purpose, sent, redactions, "".join(received), started, attempts, None, stream=True)

    def structured(self, messages: list[Message], schema: type[T], *, purpose: str) -> T:
        """An answer validated by `schema`; on a validation error the model is asked once more."""
        instruction = (
            "Answer with one JSON object only, no prose and no code fence, valid against this JSON schema:\n"
            + json.dumps(schema.model_json_schema(), ensure_ascii=False)
        )
        msgs = [*messages, {"role": "system", "content": instruction}]
        text = self.chat(msgs, purpose=purpose, json_mode=True)
        try:
            return schema.model_validate_json(_json_part(text))
        except ValidationError as exc:
            problem = _short_errors(exc)
        retry = [*msgs, {"role": "assistant", "content": text},
                 {"role": "user", "content": f"That answer is not valid: {problem}. Answer again with the corrected JSON object only."}]
        self.notices.append(f"{purpose}: the model's answer was not valid ({problem}); asked again once")
        text = self.chat(retry, purpose=f"{purpose}:retry", json_mode=True)
        try:
            return schema.model_validate_json(_json_part(text))
        except ValidationError as exc:
            raise LLMError("invalid_output", f"the model's answer is still not valid: {_short_errors(exc)}") from None

    def embed(self, texts: list[str], *, purpose: str = "embed") -> list[list[float]]:
        sent, redactions = [], []
        for text in texts:
            s, r = self._redact(text)
            sent.append(s)
            redactions += r
        started = time.monotonic()
        attempts: list[dict[str, Any]] = []
        msgs = [{"role": "input", "content": s} for s in sent]
        try:
            vectors = self._retry(lambda: self.provider.embed(sent), attempts)
        except LLMError as exc:
            self._fail(exc)
            self._log(purpose, msgs, redactions, "", started, attempts, exc)
            raise
        dims = len(vectors[0]) if vectors else 0
        self._log(purpose, msgs, redactions, f"{len(vectors)} vector(s) of dimension {dims}", started, attempts, None)
        return vectors

    def ping(self) -> str:
        """A tiny call to check the settings: the model's answer, or `LLMError`."""
        return self.chat([{"role": "user", "content": "Reply with the single word OK."}], purpose="ping")

    # -- machinery ----------------------------------------------------------------------------
    def _for_audit(self, text: str) -> str:
        """`text` as the audit log keeps it: without patient identifiers (the tokens of the text sent)."""
        text = scrub(text, self.secrets)  # a key first: redaction could otherwise cut it in pieces
        return (self.redactor if self.redacting else self._audit_redactor).redact(text)[0]

    def _redact(self, text: str) -> tuple[str, list[Redaction]]:
        return self.redactor.redact(text) if self.redacting else (text, [])

    def _prepare(self, messages: list[Message]) -> tuple[list[Message], list[Redaction]]:
        if self.broken is not None:
            raise self.broken
        if isinstance(self.provider, OfflineProvider):
            raise self.provider.refusal()
        sent: list[Message] = []
        redactions: list[Redaction] = []
        for m in messages:
            text, found = self._redact(m["content"])
            sent.append({"role": m["role"], "content": text})
            redactions += found
        if redactions:
            sent.insert(0, {"role": "system", "content": (
                "Personal data was removed from this conversation and replaced by tokens such as [NOM-1] "
                "or [TEL-1]. Never guess what they stand for; copy a token unchanged if you need it."
            )})
        return sent, redactions

    def _attempts(
        self, purpose: str, sent: list[Message], redactions: list[Redaction], *, stream: bool, json_mode: bool,
        call: Callable[[], str],
    ) -> str:
        started = time.monotonic()
        attempts: list[dict[str, Any]] = []
        try:
            text = self._retry(call, attempts)
        except LLMError as exc:
            self._fail(exc)
            self._log(purpose, sent, redactions, "", started, attempts, exc, stream=stream, json_mode=json_mode)
            raise
        self._log(purpose, sent, redactions, text, started, attempts, None, stream=stream, json_mode=json_mode)
        return text

    def _retry(self, call: Callable[[], Any], attempts: list[dict[str, Any]]) -> Any:
        tries = self.settings.max_retries + 1
        for n in range(1, tries + 1):
            try:
                result = call()
            except LLMError as exc:
                entry: dict[str, Any] = {"attempt": n, "outcome": exc.kind, "error": str(exc)}
                attempts.append(entry)
                if not exc.retryable or n == tries:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else min(8.0, 0.5 * 2 ** (n - 1)) * (0.8 + 0.4 * random.random())
                if wait > self.settings.max_retry_wait:
                    raise LLMError(exc.kind, f"{exc}: the server asks to wait {wait:.0f} s, more than the "
                                             f"{self.settings.max_retry_wait:g} s limit") from None
                entry["wait_s"] = round(wait, 3)
                self.notices.append(f"{exc}; retrying in {wait:.1f} s (attempt {n + 1} of {tries})")
                self._sleep(wait)
                continue
            attempts.append({"attempt": n, "outcome": "ok"})
            return result
        raise AssertionError("unreachable")

    def _fail(self, exc: LLMError) -> None:
        if exc.kind in _CIRCUIT:
            self.broken = exc
        self.notices.append(f"language model failed: {exc}")

    def _log(
        self, purpose: str, sent: list[Message], redactions: list[Redaction], response: str, started: float,
        attempts: list[dict[str, Any]], error: LLMError | None, *, stream: bool = False, json_mode: bool = False,
    ) -> None:
        if self.audit is None:
            return
        from assistant.case.model import now

        self.audit.record({
            "at": now().isoformat(),
            "case_id": self.case_id,
            "purpose": purpose,
            "provider": self.provider.name,
            "model": self.provider.model,
            "server": self.provider.server,
            "local_server": self.provider.local,
            "redacted": self.redacting,
            "redactions": [r.as_json() for r in redactions],
            "stream": stream,
            "json_mode": json_mode,
            "request": [{**m, "content": self._for_audit(m["content"])} for m in sent],
            "response": self._for_audit(response),
            "outcome": "error" if error else "ok",
            "error": f"{error.kind}: {error}" if error else "",
            "attempts": attempts,
            "duration_ms": round((time.monotonic() - started) * 1000),
        })


def _split_restorable(held: str) -> tuple[str, str]:
    """Split streamed text so that a redaction token cut across chunks is not shown half-restored."""
    cut = held.rfind("[")
    if cut == -1 or "]" in held[cut:] or len(held) - cut > 12:
        return held, ""
    return held[:cut], held[cut:]


def _json_part(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def _short_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def open_llm(
    settings: LLMSettings,
    config: Config,
    *,
    audit: AuditLog | None = None,
    keep: Iterable[str] = (),
    case_id: str = "",
) -> LLM:
    """A session on the model `settings` name, with the key, secrets and prompts of `config`."""
    return LLM(build_provider(settings, config.api_key), settings, audit=audit, keep=keep, case_id=case_id,
               secrets=config.secrets, prompts_dir=config.prompts_dir)
