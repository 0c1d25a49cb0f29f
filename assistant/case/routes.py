"""Route screening: which legal route the law offers a case, before any derogation is drafted.

The routes are data (`assistant/profiles/routes/<authority>.yaml`): each is a list of steps over
the case's answers, in the profile's condition language. `screen` evaluates them:

- a route is "yes" when every step that concerns the case holds, "no" when one fails, "unknown"
  when a deciding answer is missing (its reasons name the missing question);
- the conclusion is the first route that applies; a derogation only when no other route applies;
  `undetermined` while no route applies and one is still unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.case import conditions
from assistant.case.model import Case
from assistant.case.profile import PROFILE_DIR, Lang, Localized, Profile, _conditions, load_profile
from assistant.errors import ProfileError

ROUTES_DIR = PROFILE_DIR / "routes"
Applies = Literal["yes", "no", "unknown"]
CONCLUSIONS = ("derogation", "art120_extension", "ivdr_art110_transition", "custom_made", "in_house",
               "clinical_investigation", "art97_decision", "undetermined")
ROUTE_NAMES = {
    "custom_made": {"fr": "dispositif sur mesure", "en": "custom-made device"},
    "in_house": {"fr": "dispositif fabriqué en interne", "en": "in-house device"},
    "clinical_investigation": {"fr": "investigation clinique", "en": "clinical investigation"},
    "art97_decision": {"fr": "décision au titre de l'art. 97", "en": "Art. 97 decision"},
    "art120_extension": {"fr": "prolongation de l'art. 120 du RDM", "en": "MDR Art. 120 extension"},
    "ivdr_art110_transition": {"fr": "transition de l'art. 110 du RDIV", "en": "IVDR Art. 110 transition"},
    "derogation": {"fr": "dérogation", "en": "derogation"},
}
_MISSING = {"fr": "Fait manquant : {}.", "en": "Missing fact: {}."}
_PENDING = {
    "fr": "Échéance non encore passée (au plus tard le {}) : la condition reste à remplir.",
    "en": "Deadline not yet passed (by {}): the condition is still to be met.",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _when(value: Any) -> dict[str, Any]:
    return _conditions(value or {})


class RouteProvision(_Strict):
    id: str
    label: Localized
    url: str = Field(pattern=r"^https://")


class Step(_Strict):
    if_: dict[str, Any] = Field(default_factory=dict, alias="if")
    check: dict[str, Any] = Field(default_factory=dict)
    any: tuple[dict[str, Any], ...] = ()
    fail: Localized
    cite: str | None = None  # the provision the failure sentence relies on (one of the route's citations)
    on_fail: Literal["no", "unknown"] = "no"
    pending_until: dt.date | None = None

    @field_validator("if_", "check", mode="before")
    @classmethod
    def _cond(cls, value: Any) -> dict[str, Any]:
        return _when(value)

    @field_validator("any", mode="before")
    @classmethod
    def _conds(cls, value: Any) -> tuple[dict[str, Any], ...]:
        return tuple(_when(v) for v in value or ())


class EndDate(_Strict):
    when: dict[str, Any]
    date: dt.date
    basis: Localized

    @field_validator("when", mode="before")
    @classmethod
    def _cond(cls, value: Any) -> dict[str, Any]:
        return _when(value)


class Route(_Strict):
    id: str
    instrument: Literal["MDR", "IVDR"]
    citations: tuple[str, ...]
    steps: tuple[Step, ...]
    holds: Localized
    # What the request itself says when the manufacturer files although this route applies
    # (the `holds` text advises the manufacturer; this one states the fact to the authority).
    stated: Localized | None = None
    end_dates: tuple[EndDate, ...] = ()
    ended: Localized | None = None
    no_end_date: Localized | None = None


class ByInstrument(_Strict):
    MDR: Localized
    IVDR: Localized


class DerogationRule(_Strict):
    citations: dict[Literal["MDR", "IVDR"], tuple[str, ...]]
    ground: ByInstrument
    applies: Localized
    other_route: Localized
    undetermined: Localized
    not_screened: dict[Literal["MDR", "IVDR"], Localized] = Field(default_factory=dict)


class ProfileRoutes(_Strict):
    provisions: tuple[RouteProvision, ...] = ()
    routes: tuple[Route, ...]
    derogation: DerogationRule


@dataclass(frozen=True)
class RouteOutcome:
    id: str
    applies: Applies
    reasons: list[str]
    citations: list[dict[str, str]]
    stated: str | None = None  # the route as the request states it (see Route.stated)
    reason_cite: dict[str, str] | None = None  # what the first reason relies on, when not citations[0]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "applies": self.applies, "reasons": list(self.reasons),
                "citations": [dict(c) for c in self.citations]}


@dataclass(frozen=True)
class RouteResult:
    conclusion: str
    routes: list[RouteOutcome] = field(default_factory=list)

    def route(self, route_id: str) -> RouteOutcome:
        return next(r for r in self.routes if r.id == route_id)

    def statement(self) -> list[tuple[str, dict[str, str]]]:
        """What the request says about the routes, sentence by sentence with the provision each
        relies on: when a derogation is the conclusion, why each other route screened does not
        apply; when another route applies, that route as stated. Empty while undetermined."""
        if self.conclusion == "derogation":
            parts: list[tuple[str, dict[str, str]]] = []
            for outcome in self.routes:
                said = [text for text, _ in parts]
                if outcome.id != "derogation" and outcome.applies == "no" and outcome.reasons[0] not in said:
                    parts.append((outcome.reasons[0], outcome.reason_cite or outcome.citations[0]))
            return parts
        if self.conclusion == "undetermined":
            return []
        outcome = self.route(self.conclusion)
        return [(outcome.stated or outcome.reasons[0], outcome.citations[0])]

    def as_json(self) -> dict[str, Any]:
        return {"conclusion": self.conclusion, "routes": [r.as_json() for r in self.routes]}


def load_routes_file(path: Path, profile: Profile) -> ProfileRoutes:
    """Load and validate a routes file against its profile (questions and provisions must exist)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        routes = ProfileRoutes.model_validate(data)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ProfileError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from exc
    known_q = {q.id for q in profile.all_questions()}
    known_p = {p.id for p in profile.provisions} | {p.id for p in routes.provisions}
    for route in routes.routes:
        if route.id not in CONCLUSIONS:
            raise ProfileError(f"{path}: route {route.id!r} is not one of {', '.join(CONCLUSIONS)}")
        for pid in route.citations:
            if pid not in known_p:
                raise ProfileError(f"{path}: route {route.id}: unknown provision {pid!r}")
        for step in route.steps:
            if step.cite is not None and step.cite not in route.citations:
                raise ProfileError(f"{path}: route {route.id}: a step cites {step.cite!r}, not among its citations")
        conds = [c for s in route.steps for c in (s.if_, s.check, *s.any)] + [e.when for e in route.end_dates]
        for cond in conds:
            for qid in cond:
                if qid not in known_q:
                    raise ProfileError(f"{path}: route {route.id}: unknown question {qid!r}")
    for pids in routes.derogation.citations.values():
        for pid in pids:
            if pid not in known_p:
                raise ProfileError(f"{path}: derogation: unknown provision {pid!r}")
    return routes


