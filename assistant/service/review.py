"""The reviewers' desk: section versions, edits, diffs, comments, review status and history."""

from __future__ import annotations

from dataclasses import replace

from assistant.case import requirements
from assistant.case.model import Case, Event
from assistant.case.profile import LANGS, Lang
from assistant.case.store import StoreError
from assistant.drafting import offline as drafting
from assistant.drafting import readable, revisions
from assistant.drafting.content import answer_label
from assistant.drafting.model import Citation
from assistant.errors import ServiceError
from assistant.service.base import Actor, ServiceBase
from assistant.text import clean_text
from assistant.words import t


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

    # -- the text as a reviewer reads it: references by name, never by id (drafting/readable.py) ----
    def legend(self, case_id: str, section_id: str, lang: Lang) -> readable.Legend:
        """The names of every reference the section's versions in `lang` use: the generated section's
        citations and gaps, then those its edits brought (a model's passages)."""
        case = self.case(case_id)
        profile = self.profile(case)
        generated = self.generated_section(case_id, section_id, lang)
        citations: dict[str, Citation] = dict(generated.citations)
        for edit in case.edits.get(section_id, []):
            if edit.lang == lang:
                for cid, c in edit.citations.items():
                    citations.setdefault(cid, c)

        def name(c: Citation) -> str:
            if c.kind == "answer":  # versions drafted before labels named the question carry the key
                return answer_label(profile, c.source.rsplit(".", 1)[-1], lang, case.request_type)
            return c.label

        gaps = {s.ref: s.text for p in generated.paragraphs for s in p.spans if s.kind == "placeholder"}
        return readable.Legend.build({cid: name(c) for cid, c in citations.items()}, gaps)

    def readable_versions(self, case_id: str, section_id: str, lang: Lang) -> list[revisions.Version]:
        """`section_versions` with each text in its readable form (the edit box and the diffs)."""
        legend = self.legend(case_id, section_id, lang)
        return [replace(v, text=legend.to_readable(v.text))
                for v in self.section_versions(case_id, section_id, lang)]

    def readable_diff(self, case_id: str, section_id: str, lang: Lang, a: int, b: int, ui_lang: Lang = "en") -> str:
        """`section_diff` on the readable texts, the versions named in `ui_lang`."""
        by_n = {v.n: v for v in self.readable_versions(case_id, section_id, lang)}
        for n in (a, b):
            if n not in by_n:
                raise ServiceError(t("edit_no_version", ui_lang, n))

        def named(v: revisions.Version) -> revisions.Version:
            label = (t("edit_generated", ui_lang) if v.n == 0 else
                     t("edit_version", ui_lang, v.n, v.by or "?", v.at[:16].replace("T", " ")))
            return replace(v, label=label)

        return revisions.diff(named(by_n[a]), named(by_n[b]))

    def save_readable(
        self, case_id: str, section_id: str, lang: Lang, text: str, actor: Actor, note: str = "",
        expected_version: int | None = None, ui_lang: Lang = "en",
    ) -> Case:
        """Save a reviewer's text typed in its readable form: each reference name is mapped back to
        the stored citation it stands for. A name that matches none is refused (never dropped
        silently), in `ui_lang`, the language of the page."""
        legend = self.legend(case_id, section_id, lang)
        shown = legend.to_readable(self.readable_source_in_force(case_id, section_id, lang))  # + its gaps' texts
        already = set(legend.unknown(shown))  # a bracket the text had already is the text's own, not a typo
        unknown = [u for u in legend.unknown(text) if u not in already]
        if unknown:
            raise ServiceError(t("edit_unknown_reference", ui_lang, "; ".join(f"[{u}]" for u in unknown[:3])))
        if not clean_text(text).strip():
            raise ServiceError(t("edit_empty", ui_lang))
        return self.edit_section(case_id, section_id, lang, legend.to_source(text), actor, note, expected_version)

    def readable_source_in_force(self, case_id: str, section_id: str, lang: Lang) -> str:
        """The stored text in force (the last version's source form)."""
        return self.section_versions(case_id, section_id, lang)[-1].text

    def readable_change_since_edit(self, case_id: str, section_id: str, lang: Lang, ui_lang: Lang = "en") -> str | None:
        """`generated_change_since_edit` in readable form, its two sides named in `ui_lang`."""
        case = self.case(case_id)
        mine = [e for e in case.edits.get(section_id, []) if e.lang == lang]
        generated = self.section_versions(case_id, section_id, lang)[0]
        if not (mine and mine[-1].text is not None and mine[-1].base_text and mine[-1].base_text != generated.text):
            return None
        legend = self.legend(case_id, section_id, lang)
        before = revisions.Version(n=0, label=t("edit_generated_under", ui_lang, mine[-1].n),
                                   text=legend.to_readable(mine[-1].base_text))
        return revisions.diff(before, revisions.Version(n=0, label=t("edit_generated_now", ui_lang),
                                                        text=legend.to_readable(generated.text)))
