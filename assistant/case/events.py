"""What each journal event holds (one typed payload per event type) and how it reads in words.

The journal keeps an event's payload as `data`, a plain mapping; `payload(type, data)` validates it
against its type's model, on write (the store refuses a payload that does not fit) and on read
(`apply` works on the typed payload). `describe` is the one rendering of an event in words, for
the chat transcript, the consultant's history table and `derogation history`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from assistant.case.profile import Lang, Profile, RequestType
from assistant.errors import CaseError, NotFound


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Created(_Payload):
    type: Literal["created"] = "created"
    id: str
    authority: str
    request_type: RequestType
    answers: dict[str, str] = Field(default_factory=dict)


class Answered(_Payload):
    type: Literal["answered"] = "answered"
    question_id: str
    value: str
    source: str = "user"  # user | case_creation | document:<evidence id> | llm
    followup: bool = False  # completes the earlier answer (the answer to a follow-up)
    asked: str = ""  # the question as it was put, when it was not the profile's wording


class EvidenceAttached(_Payload):
    type: Literal["evidence_attached"] = "evidence_attached"
    file: dict[str, Any]  # an EvidenceFile (validated by apply)


class EvidenceRemoved(_Payload):
    type: Literal["evidence_removed"] = "evidence_removed"
    evidence_id: str


class Waived(_Payload):
    type: Literal["waived"] = "waived"
    target: str
    target_type: Literal["evidence", "question", "rule"]
    reason: str


class WaiverWithdrawn(_Payload):
    type: Literal["waiver_withdrawn"] = "waiver_withdrawn"
    target: str


class Reviewed(_Payload):
    type: Literal["reviewed"] = "reviewed"
    section: str
    status: Literal["draft", "changes_requested", "approved"]
    fingerprint: str = ""
    comment: str = ""


class SettingChanged(_Payload):
    type: Literal["setting_changed"] = "setting_changed"
    require_approval: bool | None = None
    language: Lang | None = None


class Restored(_Payload):
    type: Literal["restored"] = "restored"
    state: dict[str, Any]  # the whole case as it was at the version restored


class SectionEdited(_Payload):
    type: Literal["section_edited"] = "section_edited"
    section: str
    lang: Lang
    text: str | None  # None: back to the generated text
    base_fingerprint: str
    base_text: str = ""
    note: str = ""
    citations: dict[str, dict[str, Any]] = Field(default_factory=dict)


class SectionDrafted(SectionEdited):
    """A language model's draft of a section that passed the grounding checks, kept as a version."""

    type: Literal["section_drafted"] = "section_drafted"  # type: ignore[assignment]
    drafter: str


class Commented(_Payload):
    type: Literal["commented"] = "commented"
    section: str
    text: str


class EvidenceKindSet(_Payload):
    type: Literal["evidence_kind_set"] = "evidence_kind_set"
    evidence_id: str
    kind: str


class ProposalDismissed(_Payload):
    type: Literal["proposal_dismissed"] = "proposal_dismissed"
    key: str  # "question_id@evidence_id"


class LetterUpdated(_Payload):
    type: Literal["letter_updated"] = "letter_updated"
    fields: dict[str, str] = Field(default_factory=dict)
    cleared: list[str] = Field(default_factory=list)


class LetterAttached(_Payload):
    type: Literal["letter_attached"] = "letter_attached"
    evidence_id: str
    digest: str


class ClinicianLinkCreated(_Payload):
    type: Literal["clinician_link_created"] = "clinician_link_created"
    id: str
    token_sha256: str
    label: str = ""


class ClinicianLinkRevoked(_Payload):
    type: Literal["clinician_link_revoked"] = "clinician_link_revoked"
    id: str


Payload = Annotated[
    Created | Answered | EvidenceAttached | EvidenceRemoved | Waived | WaiverWithdrawn | Reviewed
    | SettingChanged | Restored | SectionEdited | SectionDrafted | Commented | EvidenceKindSet
    | ProposalDismissed | LetterUpdated | LetterAttached | ClinicianLinkCreated | ClinicianLinkRevoked,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Payload] = TypeAdapter(Payload)
EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default for cls in _Payload.__subclasses__() + SectionEdited.__subclasses__()
)


def payload(type_: str, data: dict[str, Any]) -> Payload:
    """The typed payload of an event, or CaseError naming what does not fit."""
    try:
        return _ADAPTER.validate_python({**data, "type": type_})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or type_
        raise CaseError(f"a {type_!r} event that does not fit its type: {where}: {err['msg']}") from None