def load_routes(profile: Profile) -> ProfileRoutes:
    """The shipped route screening of the profile's authority (loaded once)."""
    return _load_routes(profile.id)


@cache
def _load_routes(authority: str) -> ProfileRoutes:
    path = ROUTES_DIR / f"{authority}.yaml"
    if not path.exists():
        raise ProfileError(f"no route screening for authority {authority!r} ({path} is missing)")
    return load_routes_file(path, load_profile(authority))


def _citation(pid: str, profile: Profile, routes: ProfileRoutes, lang: Lang) -> dict[str, str]:
    for p in routes.provisions:
        if p.id == pid:
            return {"id": pid, "label": p.label.get(lang), "url": p.url}
    p = profile.provision(pid)
    return {"id": pid, "label": p.label.get(lang), "url": p.url}


def _missing(cond: dict[str, Any], values: dict[str, str]) -> list[str]:
    return [qid for qid, spec in cond.items()
            if values.get(qid) is None and not (isinstance(spec, dict) and "answered" in spec)]


def _step(step: Step, values: dict[str, str]) -> tuple[bool | None, list[str]]:
    """(True/False/None, the questions whose answers are missing)."""
    gate = conditions.evaluate(step.if_, values)
    if gate is False:
        return True, []
    if gate is None:
        return None, _missing(step.if_, values)
    if step.any:
        states = [conditions.evaluate(c, values) for c in step.any]
        if True in states:
            return True, []
        if None in states:
            return None, [q for c, st in zip(step.any, states, strict=True) if st is None for q in _missing(c, values)]
        return False, []
    state = conditions.evaluate(step.check, values)
    return state, (_missing(step.check, values) if state is None else [])


def _label(profile: Profile, qid: str, lang: Lang) -> str:
    try:
        return f"{profile.question(qid).label.get(lang)} [{qid}]"
    except KeyError:
        return qid


def _end_date(route: Route, values: dict[str, str]) -> tuple[EndDate | None, list[str]]:
    missing: list[str] = []
    for entry in route.end_dates:
        state = conditions.evaluate(entry.when, values)
        if state is True and not missing:
            return entry, []
        if state is None:
            missing += [q for q in _missing(entry.when, values) if q not in missing]
    return None, missing


