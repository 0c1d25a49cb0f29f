"""The operations a user performs. The CLI and the UI call these and nothing below them."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import checks, drafting, evidence, export, interview
from .answers import AnswerError, normalise
from .case import ROLES, Case, EvidenceFile, now
from .checks import Finding
from .draft_model import Draft
from .profile import REQUEST_TYPES, Lang, Profile, load_profile
from .pseudonym import patient_data_problems
from .settings import current_user
from .store import CaseStore, StoreError
from .store import ConflictError as StoreConflict

ExportFormat = Literal["docx", "md"]


class ServiceError(ValueError):
    """Something the user asked that cannot be done as asked, with the reason in one line."""


class ConflictError(ServiceError):
    """The case changed since the caller read it; the caller must reload and redo its change."""


class ExportBlocked(ServiceError):
    def __init__(self, blockers: list[Finding]) -> None:
        self.blockers = blockers
        super().__init__(f"export refused: {len(blockers)} blocker(s) remain")


@dataclass(frozen=True)
class Actor:
    name: str = field(default_factory=current_user)
    role: str = "manufacturer"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ServiceError(f"unknown role {self.role!r} (one of {', '.join(ROLES)})")


@dataclass(frozen=True)
class Attached:
    file: EvidenceFile
    guessed_kind: bool
    warnings: list[str]


@dataclass(frozen=True)
class CaseSummary:
    id: str
    authority: str
    request_type: str
    device: str
    version: int
    updated_at: str
    answered: int
    open_questions: int
    blockers: int
    warnings: int


class Service:
    def __init__(self, store: CaseStore | None = None) -> None:
        self.store = store or CaseStore()

    # -- reading -----------------------------------------------------------------------------
    def case(self, case_id: str, version: int | None = None) -> Case:
        try:
            return self.store.load(case_id, version)
        except StoreError as exc:
            raise ServiceError(str(exc)) from exc

    def profile(self, case: Case) -> Profile:
        return load_profile(case.authority)

    def questions(self, case_id: str) -> list[interview.Prompt]:
        case = self.case(case_id)
        return interview.open_prompts(self.profile(case), case)

    def next_question(self, case_id: str, skipped: frozenset[str] = frozenset()) -> interview.Prompt | None:
        case = self.case(case_id)
        return interview.next_prompt(self.profile(case), case, skipped)

    def pages(self, case_id: str) -> drafting.PagesOf:
        folder = self.store.files_dir(case_id)
        return lambda sha: evidence.load_pages(folder, sha)

    def draft(self, case_id: str, lang: Lang | None = None) -> Draft:
        case = self.case(case_id)
        return drafting.compose(self.profile(case), case, lang or case.settings.language, self.pages(case_id))

    def check(self, case_id: str, lang: Lang = "en") -> list[Finding]:
        case = self.case(case_id)
        profile = self.profile(case)
        draft = drafting.compose(profile, case, case.settings.language, self.pages(case_id))
        return checks.findings(profile, case, draft, lang)

    def cases(self) -> list[CaseSummary]:
        out = []
        for case_id in self.store.ids():
            try:
                case = self.case(case_id)
                found = self.check(case_id)
                prompts = self.questions(case_id)
            except ServiceError:
                continue
            out.append(CaseSummary(
                id=case.id, authority=case.authority, request_type=case.request_type, device=case.device,
                version=case.version, updated_at=case.updated_at.isoformat(), answered=len(case.answers),
                open_questions=len(prompts), blockers=len(checks.blockers(found)),
                warnings=sum(1 for f in found if f.severity == "warning"),
            ))
        return sorted(out, key=lambda s: s.updated_at, reverse=True)

    # -- changes -----------------------------------------------------------------------------
    def new_case(self, authority: str, request_type: str, device: str, actor: Actor) -> Case:
        profile = load_profile(authority)
        if request_type not in REQUEST_TYPES or request_type not in profile.request_types:
            raise ServiceError(f"unknown request type {request_type!r} (one of {', '.join(profile.request_types)})")
        answers = {}
        if device and device.strip():
            answers["device_name"] = normalise(profile.question("device_name"), device)
        return self.store.create(
            {"authority": authority, "request_type": request_type, "answers": answers},
            by=actor.name, role=actor.role,
        )

    def answer(
        self,
        case_id: str,
        question_id: str,
        text: str,
        actor: Actor,
        *,
        replace: bool = False,
        source: str = "user",
        expected_version: int | None = None,
    ) -> Case:
        """Record an answer. If the question awaits a follow-up, the text completes the earlier
        answer (unless `replace`). Patient fields are screened for identifying data."""
        case = self.case(case_id)
        profile = self.profile(case)
        try:
            question = profile.question(question_id)
        except KeyError:
            raise ServiceError(f"unknown question {question_id!r} for authority {profile.id}") from None
        if interview.applies(profile, case, question) is False:
            raise ServiceError(f"question {question_id!r} does not apply to this case")
        try:
            value = normalise(question, text)
        except AnswerError as exc:
            raise ServiceError(str(exc)) from None
        if question.patient_data:
            problems = patient_data_problems(value, pseudonym=question.pseudonym)
            if problems:
                raise ServiceError(
                    f"{question_id}: patient data must be pseudonymised: {'; '.join(problems)}"
                )
        previous = case.answers.get(question_id)
        followup = bool(
            previous and not replace and interview.needs_followup(profile, question, previous)
        )
        return self._commit(case_id, "answered", {
            "question_id": question_id, "value": value, "source": source, "followup": followup,
        }, actor, expected_version)

    def attach(
        self, case_id: str, path: Path, actor: Actor, kind: str | None = None, note: str = ""
    ) -> Attached:
        case = self.case(case_id)
        profile = self.profile(case)
        if kind is not None:
            try:
                profile.evidence_kind(kind)
            except KeyError:
                known = ", ".join(k.id for k in profile.evidence_kinds)
                raise ServiceError(f"unknown evidence kind {kind!r} (one of {known})") from None
        try:
            data, pdf = evidence.read_pdf(Path(path))
        except evidence.EvidenceError as exc:
            raise ServiceError(str(exc)) from None
        guessed = kind is None
        if kind is None:
            keywords = {k.id: list(k.keywords) for k in profile.evidence_kinds if k.applies(case.request_type)}
            kind = evidence.guess_kind(Path(path).name, pdf.pages, keywords)
            if kind is None:
                known = ", ".join(k.id for k in profile.evidence_kinds)
                raise ServiceError(f"{Path(path).name}: cannot tell what this document is: give --kind (one of {known})")
        folder = self.store.files_dir(case_id)
        folder.mkdir(parents=True, exist_ok=True)
        stored = folder / f"{pdf.sha256}.pdf"
        if not stored.exists():
            tmp = folder / f".{pdf.sha256}.tmp"
            tmp.write_bytes(data)
            tmp.replace(stored)
        evidence.save_pages(folder, pdf.sha256, pdf.pages)
        record = EvidenceFile(
            id=pdf.sha256[:16], sha256=pdf.sha256, kind=kind, filename=_display_name(Path(path).name),
            stored_as=f"files/{pdf.sha256}.pdf", size=pdf.size, pages=len(pdf.pages),
            text_pages=pdf.text_pages, added_by=actor.name, role=actor.role, added_at=now(), note=note,
        )
        self._commit(case_id, "evidence_attached", {"file": record.model_dump(mode="json")}, actor)
        warnings = []
        if pdf.text_pages == 0:
            warnings.append(f"{record.filename}: no text layer (scanned?): attached, but its content cannot be searched or cited by page")
        return Attached(file=record, guessed_kind=guessed, warnings=warnings)

    def remove_evidence(self, case_id: str, evidence_id: str, actor: Actor) -> Case:
        case = self.case(case_id)
        if not any(e.id == evidence_id for e in case.evidence):
            raise ServiceError(f"no document {evidence_id!r} in case {case_id}")
        return self._commit(case_id, "evidence_removed", {"evidence_id": evidence_id}, actor)

    def waive(self, case_id: str, target: str, reason: str, actor: Actor) -> Case:
        case = self.case(case_id)
        profile = self.profile(case)
        reason = (reason or "").strip()
        if len(reason.split()) < 3:
            raise ServiceError("a waiver needs a reason of at least a few words")
        if any(k.id == target for k in profile.evidence_kinds):
            target_type = "evidence"
        elif any(q.id == target for q in profile.all_questions()):
            target_type = "question"
        else:
            raise ServiceError(f"nothing to waive called {target!r}: give an evidence kind or a question id")
        return self._commit(case_id, "waived", {"target": target, "target_type": target_type, "reason": reason}, actor)

    def withdraw_waiver(self, case_id: str, target: str, actor: Actor) -> Case:
        if target not in self.case(case_id).waivers:
            raise ServiceError(f"no waiver on {target!r}")
        return self._commit(case_id, "waiver_withdrawn", {"target": target}, actor)

    def review(
        self, case_id: str, section_id: str, status: str, actor: Actor, comment: str = ""
    ) -> Case:
        case = self.case(case_id)
        profile = self.profile(case)
        sections = drafting.applicable_sections(profile, case)
        if section_id not in {s.id for s in sections}:
            raise ServiceError(f"unknown section {section_id!r} (one of {', '.join(s.id for s in sections)})")
        if status not in ("draft", "changes_requested", "approved"):
            raise ServiceError(f"unknown review status {status!r}")
        fingerprint = drafting.section_fingerprint(profile, case, profile.section(section_id))
        return self._commit(case_id, "reviewed", {
            "section": section_id, "status": status, "fingerprint": fingerprint, "comment": comment,
        }, actor)

    def approve(self, case_id: str, section_id: str, actor: Actor, comment: str = "") -> Case:
        return self.review(case_id, section_id, "approved", actor, comment)

    def set_setting(self, case_id: str, actor: Actor, **values: object) -> Case:
        return self._commit(case_id, "setting_changed", values, actor)

    def restore(self, case_id: str, version: int, actor: Actor) -> Case:
        old = self.case(case_id, version)
        return self._commit(case_id, "restored", {"state": old.model_dump(mode="json")}, actor)

    def export(
        self, case_id: str, fmt: ExportFormat, out: Path, lang: Lang | None = None
    ) -> list[Finding]:
        """Write the file; refuse (ExportBlocked) while unwaived blockers remain."""
        found = self.check(case_id)
        blocking = checks.blockers(found)
        if blocking:
            raise ExportBlocked(blocking)
        case = self.case(case_id)
        profile = self.profile(case)
        draft = drafting.compose(profile, case, lang or case.settings.language, self.pages(case_id))
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        if fmt == "md":
            tmp.write_text(export.to_markdown(profile, case, draft), encoding="utf-8")
        elif fmt == "docx":
            export.to_docx(profile, case, draft, tmp)
        else:
            raise ServiceError(f"unknown export format {fmt!r} (docx or md)")
        shutil.move(tmp, out)
        return found

    def _commit(self, case_id: str, type_: str, data: dict, actor: Actor, expected_version: int | None = None) -> Case:
        try:
            return self.store.commit(case_id, type_, data, by=actor.name, role=actor.role, expected_version=expected_version)
        except StoreConflict as exc:
            raise ConflictError(str(exc)) from exc
        except StoreError as exc:
            raise ServiceError(str(exc)) from exc


def _display_name(name: str) -> str:
    """The file name shown to readers: no folders, no control characters, bounded length."""
    name = Path(name).name
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:120] or "document.pdf"
