"""The language model drafting sections: the passages it may cite, its drafts checked by grounding
and kept as versions, streamed as it writes, and the reviewer's check against the sources.

- `llm_draft_stream`: the chosen sections drafted by the model, its text streamed as it comes. A
  section that passes the grounding checks is recorded at once as the section's next version
  (event `section_drafted`, by "language model (<model>)" with the acting user's role), so what
  the user reads is what the review desk, the checks and the export read, and exporting an
  unchanged case twice gives the same text. A section that fails is not recorded: its outcome
  lists why, and the text in force (the offline draft, or an earlier version) stays.
- `record_llm_draft`: that recording, which runs the grounding checks again before keeping a text.

A recorded model version is a version like a person's edit: stale when the facts it was drafted on
change (including the answers it cites beyond the section's own), approvals follow the usual rules."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.case.model import Case
from assistant.case.profile import LANGS, Lang
from assistant.drafting import revisions
from assistant.drafting import with_model as llm_drafting
from assistant.drafting.grounding import check_section
from assistant.drafting.model import Citation, Draft, SectionDraft
from assistant.errors import ConflictError, Forbidden, LLMError, ServiceError
from assistant.knowledge.passage import Passage
from assistant.llm import claims
from assistant.llm.session import LLM
from assistant.service.base import Actor
from assistant.service.streaming import stream as _stream

if TYPE_CHECKING:
    pass
from assistant.service.with_model import ModelOps


@dataclass(frozen=True)
class DraftEvent:
    """What `draft_stream` yields: text as the model writes it, then each finished section."""

    kind: str  # "text" | "section"
    section_id: str
    text: str = ""
    section: SectionDraft | None = None


@dataclass(frozen=True)
class DraftOutcome:
    """What became of one section the model was asked to draft."""

    section_id: str
    title: str
    recorded: int | None  # the version number it was recorded as; None: not recorded
    author: str  # "language model (<model>)"
    problems: list[str] = field(default_factory=list)  # why it was not recorded
    notices: list[str] = field(default_factory=list)  # what else happened on the way (a retried 429)
    in_force: int | None = None  # not recorded: the reviewer's version that stays (None: the generated text)


MODEL_AUTHOR = "language model ({})"


def model_author(drafter: str) -> str:
    """'llm:gpt-4o-mini' -> 'language model (gpt-4o-mini)'."""
    return MODEL_AUTHOR.format(drafter.removeprefix("llm:") or "?")


class ModelDraftOps(ModelOps):
    def section_passages(
        self, case_id: str, section_id: str, lang: Lang, offline: SectionDraft | None = None
    ) -> list[Passage]:
        """The passages a model may cite for a section: those retrieval found for it (the corpus and
        the case's own documents, as listed under the offline draft's 'Sources'), then the
        knowledge-base notes of the section's provisions."""
        case = self.case(case_id)
        profile = self.profile(case)
        if offline is None:
            offline = self._compose(case_id, lang).section(section_id)
        found = llm_drafting.offline_passages(offline)
        found += llm_drafting.provision_passages(profile, profile.section(section_id), lang)
        return list({p.id: p for p in found}.values())

    def llm_redraft(
        self,
        case_id: str,
        draft: Draft,
        passages: Mapping[str, Sequence[Passage]] | None = None,
        on_chunk: llm_drafting.OnChunk | None = None,
        session: LLM | None = None,
    ) -> Draft:
        """`draft` (offline) with each section drafted by the model where it passes the grounding
        checks. Offline mode: `draft` unchanged."""
        session = session or self.llm_session(case_id)
        if not session.enabled and not session.problem:
            return draft
        case = self.case(case_id)
        profile = self.profile(case)
        sections = []
        for offline in draft.sections:
            section = profile.section(offline.section_id)
            given = passages.get(section.id) if passages is not None else None
            found = list(given) if given is not None else self.section_passages(case_id, section.id, draft.lang, offline)
            drafted, _why_not = llm_drafting.draft_section_checked(
                session, profile, case, section, draft.lang, found, offline, on_chunk,
            )
            sections.append(drafted)  # a refused draft says why in its notices
        return draft.model_copy(update={"sections": sections})

    def review_section_llm(
        self, case_id: str, section_id: str, lang: Lang | None = None, section: SectionDraft | None = None
    ) -> list[llm_drafting.ReviewIssue]:
        """A reviewer's 'check this section against its sources': the model reads the section (the one
        on screen when given, else the offline draft with the users' edits) claim by claim against
        the facts and passages it cites. Advisory: the issues are listed for the reviewer."""
        case = self.case(case_id)
        lang = lang or case.settings.language
        if section is None:
            draft: Draft = self.draft(case_id, lang, use_llm=False)
            section = draft.section(section_id)
        session = self.llm_session(case_id)
        if not session.enabled:
            raise ServiceError(session.problem or "no language model is configured (offline mode)")
        cited = [Passage(id=c.id, citation=c.label, text=c.text, source=c.source, page=c.page, url=c.url)
                 for c in section.citations.values() if c.kind == "passage" and c.text]
        notes = llm_drafting.provision_passages(self.profile(case), self.profile(case).section(section_id), lang)
        passages = list({p.id: p for p in [*cited, *notes]}.values())
        try:
            return llm_drafting.review_section(session, self.profile(case), case, section, passages, lang)
        except LLMError as exc:
            raise ServiceError(f"the review could not be done: {exc}") from None

    # -- which drafts the model wrote: only those may be recorded as a model's version -------------
    def _draft_key(self, case_id: str, draft: SectionDraft, lang: Lang) -> str:
        text = revisions.to_source(draft)
        return hashlib.sha256(f"{case_id}\0{draft.section_id}\0{lang}\0{draft.drafter}\0{text}".encode()).hexdigest()

    def _vouch(self, case_id: str, draft: SectionDraft, lang: Lang) -> None:
        """Remember that this service's model session wrote `draft` (what `record_llm_draft` asks)."""
        with self._computed_lock:
            vouched = self.__dict__.setdefault("_model_drafts", OrderedDict())
            vouched[self._draft_key(case_id, draft, lang)] = True
            while len(vouched) > 256:
                vouched.popitem(last=False)

    def _drafted_here(self, case_id: str, draft: SectionDraft, lang: Lang, *, take: bool = False) -> bool:
        key = self._draft_key(case_id, draft, lang)
        with self._computed_lock:
            vouched = self.__dict__.setdefault("_model_drafts", OrderedDict())
            return (vouched.pop(key, None) if take else vouched.get(key)) is not None

    def record_llm_draft(
        self, case_id: str, draft: SectionDraft, lang: Lang, actor: Any, *, expected_version: int | None = None,
        generated: SectionDraft | None = None,
    ) -> Case:
        """Keep a model's draft of a section as the section's next version, after checking it again.
        `generated`: the offline section it was drafted against (recomposed when not given)."""
        self._authorise(case_id, actor, "section_drafted")
        case = self.case(case_id)
        if lang not in LANGS:
            raise ServiceError(f"unknown language {lang!r} (one of {', '.join(LANGS)})")
        if not draft.drafter.startswith("llm:"):
            raise ServiceError("only a section the language model drafted and that passed the grounding checks "
                               f"can be recorded (this one: {draft.drafter})")
        if not self._drafted_here(case_id, draft, lang, take=True):
            raise Forbidden("not recorded: this text was not drafted by the language model through this service "
                            "(a section's text is changed by an edit, under the reviewer's role)")
        generated = generated or self.generated_section(case_id, draft.section_id, lang)
        cited = [Passage(id=c.id, citation=c.label, text=c.text, source=c.source, page=c.page, url=c.url)
                 for c in draft.citations.values() if c.kind == "passage"]
        failures = check_section(draft, cited, case.values(), llm_drafting.known_texts(self.profile(case), case),
                                 claims.CaseFacts.of(case), mechanical=generated.paragraphs)
        if failures:
            raise ServiceError("not recorded: the grounding checks fail on the facts as they are now: "
                               + "; ".join(f.reason for f in failures[:5]))
        brought: dict[str, Citation] = {
            cid: c for cid, c in draft.citations.items() if c.kind in ("passage", "answer")
        }
        text = revisions.to_source(draft)
        try:
            revisions.parse_source(text, generated, strict=True, extra=brought)
        except revisions.RevisionError as exc:
            raise ServiceError(f"not recorded: {exc}") from None
        model = Actor(name=model_author(draft.drafter), role=actor.role, token=actor.token)
        return self._commit(case_id, "section_drafted", {
            "section": draft.section_id, "lang": lang, "text": text, "drafter": draft.drafter,
            "citations": {cid: c.model_dump(mode="json") for cid, c in brought.items()},
            "base_fingerprint": generated.fingerprint, "base_text": revisions.to_source(generated),
            "note": f"drafted at the request of {actor.name}",
        }, model, expected_version)

    def llm_draft_stream(
        self, case_id: str, actor: Any, lang: Lang | None = None, section_ids: list[str] | None = None,
    ) -> Iterator[DraftEvent | DraftOutcome]:
        """Draft `section_ids` (default: every section) with the model: text events as it writes,
        then one DraftOutcome per section, recorded as a version when it passes the grounding checks.
        ServiceError before any call when no model is usable or the role may not record drafts."""
        self._authorise(case_id, actor, "section_drafted")
        case = self.case(case_id)
        lang = lang or case.settings.language
        session = self.llm_session(case_id)
        if not session.enabled:
            raise ServiceError(session.problem or "no language model is configured (offline mode)")
        profile = self.profile(case)
        offline = self._compose(case_id, lang)
        known = [s.section_id for s in offline.sections]
        wanted = section_ids or known
        unknown = [sid for sid in wanted if sid not in known]
        if unknown:
            raise ServiceError(f"unknown section {unknown[0]!r} for this case")

        def work(emit: Callable[[DraftEvent | DraftOutcome], None]) -> None:
            version = case.version
            for sid in wanted:
                base = offline.section(sid)
                passages = self.section_passages(case_id, sid, lang, base)
                drafted, problems = llm_drafting.draft_section_checked(
                    session, profile, case, profile.section(sid), lang, passages, base,
                    lambda section_id, text: emit(DraftEvent("text", section_id, text=text)),
                )
                recorded = None
                if not problems:
                    self._vouch(case_id, drafted, lang)
                    try:
                        new = self.record_llm_draft(case_id, drafted, lang, actor, expected_version=version,
                                                    generated=base)
                    except ConflictError:
                        problems = ["the case changed while the model was drafting (another window or person): "
                                    "nothing was recorded; draft it again"]
                    except ServiceError as exc:
                        problems = [str(exc)]
                    else:
                        version = new.version
                        recorded = revisions.current_edit(new, sid, lang).n  # type: ignore[union-attr]
                notices = [n for n in drafted.notices if "retrying" in n]
                emit(DraftEvent("section", sid, section=drafted))
                edit = None if recorded else revisions.current_edit(self.case(case_id), sid, lang)
                emit(DraftOutcome(sid, f"{base.number}. {base.title}", recorded,
                                  model_author(session.label), problems, notices, edit.n if edit else None))

        return _stream(work)
