"""Where the product keeps its data, and who is acting."""

from __future__ import annotations

import getpass
import os
from importlib import resources
from pathlib import Path


def package_folder(package: str) -> Path:
    """A folder shipped with the product (a checkout or an installed package alike):
    `assistant` (profiles, access rules), `assistant.corpus` (the notes), `assistant.prompts`, `ui`."""
    return Path(str(resources.files(package)))


def data_home() -> Path:
    """`$DEROGATION_HOME`, else `~/.local/share/derogation`: cases, index and settings."""
    env = os.environ.get("DEROGATION_HOME")
    home = Path(env).expanduser() if env else Path.home() / ".local" / "share" / "derogation"
    home.mkdir(parents=True, exist_ok=True)
    return home


def current_user() -> str:
    """The name recorded in provenance: `$DEROGATION_USER`, else the login name."""
    name = os.environ.get("DEROGATION_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