def describe(type_: str, data: dict[str, Any], profile: Profile | None = None, lang: Lang = "en") -> str:
    """One event in words (English or French), the questions and documents named by their labels.
    Events about a section (reviews, edits, comments) do not name it: the reader sees which one."""
    p = payload(type_, data)
    fr = lang == "fr"

    def question(qid: str) -> str:
        try:
            return profile.question(qid).label.get(lang) if profile else qid
        except (KeyError, NotFound):
            return qid

    def kind(kid: str) -> str:
        try:
            return profile.evidence_kind(kid).name.get(lang) if profile else kid
        except (KeyError, NotFound):
            return kid

    def clip(text: str, n: int = 120) -> str:
        return text[:n] + ("…" if len(text) > n else "")

    match p:
        case Created():
            label = profile.request_type_labels[p.request_type].get(lang) if profile else p.request_type
            device = p.answers.get("device_name")
            if fr:
                return f"nouvelle demande {label} auprès de {p.authority.upper()}" + (f" pour {device}" if device else "")
            return f"new {label} request to {p.authority.upper()}" + (f" for {device}" if device else "")
        case Answered():
            added = (" (complète la réponse précédente)" if fr else " (added to the earlier answer)") if p.followup else ""
            return (f"a répondu à « {question(p.question_id)} » : " if fr else
                    f"answered “{question(p.question_id)}”: ") + clip(p.value) + added
        case EvidenceAttached():
            name, pages = p.file.get("filename", "?"), p.file.get("pages", "?")
            return (f"a joint {name} ({pages} p.) : {kind(str(p.file.get('kind')))}" if fr else
                    f"attached {name} ({pages} page(s)): {kind(str(p.file.get('kind')))}")
        case EvidenceRemoved():
            return f"a retiré la pièce {p.evidence_id}" if fr else f"removed document {p.evidence_id}"
        case Waived():
            target = question(p.target) if p.target_type == "question" else kind(p.target)
            return f"a levé « {target} » : {p.reason}" if fr else f"waived {target}: {p.reason}"
        case WaiverWithdrawn():
            return f"a retiré la levée sur {p.target}" if fr else f"withdrew the waiver on {p.target}"
        case Reviewed():
            status = {"draft": ("brouillon", "draft"), "changes_requested": ("modifications demandées", "changes requested"),
                      "approved": ("approuvée", "approved")}[p.status][0 if fr else 1]
            comment = f" — {p.comment}" if p.comment else ""
            return (f"a passé le statut à {status}" if fr else f"set the status to {status}") + comment
        case SettingChanged():
            changes = ", ".join(f"{k} = {v}" for k, v in p.model_dump(exclude={"type"}, exclude_none=True).items())
            return f"a changé les réglages : {changes}" if fr else f"changed the settings: {changes}"
        case Restored():
            return "a restauré une version antérieure du dossier" if fr else "restored an earlier version of the case"
        case SectionDrafted():
            return (f"a rédigé la section ({p.lang}), gardée comme version : {p.note}" if fr else
                    f"drafted the section ({p.lang}), kept as a version: {p.note}")
        case SectionEdited():
            if p.text is None:
                return f"est revenu au texte généré ({p.lang})" if fr else f"went back to the generated text ({p.lang})"
            note = f": {p.note}" if p.note else ""
            return (f"a enregistré un texte modifié ({p.lang}){note}" if fr else
                    f"saved an edited text ({p.lang}){note}")
        case Commented():
            return f"a commenté : {clip(p.text)}" if fr else f"commented: {clip(p.text)}"
        case EvidenceKindSet():
            return (f"a confirmé le type d'une pièce : {kind(p.kind)}" if fr else  # never its internal id
                    f"confirmed a document's kind: {kind(p.kind)}")
        case ProposalDismissed():
            qid = p.key.split("@", 1)[0]
            return f"a écarté la proposition pour « {question(qid)} »" if fr else f"dismissed the proposal for “{question(qid)}”"
        case LetterUpdated():
            changed = ", ".join(list(p.fields) + p.cleared)
            return f"a mis à jour la lettre du médecin ({changed})" if fr else f"updated the clinician letter ({changed})"
        case LetterAttached():
            return "a joint la lettre du médecin au dossier" if fr else "attached the clinician letter to the case"
        case ClinicianLinkCreated():
            return (f"a créé un lien pour le médecin {p.label}" if fr else f"created a link for the physician {p.label}").rstrip()
        case ClinicianLinkRevoked():
            return f"a révoqué le lien {p.id}" if fr else f"revoked link {p.id}"
    return type_.replace("_", " ")  # pragma: no cover - every payload type is matched above
