"""A retrieved passage: the unit of grounding shared by retrieval, drafters, checks and the UI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Passage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str  # stable citation id, e.g. "note:mdr-59-1.fr#0", "eu:mdr/article-059.md#2", "ev:<evidence id>:p2#0"
    citation: str  # the label a reader sees: "MDR Art. 59(1)", "Certificat CE (p. 2)"
    text: str
    source: str = ""  # the file it comes from (a note, an official text, an evidence file name)
    instrument: str = ""
    article: str = ""
    paragraph: str = ""
    page: int | None = None
    language: str = ""
    url: str = ""
    case_id: str = ""  # set for a case's own evidence
    evidence_kind: str = ""  # and what that document is (the profile's evidence kind id)
    score: float = 0.0  # the fused rank score
    similarity: float | None = None  # cosine similarity to the query, for relevance thresholds
