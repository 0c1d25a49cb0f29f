"""The Service operations that use the language model (mixed into `service.Service`).

Every one of them works without a model: the offline mode answers (the offline draft, the
profile's follow-up rule, no proposals), with a notice when a configured model failed. Each call
on a case is logged in the case folder's audit log (`llm-audit.jsonl`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import audit, evidence, llm_drafting, llm_interview
from .audit import safe_url
from .draft_model import Draft, SectionDraft
from .llm import (
    LLM,
    OPENAI_URL,
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
from .passages import Passage
from .profile import Lang
from .redact import is_local_url

if TYPE_CHECKING:
    from .profile import Section
    from .store import CaseStore

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


class LLMOperations:
    """Mixed into Service: relies on its `store`, `case`, `profile`, `pages`, `answer`."""

    store: CaseStore

    # -- settings ---------------------------------------------------------------------------
    def llm_settings(self, *, env: bool = True) -> LLMSettings:
        """The effective settings (file + environment), or the file's alone with `env=False`."""
        from .service import ServiceError

        try:
            return load_settings(self.store.home, env=env)
        except LLMConfigError as exc:
            raise ServiceError(str(exc)) from None

    def save_llm_settings(self, settings: LLMSettings) -> None:
        save_settings(settings, self.store.home)

    def update_llm_settings(self, **values: Any) -> LLMSettings:
        """Change some saved settings (the others are kept); ServiceError names a value that is not valid.
        There is no field for a key: it is only ever read from OPENAI_API_KEY."""
        from pydantic import ValidationError

        from .service import ServiceError

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
        provider = build_provider(effective)
        overrides = env_overrides()
        base = effective.base_url or os.environ.get("OPENAI_BASE_URL", "") or (
            OPENAI_URL if effective.provider == "openai" else "")
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
            "api_key": "set in OPENAI_API_KEY (never shown or stored)" if api_key_present() else "not set",
            "from_environment": {field: f"${var}" for field, var in overrides.items()},
            "settings_file": str(settings_file(self.store.home)),
            "usable": provider.enabled,
            "problem": getattr(provider, "problem", ""),
        }

    def check_llm(self) -> str:
        """One tiny call with the effective settings: the model's answer, or ServiceError saying why."""
        from .service import ServiceError

        session = open_llm(self.llm_settings(), audit=audit.AuditLog(self.store.home / audit.FILE_NAME))
        try:
            return session.ping()
        except LLMError as exc:
            raise ServiceError(f"the language model did not answer: {exc}") from None

    def llm_session(self, case_id: str) -> LLM:
        """A model session for one case: its pseudonym kept, its calls in the case's audit log."""
        case = self.case(case_id)
        keep = [v for v in (case.value("patient_pseudonym"),) if v]
        log = audit.AuditLog(self.store.folder(case_id) / audit.FILE_NAME)
        try:
            settings = load_settings(self.store.home)
        except LLMConfigError as exc:  # a broken setting must not break the offline mode
            return LLM(OfflineProvider(f"language model not used: {exc}", "config"), case_id=case_id)
        return open_llm(settings, audit=log, keep=keep, case_id=case_id)

    def llm_audit(self, case_id: str) -> list[dict[str, Any]]:
        return audit.read(self.store.folder(case_id) / audit.FILE_NAME)

    # -- drafting -----------------------------------------------------------------------------
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

    def draft_stream(self, case_id: str, lang: Lang | None = None) -> Iterator[DraftEvent]:
        """The draft section by section, the model's text streamed as it comes (for the UI)."""
        from .streaming import stream

        def work(emit: Callable[[DraftEvent], None]) -> None:
            def on_chunk(section_id: str, text: str) -> None:
                emit(DraftEvent("text", section_id, text=text))

            result: Draft = self.draft(case_id, lang, on_chunk=on_chunk)  # type: ignore[attr-defined]
            for s in result.sections:
                emit(DraftEvent("section", s.section_id, section=s))

        return stream(work)

    def review_section_llm(
        self, case_id: str, section_id: str, lang: Lang | None = None, section: SectionDraft | None = None
    ) -> list[llm_drafting.ReviewIssue]:
        """A reviewer's 'check this section against its sources': the model reads the section (the one
        on screen when given, else the offline draft with the users' edits) claim by claim against
        the facts and passages it cites. Advisory: the issues are listed for the reviewer."""
        from .service import ServiceError

        case = self.case(case_id)
        lang = lang or case.settings.language
        if section is None:
            draft: Draft = self.draft(case_id, lang, use_llm=False)  # type: ignore[attr-defined]
            try:
                section = draft.section(section_id)
            except KeyError:
                raise ServiceError(f"unknown section {section_id!r}") from None
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

    # -- interview --------------------------------------------------------------------------
    def propose_facts(self, case_id: str, text: str, lang: Lang = "en") -> llm_interview.Extracted:
        """What the model reads in a free-text answer, as proposals to confirm (none offline)."""
        case = self.case(case_id)
        return llm_interview.propose_facts(self.llm_session(case_id), self.profile(case), case, text, lang)

    def propose_facts_from_document(self, case_id: str, evidence_id: str, lang: Lang = "en") -> llm_interview.Extracted:
        from .service import ServiceError

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
        from .service import ServiceError

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
        from .service import ServiceError

        case = self.case(case_id)
        profile = self.profile(case)
        try:
            profile.question(question_id)
        except KeyError:
            raise ServiceError(f"unknown question {question_id!r}") from None
        return llm_interview.next_followup(self.llm_session(case_id), profile, case, question_id, lang)
