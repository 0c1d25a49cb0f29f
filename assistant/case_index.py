"""A case's evidence as searchable chunks, cited by document and page."""

from __future__ import annotations

from .case import Case
from .chunking import chunk_text
from .corpus import SourceChunk
from .drafting import PagesOf
from .profile import Lang, Profile


def evidence_chunks(profile: Profile, case: Case, pages_of: PagesOf, lang: Lang) -> list[SourceChunk]:
    out: list[SourceChunk] = []
    for ev in case.evidence:
        name = profile.evidence_kind(ev.kind).name.get(lang)
        for number, text in enumerate(pages_of(ev.sha256), start=1):
            if not text.strip():
                continue
            for chunk in chunk_text(text, page=number):
                citation = f"{name} – {ev.filename} (p. {number})"
                meta = {
                    "source": f"evidence:{ev.id}", "kind": "evidence", "case_id": case.id,
                    "evidence_id": ev.id, "evidence_kind": ev.kind, "filename": ev.filename,
                    "page": number, "citation": citation, "language": lang, "instrument": "", "article": "",
                    "paragraph": "", "url": "",
                }
                out.append(SourceChunk(f"{citation}\n{chunk.text}", meta))
    return out
