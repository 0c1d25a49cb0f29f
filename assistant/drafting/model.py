"""The structure every drafter produces: sections of paragraphs made of text, citations and
placeholders. Checks, review and export read this structure, whoever wrote it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.case.model import Citation, CitationKind  # noqa: F401 (part of the draft's structure)
from assistant.case.profile import Lang
from assistant.errors import NotFound


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_M):
    kind: Literal["text", "cite", "placeholder"]
    text: str = ""  # the text, or for a placeholder what is missing
    ref: str = ""  # a citation id, or for a placeholder the question id / evidence kind behind it


class Paragraph(_M):
    spans: list[Span] = Field(default_factory=list)

    def plain(self) -> str:
        return "".join(s.text for s in self.spans if s.kind == "text")


class Placeholder(_M):
    label: str
    question_id: str = ""
    evidence_kind: str = ""
    waived: bool = False


class EvidenceLine(_M):
    kind: str
    name: str
    mandatory: bool
    waived: bool = False
    files: list[str] = Field(default_factory=list)  # evidence ids


class SectionDraft(_M):
    section_id: str
    number: int
    title: str
    paragraphs: list[Paragraph]
    citations: dict[str, Citation]
    placeholders: list[Placeholder]
    evidence: list[EvidenceLine]
    used_answers: list[str]
    used_evidence: list[str]
    used_provisions: list[str]
    used_passages: list[str] = Field(default_factory=list)
    fingerprint: str
    drafter: str = "offline"  # offline | llm:<model> | offline-fallback (a model draft was rejected or failed)
    notices: list[str] = Field(default_factory=list)  # what the reader must know about how it was drafted


class Draft(_M):
    case_id: str
    authority: str
    lang: Lang
    title: str
    request_type: str
    request_type_label: str
    case_version: int
    sections: list[SectionDraft]
    notices: list[str] = Field(default_factory=list)  # what the reader should know (retrieval was unavailable)
    # answers written in the authority's language, in a version in another: quoted as written, or translated
    quoted_answers: int = 0
    translated_answers: int = 0

    def section(self, section_id: str) -> SectionDraft:
        """The section drafted for `section_id`; `NotFound` if the case has none such (it may not apply)."""
        for s in self.sections:
            if s.section_id == section_id:
                return s
        raise NotFound(f"unknown section {section_id!r} for case {self.case_id}")
