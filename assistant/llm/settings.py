"""The language-model settings: which provider, model and server, and how patiently to call it.

They live in the `llm` entry of `$DEROGATION_HOME/settings.json` (written by the settings page and
`derogation llm set`); environment variables (`DEROGATION_LLM`, `DEROGATION_LLM_MODEL`,
`OPENAI_BASE_URL`, ..., read once into `Config.llm_env`) override them field by field.

The API key is never part of the settings: it is read from the environment when a provider is built
and kept only in the client, so it is never in a case, the audit log or an export.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.config import LLM_ENV_VARS, Config
from assistant.errors import LLMConfigError

__all__ = [
    "DEFAULT_OPENAI_MODEL",
    "ENV_VARS",
    "PROVIDERS",
    "LLMSettings",
    "ProviderName",
    "api_key_present",
    "env_overrides",
    "load_settings",
    "save_settings",
    "settings_file",
]

ProviderName = Literal["none", "openai", "openai-compatible"]
PROVIDERS: tuple[ProviderName, ...] = ("none", "openai", "openai-compatible")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


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
