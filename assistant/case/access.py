"""Roles and what each may see and change, read from access.yaml (data, not code branches)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from assistant.config import package_folder
from assistant.errors import Forbidden

ACCESS_FILE = package_folder("assistant.case") / "access.yaml"



@dataclass(frozen=True)
class RoleRights:
    name: str
    label: dict[str, str]
    changes: frozenset[str]
    views: frozenset[str]
    evidence_kinds: frozenset[str] | None  # None: any kind


@cache
def rights(path: Path = ACCESS_FILE) -> dict[str, RoleRights]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    out = {}
    for name, spec in (data.get("roles") or {}).items():
        out[name] = RoleRights(name, dict(spec.get("label") or {}), frozenset(spec.get("changes") or ()),
                               frozenset(spec.get("views") or ()),
                               frozenset(spec["evidence_kinds"]) if "evidence_kinds" in spec else None)
    return out


def may_change(role: str, action: str) -> bool:
    r = rights().get(role)
    return bool(r and action in r.changes)


def may_view(role: str, view: str) -> bool:
    r = rights().get(role)
    return bool(r and view in r.views)


def require_change(role: str, action: str) -> None:
    if not may_change(role, action):
        allowed = [r.name for r in rights().values() if action in r.changes]
        who = f": it is for the {' or '.join(allowed)} role" if allowed else ""
        raise Forbidden(f"a {role} may not do this ({action.replace('_', ' ')}){who}")


def require_evidence_kind(role: str, kind: str) -> None:
    r = rights().get(role)
    if r is None or (r.evidence_kinds is not None and kind not in r.evidence_kinds):
        raise Forbidden(f"a {role} may not add or remove this kind of document ({kind})")


def require_view(role: str, view: str) -> None:
    if not may_view(role, view):
        raise Forbidden(f"a {role} may not open this ({view.replace('_', ' ')})")
