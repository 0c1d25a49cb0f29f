"""The team's accounts for a shared deployment: name, role, a scrypt password hash.

Kept in `$DEROGATION_HOME/users.json` (written atomically, mode 0600; every change is made under an
exclusive lock on `.users.json.lock`, so parallel changes neither fail nor lose an account). An
existing account is only replaced on purpose (`add(..., reset=True)`). When the file holds at least
one account, the web app asks for a login and the role comes from the account, not from the page.
An organisation with an identity provider uses Streamlit's OIDC login instead (see the README);
this file then maps each e-mail to a role.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.case.model import ROLES
from assistant.config import data_home
from assistant.errors import ServiceError

NAME = re.compile(r"^[\w.@+-]{2,80}$")
MIN_PASSWORD = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class User:
    name: str
    role: str
    salt: str = ""
    hash: str = ""  # empty for an identity-provider account (no password here)


def _file(home: Path | None = None) -> Path:
    return (home or data_home()) / "users.json"


def _hash(password: str, salt: str) -> str:
    return hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex()


def load(home: Path | None = None) -> dict[str, User]:
    path = _file(home)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {u["name"]: User(**u) for u in data.get("users", [])}
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceError(f"{path} is unreadable ({type(exc).__name__}): fix or delete it") from None


@contextlib.contextmanager
def _locked(home: Path | None = None) -> Iterator[None]:
    """One change to the accounts at a time (across processes): read, change, write under the lock."""
    path = _file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(".users.json.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _save(users: dict[str, User], home: Path | None = None) -> None:
    path = _file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".users.json.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"users": [asdict(u) for u in sorted(users.values(), key=lambda u: u.name)]}, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def login_required(home: Path | None = None) -> bool:
    return bool(load(home))


def add(name: str, role: str, password: str | None, home: Path | None = None, *, reset: bool = False) -> User:
    """Create an account; replace an existing one only with `reset` (its role and password).
    `password` None: an identity-provider account (OIDC e-mail)."""
    name = name.strip()
    if not NAME.match(name):
        raise ServiceError("a user name is 2 to 80 letters, digits or . _ @ + -")
    if role not in ROLES:
        raise ServiceError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    salt = hashed = ""
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise ServiceError(f"a password has at least {MIN_PASSWORD} characters")
        salt = secrets.token_hex(16)
        hashed = _hash(password, salt)
    with _locked(home):
        users = load(home)
        if name in users and not reset:
            raise ServiceError(f"the account {name!r} already exists ({users[name].role}); nothing was changed. "
                               "To replace its role and password, add it again with --reset")
        users[name] = User(name, role, salt, hashed)
        _save(users, home)
    return users[name]


def remove(name: str, home: Path | None = None) -> None:
    with _locked(home):
        users = load(home)
        if name not in users:
            raise ServiceError(f"no user {name!r}")
        del users[name]
        _save(users, home)


def authenticate(name: str, password: str, home: Path | None = None) -> User | None:
    """The account if the password is right; None otherwise (same time either way)."""
    user = load(home).get((name or "").strip())
    salt = user.salt if user and user.hash else "00" * 16
    candidate = _hash(password or "", salt)
    if user and user.hash and hmac.compare_digest(candidate, user.hash):
        return user
    return None


def for_identity(email: str, home: Path | None = None) -> User | None:
    """The account an identity provider's user maps to (by e-mail), if any."""
    return load(home).get((email or "").strip())
