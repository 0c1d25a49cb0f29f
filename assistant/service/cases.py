"""A case from creation to export: the interview's answers, the documents, waivers, settings,
the check and the export."""

from __future__ import annotations

from pathlib import Path

from assistant import words
from assistant.case import access, evidence, privacy, requirements
from assistant.case.answers import AnswerError, normalise
from assistant.case.model import Case, EvidenceFile, now
from assistant.case.privacy import patient_data_problems
from assistant.case.profile import REQUEST_TYPES, Lang, Profile, Section, available_authorities, load_profile
from assistant.case.store import private_dir, write_atomic
from assistant.documents import request as export
from assistant.documents import review_pack, submission, writer
from assistant.documents.pdf import PdfFontError
from assistant.drafting import revisions
from assistant.drafting.content import rule_label
from assistant.drafting.model import Draft
from assistant.errors import ServiceError
from assistant.gate import consistency
from assistant.gate import findings as checks
from assistant.gate import privacy as privacy_findings
from assistant.gate import readiness as progress
from assistant.gate.findings import Finding
from assistant.interview import documents as extract
from assistant.interview import engine as interview
from assistant.service import exported
from assistant.service.base import (
    Actor,
    Attached,
    CaseSummary,
    ExportBlocked,
    ExportFormat,
    ServiceBase,
)
from assistant.text import clean_text


