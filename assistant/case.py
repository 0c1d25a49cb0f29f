"""The case: everything known about one request, rebuilt from an append-only list of events.

Each change is an `Event`; `apply` is a pure function from (case, event) to the next case, so the
journal alone can rebuild any earlier state. The store (store.py) persists both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .profile import Lang, RequestType

Role = Literal["manufacturer", "clinician", "consultant"]
ROLES: tuple[Role, ...] = ("manufacturer", "clinician", "consultant")
ReviewStatus = Literal["draft", "changes_requested", "approved"]
EventType = Literal[
    "created",
    "answered",
    "evidence_attached",
    "evidence_removed",
    "waived",
    "waiver_withdrawn",
    "reviewed",
    "setting_changed",
    "restored",
]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswerEntry(Model):
    """One thing someone said about a question, as it was said."""

    value: str
    by: str
    role: Role
    at: dt.datetime
    source: str = "user"  # user | case_creation | document:<evidence id> | llm
    followup: bool = False


class Answer(Model):
    question_id: str
    value: str
    entries: list[AnswerEntry]
    followups: int = 0

    @property
    def last(self) -> AnswerEntry:
        return self.entries[-1]


class EvidenceFile(Model):
    id: str  # the first 16 hex digits of the sha256
    sha256: str
    kind: str
    filename: str  # the name the user gave, for display only; the file is stored by hash
    stored_as: str  # path relative to the case folder
    size: int
    pages: int
    text_pages: int
    added_by: str
    role: Role
    added_at: dt.datetime
    note: str = ""


class Waiver(Model):
    target: str
    target_type: Literal["evidence", "question"]
    reason: str
    by: str
    role: Role
    at: dt.datetime


class ReviewEntry(Model):
    status: ReviewStatus
    by: str
    role: Role
    at: dt.datetime
    fingerprint: str = ""
    comment: str = ""


class SectionReview(Model):
    status: ReviewStatus = "draft"
    fingerprint: str = ""  # what the section was built from when it was last reviewed
    history: list[ReviewEntry] = Field(default_factory=list)


class CaseSettings(Model):
    require_approval: bool = False
    language: Lang = "fr"


class Event(Model):
    v: int
    type: EventType
    at: dt.datetime
    by: str
    role: Role
    data: dict[str, Any] = Field(default_factory=dict)


class Case(Model):
    id: str
    authority: str
    request_type: RequestType
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = 0
    answers: dict[str, Answer] = Field(default_factory=dict)
    evidence: list[EvidenceFile] = Field(default_factory=list)
    waivers: dict[str, Waiver] = Field(default_factory=dict)
    reviews: dict[str, SectionReview] = Field(default_factory=dict)
    settings: CaseSettings = Field(default_factory=CaseSettings)

    def value(self, qid: str) -> str | None:
        answer = self.answers.get(qid)
        return answer.value if answer else None

    def values(self) -> dict[str, str]:
        return {qid: a.value for qid, a in self.answers.items()}

    def evidence_of_kind(self, kind: str) -> list[EvidenceFile]:
        return [e for e in self.evidence if e.kind == kind]

    def review(self, section_id: str) -> SectionReview:
        return self.reviews.get(section_id, SectionReview())

    @property
    def device(self) -> str:
        return self.value("device_name") or ""


class CaseError(ValueError):
    """An event that cannot be applied to the case as it stands."""


def apply(case: Case | None, event: Event) -> Case:
    """Return the case after `event`. Pure: the input case is not modified."""
    if event.type == "created":
        if case is not None:
            raise CaseError("case already exists")
        d = event.data
        new = Case(
            id=d["id"],
            authority=d["authority"],
            request_type=d["request_type"],
            created_at=event.at,
            updated_at=event.at,
        )
        for qid, value in d.get("answers", {}).items():
            entry = AnswerEntry(value=value, by=event.by, role=event.role, at=event.at, source="case_creation")
            new.answers[qid] = Answer(question_id=qid, value=value, entries=[entry])
        new.version = event.v
        return new
    if case is None:
        raise CaseError("the first event of a case must be 'created'")
    if event.type == "restored":
        restored = Case.model_validate(event.data["state"])
        return restored.model_copy(update={"version": event.v, "updated_at": event.at})
    new = case.model_copy(deep=True)
    d = event.data
    if event.type == "answered":
        entry = AnswerEntry(
            value=d["value"],
            by=event.by,
            role=event.role,
            at=event.at,
            source=d.get("source", "user"),
            followup=d.get("followup", False),
        )
        previous = new.answers.get(d["question_id"])
        if previous and entry.followup:
            previous.value = f"{previous.value.rstrip()} {entry.value}".strip()
            previous.entries.append(entry)
            previous.followups += 1
        elif previous:
            previous.value = entry.value
            previous.entries.append(entry)
            previous.followups = 0
        else:
            new.answers[d["question_id"]] = Answer(
                question_id=d["question_id"], value=entry.value, entries=[entry]
            )
    elif event.type == "evidence_attached":
        ev = EvidenceFile.model_validate(d["file"])
        new.evidence = [e for e in new.evidence if e.id != ev.id] + [ev]
    elif event.type == "evidence_removed":
        new.evidence = [e for e in new.evidence if e.id != d["evidence_id"]]
    elif event.type == "waived":
        new.waivers[d["target"]] = Waiver(
            target=d["target"],
            target_type=d["target_type"],
            reason=d["reason"],
            by=event.by,
            role=event.role,
            at=event.at,
        )
    elif event.type == "waiver_withdrawn":
        new.waivers.pop(d["target"], None)
    elif event.type == "reviewed":
        review = new.reviews.setdefault(d["section"], SectionReview())
        review.status = d["status"]
        review.fingerprint = d.get("fingerprint", "")
        review.history.append(
            ReviewEntry(
                status=d["status"],
                by=event.by,
                role=event.role,
                at=event.at,
                fingerprint=review.fingerprint,
                comment=d.get("comment", ""),
            )
        )
    elif event.type == "setting_changed":
        new.settings = new.settings.model_copy(update=d)
    new.version = event.v
    new.updated_at = event.at
    return new
