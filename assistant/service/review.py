"""The reviewers' desk: section versions, edits, diffs, comments, review status and history."""

from __future__ import annotations

from assistant.case import requirements
from assistant.case.model import Case, Event
from assistant.case.profile import LANGS, Lang
from assistant.case.store import StoreError
from assistant.drafting import offline as drafting
from assistant.drafting import revisions
from assistant.drafting.model import Citation
from assistant.errors import ServiceError
from assistant.service.base import Actor, ServiceBase
from assistant.text import clean_text


class ReviewOps(ServiceBase):
    def review(
        self, case_id: str, section_id: str, status: str, actor: Actor, comment: str = "",
        expected_version: int | None = None,
    ) -> Case:
        case = self.case(case_id)
        profile = self.profile(case)
        sections = requirements.applicable_sections(profile, case)
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
        if section_id not in {s.id for s in requirements.applicable_sections(self.profile(case), case)}:
            raise ServiceError(f"unknown section {section_id!r} for this case")
        text = clean_text(text)
        if not text:
            raise ServiceError("a comment cannot be empty")
        return self._commit(case_id, "commented", {"section": section_id, "text": text}, actor, expected_version)

    def generated_change_since_edit(self, case_id: str, section_id: str, lang: Lang) -> str | None:
        """A diff of the generated text between the moment the section's text in force was edited and
        now (why a hand-edited section is stale), or None when it did not change."""
        case = self.case(case_id)
        mine = [e for e in case.edits.get(section_id, []) if e.lang == lang]
        generated = self.section_versions(case_id, section_id, lang)[0]
        if not (mine and mine[-1].text is not None and mine[-1].base_text and mine[-1].base_text != generated.text):
            return None
        before = revisions.Version(n=0, label=f"generated text under v{mine[-1].n}", text=mine[-1].base_text)
        return revisions.diff(before, revisions.Version(n=0, label="generated text now", text=generated.text))
