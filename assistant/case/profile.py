"""Authority profiles: what an authority requires, loaded from one YAML file per authority.

A broken profile is a `ProfileError` naming the file and the field, never a half-loaded profile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.case import conditions
from assistant.config import package_folder
from assistant.errors import NotFound, ProfileError
from assistant.text import LANGS, Lang  # noqa: F401 (the profile's languages; imported from here by many)

PROFILE_DIR = package_folder("assistant") / "profiles"
RequestType = Literal["individual", "global"]
REQUEST_TYPES: tuple[RequestType, ...] = ("individual", "global")
QuestionType = Literal["text", "long_text", "yes_no", "date", "choice", "number"]
_ID = r"^[a-z][a-z0-9_\-]*$"
_TEMPLATE_REF = re.compile(r"\{([a-z_:0-9\-]+)\}")
BUILTIN_VARS = {"request_type", "authority", "route_reasons"}
# Facts derived from the answers that conditions may name (assistant/case/facts.py).
DERIVED_FACTS = {"route": "choice"}
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Strict):
    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: Lang) -> str:
        return getattr(self, lang)


def _conditions(value: dict[str, Any]) -> dict[str, Any]:
    value = {str(k): conditions.normalise_spec(v) for k, v in (value or {}).items()}
    for qid, spec in value.items():
        problem = conditions.check_spec(spec)
        if problem:
            raise ValueError(f"{qid}: {problem}")
    return value


class Conditional(_Strict):
    applies_to: tuple[RequestType, ...] = REQUEST_TYPES
    when: dict[str, Any] = Field(default_factory=dict)

    @field_validator("when", mode="before")
    @classmethod
    def _check_when(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _conditions(value)

    def applies(self, request_type: str) -> bool:
        return request_type in self.applies_to


class Question(Conditional):
    id: str = Field(pattern=_ID)
    type: QuestionType
    label: Localized
    text: Localized
    followup: Localized | None = None
    options: tuple[str, ...] = ()
    required: bool = True
    screening: bool = False
    justification: bool = False
    patient_data: bool = False
    pseudonym: bool = False
    # The answer is the applicant's own (its people, its address, its device's names), not a
    # patient's: no patient-data warning on it, and it reaches a language model as written
    # (case/privacy.py, `keep`), wherever it appears.
    applicant_data: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> Question:
        if self.type == "choice" and not self.options:
            raise ValueError("a choice question needs options")
        if self.justification and self.followup is None:
            raise ValueError("a justification question needs a followup wording")
        if self.screening and self.type != "yes_no":
            raise ValueError("a screening question must be yes_no")
        return self


class ParagraphTemplate(Conditional):
    fr: str
    en: str
    # evidence kind -> whether a signed document of that kind must (true) or must not (false) be
    # attached for the paragraph to apply ("signée par" only for a signed document)
    signed: dict[str, bool] = Field(default_factory=dict)

    def get(self, lang: Lang) -> str:
        return getattr(self, lang)


class Section(_Strict):
    id: str = Field(pattern=_ID)
    title: Localized
    query: Localized | None = None  # what to search the knowledge base for, to ground the section
    applies_to: tuple[RequestType, ...] = REQUEST_TYPES
    provisions: tuple[str, ...] = ()
    questions: tuple[Question, ...] = ()
    paragraphs: tuple[ParagraphTemplate, ...] = Field(min_length=1)

    def applies(self, request_type: str) -> bool:
        return request_type in self.applies_to


class Provision(_Strict):
    id: str = Field(pattern=_ID)
    instrument: str
    article: str
    paragraph: str = ""
    label: Localized
    title: Localized
    url: str = Field(pattern=r"^https://")


class EvidenceKind(Conditional):
    id: str = Field(pattern=_ID)
    name: Localized
    description: Localized
    keywords: tuple[str, ...] = ()
    sections: tuple[str, ...] = Field(min_length=1)
    mandatory: bool = False
    mandatory_when: dict[str, Any] = Field(default_factory=dict)
    # Documents of this kind are about a patient: every identifier form is screened in them (in the
    # others, only those no manufacturer document carries: NIR, date of birth, record number).
    patient_data: bool = False

    @field_validator("mandatory_when", mode="before")
    @classmethod
    def _check_mandatory_when(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _conditions(value)


class Advisory(Conditional):
    id: str = Field(pattern=_ID)
    section: str
    message: Localized
    severity: Literal["warning", "blocker"] = "warning"
    cites: tuple[str, ...] = ()


class RetrievalExclusion(Conditional):
    """Instruments whose passages do not ground this case (e.g. the MDR for an in vitro diagnostic)."""

    instruments: tuple[str, ...] = Field(min_length=1)


class LegalBasis(_Strict):
    """The legal basis of a request, by instrument, in English: what the model prompts name (a
    prompt hard-coding the MDR frames an IVD request under the wrong law)."""
    MDR: str
    IVDR: str


class Profile(_Strict):
    id: str = Field(pattern=_ID)
    name: Localized
    country: str
    languages: tuple[Lang, ...]
    submission_language: Lang
    request_types: tuple[RequestType, ...]
    request_type_labels: dict[RequestType, Localized]
    title: Localized
    legal_basis: LegalBasis
    min_words: int = Field(ge=1)
    max_followups: int = Field(ge=0)
    provisions: tuple[Provision, ...]
    evidence_kinds: tuple[EvidenceKind, ...]
    advisories: tuple[Advisory, ...] = ()
    retrieval_exclusions: tuple[RetrievalExclusion, ...] = ()
    sections: tuple[Section, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Profile:
        _unique("sections", [s.id for s in self.sections])
        _unique("provisions", [p.id for p in self.provisions])
        _unique("evidence_kinds", [e.id for e in self.evidence_kinds])
        _unique("questions", [q.id for q in self.all_questions()])
        section_ids = {s.id for s in self.sections}
        provision_ids = {p.id for p in self.provisions}
        answer_types = {q.id: q.type for q in self.all_questions()} | DERIVED_FACTS
        for i, section in enumerate(self.sections):
            where = f"sections[{i}] ({section.id})"
            for pid in section.provisions:
                if pid not in provision_ids:
                    raise ValueError(f"{where}.provisions: unknown provision {pid!r}")
            for j, question in enumerate(section.questions):
                _known_refs(f"{where}.questions[{j}].when", question.when, answer_types)
            for j, para in enumerate(section.paragraphs):
                _known_refs(f"{where}.paragraphs[{j}].when", para.when, answer_types)
                for lang in LANGS:
                    for ref in _TEMPLATE_REF.findall(para.get(lang)):
                        if ref.startswith("cite:"):
                            if ref[5:] not in provision_ids:
                                raise ValueError(
                                    f"{where}.paragraphs[{j}].{lang}: unknown provision {ref[5:]!r}"
                                )
                        elif ref not in answer_types and ref not in BUILTIN_VARS:
                            raise ValueError(
                                f"{where}.paragraphs[{j}].{lang}: unknown question {ref!r}"
                            )
        for i, kind in enumerate(self.evidence_kinds):
            for sid in kind.sections:
                if sid not in section_ids:
                    raise ValueError(f"evidence_kinds[{i}] ({kind.id}).sections: unknown section {sid!r}")
            _known_refs(f"evidence_kinds[{i}] ({kind.id}).when", kind.when, answer_types)
            _known_refs(f"evidence_kinds[{i}] ({kind.id}).mandatory_when", kind.mandatory_when, answer_types)
        for i, adv in enumerate(self.advisories):
            if adv.section not in section_ids:
                raise ValueError(f"advisories[{i}] ({adv.id}).section: unknown section {adv.section!r}")
            _known_refs(f"advisories[{i}] ({adv.id}).when", adv.when, answer_types)
            for pid in adv.cites:
                if pid not in provision_ids:
                    raise ValueError(f"advisories[{i}] ({adv.id}).cites: unknown provision {pid!r}")
        return self

    # -- lookups: an id the profile does not know is `NotFound` (a `ServiceError` and a `KeyError`),
    # whose message a face shows as it is ------------------------------------------------------
    def _unknown(self, what: str, ident: str, known: Iterable[str] = ()) -> NotFound:
        listed = f" (one of {', '.join(known)})" if known else ""
        return NotFound(f"unknown {what} {ident!r} for authority {self.id}{listed}")

    def legal_basis_for(self, values: dict[str, str]) -> str:
        """The legal basis for a case with these answers (the IVDR's for an IVD)."""
        return self.legal_basis.IVDR if values.get("is_ivd") == "yes" else self.legal_basis.MDR

    def all_questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, qid: str) -> Question:
        for q in self.all_questions():
            if q.id == qid:
                return q
        raise self._unknown("question", qid)

    def section_of(self, qid: str) -> Section:
        for s in self.sections:
            if any(q.id == qid for q in s.questions):
                return s
        raise self._unknown("question", qid)

    def section(self, sid: str) -> Section:
        for s in self.sections:
            if s.id == sid:
                return s
        raise self._unknown("section", sid)

    def provision(self, pid: str) -> Provision:
        for p in self.provisions:
            if p.id == pid:
                return p
        raise self._unknown("provision", pid)

    def evidence_kind(self, kid: str) -> EvidenceKind:
        for k in self.evidence_kinds:
            if k.id == kid:
                return k
        raise self._unknown("evidence kind", kid, [k.id for k in self.evidence_kinds])


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{what}: duplicate id {i!r}")
        seen.add(i)


