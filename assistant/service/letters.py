"""The clinician's urgency letter and the links that open it for the treating physician."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.case.model import Case, ClinicianLink
from assistant.case.profile import LANGS, Lang
from assistant.documents import letter
from assistant.documents.pdf import Block, PdfFontError
from assistant.errors import ServiceError
from assistant.service.base import Actor, Attached
from assistant.service.cases import CaseOps
from assistant.text import clean_text
from assistant.words import t


@dataclass(frozen=True)
class LetterStatus:
    """Where the urgency letter stands, for the clinician's form and the manufacturer's panel."""

    fields: list[letter.LetterField]  # the fields of this request type, in the form's order
    groups: dict[str, dict[str, str]]  # group id -> its heading per language
    missing: list[letter.LetterField]  # required fields still empty
    required: int
    attached_outdated: bool  # an attached letter no longer matches the fields
    file_stems: dict[str, str]  # language -> the letter's file name without extension

    @property
    def filled(self) -> int:
        return self.required - len(self.missing)


class LetterOps(CaseOps):
    # Every read of the letter names its reader: a clinician reads only the letter its link opens.
    LETTER_VIEWS = ("letter", "letter_preview")

    def letter_status(self, case_id: str, actor: Actor) -> LetterStatus:
        self._authorise_read(case_id, actor, *self.LETTER_VIEWS)
        case = self.case(case_id)
        fields = letter.fields_for(case)
        attached = case.letter.attached_evidence and any(e.id == case.letter.attached_evidence for e in case.evidence)
        current = {letter.digest(case, code) for code in LANGS}
        return LetterStatus(
            fields=fields, groups={g: dict(letter.GROUPS[g]) for g in dict.fromkeys(f.group for f in fields)},
            missing=letter.missing(case), required=sum(1 for f in fields if f.required),
            attached_outdated=bool(attached) and case.letter.attached_digest not in current,
            file_stems={code: letter.file_stem(case, code) for code in LANGS},
        )

    def letter_values(self, case_id: str, actor: Actor) -> dict[str, str]:
        """The letter's fields as they read (the pseudonym pre-filled from the request)."""
        self._authorise_read(case_id, actor, *self.LETTER_VIEWS)
        return letter.values(self.case(case_id))

    def letter_fields(self, case_id: str, actor: Actor) -> list[letter.LetterField]:
        self._authorise_read(case_id, actor, *self.LETTER_VIEWS)
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

    def letter(self, case_id: str, actor: Actor, lang: Lang = "fr") -> list[Block]:
        """The letter as it reads now, gaps included (the preview)."""
        self._authorise_read(case_id, actor, *self.LETTER_VIEWS)
        case = self.case(case_id)
        return letter.render(self.profile(case), case, lang)

    def letter_file(self, case_id: str, actor: Actor, lang: Lang, fmt: Literal["docx", "pdf"], out: Path) -> Path:
        """The complete letter, ready to sign, as DOCX or PDF."""
        self._authorise_read(case_id, actor, *self.LETTER_VIEWS)
        case = self.case(case_id)
        gaps = letter.missing(case)
        if gaps:
            raise ServiceError("the letter is not complete: " + ", ".join(f.label["en"].lower() for f in gaps))
        blocks = letter.render(self.profile(case), case, lang)
        title = t("letter_title", lang, case.device)
        try:
            return letter.to_docx(blocks, out, title) if fmt == "docx" else letter.to_pdf(blocks, out, title)
        except PdfFontError as exc:
            raise ServiceError(str(exc)) from None

    def attach_letter(self, case_id: str, actor: Actor, lang: Lang = "fr") -> Attached:
        """Attach the letter (as PDF) to the case as `clinician_letter` evidence, replacing an earlier
        generated one. It is the unsigned text: the signed letter should follow (a warning says so)."""
        self._authorise(case_id, actor, "letter_attached")
        case = self.case(case_id)
        with tempfile.TemporaryDirectory() as tmp:
            path = self.letter_file(case_id, actor, lang, "pdf", Path(tmp) / f"{letter.file_stem(case, lang)}.pdf")
            result = self.attach(case_id, path, actor, kind="clinician_letter", origin="letter_flow",
                                 note="generated by the clinician letter flow (unsigned)")
        previous = case.letter.attached_evidence
        if previous and previous != result.file.id and any(e.id == previous for e in self.case(case_id).evidence):
            self.remove_evidence(case_id, previous, actor)
        self._commit(case_id, "letter_attached", {"evidence_id": result.file.id, "digest": letter.digest(case, lang)}, actor)
        return result

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
