"""Route screening of a case: which legal route the law offers, before a derogation is drafted."""

from __future__ import annotations

import datetime as dt

from assistant.case.profile import Lang
from assistant.case.routes import RouteResult, load_routes, screen
from assistant.service.base import ServiceBase


class RouteOps(ServiceBase):
    def route(self, case_id: str, lang: Lang = "en", today: dt.date | None = None) -> RouteResult:
        """The routes screened for the case, and the conclusion (`derogation`, `art120_extension`, …,
        or `undetermined` while a deciding fact is missing: the reasons name it)."""
        case = self.case(case_id)
        profile = self.profile(case)
        return screen(load_routes(profile), profile, case, lang, today)
