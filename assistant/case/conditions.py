"""The small condition language of authority profiles (`when:` blocks).

A condition maps question ids to what their answer must be. All entries must hold.
An entry whose question is unanswered makes the whole condition *unknown* (None), so the
interview asks that question first instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

OPERATORS = ("in", "before", "on_or_after", "answered")


def normalise_spec(spec: Any) -> Any:
    """YAML turns bare yes/no into booleans: bring them back to the answer vocabulary."""
    if isinstance(spec, bool):
        return "yes" if spec else "no"
    if isinstance(spec, dt.date):
        return spec.isoformat()
    if isinstance(spec, Mapping):
        return {k: normalise_spec(v) if k != "answered" else v for k, v in spec.items()}
    if isinstance(spec, list):
        return [normalise_spec(v) for v in spec]
    return str(spec)


def check_spec(spec: Any) -> str | None:
    """Return an error message if a condition entry is malformed."""
    if isinstance(spec, str):
        return None
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            return "a condition must have exactly one operator"
        (op, arg), = spec.items()
        if op not in OPERATORS:
            return f"unknown operator {op!r} (known: {', '.join(OPERATORS)})"
        if op in ("before", "on_or_after"):
            try:
                dt.date.fromisoformat(str(arg))
            except ValueError:
                return f"{op} needs a date YYYY-MM-DD, got {arg!r}"
        if op == "in" and not isinstance(arg, list):
            return "in needs a list"
        if op == "answered" and not isinstance(arg, bool):
            return "answered needs true or false"
        return None
    return f"unsupported condition value {spec!r}"


def _holds(spec: Any, value: str | None) -> bool | None:
    if isinstance(spec, Mapping):
        (op, arg), = spec.items()
        if op == "answered":
            return (value is not None) == arg
        if value is None:
            return None
        if op == "in":
            return value in [str(a) for a in arg]
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return False
        limit = dt.date.fromisoformat(str(arg))
        return day < limit if op == "before" else day >= limit
    if value is None:
        return None
    return value == spec


def evaluate(when: Mapping[str, Any], answers: Mapping[str, str]) -> bool | None:
    """True if every entry holds, False if one fails, None if one depends on a missing answer."""
    unknown = False
    for qid, spec in when.items():
        result = _holds(spec, answers.get(qid))
        if result is False:
            return False
        if result is None:
            unknown = True
    return None if unknown else True
