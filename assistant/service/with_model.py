"""The operations that use the language model, apart from its drafts.

Every one of them works without a model: the offline mode answers (the offline draft, the
profile's follow-up rule, no proposals), with a notice when a configured model failed. Each call
on a case is logged in the case folder's audit log (`llm-audit.jsonl`).

- `llm_after_answer`: right after an answer, the facts the model reads in it for the other
  questions (proposals to confirm) and its follow-up on a justification question. A model that
  fails gives notices, never an error: the answer is already saved.
- the settings (`llm_settings`, `update_llm_settings`, `llm_status`, `check_llm`) and the session
  each case's calls go through (`llm_session`: its pseudonym kept, its calls audited).

The model's drafts are in model_drafts.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.case import access, evidence, privacy
from assistant.case.privacy import is_local_url
from assistant.case.profile import Lang
from assistant.case.store import write_atomic
from assistant.drafting import translation
from assistant.errors import LLMConfigError, LLMError, ServiceError
from assistant.interview import assisted as llm_interview
from assistant.knowledge.passage import Passage
from assistant.llm import audit
from assistant.llm.audit import safe_url
from assistant.llm.providers import OPENAI_URL, OfflineProvider, build_provider
from assistant.llm.session import LLM, open_llm
from assistant.llm.settings import (
    PROVIDERS,
    LLMSettings,
    api_key_present,
    env_overrides,
    load_settings,
    save_settings,
    settings_file,
)
from assistant.service.base import TRANSLATIONS_FILE, Actor
from assistant.service.cases import CaseOps

if TYPE_CHECKING:
    from assistant.case.profile import Section


PassagesFor = Callable[["Section", Lang], list[Passage]]


@dataclass
class ConfirmResult:
    recorded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AfterAnswer:
    proposals: list[llm_interview.FactProposal] = field(default_factory=list)
    followup: llm_interview.Followup | None = None  # only the model's own (the profile's rule is the interview's)
    notices: list[str] = field(default_factory=list)


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

    def save_llm_settings(self, settings: LLMSettings, actor: Actor) -> None:
        """Write the settings, for a role that owns them (access.yaml: `llm_settings_changed`): they
        decide where the cases' text, patient data included, is sent."""
        access.require_change(actor.role, "llm_settings_changed")
        save_settings(settings, self.store.home)

    def update_llm_settings(self, actor: Actor, **values: Any) -> LLMSettings:
        """Change some saved settings (the others are kept); ServiceError names a value that is not valid,
        Forbidden a role that does not own them. There is no field for a key: it is only ever read
        from OPENAI_API_KEY."""
        from pydantic import ValidationError

        access.require_change(actor.role, "llm_settings_changed")
        current = self.llm_settings(env=False)
        try:
            new = LLMSettings.model_validate({**current.model_dump(), **values})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "?"
            raise ServiceError(f"{field}: {err['msg']}") from None
        self.save_llm_settings(new, actor)
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
        keep = privacy.keep_for(self.profile(case), case)  # the pseudonym, the applicant's own details
        log = audit.AuditLog(self.store.folder(case_id) / audit.FILE_NAME, self.config.secrets)
        try:
            settings = load_settings(self.store.home, self.config.llm_env)
        except LLMConfigError as exc:  # a broken setting must not break the offline mode
            return LLM(OfflineProvider(f"language model not used: {exc}", "config"), case_id=case_id)
        return open_llm(settings, self.config, audit=log, keep=keep, case_id=case_id)

    def translate_answers(self, case_id: str, lang: Lang) -> int:
        """Translate, with the case's guarded session (identifiers removed, calls audited), the answers
        the `lang` version would otherwise quote in the authority's language; keep those the model
        translated faithfully (every number kept). The number of new translations; 0 offline or when
        the model fails (the answers stay quoted). A refused translation is kept as refused ("")."""
        case = self.case(case_id)
        profile = self.profile(case)
        known = self.translations(case_id)
        texts = translation.needed(profile, case, lang, known)
        if not texts:
            return 0
        session = self.llm_session(case_id)
        if not session.enabled:
            return 0
        try:
            found = translation.translate(session, texts, profile.submission_language, lang)
        except LLMError:
            return 0
        if found:
            write_atomic(self.store.folder(case_id) / TRANSLATIONS_FILE,
                         json.dumps({**known, **found}, ensure_ascii=False, indent=0).encode())
        return sum(1 for text in found.values() if text)

    def llm_audit(self, case_id: str) -> list[dict[str, Any]]:
        return audit.read(self.store.folder(case_id) / audit.FILE_NAME)


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
