"""Every service operation that changes something, tried by every role: the service itself refuses
what access.yaml does not allow (the app's pages are not the only gate), and a refused probe leaves
the case exactly as it was. A clinician acts only through an active link of the very case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.case import access
from assistant.drafting.model import SectionDraft
from assistant.llm.settings import LLMSettings
from assistant.service import Actor, Forbidden, Service, ServiceError

MANUFACTURER = Actor("m.martin", "manufacturer")
CONSULTANT = Actor("j.durand", "consultant")


@dataclass
class World:
    """Case A (the target, with a letter, a document, a waiver, links) and case B (another case)."""

    svc: Service
    case: str
    other: str
    letter_evidence: str
    document: str
    active_link: str
    tokens: dict[str, str]  # own | other | revoked
    pdf: Path
    letter_pdf: Path


def make_world(svc, make_pdf) -> World:
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", MANUFACTURER).id
    other = svc.new_case("ansm", "individual", "Other device", MANUFACTURER).id
    svc.answer(case, "patient_pseudonym", "P-014", MANUFACTURER)
    letter_pdf = make_pdf(["Lettre du Dr Leroy pour le patient P-014 : intervention urgente."], "lettre.pdf")
    pdf = make_pdf(["Données cliniques : suivi à 12 mois."], "clinique.pdf")
    letter = svc.attach(case, letter_pdf, MANUFACTURER, kind="clinician_letter").file.id
    document = svc.attach(case, pdf, MANUFACTURER, kind="clinical_data").file.id
    svc.waive(case, "precautions_certificate", "the signed copy follows next week", MANUFACTURER)
    revoked, revoked_token = svc.create_clinician_link(case, MANUFACTURER, "old")
    svc.revoke_clinician_link(case, revoked.id, MANUFACTURER)
    active, own = svc.create_clinician_link(case, MANUFACTURER, "Dr Leroy")
    _, elsewhere = svc.create_clinician_link(other, MANUFACTURER, "another physician")
    return World(svc, case, other, letter, document, active.id,
                 {"own": own, "other": elsewhere, "revoked": revoked_token},
                 make_pdf(["Lettre signée du Dr Leroy pour P-014."], "signee.pdf"), letter_pdf)


ACTORS: dict[str, Callable[[World], Actor]] = {
    "manufacturer": lambda w: MANUFACTURER,
    "consultant": lambda w: CONSULTANT,
    "clinician with this case's link": lambda w: Actor("dr.leroy", "clinician", token=w.tokens["own"]),
    "clinician with another case's link": lambda w: Actor("dr.leroy", "clinician", token=w.tokens["other"]),
    "clinician with a revoked link": lambda w: Actor("dr.leroy", "clinician", token=w.tokens["revoked"]),
    "clinician without a link": lambda w: Actor("dr.leroy", "clinician"),
}


def _confirm(w: World, a: Actor) -> Any:
    from assistant.interview.assisted import FactProposal

    proposal = FactProposal(question_id="urgency", label="urgency", value="Intervention sous huit jours.",
                            quote="Intervention sous huit jours.", source="llm", current=None)
    result = w.svc.confirm_facts(w.case, [proposal], a)
    if any("may not" in s or "only through" in s for s in result.skipped):
        raise Forbidden(result.skipped[0])
    return result


def _forged_draft(w: World, a: Actor) -> Any:
    offline = w.svc.draft(w.case, "fr", use_llm=False).section("need")
    forged = SectionDraft.model_validate({**offline.model_dump(), "drafter": "llm:gpt-4o-mini"})
    return w.svc.record_llm_draft(w.case, forged, "fr", a)


@dataclass(frozen=True)
class Op:
    name: str
    actions: tuple[str, ...]  # what access.yaml must allow the role
    call: Callable[[World, Actor], Any]
    kind: str | None = None  # the evidence kind it adds or removes
    case_bound: bool = True  # acts on case A (a link-bound role needs A's link)
    never: bool = False  # refused to every role (a forged model draft)


OPS = [
    Op("new_case", ("created",), lambda w, a: w.svc.new_case("ansm", "individual", "X", a), case_bound=False),
    Op("answer", ("answered",), lambda w, a: w.svc.answer(w.case, "urgency", "Intervention sous huit jours.", a)),
    Op("accept_proposal", ("answered",), lambda w, a: w.svc.accept_proposal(w.case, "urgency", w.document, a)),
    Op("confirm_facts", ("answered",), _confirm),
    Op("attach clinician_letter", ("evidence_attached",),
       lambda w, a: w.svc.attach(w.case, w.pdf, a, kind="clinician_letter"), kind="clinician_letter"),
    Op("attach clinical_data", ("evidence_attached",),
       lambda w, a: w.svc.attach(w.case, w.pdf, a, kind="clinical_data"), kind="clinical_data"),
    Op("remove the letter", ("evidence_removed",),
       lambda w, a: w.svc.remove_evidence(w.case, w.letter_evidence, a), kind="clinician_letter"),
    Op("remove a document", ("evidence_removed",),
       lambda w, a: w.svc.remove_evidence(w.case, w.document, a), kind="clinical_data"),
    Op("set_evidence_kind", ("evidence_kind_set",),
       lambda w, a: w.svc.set_evidence_kind(w.case, w.document, "preclinical_reports", a)),
    Op("dismiss_proposal", ("proposal_dismissed",),
       lambda w, a: w.svc.dismiss_proposal(w.case, "urgency", w.document, a)),
    Op("waive", ("waived",), lambda w, a: w.svc.waive(w.case, "clinical_data", "provided at a later date", a)),
    Op("withdraw_waiver", ("waiver_withdrawn",), lambda w, a: w.svc.withdraw_waiver(w.case, "precautions_certificate", a)),
    Op("set language", ("setting_changed",), lambda w, a: w.svc.set_setting(w.case, a, language="en")),
    Op("set require_approval", ("setting_changed", "approval_requirement_changed"),
       lambda w, a: w.svc.set_setting(w.case, a, require_approval=False)),
    Op("restore", ("restored",), lambda w, a: w.svc.restore(w.case, 2, a)),
    Op("export", ("export",), lambda w, a: w.svc.export(w.case, "md", w.pdf.with_suffix(".md"), actor=a)),
    Op("approve", ("reviewed",), lambda w, a: w.svc.approve(w.case, "need", a)),
    Op("edit_section", ("section_edited",), lambda w, a: w.svc.edit_section(w.case, "need", "fr", "Texte libre.", a)),
    Op("comment", ("commented",), lambda w, a: w.svc.comment(w.case, "need", "À revoir.", a)),
    Op("save_letter", ("letter_updated",), lambda w, a: w.svc.save_letter(w.case, {"specialty": "Cardiologie"}, a)),
    Op("attach_letter", ("letter_attached", "evidence_attached"), lambda w, a: w.svc.attach_letter(w.case, a),
       kind="clinician_letter"),
    Op("create_clinician_link", ("clinician_link_created",), lambda w, a: w.svc.create_clinician_link(w.case, a)),
    Op("revoke_clinician_link", ("clinician_link_revoked",),
       lambda w, a: w.svc.revoke_clinician_link(w.case, w.active_link, a)),
    Op("llm_draft_stream", ("section_drafted",), lambda w, a: w.svc.llm_draft_stream(w.case, a, "fr", ["need"])),
    Op("record a forged model draft", ("section_drafted",), _forged_draft, never=True),
    Op("update_llm_settings", ("llm_settings_changed",),
       lambda w, a: w.svc.update_llm_settings(a, base_url="http://203.0.113.5/v1"), case_bound=False),
    Op("save_llm_settings", ("llm_settings_changed",),
       lambda w, a: w.svc.save_llm_settings(LLMSettings(provider="none"), a), case_bound=False),
]


def allowed(op: Op, actor_kind: str, actor: Actor) -> bool:
    """What access.yaml says (roles as data), plus the link rule for a role bound to one."""
    if op.never:
        return False
    rights = access.rights()[actor.role]
    if not all(access.may_change(actor.role, a) for a in op.actions):
        return False
    if op.kind is not None and rights.evidence_kinds is not None and op.kind not in rights.evidence_kinds:
        return False
    return not (access.needs_link(actor.role) and op.case_bound) or actor_kind == "clinician with this case's link"


def _state(w: World) -> tuple:
    files = sorted(p.name for p in w.svc.store.files_dir(w.case).iterdir())
    settings = (w.svc.store.home / "settings.json")
    return (w.svc.case(w.case).model_dump_json(), w.svc.case(w.other).version, len(w.svc.store.ids()), files,
            settings.read_text() if settings.exists() else "")


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_operation_is_refused_by_the_service_to_every_role_it_is_not_for(svc, make_pdf, op):
    w = make_world(svc, make_pdf)
    actors = {kind: make(w) for kind, make in ACTORS.items()}
    refused = [kind for kind, a in actors.items() if not allowed(op, kind, a)]
    for kind in refused:  # a refused probe changes nothing, so they share one world
        before = _state(w)
        with pytest.raises(Forbidden):
            op.call(w, actors[kind])
        assert _state(w) == before, f"{op.name} by {kind} changed something"
    for kind in (k for k in actors if k not in refused):
        try:
            op.call(w, actors[kind])
        except Forbidden as exc:
            raise AssertionError(f"{op.name} by {kind}: refused ({exc})") from None
        except ServiceError:
            pass  # allowed, and refused for another reason (an incomplete letter, the offline mode)
    assert refused, f"{op.name} is refused to no one"


def test_the_probes_cover_every_change_a_role_can_be_given():
    """A new action in access.yaml (or a new operation) needs a row in OPS."""
    probed = {a for op in OPS for a in op.actions}
    granted = {a for r in access.rights().values() for a in r.changes}
    assert granted <= probed, granted - probed