def _fmt(day: dt.date, lang: Lang) -> str:
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()


def _screen_route(route: Route, profile: Profile, routes: ProfileRoutes, values: dict[str, str],
                  lang: Lang, today: dt.date) -> RouteOutcome:
    cites = [_citation(p, profile, routes, lang) for p in route.citations]
    failed: list[str] = []
    failed_cite: dict[str, str] | None = None
    unverified: list[str] = []
    missing: list[str] = []
    notes: list[str] = []
    for step in route.steps:
        state, gaps = _step(step, values)
        if state is not True and step.pending_until is not None and today <= step.pending_until:
            notes.append(_PENDING[lang].format(_fmt(step.pending_until, lang)))
            continue
        if state is False:
            if step.on_fail != "unknown" and not failed and step.cite:
                failed_cite = _citation(step.cite, profile, routes, lang)
            (unverified if step.on_fail == "unknown" else failed).append(step.fail.get(lang))
        elif state is None:
            missing += [q for q in gaps if q not in missing]
    if failed:
        return RouteOutcome(route.id, "no", failed, cites, reason_cite=failed_cite)
    if unverified or missing:
        reasons = unverified + [_MISSING[lang].format(_label(profile, q, lang)) for q in missing]
        return RouteOutcome(route.id, "unknown", reasons, cites)
    entry, gaps = _end_date(route, values)
    if entry is not None:
        text = {"end_date": _fmt(entry.date, lang), "end_basis": entry.basis.get(lang)}
        if today > entry.date and route.ended is not None:
            return RouteOutcome(route.id, "no", [route.ended.get(lang).format(**text)], cites)
        stated = route.stated.get(lang).format(**text) if route.stated else None
        return RouteOutcome(route.id, "yes", [route.holds.get(lang).format(**text), *notes], cites, stated)
    if route.end_dates and route.no_end_date is not None:
        reasons = [route.holds.get(lang).format(end_date="…", end_basis="…"),
                   route.no_end_date.get(lang).format(missing=", ".join(_label(profile, q, lang) for q in gaps))]
    else:
        reasons = [route.holds.get(lang)]
    stated = route.stated.get(lang).format(end_date="…", end_basis="…") if route.stated else None
    return RouteOutcome(route.id, "yes", reasons + notes, cites, stated)


def screen(routes: ProfileRoutes, profile: Profile, case: Case, lang: Lang = "en",
           today: dt.date | None = None) -> RouteResult:
    """Screen every route of `routes` for `case`; the conclusion follows the routes' order."""
    return screen_values(routes, profile, case.values(), lang, today)


def screen_values(routes: ProfileRoutes, profile: Profile, values: dict[str, str], lang: Lang = "en",
                  today: dt.date | None = None) -> RouteResult:
    """`screen` over bare answers (question id → value)."""
    today = today or dt.date.today()
    is_ivd = values.get("is_ivd")
    outcomes: list[RouteOutcome] = []
    if is_ivd is None:
        reason = _MISSING[lang].format(_label(profile, "is_ivd", lang))
        for route in routes.routes:
            outcomes.append(RouteOutcome(route.id, "unknown", [reason],
                                         [_citation(p, profile, routes, lang) for p in route.citations]))
        instrument: Literal["MDR", "IVDR"] = "MDR"
    else:
        instrument = "IVDR" if is_ivd == "yes" else "MDR"
        for route in routes.routes:
            if route.instrument == instrument:
                outcomes.append(_screen_route(route, profile, routes, values, lang, today))
    rule = routes.derogation
    first_yes = next((o for o in outcomes if o.applies == "yes"), None)
    any_unknown = any(o.applies == "unknown" for o in outcomes)
    ground = rule.ground.MDR if instrument == "MDR" else rule.ground.IVDR
    reasons: list[str] = []
    if first_yes is not None:
        conclusion, applies = first_yes.id, "no"
        reasons.append(rule.other_route.get(lang).format(route=ROUTE_NAMES[first_yes.id][lang]))
    elif any_unknown:
        conclusion, applies = "undetermined", "unknown"
        reasons.append(rule.undetermined.get(lang))
    else:
        conclusion, applies = "derogation", "yes"
        reasons.append(rule.applies.get(lang))
    reasons.append(ground.get(lang))
    if is_ivd is not None and instrument in rule.not_screened:
        reasons.append(rule.not_screened[instrument].get(lang))
    cites = [_citation(p, profile, routes, lang) for p in rule.citations[instrument]]
    outcomes.append(RouteOutcome("derogation", applies, reasons, cites))  # type: ignore[arg-type]
    return RouteResult(conclusion, outcomes)
