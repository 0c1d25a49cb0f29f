"""The language model in the app's flows (mixed into `service.Service`, on top of service_llm.py).

- `llm_draft_stream`: the chosen sections drafted by the model, its text streamed as it comes. A
  section that passes the grounding checks is recorded at once as the section's next version
  (event `section_drafted`, by "language model (<model>)" with the acting user's role), so what
  the user reads is what the review desk, the checks and the export read, and exporting an
  unchanged case twice gives the same text. A section that fails is not recorded: its outcome
  lists why, and the text in force (the offline draft, or an earlier version) stays.
- `record_llm_draft`: that recording, which runs the grounding checks again before keeping a text.
- `llm_after_answer`: right after an answer, the facts the model reads in it for the other
  questions (proposals to confirm) and its follow-up on a justification question. A model that
  fails gives notices, never an error: the answer is already saved.

A recorded model version is a version like a person's edit: stale when the facts it was drafted on
change (including the answers it cites beyond the section's own), approvals follow the usual rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import access, llm_drafting, llm_interview, revisions
from .draft_model import Citation, SectionDraft
from .grounding import check_section
from .llm import LLMConfigError, build_provider, load_settings
from .passages import Passage
from .profile import LANGS, Lang
from .service_llm import DraftEvent, LLMOperations
from .streaming import stream as _stream

if TYPE_CHECKING:
    from .case import Case

MODEL_AUTHOR = "language model ({})"


@dataclass(frozen=True)
class DraftOutcome:
    """What became of one section the model was asked to draft."""

    section_id: str
    title: str
    recorded: int | None  # the version number it was recorded as; None: not recorded
    author: str  # "language model (<model>)"
    problems: list[str] = field(default_factory=list)  # why it was not recorded
    notices: list[str] = field(default_factory=list)  # what else happened on the way (a retried 429)


@dataclass(frozen=True)
class AfterAnswer:
    proposals: list[llm_interview.FactProposal] = field(default_factory=list)
    followup: llm_interview.Followup | None = None  # only the model's own (the profile's rule is the interview's)
    notices: list[str] = field(default_factory=list)


def model_author(drafter: str) -> str:
    """'llm:gpt-4o-mini' -> 'language model (gpt-4o-mini)'."""
    return MODEL_AUTHOR.format(drafter.removeprefix("llm:") or "?")


class LLMFlowOperations(LLMOperations):
    def llm_available(self) -> tuple[bool, str]:
        """Whether a language model is configured and usable (no call is made); else why not
        ('' in the offline mode, which needs no explanation)."""
        try:
            settings = load_settings(self.store.home)
        except LLMConfigError as exc:
            return False, f"language model settings not usable: {exc}"
        if settings.provider == "none":
            return False, ""
        provider = build_provider(settings)
        return provider.enabled, getattr(provider, "problem", "")

    # -- drafts kept as versions ---------------------------------------------------------------
    def record_llm_draft(
        self, case_id: str, draft: SectionDraft, lang: Lang, actor: Any, *, expected_version: int | None = None,
        generated: SectionDraft | None = None,
    ) -> Case:
        """Keep a model's draft of a section as the section's next version, after checking it again.
        `generated`: the offline section it was drafted against (recomposed when not given)."""
        from .service import Actor, ServiceError

        access.require_change(actor.role, "section_drafted")
        case = self.case(case_id)
        if lang not in LANGS:
            raise ServiceError(f"unknown language {lang!r} (one of {', '.join(LANGS)})")
        if not draft.drafter.startswith("llm:"):
            raise ServiceError("only a section the language model drafted and that passed the grounding checks "
                               f"can be recorded (this one: {draft.drafter})")
        generated = generated or self.generated_section(case_id, draft.section_id, lang)  # type: ignore[attr-defined]
        cited = [Passage(id=c.id, citation=c.label, text=c.text, source=c.source, page=c.page, url=c.url)
                 for c in draft.citations.values() if c.kind == "passage"]
        failures = check_section(draft, cited, case.values(), llm_drafting.known_texts(self.profile(case), case))
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
        model = Actor(name=model_author(draft.drafter), role=actor.role)
        return self._commit(case_id, "section_drafted", {  # type: ignore[attr-defined]
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
        from .service import ConflictError, ServiceError

        access.require_change(actor.role, "section_drafted")
        case = self.case(case_id)
        lang = lang or case.settings.language
        session = self.llm_session(case_id)
        if not session.enabled:
            raise ServiceError(session.problem or "no language model is configured (offline mode)")
        profile = self.profile(case)
        offline = self._compose(case_id, lang)  # type: ignore[attr-defined]
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
                emit(DraftOutcome(sid, f"{base.number}. {base.title}", recorded,
                                  model_author(session.label), problems, notices))

        return _stream(work)

    # -- help right after an answer ------------------------------------------------------------------
    def llm_after_answer(self, case_id: str, question_id: str, lang: Lang = "en") -> AfterAnswer:
        """What the model makes of the answer just saved: facts for the other questions (free-text
        answers only) and its follow-up on a justification question. Offline: nothing, no call."""
        from .service import ServiceError

        case = self.case(case_id)
        profile = self.profile(case)
        try:
            question = profile.question(question_id)
        except KeyError:
            raise ServiceError(f"unknown question {question_id!r}") from None
        answer = case.answers.get(question_id)
        session = self.llm_session(case_id)
        if answer is None or not session.enabled:
            return AfterAnswer()
        proposals: list[llm_interview.FactProposal] = []
        notices: list[str] = []
        if question.type in ("text", "long_text"):
            found = llm_interview.propose_facts(session, profile, case, answer.last.value, lang)
            proposals = [p for p in found.proposals if p.question_id != question_id]
            notices += found.notices
        followup = llm_interview.next_followup(session, profile, case, question_id, lang) if session.enabled else None
        for n in session.notices:  # the same failure once, not once per call that met it
            if not any(n.removeprefix("language model failed: ") in m for m in notices):
                notices.append(n)
        return AfterAnswer(
            proposals=proposals,
            followup=followup if followup is not None and followup.source == "llm" else None,
            notices=list(dict.fromkeys(n for n in notices if n)),
        )
