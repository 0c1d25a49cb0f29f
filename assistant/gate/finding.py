"""A finding: one thing that stands between the case and a submission-ready file."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Severity = Literal["blocker", "warning"]


class Finding(BaseModel):
    section: str
    kind: str  # missing_answer | thin_answer | missing_evidence | placeholder | not_approved |
    #            stale_approval | advisory | no_text_layer | no_supporting_passage | non_fact |
    #            contradiction | document_check | document_kind
    severity: Severity
    message: str
    question_id: str | None = None
    evidence_kind: str | None = None
    rule: str | None = None  # a consistency rule's id: what a reviewer accepts a contradiction under
    sides: list[tuple[str, str]] = []  # a contradiction's two (value, where it was read), for display
    waived: bool = False
    waiver_reason: str | None = None

    @property
    def blocks(self) -> bool:
        return self.severity == "blocker" and not self.waived


def blockers(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.blocks]
