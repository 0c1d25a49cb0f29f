"""The facts the profile's conditions read: the case's answers, plus what follows from them.

One derived fact exists: `route`, the legal route the route screening concludes from the
answers (`derogation`, `art120_extension`, …, `undetermined`; see `routes.py`). A profile can then
ask a question, show a paragraph or require a document only on one route, e.g. the reason a
manufacturer still files a derogation request when the Art. 120 extension covers its device.
The screening reads only answers, never `route`, so there is no loop.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache

from assistant.case.model import Case
from assistant.case.profile import Profile, load_profile
from assistant.case.routes import load_routes, screen_values
from assistant.errors import ProfileError

DERIVED = ("route",)


def facts(profile: Profile, case: Case, today: dt.date | None = None) -> dict[str, str]:
    """The answers (question id → value) and the derived `route` where the authority screens routes."""
    values = case.values()
    conclusion = route_conclusion(profile, values, today)
    if conclusion is not None:
        values["route"] = conclusion
    return values


def route_conclusion(profile: Profile, values: dict[str, str], today: dt.date | None = None) -> str | None:
    """The screening's conclusion for these answers; None when the authority has no route screening."""
    key = tuple(sorted((k, v) for k, v in values.items() if k != "route"))
    return _conclusion(profile.id, key, today or dt.date.today())


@lru_cache(maxsize=512)
def _conclusion(authority: str, answers: tuple[tuple[str, str], ...], today: dt.date) -> str | None:
    try:
        profile = _shipped(authority)
        routes = load_routes(profile)
    except ProfileError:
        return None
    return screen_values(routes, profile, dict(answers), "en", today).conclusion


@cache
def _shipped(authority: str) -> Profile:
    return load_profile(authority)
