"""The operations that use the language model.

Every one of them works without a model: the offline mode answers (the offline draft, the
profile's follow-up rule, no proposals), with a notice when a configured model failed. Each call
on a case is logged in the case folder's audit log (`llm-audit.jsonl`).

In the app's flows:
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
change (including the answers it cites beyond the section's own), approvals follow the usual rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.case import evidence
from assistant.case.model import Case
from assistant.case.privacy import is_local_url
from assistant.case.profile import LANGS, Lang
from assistant.drafting import revisions
from assistant.drafting import with_model as llm_drafting
from assistant.drafting.grounding import check_section
from assistant.drafting.model import Citation, Draft, SectionDraft
from assistant.errors import ConflictError, ServiceError
from assistant.interview import assisted as llm_interview
from assistant.knowledge.passage import Passage
from assistant.llm import audit
from assistant.llm.audit import safe_url
from assistant.llm.session import (
    LLM,
    OPENAI_URL,
    PROVIDERS,
    LLMConfigError,
    LLMError,
    LLMSettings,
    OfflineProvider,
    api_key_present,
    build_provider,
    env_overrides,
    load_settings,
    open_llm,
    save_settings,
    settings_file,
)
from assistant.service import access
from assistant.service.base import Actor
from assistant.service.cases import CaseOps
from assistant.service.streaming import stream as _stream

if TYPE_CHECKING:
    from assistant.case.profile import Section


PassagesFor = Callable[["Section", Lang], list[Passage]]


@dataclass(frozen=True)
class DraftEvent:
    """What `draft_stream` yields: text as the model writes it, then each finished section."""

    kind: str  # "text" | "section"
    section_id: str
    text: str = ""
    section: SectionDraft | None = None


@dataclass
class ConfirmResult:
    recorded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


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


MODEL_AUTHOR = "language model ({})"


def model_author(drafter: str) -> str:
    """'llm:gpt-4o-mini' -> 'language model (gpt-4o-mini)'."""
    return MODEL_AUTHOR.format(drafter.removeprefix("llm:") or "?")


class ModelOps(CaseOps):
    def llm_available(self) -> tuple[bool, str]:
        """Whether a language model is configured and usable (no call is made); else why not
        ('' in the offline mode, which needs no explanation)."""
        try:
            settings = load_settings(self.store.home, self.config.llm_env)
        except LLMConfigError as exc:
            return False, f"language model settings not usable: {exc}"
        if settings.provider == "none":
            return False, ""
        provider = build_provider(settings, self.config.api_key)
        return provider.enabled, getattr(provider, "problem", "")

    def llm_settings(self, *, env: bool = True) -> LLMSettings:
        """The effective settings (file + environment), or the file's alone with `env=False`."""
        try:
            return load_settings(self.store.home, self.config.llm_env if env else None)
        except LLMConfigError as exc:
            raise ServiceError(str(exc)) from None

    def save_llm_settings(self, settings: LLMSettings) -> None:
        save_settings(settings, self.store.home)

    def update_llm_settings(self, **values: Any) -> LLMSettings:
        """Change some saved settings (the others are kept); ServiceError names a value that is not valid.
        There is no field for a key: it is only ever read from OPENAI_API_KEY."""
        from pydantic import ValidationError

        current = self.llm_settings(env=False)
        try:
            new = LLMSettings.model_validate({**current.model_dump(), **values})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "?"
            raise ServiceError(f"{field}: {err['msg']}") from None
        self.save_llm_settings(new)
        return new

    def llm_status(self) -> dict[str, Any]:
        """What the configured model is and where each value comes from, without calling it and
        without the key (only whether one is set)."""
        effective = self.llm_settings()
        provider = build_provider(effective, self.config.api_key)
        overrides = env_overrides(self.config.llm_env)
        base = effective.base_url or (OPENAI_URL if effective.provider == "openai" else "")
        return {
            "provider": effective.provider,
            "model": effective.effective_model,
            "base_url": safe_url(base) if base else "",
            "server_on_this_machine": is_local_url(base) if base else None,
            "local_only": effective.local_only,
            "redact_local": effective.redact_local,
            "timeout_s": effective.timeout,
            "max_retries": effective.max_retries,
            "embedding_model": effective.embedding_model,
            "api_key": "set in OPENAI_API_KEY (never shown or stored)" if api_key_present(self.config) else "not set",
            "api_key_set": api_key_present(self.config),
            "redacting": not (is_local_url(base) if base else True) or effective.redact_local,
            "providers": list(PROVIDERS),
            "from_environment": {field: f"${var}" for field, var in overrides.items()},
            "settings_file": str(settings_file(self.store.home)),
            "usable": provider.enabled,
            "problem": getattr(provider, "problem", ""),
        }

    def check_llm(self) -> str:
        """One tiny call with the effective settings: the model's answer, or ServiceError saying why."""
        session = open_llm(self.llm_settings(), self.config,
                           audit=audit.AuditLog(self.store.home / audit.FILE_NAME, self.config.secrets))
        try:
            return session.ping()
        except LLMError as exc:
            raise ServiceError(f"the language model did not answer: {exc}") from None

    def llm_session(self, case_id: str) -> LLM:
        """A model session for one case: its pseudonym kept, its calls in the case's audit log."""
        case = self.case(case_id)
        keep = [v for v in (case.value("patient_pseudonym"),) if v]
        log = audit.AuditLog(self.store.folder(case_id) / audit.FILE_NAME, self.config.secrets)
        try:
            settings = load_settings(self.store.home, self.config.llm_env)
        except LLMConfigError as exc:  # a broken setting must not break the offline mode
            return LLM(OfflineProvider(f"language model not used: {exc}", "config"), case_id=case_id)
        return open_llm(settings, self.config, audit=log, keep=keep, case_id=case_id)

    def llm_audit(self, case_id: str) -> list[dict[str, Any]]:
        return audit.read(self.store.folder(case_id) / audit.FILE_NAME)

    def section_passages(
        self, case_id: str, section_id: str, lang: Lang, offline: SectionDraft | None = None
    ) -> list[Passage]:
        """The passages a model may cite for a section: those retrieval found for it (the corpus and
        the case's own documents, as listed under the offline draft's 'Sources'), then the
        knowledge-base notes of the section's provisions."""
        case = self.case(case_id)
        profile = self.profile(case)
        if offline is None:
            offline = self._compose(case_id, lang).section(section_id)  # type: ignore[attr-defined]
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
            sections.append(llm_drafting.draft_section(
                session, profile, case, section, draft.lang, found, offline, on_chunk,
            ))
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
            draft: Draft = self.draft(case_id, lang, use_llm=False)  # type: ignore[attr-defined]
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

    def propose_facts(self, case_id: str, text: str, lang: Lang = "en") -> llm_interview.Extracted:
        """What the model reads in a free-text answer, as proposals to confirm (none offline)."""
        case = self.case(case_id)
        return llm_interview.propose_facts(self.llm_session(case_id), self.profile(case), case, text, lang)

    def propose_facts_from_document(self, case_id: str, evidence_id: str, lang: Lang = "en") -> llm_interview.Extracted:
        case = self.case(case_id)
        ev = next((e for e in case.evidence if e.id == evidence_id), None)
        if ev is None:
            raise ServiceError(f"no document {evidence_id!r} in case {case_id}")
        pages = evidence.load_pages(self.store.files_dir(case_id), ev.sha256)
        text = "\n\n".join(f"--- page {n} ---\n{p}" for n, p in enumerate(pages, 1) if p.strip())
        return llm_interview.propose_facts(
            self.llm_session(case_id), self.profile(case), case, text, lang,
            source=f"document:{ev.id}", source_kind="document",
        )

    def confirm_facts(self, case_id: str, proposals: Sequence[llm_interview.FactProposal], actor: Any) -> ConfirmResult:
        """Record the proposals the user accepted (screening answers first); say which could not be."""
        result = ConfirmResult()
        for p in proposals:
            try:
                self.answer(case_id, p.question_id, p.value, actor, replace=True, source=p.source)
                result.recorded.append(p.question_id)
            except ServiceError as exc:
                result.skipped.append(f"{p.question_id}: {exc}")
        return result

    def llm_followup(self, case_id: str, question_id: str, lang: Lang = "en") -> llm_interview.Followup | None:
        """The follow-up to ask now about an answer (the model's, else the profile's), or None."""
        case = self.case(case_id)
        profile = self.profile(case)
        profile.question(question_id)  # NotFound if the profile has no such question
        return llm_interview.next_followup(self.llm_session(case_id), profile, case, question_id, lang)

    def record_llm_draft(
        self, case_id: str, draft: SectionDraft, lang: Lang, actor: Any, *, expected_version: int | None = None,
        generated: SectionDraft | None = None,
    ) -> Case:
        """Keep a model's draft of a section as the section's next version, after checking it again.
        `generated`: the offline section it was drafted against (recomposed when not given)."""
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

    def llm_after_answer(self, case_id: str, question_id: str, lang: Lang = "en") -> AfterAnswer:
        """What the model makes of the answer just saved: facts for the other questions (free-text
        answers only) and its follow-up on a justification question. Offline: nothing, no call."""
        case = self.case(case_id)
        profile = self.profile(case)
        question = profile.question(question_id)
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