class CaseOps(ServiceBase):
    def questions(self, case_id: str) -> list[interview.Prompt]:
        case = self.case(case_id)
        return interview.open_prompts(self.profile(case), case)

    def next_question(self, case_id: str, skipped: frozenset[str] = frozenset()) -> interview.Prompt | None:
        case = self.case(case_id)
        return interview.next_prompt(self.profile(case), case, skipped)

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
        question = profile.question(question_id)
        if requirements.applies(profile, case, question) is False:
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
        origin: str = "upload", *, lang: Lang | None = None, on_progress: evidence.Progress | None = None,
        index: str = "now",
    ) -> Attached:
        """Read a PDF (in a worker process, under the reading budget: `on_progress(pages read,
        pages)`), store it and record it; then index it for retrieval: `index` "now" (here, before
        returning), "later" (a thread of this process: `indexing(case_id)`), "background" (a worker
        process that outlives this one: `index_in_background`), or "no" (the caller does it with
        `index_evidence`). `lang`: the language of the warnings (default: the case's)."""
        access.require_change(actor.role, "evidence_attached")
        if kind is not None:
            access.require_evidence_kind(actor.role, kind)
        self._authorise(case_id, actor, "evidence_attached")  # before anything is written
        case = self.case(case_id)
        profile = self.profile(case)
        lang = lang or case.settings.language
        if kind is not None:
            profile.evidence_kind(kind)  # NotFound, listing the kinds, if the profile has no such kind
        try:
            data, pdf = evidence.read_pdf(Path(path), on_progress=on_progress)
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
        folder = private_dir(self.store.files_dir(case_id))
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
        warnings = self._screen_document(profile, case, kind, record.filename, pdf.pages, lang)
        if pdf.stopped:
            warnings.append(f"{record.filename}: {evidence.budget_notice(pdf.stopped, pdf.read, len(pdf.pages), lang)}")
        elif pdf.text_pages == 0:
            warnings.append(f"{record.filename}: {words.t('pdf_no_text_layer', lang)}")
        if index == "now":
            self.index_evidence(case_id)
        elif index == "later":
            self.index_evidence_later(case_id)
        elif index == "background":
            self.index_in_background(case_id)
        return Attached(file=record, guessed_kind=guessed, warnings=warnings)

    # -- patient data: the one screen (case/privacy.py) on the text the service receives ----------
    def _screen_document(self, profile: Profile, case: Case, kind: str, filename: str, pages: list[str],
                         lang: Lang) -> list[str]:
        """Warnings naming the patient identifiers a document's extracted text holds, page by page."""
        patient_kind = profile.evidence_kind(kind).patient_data
        found = privacy.screen_pages(pages, patient_kind=patient_kind, keep=privacy.keep_for(profile, case))
        return [words.t("privacy_in_document", lang, file=filename, page=page,
                        found=privacy_findings.describe(hits, lang)) for page, hits in found]

    def privacy_warnings(self, case_id: str, lang: Lang = "en") -> list[str]:
        """Where the case's answers and documents seem to hold data identifying a patient, in words."""
        return [f.message for f in self.check(case_id, lang) if f.kind == privacy_findings.KIND]

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
        elif target in consistency.rule_ids(profile.id):
            target_type = "rule"  # a contradiction the reviewer accepts, with the reason
        else:
            raise ServiceError(f"nothing to waive called {target!r}: give an evidence kind, a question id "
                               "or the id of a consistency rule (shown in the check)")
        return self._commit(case_id, "waived", {"target": target, "target_type": target_type, "reason": reason}, actor)

    def target_label(self, case_id: str, target: str, lang: Lang) -> str:
        """What a waiver is on, in words: the question, the kind of document, or the consistency rule."""
        profile = self.profile(self.case(case_id))
        for kind in profile.evidence_kinds:
            if kind.id == target:
                return kind.name.get(lang)
        for question in profile.all_questions():
            if question.id == target:
                return question.label.get(lang)
        return rule_label(profile.id, target, lang)

    def withdraw_waiver(self, case_id: str, target: str, actor: Actor) -> Case:
        if target not in self.case(case_id).waivers:
            raise ServiceError(f"no waiver on {target!r}")
        return self._commit(case_id, "waiver_withdrawn", {"target": target}, actor)

    def set_setting(self, case_id: str, actor: Actor, **values: object) -> Case:
        """Change case settings; each only by the role that owns it (access.yaml `settings`)."""
        for key in values:
            access.require_setting(actor.role, key)
        return self._commit(case_id, "setting_changed", values, actor)

    def restore(self, case_id: str, version: int, actor: Actor) -> Case:
        """The case as it was at `version`, for the parts the actor's role may change (access.yaml
        `restore`); every other part stays as it is now: another role's acts (a consultant's
        approval) are neither brought back nor undone, and a revoked clinician link stays revoked."""
        self._authorise(case_id, actor, "restored")
        state = self.case(case_id).model_dump(mode="json")
        before = self.case(case_id, version).model_dump(mode="json")
        for part in access.restorable(actor.role):
            outer, _, inner = part.partition(".")
            if inner:
                state[outer][inner] = before[outer][inner]
            else:
                state[outer] = before[outer]
        return self._commit(case_id, "restored", {"state": state}, actor)

    def export(
        self, case_id: str, fmt: ExportFormat, out: Path, lang: Lang | None = None, actor: Actor | None = None,
        pack: str = "submission",
    ) -> list[Finding]:
        """Write the file. `pack`: "submission" (the clean request to file; refused, ExportBlocked,
        while unwaived blockers remain) or "review" (the traceability pack, DOCX or Markdown, written
        at any time: it lists what still blocks).

        Only to a new file or one an export wrote (documents/writer.py: never into the case folders,
        onto a folder, a link or a special file), atomically, with every text made safe for the format.
        One format failing is that format's ServiceError, never a crash."""
        if actor is not None:
            self._authorise(case_id, actor, "export")
        if pack not in ("submission", "review"):
            raise ServiceError(f"unknown export {pack!r} (submission or review)")
        if fmt not in ("md", "docx", "pdf"):
            raise ServiceError(f"unknown export format {fmt!r} (docx, md or pdf)")
        if pack == "review" and fmt not in ("docx", "md"):
            raise ServiceError(f"the review pack is written as DOCX or Markdown, not {fmt!r}")
        found = self.check(case_id)
        blocking = checks.blockers(found)
        if blocking and pack == "submission":
            raise ExportBlocked(blocking)
        target = writer.check_target(Path(out), [self.store.root, self.store.home / "index"],
                                     lambda p: exported.written_before(self.store.home, p))
        if pack == "submission":  # with a language model, the answers in the authority's language translated
            self.translate_answers(case_id, lang or self.case(case_id).settings.language)
        case = writer.clean_model(self.case(case_id))
        profile = self.profile(case)
        draft = writer.clean_model(revisions.apply_edits(self._compose(case_id, lang), case))
        pages = self.pages(case_id)
        review_findings = self.check(case_id, draft.lang) if pack == "review" else []  # in the pack's language

        def write(tmp: Path) -> None:
            if pack == "review":
                if fmt == "md":
                    tmp.write_text(review_pack.to_markdown(profile, case, draft, pages, review_findings),
                                   encoding="utf-8")
                else:
                    review_pack.to_docx(profile, case, draft, pages, review_findings, tmp)
            elif fmt == "md":
                tmp.write_text(submission.to_markdown(profile, case, draft, pages), encoding="utf-8")
            elif fmt == "docx":
                submission.to_docx(profile, case, draft, pages, tmp)
            else:
                submission.to_pdf(profile, case, draft, pages, tmp)

        try:
            writer.write_atomically(target, write)
        except PdfFontError as exc:
            raise ServiceError(str(exc)) from None
        except ServiceError:
            raise
        except OSError as exc:
            raise ServiceError(f"the {fmt.upper()} file could not be written to {out}: {exc.strerror or exc}") from None
        except (ValueError, TypeError, KeyError) as exc:  # a writer's own limit: the other formats still work
            raise ServiceError(f"the {fmt.upper()} file could not be made: {type(exc).__name__}: {exc}") from None
        exported.remember(self.store.home, target)
        return found

    def readiness(self, case_id: str, lang: Lang | None = None, findings_lang: Lang = "en") -> progress.Readiness:
        """Per section: answers, documents, findings and review status; plus the blockers and warnings."""
        case = self.case(case_id)
        return progress.readiness(
            self.profile(case), case, self.draft(case_id, lang, use_llm=False), self.check(case_id, findings_lang)
        )

    def proposals(self, case_id: str, include_answered: bool = False) -> list[extract.Proposal]:
        """Answers proposed from the attached documents (with document and page), for the user to confirm."""
        case = self.case(case_id)
        return extract.proposals(self.profile(case), case, self.pages(case_id), include_answered)

    def accept_proposal(
        self, case_id: str, question_id: str, evidence_id: str, actor: Actor, expected_version: int | None = None
    ) -> Case:
        """Record a proposed answer as the answer, with the document as its source."""
        self._authorise(case_id, actor, "answered")
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
        self.profile(case).evidence_kind(kind)  # NotFound if the profile has no such kind
        if not any(e.id == evidence_id for e in case.evidence):
            raise ServiceError(f"no document {evidence_id!r} in case {case_id}")
        return self._commit(case_id, "evidence_kind_set", {"evidence_id": evidence_id, "kind": kind}, actor)


    # -- what the pages show ------------------------------------------------------------------
    def authorities(self) -> list[Profile]:
        """Every authority a case can be filed with (one profile each)."""
        return [load_profile(a) for a in available_authorities()]

    def sections(self, case_id: str) -> list[Section]:
        """The sections this case's request type has, in the authority's order."""
        case = self.case(case_id)
        return requirements.applicable_sections(self.profile(case), case)

    def prompt_for(self, case_id: str, question_id: str) -> interview.Prompt:
        """The question `question_id` as the interview would put it (to answer it again, from a link)."""
        case = self.case(case_id)
        profile = self.profile(case)
        return interview.Prompt(profile.question(question_id), profile.section_of(question_id))

    def citation_page(self, case_id: str, evidence_id: str, page: int | None = None, near: str = "") -> tuple[int, str]:
        """The page of a document a citation opens (its own, else the one holding `near`), and its text."""
        case = self.case(case_id)
        ev = next((e for e in case.evidence if e.id == evidence_id), None)
        if ev is None:
            raise ServiceError(f"no document {evidence_id!r} in case {case_id}")
        pages = self.pages(case_id)(ev.sha256)
        number = page or (evidence.find_page(pages, near) if near else None) or 1
        return number, pages[number - 1] if 0 < number <= len(pages) else ""

    def draft_markdown(self, case_id: str, lang: Lang | None = None, *, use_llm: bool = True) -> tuple[str, Draft]:
        """The draft as Markdown (what `derogation draft` prints), and the draft itself (its notices)."""
        case = self.case(case_id)
        draft = self.draft(case_id, lang, use_llm=use_llm)
        return export.to_markdown(self.profile(case), writer.clean_model(case), writer.clean_model(draft)), draft


def _display_name(name: str) -> str:
    """The file name shown to readers: no folders, no control characters, bounded length."""
    name = Path(name).name
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:120] or "document.pdf"
