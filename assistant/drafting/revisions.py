"""A reviewer's own text for a section: kept as numbered versions, diffable, and used by export.

A section's text is edited in a plain *source* form where each citation stays a marker
(`[@answer:urgency]`) and each gap stays a visible placeholder marker (`[?urgency: À COMPLÉTER : …]`),
so an edited section still points at its sources. Version 0 is always the generated text.

An edit records the fingerprint of the generated section it was made on: when answers or documents
change later, the edit is *stale* (a blocker until someone saves it again or goes back to the
generated text), and so is any approval given before (the section's fingerprint covers the edits).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.case.model import Case, SectionEdit
from assistant.case.profile import LANGS, Lang
from assistant.drafting.model import Citation, Draft, Paragraph, Placeholder, SectionDraft, Span
from assistant.drafting.spans import render_text
from assistant.errors import RevisionError

_MARKER = re.compile(r"\[@([a-z]+:[^\]\s]+)\]|\[\?([a-z0-9_\-]+): ([^\]]*)\]")
MAX_EDIT_CHARS = 40_000



@dataclass(frozen=True)
class Version:
    n: int
    label: str  # "v0 — generated", "v2 — a.reviewer, 2026-11-25 10:12"
    text: str
    by: str = ""
    at: str = ""
    note: str = ""


# -- the source form ------------------------------------------------------------------------------
def to_source(section: SectionDraft) -> str:
    """The section as editable text: paragraphs separated by a blank line, markers for citations."""
    return "\n\n".join(
        render_text(p, lambda s, gap: f"{gap}[@{s.ref}]", lambda s, gap: f"{gap}[?{s.ref}: {s.text}]").strip()
        for p in section.paragraphs
    )


def parse_source(
    text: str, generated: SectionDraft, strict: bool = True, extra: Mapping[str, Citation] | None = None
) -> list[Paragraph]:
    """Paragraphs from edited text. A marker must name a citation or gap of the generated section, or
    one of `extra` (the citations an edit brought, e.g. a model's passages) (strict), or is dropped
    (not strict: an older edit read against newer answers)."""
    known_refs = set(generated.citations) | set(extra or {})
    gaps = {s.ref for p in generated.paragraphs for s in p.spans if s.kind == "placeholder"}
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        block = re.sub(r"\s*\n\s*", " ", block).strip()
        if not block:
            continue
        spans: list[Span] = []
        pos = 0
        for m in _MARKER.finditer(block):
            before = block[pos : m.start()]
            cite, gap, gap_text = m.group(1), m.group(2), m.group(3)
            if before:
                spans.append(Span(kind="text", text=before.rstrip() if cite else before))
            if cite:
                if cite in known_refs:
                    spans.append(Span(kind="cite", ref=cite))
                elif strict:
                    raise RevisionError(f"unknown citation [@{cite}]: keep the citation markers as they were, or delete them")
            elif gap in gaps:
                spans.append(Span(kind="placeholder", ref=gap, text=gap_text.strip()))
            elif strict:
                raise RevisionError(f"unknown gap [?{gap}: …]: keep the gap markers as they were, or delete them")
            pos = m.end()
        if block[pos:]:
            spans.append(Span(kind="text", text=block[pos:]))
        spans = [s for s in spans if s.kind != "text" or s.text]
        if spans:
            paragraphs.append(Paragraph(spans=spans))
    if strict and not paragraphs:
        raise RevisionError("an edited section cannot be empty: go back to the generated text instead")
    return paragraphs


def edited_section(
    generated: SectionDraft, edit_text: str, fingerprint: str, strict: bool = False,
    extra: Mapping[str, Citation] | None = None, drafter: str = "edited",
) -> SectionDraft:
    """The generated section with its paragraphs replaced by the edited text. `extra`: citations the
    edit brought (the generated section's own win: an answer's text is then the current one)."""
    extra = extra or {}
    paragraphs = parse_source(edit_text, generated, strict=strict, extra=extra)
    cited = {s.ref for p in paragraphs for s in p.spans if s.kind == "cite"}
    gaps = {s.ref for p in paragraphs for s in p.spans if s.kind == "placeholder"}
    citations: dict[str, Citation] = {
        cid: generated.citations.get(cid) or extra[cid]
        for cid in dict.fromkeys([*generated.citations, *extra]) if cid in cited
    }
    brought = [c.source for cid, c in extra.items() if cid in cited and c.kind == "answer"]
    placeholders: list[Placeholder] = [
        p for p in generated.placeholders if (p.question_id or p.evidence_kind) in gaps
    ]
    return generated.model_copy(update={
        "paragraphs": paragraphs,
        "citations": citations,
        "placeholders": placeholders,
        "used_answers": list(dict.fromkeys([q for q in generated.used_answers if f"answer:{q}" in cited] + brought)),
        "used_evidence": [e for e in generated.used_evidence if any(c.startswith(f"evidence:{e}") for c in cited)],
        "used_provisions": [c.source for c in citations.values() if c.kind == "provision"],
        "used_passages": [cid for cid, c in citations.items() if c.kind == "passage"] if extra else generated.used_passages,
        "fingerprint": fingerprint,
        "drafter": drafter,
    })


def carried_citations(edit: SectionEdit | None, case: Case) -> dict[str, Citation]:
    """The citations an edit in force brought, for the next version made from its text; an answer's
    text is brought up to date (saving again confirms the text on the current facts)."""
    if edit is None:
        return {}
    out = {}
    for cid, c in edit.citations.items():
        if c.kind == "answer":
            value = case.value(c.source)
            if value is None:
                continue
            c = c.model_copy(update={"text": value})
        out[cid] = c
    return out


def _moved_answers(case: Case, edit: SectionEdit) -> dict[str, str | None]:
    """The answers an edit cited beyond its section's own, as they are now, where they changed since."""
    return {c.source: case.value(c.source) for c in edit.citations.values()
            if c.kind == "answer" and case.value(c.source) != c.text}


# -- the case's edits -------------------------------------------------------------------------------
def current_edit(case: Case, section_id: str, lang: Lang) -> SectionEdit | None:
    """The edit in force for this section and language (None: the generated text is used)."""
    last = None
    for edit in case.edits.get(section_id, []):
        if edit.lang == lang:
            last = edit
    return last if last is not None and last.text is not None else None


def effective_fingerprint(case: Case, section_id: str, generated_fingerprint: str) -> str:
    """What an approval is given on: the generated fingerprint, plus the edits in force if any."""
    edits = [(lang, e) for lang in LANGS if (e := current_edit(case, section_id, lang))]
    if not edits:
        return generated_fingerprint
    material = generated_fingerprint + "".join(f"\n{lang}\n{e.text}" for lang, e in edits)
    # answers an edit cited beyond the section's own: a change to one withdraws an approval too
    material += "".join(f"\n{c.source}={case.value(c.source)}" for _, e in edits
                        for c in e.citations.values() if c.kind == "answer")
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def apply_edits(draft: Draft, case: Case) -> Draft:
    """The draft with each edited section's text in force (what preview, check and export read)."""
    sections = []
    for section in draft.sections:
        fingerprint = effective_fingerprint(case, section.section_id, section.fingerprint)
        edit = current_edit(case, section.section_id, draft.lang)
        if edit is not None and edit.text is not None:
            sections.append(edited_section(section, edit.text, fingerprint, extra=edit.citations,
                                           drafter=edit.drafter or "edited"))
        elif fingerprint != section.fingerprint:
            sections.append(section.model_copy(update={"fingerprint": fingerprint}))
        else:
            sections.append(section)
    return draft.model_copy(update={"sections": sections})


def stale_edits(case: Case, generated: Draft) -> list[SectionEdit]:
    """Edits in force made on a generated text that has changed since (answers or documents moved),
    or citing an answer (beyond the section's own) that changed since."""
    out = []
    for section in generated.sections:
        for lang in LANGS:
            edit = current_edit(case, section.section_id, lang)
            if edit is not None and (edit.base_fingerprint != section.fingerprint or _moved_answers(case, edit)):
                out.append(edit)
    return out


def versions(case: Case, section_id: str, lang: Lang, generated: SectionDraft) -> list[Version]:
    """Every version of the section's text in `lang`: v0 the generated text, then each edit."""
    out = [Version(n=0, label="v0 — generated", text=to_source(generated))]
    for edit in case.edits.get(section_id, []):
        if edit.lang != lang:
            continue
        text = edit.text if edit.text is not None else out[0].text
        what = "back to the generated text" if edit.text is None else edit.by
        out.append(Version(
            n=edit.n, label=f"v{edit.n} — {what}, {edit.at:%Y-%m-%d %H:%M}", text=text,
            by=edit.by, at=edit.at.isoformat(), note=edit.note,
        ))
    return out


def _sentences(block: str) -> list[str]:
    """Split after . ! ? ; followed by a space, never inside a [marker]."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(block):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch in ".!?;" and depth == 0 and block[i + 1 : i + 2] == " ":
            out.append(block[start : i + 1].strip())
            start = i + 1
    out.append(block[start:].strip())
    return [s for s in out if s]


def _lines(text: str) -> list[str]:
    """One sentence per line, paragraphs separated by an empty line: diffs a reader can follow."""
    lines: list[str] = []
    for n, block in enumerate(re.split(r"\n\s*\n", text.strip())):
        if n:
            lines.append("")
        lines.extend(_sentences(re.sub(r"\s+", " ", block).strip()))
    return lines


def diff(a: Version, b: Version) -> str:
    """A unified diff of two versions, sentence by sentence ("" when they are the same)."""
    return "\n".join(difflib.unified_diff(
        _lines(a.text), _lines(b.text), fromfile=a.label, tofile=b.label, lineterm="", n=1,
    ))