def _known_refs(where: str, when: dict[str, Any], known: dict[str, str]) -> None:
    for qid in when:
        if qid not in known:
            raise ValueError(f"{where}: unknown question {qid!r}")


def _location(loc: tuple[Any, ...], data: Any) -> str:
    """Turn a pydantic error location into `sections[2] (need).questions[0].type`."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            try:
                node = node[key]
                if isinstance(node, dict) and "id" in node:
                    label += f" ({node['id']})"
            except (IndexError, KeyError, TypeError):
                node = None
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts)


def load_profile_file(path: Path) -> Profile:
    """Load and validate one profile file; raise `ProfileError` naming the file and field."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile must be a mapping at the top level")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _location(tuple(err["loc"]), data) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ProfileError(f"{path}: {where}: {msg}{more}") from exc


def available_authorities() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


@cache
def load_profile(authority: str) -> Profile:
    """The shipped profile of an authority, by id (`ansm`)."""
    if not re.fullmatch(r"[a-z][a-z0-9_\-]*", authority or ""):
        raise ProfileError(f"invalid authority id {authority!r}")
    path = PROFILE_DIR / f"{authority}.yaml"
    if not path.exists():
        known = ", ".join(available_authorities()) or "none"
        raise ProfileError(f"no profile for authority {authority!r} (known: {known})")
    return load_profile_file(path)
