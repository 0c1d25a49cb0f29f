"""The language-model seam: settings, providers, and the guarded session every caller uses.

Three providers, chosen by settings (`DEROGATION_LLM`, or the settings page):
- `none`: the offline mode, a real product mode. Every call raises `LLMError("offline")`; callers
  answer with the offline drafter and the profile's follow-up rules.
- `openai`: the OpenAI API (`OPENAI_API_KEY`; `OPENAI_BASE_URL` optional).
- `openai-compatible`: any server speaking the chat-completions API (Ollama, vLLM, LM Studio,
  llama.cpp's server, Azure OpenAI's v1 endpoint): a base URL, a model, an optional key.

A provider makes one attempt; `LLM` (one per case and task) wraps it with what the product
guarantees: patient identifiers removed before anything is sent (redact.py), every prompt and
response appended to the case's audit log (audit.py), timeouts, retries with backoff honouring
a 429's Retry-After, a notice for each thing the user should know, and a circuit that stops
calling a server that failed so the offline mode answers at once.

The API key is read from the environment when a provider is built and kept only in the client:
it is never part of the settings, a case, the audit log or an export.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.case.privacy import Redaction, Redactor, is_local_url
from assistant.config import LLM_ENV_VARS, Config
from assistant.errors import LLMConfigError, LLMError
from assistant.llm.audit import AuditLog, safe_url, scrub

ProviderName = Literal["none", "openai", "openai-compatible"]
PROVIDERS: tuple[ProviderName, ...] = ("none", "openai", "openai-compatible")
OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
Message = dict[str, str]
T = TypeVar("T", bound=BaseModel)
ErrorKind = Literal[
    "offline", "config", "refused", "timeout", "rate_limited", "connection", "server", "auth", "http", "invalid_output"
]
_CIRCUIT = {"timeout", "connection", "auth", "refused", "config", "offline"}


class LLMSettings(BaseModel):
    """What the product needs to reach a model. Never a key: the key comes from the environment."""

    model_config = ConfigDict(extra="ignore")

    provider: ProviderName = "none"
    model: str = ""
    base_url: str = ""
    embedding_model: str = ""
    local_only: bool = False  # refuse any base URL that is not on this machine
    redact_local: bool = True  # remove identifiers even for a server on this machine
    timeout: float = Field(default=60.0, gt=0, le=600)
    max_retries: int = Field(default=2, ge=0, le=10)
    max_retry_wait: float = Field(default=30.0, ge=0, le=600)
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=0, ge=0, le=200_000)  # the longest answer asked for; 0: the server's default

    @property
    def effective_model(self) -> str:
        return self.model or (DEFAULT_OPENAI_MODEL if self.provider == "openai" else "")


ENV_VARS = LLM_ENV_VARS  # settings field -> the environment variable that overrides it




# -- settings -------------------------------------------------------------------------------
def settings_file(home: Path) -> Path:
    return home / "settings.json"


def _read_file(home: Path) -> dict[str, Any]:
    path = settings_file(home)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LLMConfigError(f"{path}: not readable JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


def env_overrides(env: Mapping[str, str] | None) -> dict[str, str]:
    """The settings fields set by an environment variable (field -> variable name); `env`: Config.llm_env."""
    return {field: ENV_VARS[field] for field in (env or {}) if field in ENV_VARS}


def load_settings(home: Path, env: Mapping[str, str] | None = None) -> LLMSettings:
    """The settings file's `llm` entry, overridden by `env` (Config.llm_env: field -> value) when given."""
    values: dict[str, Any] = dict(_read_file(home).get("llm") or {})
    for field, raw in (env or {}).items():
        values[field] = raw.lower() in ("1", "yes", "true", "on") if field == "local_only" else raw
    if str(values.get("provider", "none")).lower() in ("", "off", "offline"):
        values["provider"] = "none"
    try:
        return LLMSettings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        where = ENV_VARS.get(field, field) if field in (env or {}) else f"settings.json llm.{field}"
        allowed = f" (one of {', '.join(PROVIDERS)})" if field == "provider" else ""
        raise LLMConfigError(f"{where}: {err['msg']}{allowed}") from None


def save_settings(settings: LLMSettings, home: Path) -> Path:
    """Write the settings (never a key) into `settings.json`, keeping its other entries."""
    from assistant.case.store import write_atomic

    data = _read_file(home)
    data["llm"] = settings.model_dump(mode="json")
    path = settings_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False).encode())
    return path


def api_key_present(config: Config) -> bool:
    return bool(config.api_key)


# -- providers: one attempt each --------------------------------------------------------------
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


# -- the guarded session ----------------------------------------------------------------------
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
            "request": sent,
            "response": response,
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
