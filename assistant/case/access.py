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
    needs_link: bool = False  # every change carries the token of an active link of the case
    administers_accounts: bool = False  # adds, resets and removes the team's accounts


@cache
def _data(path: Path = ACCESS_FILE) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}


@cache
def rights(path: Path = ACCESS_FILE) -> dict[str, RoleRights]:
    out = {}
    for name, spec in (_data(path).get("roles") or {}).items():
        out[name] = RoleRights(name, dict(spec.get("label") or {}), frozenset(spec.get("changes") or ()),
                               frozenset(spec.get("views") or ()),
                               frozenset(spec["evidence_kinds"]) if "evidence_kinds" in spec else None,
                               bool(spec.get("needs_link")), bool(spec.get("administers_accounts")))
    return out


def setting_actions() -> dict[str, str]:
    """Each case setting and the action that changes it."""
    return dict(_data().get("settings") or {})


def restore_parts() -> dict[str, tuple[str, ...]]:
    """Each part of a case (`settings.language`: a field of a part) and the actions that shape it."""
    return {part: tuple(actions or ()) for part, actions in (_data().get("restore") or {}).items()}


def restorable(role: str) -> set[str]:
    """The parts of a case `role` may bring back from an earlier version."""
    return {part for part, actions in restore_parts().items() if actions and all(may_change(role, a) for a in actions)}


def needs_link(role: str) -> bool:
    r = rights().get(role)
    return bool(r and r.needs_link)


def administers_accounts(role: str) -> bool:
    r = rights().get(role)
    return bool(r and r.administers_accounts)


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


def require_setting(role: str, setting: str) -> None:
    """Forbidden unless `role` may change the case setting `setting` (an unknown setting: Forbidden too)."""
    action = setting_actions().get(setting)
    if action is None:
        raise Forbidden(f"no case setting {setting!r} (one of {', '.join(setting_actions())})")
    require_change(role, action)


def require_evidence_kind(role: str, kind: str) -> None:
    r = rights().get(role)
    if r is None or (r.evidence_kinds is not None and kind not in r.evidence_kinds):
        raise Forbidden(f"a {role} may not add or remove this kind of document ({kind})")


def require_view(role: str, view: str) -> None:
    if not may_view(role, view):
        raise Forbidden(f"a {role} may not open this ({view.replace('_', ' ')})")
