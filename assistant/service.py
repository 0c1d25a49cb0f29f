"""The operations a user performs. The CLI and the UI call these and nothing below them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from . import (
    access,
    checks,
    checks_extra,
    conditions,
    drafting,
    evidence,
    export,
    extract,
    interview,
    letter,
    progress,
    revisions,
)
from .access import Forbidden
from .answers import AnswerError, clean_text, normalise
from .case import ROLES, Case, ClinicianLink, Event, EvidenceFile, now
from .checks import Finding
from .draft_model import Citation, Draft, SectionDraft
from .errors import ServiceError
from .passages import Passage
from .pdf import Block, PdfFontError
from .profile import LANGS, REQUEST_TYPES, Lang, Profile, load_profile
from .pseudonym import patient_data_problems
from .service_llm_flow import LLMFlowOperations
from .settings import current_user
from .store import CaseStore, StoreError, write_atomic
from .store import ConflictError as StoreConflict

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase

ExportFormat = Literal["docx", "md", "pdf"]
__all__ = ["Actor", "ConflictError", "ExportBlocked", "Forbidden", "Service", "ServiceError"]


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


RELEVANCE_THRESHOLD = 0.80  # cosine similarity under which a passage does not support a section
CORPUS_PASSAGES = 4
EVIDENCE_PASSAGES = 2


class Service(LLMFlowOperations):
    def __init__(self, store: CaseStore | None = None, knowledge: KnowledgeBase | str | None = None) -> None:
        """`knowledge`: a KnowledgeBase, "auto" (the default one under the data home, opened on
        first use), or None (no retrieval: drafts cite the profile's provisions only)."""
        self.store = store or CaseStore()
        self._knowledge = knowledge

    @property
    def knowledge(self) -> KnowledgeBase | None:
        if self._knowledge == "auto":
            from .knowledge import KnowledgeBase

            self._knowledge = KnowledgeBase(self.store.home)
        return self._knowledge  # type: ignore[return-value]

    # -- retrieval -----------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 5, case_id: str | None = None, instrument: str | None = None,
        language: str | None = None,
    ) -> list[Passage]:
        kb = self._ready_knowledge()
        if kb is None:
            raise ServiceError("no knowledge base is configured")
        if case_id:
            self._sync_case_index(case_id)
        return kb.search(query, k=k, case_id=case_id, instrument=instrument, language=language)

    def _ready_knowledge(self) -> KnowledgeBase | None:
        kb = self.knowledge
        if kb is None:
            return None
        from .knowledge_errors import KnowledgeError

        try:
            kb.ensure_notes()
        except KnowledgeError as exc:
            raise ServiceError(str(exc)) from exc
        return kb

    def _sync_case_index(self, case_id: str) -> None:
        from .case_index import evidence_chunks

        case = self.case(case_id)
        chunks = evidence_chunks(self.profile(case), case, self.pages(case_id), case.settings.language)
        self.knowledge.sync_case(case_id, chunks)  # type: ignore[union-attr]

    def passages_for(self, case_id: str, lang: Lang) -> drafting.PassagesFor | None:
        """What grounds each section: corpus passages and the case's own evidence, above the
        relevance threshold."""
        kb = self._ready_knowledge()
        if kb is None:
            return None
        self._sync_case_index(case_id)
        case = self.case(case_id)
        answers = case.values()
        kinds_of: dict[str, set[str]] = {}
        for kind in self.profile(case).evidence_kinds:
            for section_id in kind.sections:
                kinds_of.setdefault(section_id, set()).add(kind.id)
        excluded = {
            instrument for rule in self.profile(case).retrieval_exclusions
            if conditions.evaluate(rule.when, answers) is True for instrument in rule.instruments
        }

        def find(section) -> list[Passage]:
            if section.query is None:
                return []
            query = section.query.get(lang)
            wide = CORPUS_PASSAGES * (3 if excluded else 1)  # room for the passages filtered out
            corpus = [p for p in kb.search(query, k=wide, include_corpus=True) if p.instrument not in excluded]
            # The case's documents ground the sections that call for their kind (a clinician's letter
            # does not source the device's characteristics).
            own = [p for p in kb.search(query, k=EVIDENCE_PASSAGES * 3, case_id=case_id, include_corpus=False)
                   if p.evidence_kind in kinds_of.get(section.id, ())][:EVIDENCE_PASSAGES]
            kept: dict[str, Passage] = {}  # one passage per source for a reader: two chunks of a note,
            for p in corpus[:CORPUS_PASSAGES] + own:  # or its two translations, are one source
                if (p.similarity or 0) < RELEVANCE_THRESHOLD:
                    continue
                key = _source_key(p)
                if key not in kept or (p.language == lang and kept[key].language != lang):
                    kept[key] = p
            return list(kept.values())

        return find

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

    def draft(
        self, case_id: str, lang: Lang | None = None, *, use_llm: bool = True, passages=None, on_chunk=None
    ) -> Draft:
        """The draft; with a configured language model (and `use_llm`), each section is drafted by the
        model where it passes the grounding checks (service_llm.py), else it is the offline draft."""
        draft = self._compose(case_id, lang)
        if use_llm:
            draft = self.llm_redraft(case_id, draft, passages, on_chunk)
        return revisions.apply_edits(draft, self.case(case_id))

    def check(self, case_id: str, lang: Lang = "en") -> list[Finding]:
        case = self.case(case_id)
        profile = self.profile(case)
        generated = self._compose(case_id)
        draft = revisions.apply_edits(generated, case)
        extra = checks_extra.findings(profile, case, generated, self.pages(case_id), lang)
        grounded = self.knowledge is not None
        return checks_extra.merge(checks.findings(profile, case, draft, lang, grounded=grounded), extra, draft)

    def _compose(self, case_id: str, lang: Lang | None = None) -> Draft:
        """The offline draft, grounded in retrieved passages when a knowledge base is configured."""
        case = self.case(case_id)
        lang = lang or case.settings.language
        return drafting.compose(
            self.profile(case), case, lang, self.pages(case_id), self.passages_for(case_id, lang)
        )

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
        access.require_change(actor.role, "created")
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
        followup: bool = False,
        asked: str = "",
    ) -> Case:
        """Record an answer. If the question awaits a follow-up, the text completes the earlier
        answer (unless `replace`). Patient fields are screened for identifying data. `asked`: the
        question as it was put, when it was not the profile's wording (a model's follow-up)."""
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
        followup = bool(  # `followup`: the answer to a follow-up asked by llm_followup
            previous and not replace and (followup or interview.needs_followup(profile, question, previous))
        )
        data = {"question_id": question_id, "value": value, "source": source, "followup": followup}
        if asked.strip():
            data["asked"] = clean_text(asked)[:500]
        return self._commit(case_id, "answered", data, actor, expected_version)

    def attach(
        self, case_id: str, path: Path, actor: Actor, kind: str | None = None, note: str = "",
        origin: str = "upload",
    ) -> Attached:
        access.require_change(actor.role, "evidence_attached")
        if kind is not None:
            access.require_evidence_kind(actor.role, kind)
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
                raise ServiceError(f"{evidence.shown_name(Path(path).name)}: cannot tell what this document is: give --kind (one of {known})")
        access.require_evidence_kind(actor.role, kind)
        folder = self.store.files_dir(case_id)
        folder.mkdir(parents=True, exist_ok=True)
        stored = folder / f"{pdf.sha256}.pdf"
        if not stored.exists():  # fsynced before the journal acknowledges it; a unique temporary name
            write_atomic(stored, data)
        evidence.save_pages(folder, pdf.sha256, pdf.pages)
        record = EvidenceFile(
            id=pdf.sha256[:16], sha256=pdf.sha256, kind=kind, filename=_display_name(Path(path).name),
            stored_as=f"files/{pdf.sha256}.pdf", size=pdf.size, pages=len(pdf.pages),
            text_pages=pdf.text_pages, added_by=actor.name, role=actor.role, added_at=now(), note=note,
            kind_confirmed=not guessed, origin=origin,
        )
        self._commit(case_id, "evidence_attached", {"file": record.model_dump(mode="json")}, actor)
        warnings = []
        if pdf.text_pages == 0:
            warnings.append(f"{record.filename}: no text layer (scanned?): attached, but its content cannot be searched or cited by page")
        return Attached(file=record, guessed_kind=guessed, warnings=warnings)

    def remove_evidence(self, case_id: str, evidence_id: str, actor: Actor) -> Case:
        case = self.case(case_id)
        found = [e for e in case.evidence if e.id == evidence_id]
        if not found:
            raise ServiceError(f"no document {evidence_id!r} in case {case_id}")
        access.require_evidence_kind(actor.role, found[0].kind)
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
        self, case_id: str, section_id: str, status: str, actor: Actor, comment: str = "",
        expected_version: int | None = None,
    ) -> Case:
        case = self.case(case_id)
        profile = self.profile(case)
        sections = drafting.applicable_sections(profile, case)
        if section_id not in {s.id for s in sections}:
            raise ServiceError(f"unknown section {section_id!r} (one of {', '.join(s.id for s in sections)})")
        if status not in ("draft", "changes_requested", "approved"):
            raise ServiceError(f"unknown review status {status!r}")
        fingerprint = revisions.effective_fingerprint(
            case, section_id, drafting.section_fingerprint(profile, case, profile.section(section_id))
        )
        return self._commit(case_id, "reviewed", {
            "section": section_id, "status": status, "fingerprint": fingerprint, "comment": comment,
        }, actor, expected_version)

    def approve(self, case_id: str, section_id: str, actor: Actor, comment: str = "") -> Case:
        return self.review(case_id, section_id, "approved", actor, comment)

    def set_setting(self, case_id: str, actor: Actor, **values: object) -> Case:
        return self._commit(case_id, "setting_changed", values, actor)

    def restore(self, case_id: str, version: int, actor: Actor) -> Case:
        old = self.case(case_id, version)
        return self._commit(case_id, "restored", {"state": old.model_dump(mode="json")}, actor)

    def export(
        self, case_id: str, fmt: ExportFormat, out: Path, lang: Lang | None = None, actor: Actor | None = None
    ) -> list[Finding]:
        """Write the file; refuse (ExportBlocked) while unwaived blockers remain."""
        if actor is not None:
            access.require_change(actor.role, "export")
        found = self.check(case_id)
        blocking = checks.blockers(found)
        if blocking:
            raise ExportBlocked(blocking)
        case = self.case(case_id)
        profile = self.profile(case)
        draft = revisions.apply_edits(self._compose(case_id, lang), case)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        if fmt == "md":
            tmp.write_text(export.to_markdown(profile, case, draft), encoding="utf-8")
        elif fmt == "docx":
            export.to_docx(profile, case, draft, tmp)
        elif fmt == "pdf":
            try:
                export.to_pdf(profile, case, draft, tmp)
            except PdfFontError as exc:
                raise ServiceError(str(exc)) from None
        else:
            raise ServiceError(f"unknown export format {fmt!r} (docx, md or pdf)")
        shutil.move(tmp, out)
        return found

    # -- where the case stands (progress sidebar, readiness view) ----------------------------------
    def readiness(self, case_id: str, lang: Lang | None = None, findings_lang: Lang = "en") -> progress.Readiness:
        """Per section: answers, documents, findings and review status; plus the blockers and warnings."""
        case = self.case(case_id)
        return progress.readiness(
            self.profile(case), case, self.draft(case_id, lang, use_llm=False), self.check(case_id, findings_lang)
        )

    def history(self, case_id: str, section_id: str | None = None) -> list[Event]:
        """Who did what and when: every change, or those about one section (its reviews, edits,
        comments, the answers and documents it is built from)."""
        try:
            events = self.store.events(case_id)
        except StoreError as exc:
            raise ServiceError(str(exc)) from exc
        if section_id is None:
            return events
        case = self.case(case_id)
        profile = self.profile(case)
        section = self.generated_section(case_id, section_id, "fr")
        questions = {q.id for q in profile.section(section_id).questions} | set(section.used_answers)
        kinds = {line.kind for line in section.evidence}

        def about(e: Event) -> bool:
            d = e.data
            if d.get("section") == section_id:
                return True
            if e.type == "answered":
                return d.get("question_id") in questions
            if e.type == "evidence_attached":
                return d["file"].get("kind") in kinds
            if e.type in ("waived", "waiver_withdrawn"):
                return d.get("target") in questions | kinds
            return False

        return [e for e in events if about(e)]

    # -- reviewers' edits and comments ----------------------------------------------------------
    def generated_section(self, case_id: str, section_id: str, lang: Lang) -> SectionDraft:
        """A section as the drafter writes it from the case, before any reviewer's edit (version 0)."""
        draft = self._compose(case_id, lang)
        try:
            return draft.section(section_id)
        except KeyError:
            raise ServiceError(f"unknown section {section_id!r} for this case") from None

    def edit_section(
        self, case_id: str, section_id: str, lang: Lang, text: str | None, actor: Actor, note: str = "",
        expected_version: int | None = None,
    ) -> Case:
        """Keep a reviewer's text as the section's next version (`None`: back to the generated text).
        Saving the text in force again confirms it after answers changed (clears `stale_edit`)."""
        if lang not in LANGS:
            raise ServiceError(f"unknown language {lang!r} (one of {', '.join(LANGS)})")
        case = self.case(case_id)
        generated = self.generated_section(case_id, section_id, lang)
        current = revisions.current_edit(case, section_id, lang)
        carried: dict[str, Citation] = {}
        if text is not None:
            text = clean_text(text)
            if len(text) > revisions.MAX_EDIT_CHARS:
                raise ServiceError(f"the text is {len(text)} characters long (the limit is {revisions.MAX_EDIT_CHARS})")
            carried = revisions.carried_citations(current, case)  # e.g. the passages a model's version cites
            try:
                paragraphs = revisions.parse_source(text, generated, strict=True, extra=carried)
            except revisions.RevisionError as exc:
                raise ServiceError(str(exc)) from None
            if current is None and text == revisions.to_source(generated):
                raise ServiceError("nothing to save: the text is the generated one")
            kept = {s.ref for p in paragraphs for s in p.spans if s.kind == "cite"}
            carried = {cid: c for cid, c in carried.items() if cid in kept}
        elif current is None:
            raise ServiceError("the section already shows the generated text")
        data = {
            "section": section_id, "lang": lang, "text": text, "base_fingerprint": generated.fingerprint,
            "base_text": revisions.to_source(generated), "note": clean_text(note),
        }
        if carried:
            data["citations"] = {cid: c.model_dump(mode="json") for cid, c in carried.items()}
        return self._commit(case_id, "section_edited", data, actor, expected_version)

    def section_versions(self, case_id: str, section_id: str, lang: Lang) -> list[revisions.Version]:
        """v0 the generated text, then each saved edit in `lang`, oldest first."""
        return revisions.versions(self.case(case_id), section_id, lang, self.generated_section(case_id, section_id, lang))

    def section_diff(self, case_id: str, section_id: str, lang: Lang, a: int, b: int) -> str:
        """A unified diff between two versions of a section's text (sentence by sentence)."""
        by_n = {v.n: v for v in self.section_versions(case_id, section_id, lang)}
        for n in (a, b):
            if n not in by_n:
                raise ServiceError(f"section {section_id} has no version {n} in {lang} (versions: {', '.join(map(str, by_n))})")
        return revisions.diff(by_n[a], by_n[b])

    def comment(
        self, case_id: str, section_id: str, text: str, actor: Actor, expected_version: int | None = None
    ) -> Case:
        case = self.case(case_id)
        if section_id not in {s.id for s in drafting.applicable_sections(self.profile(case), case)}:
            raise ServiceError(f"unknown section {section_id!r} for this case")
        text = clean_text(text)
        if not text:
            raise ServiceError("a comment cannot be empty")
        return self._commit(case_id, "commented", {"section": section_id, "text": text}, actor, expected_version)

    # -- facts found in documents ---------------------------------------------------------------
    def proposals(self, case_id: str, include_answered: bool = False) -> list[extract.Proposal]:
        """Answers proposed from the attached documents (with document and page), for the user to confirm."""
        case = self.case(case_id)
        return extract.proposals(self.profile(case), case, self.pages(case_id), include_answered)

    def accept_proposal(
        self, case_id: str, question_id: str, evidence_id: str, actor: Actor, expected_version: int | None = None
    ) -> Case:
        """Record a proposed answer as the answer, with the document as its source."""
        found = [p for p in self.proposals(case_id, include_answered=True)
                 if p.question_id == question_id and p.evidence_id == evidence_id]
        if not found:
            raise ServiceError(f"no proposal for {question_id} from document {evidence_id} any more: reload the case")
        p = found[0]
        return self.answer(case_id, question_id, p.value, actor, replace=True, source=p.source,
                           expected_version=expected_version)

    def dismiss_proposal(self, case_id: str, question_id: str, evidence_id: str, actor: Actor) -> Case:
        return self._commit(case_id, "proposal_dismissed", {"key": f"{question_id}@{evidence_id}"}, actor)

    def set_evidence_kind(self, case_id: str, evidence_id: str, kind: str, actor: Actor) -> Case:
        """Confirm (or correct) what a document is."""
        case = self.case(case_id)
        try:
            self.profile(case).evidence_kind(kind)
        except KeyError:
            raise ServiceError(f"unknown evidence kind {kind!r}") from None
        if not any(e.id == evidence_id for e in case.evidence):
            raise ServiceError(f"no document {evidence_id!r} in case {case_id}")
        return self._commit(case_id, "evidence_kind_set", {"evidence_id": evidence_id, "kind": kind}, actor)

    # -- the clinician's urgency letter ----------------------------------------------------------
    def letter_fields(self, case_id: str) -> list[letter.LetterField]:
        return letter.fields_for(self.case(case_id))

    def save_letter(
        self, case_id: str, values: dict[str, str], actor: Actor, expected_version: int | None = None
    ) -> Case:
        """Record letter fields as given (an empty value clears one). Nothing is recorded if one is refused."""
        case = self.case(case_id)
        allowed = {f.id: f for f in letter.fields_for(case)}
        fields, cleared = {}, []
        for fid, raw in values.items():
            if fid not in allowed:
                raise ServiceError(f"unknown letter field {fid!r}")
            try:
                value = letter.validate(allowed[fid], raw)
            except letter.LetterError as exc:
                raise ServiceError(str(exc)) from None
            if value:
                fields[fid] = value
            elif fid in case.letter.fields:
                cleared.append(fid)
        if all(case.letter.fields.get(k) == v for k, v in fields.items()) and not cleared:
            return case
        return self._commit(case_id, "letter_updated", {"fields": fields, "cleared": cleared}, actor, expected_version)

    def letter(self, case_id: str, lang: Lang = "fr") -> list[Block]:
        """The letter as it reads now, gaps included (the preview)."""
        case = self.case(case_id)
        return letter.render(self.profile(case), case, lang)

    def letter_file(self, case_id: str, lang: Lang, fmt: Literal["docx", "pdf"], out: Path) -> Path:
        """The complete letter, ready to sign, as DOCX or PDF."""
        case = self.case(case_id)
        gaps = letter.missing(case)
        if gaps:
            raise ServiceError("the letter is not complete: " + ", ".join(f.label["en"].lower() for f in gaps))
        blocks = letter.render(self.profile(case), case, lang)
        title = ("Lettre du médecin — " if lang == "fr" else "Clinician letter — ") + case.device
        try:
            return letter.to_docx(blocks, out, title) if fmt == "docx" else letter.to_pdf(blocks, out, title)
        except PdfFontError as exc:
            raise ServiceError(str(exc)) from None

    def attach_letter(self, case_id: str, actor: Actor, lang: Lang = "fr") -> Attached:
        """Attach the letter (as PDF) to the case as `clinician_letter` evidence, replacing an earlier
        generated one. It is the unsigned text: the signed letter should follow (a warning says so)."""
        case = self.case(case_id)
        with tempfile.TemporaryDirectory() as tmp:
            path = self.letter_file(case_id, lang, "pdf", Path(tmp) / f"{letter.file_stem(case, lang)}.pdf")
            result = self.attach(case_id, path, actor, kind="clinician_letter", origin="letter_flow",
                                 note="generated by the clinician letter flow (unsigned)")
        previous = case.letter.attached_evidence
        if previous and previous != result.file.id and any(e.id == previous for e in self.case(case_id).evidence):
            self.remove_evidence(case_id, previous, actor)
        self._commit(case_id, "letter_attached", {"evidence_id": result.file.id, "digest": letter.digest(case, lang)}, actor)
        return result

    # -- links for the treating physician ------------------------------------------------------
    def create_clinician_link(self, case_id: str, actor: Actor, label: str = "") -> tuple[ClinicianLink, str]:
        """A token that opens only this case's letter flow. The token is returned once; only its hash is kept."""
        token = secrets.token_urlsafe(24)
        link_id = secrets.token_hex(4)
        case = self._commit(case_id, "clinician_link_created", {
            "id": link_id, "token_sha256": hashlib.sha256(token.encode()).hexdigest(), "label": clean_text(label)[:120],
        }, actor)
        return next(link for link in case.clinician_links if link.id == link_id), token

    def clinician_link(self, case_id: str, token: str) -> ClinicianLink | None:
        """The active link this token belongs to, or None (unknown, revoked, or another case's)."""
        try:
            case = self.case(case_id)
        except ServiceError:
            return None
        digest = hashlib.sha256((token or "").encode()).hexdigest()
        for link in case.clinician_links:
            if not link.revoked and hmac.compare_digest(digest, link.token_sha256):
                return link
        return None

    def revoke_clinician_link(self, case_id: str, link_id: str, actor: Actor) -> Case:
        if not any(link.id == link_id and not link.revoked for link in self.case(case_id).clinician_links):
            raise ServiceError(f"no active link {link_id!r}")
        return self._commit(case_id, "clinician_link_revoked", {"id": link_id}, actor)

    def _commit(self, case_id: str, type_: str, data: dict, actor: Actor, expected_version: int | None = None) -> Case:
        access.require_change(actor.role, type_)
        try:
            return self.store.commit(case_id, type_, data, by=actor.name, role=actor.role, expected_version=expected_version)
        except StoreConflict as exc:
            raise ConflictError(str(exc)) from exc
        except StoreError as exc:
            raise ServiceError(str(exc)) from exc


def _source_key(p: Passage) -> str:
    """A note's translations share a key (`mdr-61.en.md` and `mdr-61.fr.md`); else the citation."""
    m = re.match(r"(.+)\.(?:en|fr)\.md$", Path(p.source).name)
    return f"note:{m.group(1)}" if m else (p.citation or p.id)


def _display_name(name: str) -> str:
    """The file name shown to readers: no folders, no control characters, bounded length."""
    name = Path(name).name
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:120] or "document.pdf"
