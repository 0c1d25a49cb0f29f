"""The route screening as the check reports it: which route the law offers the case, before a
derogation request is exported.

- Another route applies (Art. 120 extension, custom-made, …): a warning saying so; the profile
  then asks the manufacturer why it still files a derogation (a required answer, so the export
  waits for it).
- A derogation is the route for a device that carried CE marking: a warning giving why the
  transition does not apply, and that only the interest of public health or of the patients
  grounds a derogation, never the certification delay.
- Undetermined: a warning naming the facts still missing.
"""

from __future__ import annotations

from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.case.routes import ROUTE_NAMES, RouteResult, load_routes, screen
from assistant.errors import ProfileError
from assistant.gate.finding import Finding
from assistant.words import t

SECTION = "identification"  # reported first: every other section depends on the route
TRANSITIONS = ("art120_extension", "ivdr_art110_transition")


def findings(profile: Profile, case: Case, lang: Lang = "en") -> list[Finding]:
    try:
        routes = load_routes(profile)
    except ProfileError:
        return []
    result = screen(routes, profile, case, lang)
    message = _message(result, case, lang)
    if not message or SECTION not in {s.id for s in profile.sections}:
        return []
    return [Finding(section=SECTION, kind="route", severity="warning", message=message)]


def _message(result: RouteResult, case: Case, lang: Lang) -> str:
    derogation = result.route("derogation")
    if result.conclusion == "undetermined":
        missing = [r for o in result.routes if o.applies == "unknown" for r in o.reasons if r not in derogation.reasons]
        return t("gate_route_undetermined", lang, missing=" ".join(dict.fromkeys(missing)))
    if result.conclusion != "derogation":
        outcome = result.route(result.conclusion)
        return t("gate_route_other", lang, route=ROUTE_NAMES[result.conclusion][lang], reason=outcome.reasons[0])
    if case.value("previously_ce_marked") != "yes":
        return ""
    transition = next((o for o in result.routes if o.id in TRANSITIONS and o.applies == "no"), None)
    if transition is None:
        return ""
    return t("gate_route_derogation", lang, reason=transition.reasons[0], ground=derogation.reasons[1])
