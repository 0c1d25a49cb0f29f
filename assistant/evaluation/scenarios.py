"""The scenario cases: read from evals/scenarios (YAML, with a shared base), and built through the
service as a user would build them."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.case import requirements
from assistant.case.profile import Lang
from assistant.config import package_folder
from assistant.documents.pdf import text_pdf
from assistant.gate.findings import Finding
from assistant.interview.engine import ordered_questions
from assistant.service import Actor, Service, ServiceError

if TYPE_CHECKING:
    pass

CHECKOUT = package_folder("assistant").parent  # the scenarios live in the source checkout, not the package
SCENARIO_DIR = CHECKOUT / "evals" / "scenarios"
THRESHOLDS_FILE = CHECKOUT / "evals" / "thresholds.yaml"
MANUFACTURER = Actor(name="eval (manufacturer)", role="manufacturer")
CONSULTANT = Actor(name="eval (consultant)", role="consultant")
GROUNDING_NOTICE = "language-model draft rejected by the grounding checks"


class ScenarioError(ServiceError):
    """A scenario file that cannot be evaluated as written, with the file and the reason."""


# -- the scenario files ---------------------------------------------------------------------------
def _as_answer(value: Any) -> str:
    """YAML reads yes/no as booleans and 2024-05-26 as a date: back to what a user types."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceSpec(_Strict):
    file: str = Field(pattern=r"^[\w.\-]+\.pdf$")
    kind: str | None = None  # None: the assistant guesses it from the content
    pages: list[str] = Field(min_length=1)


class ExpectedFinding(_Strict):
    section: str
    kind: str
    ref: str | None = None  # the question id or evidence kind; None matches any
    severity: Literal["blocker", "warning"] | None = None
    waived: bool | None = None
    message: str | None = None  # a phrase of the (English) message, e.g. to tell advisories apart

    def matches(self, f: Finding) -> bool:
        return (
            self.section == f.section and self.kind == f.kind
            and (self.ref is None or self.ref == (f.question_id or f.evidence_kind or ""))
            and (self.severity is None or self.severity == f.severity)
            and (self.waived is None or self.waived == f.waived)
            and (self.message is None or self.message in f.message)
        )

    def label(self) -> str:
        return f"{self.section}/{self.kind}" + (f"[{self.ref}]" if self.ref else "")


class Expect(_Strict):
    route: str | None = None  # the route screening's conclusion (`derogation`, `art120_extension`, …)
    findings: list[ExpectedFinding] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)  # must appear in the draft
    absent: list[str] = Field(default_factory=list)  # must not appear in the draft
    check_mentions: list[str] = Field(default_factory=list)  # must appear in the check's messages


class Scenario(_Strict):
    name: str
    description: str = ""
    authority: str = "ansm"
    request_type: str = "individual"
    device: str = ""
    lang: Lang = "fr"
    answers: dict[str, str | list[str]] = Field(default_factory=dict)
    evidence: list[EvidenceSpec] = Field(default_factory=list)
    waivers: dict[str, str] = Field(default_factory=dict)
    approve: list[str] | Literal["all", "none"] = "all"  # the sections a consultant approves
    expect: Expect = Field(default_factory=Expect)

    @field_validator("answers", mode="before")
    @classmethod
    def _answers(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: [_as_answer(x) for x in v] if isinstance(v, list) else _as_answer(v) for k, v in value.items()}


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path.name}: cannot read it: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: expected a mapping of fields")
    return data


def _with_base(path: Path, data: dict, seen: tuple[str, ...] = ()) -> dict:
    base_name = data.pop("base", None)
    if base_name is None:
        return data
    base_path = path.parent / f"{base_name}.yaml"
    if base_name in seen or not base_path.exists():
        raise ScenarioError(f"{path.name}: base {base_name!r} not found (or circular)")
    base = _with_base(base_path, read_yaml(base_path), (*seen, base_name))
    answers = {**(base.get("answers") or {}), **(data.pop("answers", None) or {})}
    drop = set(data.pop("drop_evidence", None) or [])
    evidence = [e for e in base.get("evidence") or [] if e.get("file") not in drop] + (data.pop("evidence", None) or [])
    merged = {**{k: v for k, v in base.items() if k not in ("name", "description", "expect")}, **data}
    merged["answers"] = {k: v for k, v in answers.items() if v is not None}
    merged["evidence"] = evidence
    return merged


def load_scenario(path: Path) -> Scenario:
    data = _with_base(path, read_yaml(path))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"{path.name}: {where}: {first['msg']}") from None


def load_scenarios(folder: Path = SCENARIO_DIR, only: str | None = None) -> list[Scenario]:
    """Every scenario in `folder` (bases excluded), or the one named `only`."""
    if not folder.is_dir():
        raise ScenarioError(f"no scenario folder at {folder}")
    scenarios = [load_scenario(p) for p in sorted(folder.glob("*.yaml")) if not p.name.startswith("_")]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ScenarioError(f"duplicate scenario names in {folder}")
    if only is not None:
        scenarios = [s for s in scenarios if s.name == only]
        if not scenarios:
            raise ScenarioError(f"no scenario named {only!r} (known: {', '.join(names)})")
    return scenarios


# -- building the case through the Service --------------------------------------------------------
def _evidence_pdf(spec: EvidenceSpec, workdir: Path, out: Path) -> Path:
    """The spec's PDF at `out`. Most scenarios attach their base's documents (24 scenarios: 316 files,
    45 distinct): each distinct one is rendered once per run (in `workdir`), then copied."""
    key = hashlib.sha256(repr((spec.file, spec.pages)).encode()).hexdigest()[:32]
    rendered = workdir / "_rendered" / f"{key}.pdf"
    if not rendered.exists():
        text_pdf(spec.pages, rendered, title=spec.file)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rendered, out)
    return out


def build_case(svc: Service, scenario: Scenario, workdir: Path) -> str:
    """Create the scenario's case the way a user would: answers in interview order, documents,
    waivers, then the reviewer's approvals. Returns the case id."""
    try:
        case = svc.new_case(scenario.authority, scenario.request_type, scenario.device, MANUFACTURER)
        order = {q.id: n for n, q in enumerate(ordered_questions(svc.profile(case)))}
        unknown = [q for q in scenario.answers if q not in order]
        if unknown:
            raise ScenarioError(f"{scenario.name}: unknown question(s): {', '.join(unknown)}")
        for qid in sorted(scenario.answers, key=order.__getitem__):
            given = scenario.answers[qid]
            for n, text in enumerate(given if isinstance(given, list) else [given]):
                svc.answer(case.id, qid, text, MANUFACTURER, replace=n == 0)
        for spec in scenario.evidence:
            path = _evidence_pdf(spec, workdir, workdir / scenario.name / spec.file)
            svc.attach(case.id, path, MANUFACTURER, kind=spec.kind)
        for target, reason in scenario.waivers.items():
            svc.waive(case.id, target, reason, MANUFACTURER)
        current = svc.case(case.id)
        sections = [s.id for s in requirements.applicable_sections(svc.profile(current), current)]
        approve = scenario.approve if isinstance(scenario.approve, list) else sections
        approve = [] if scenario.approve == "none" else approve
        for section_id in approve:
            svc.approve(case.id, section_id, CONSULTANT)
    except ServiceError as exc:
        raise ScenarioError(f"{scenario.name}: the case cannot be built: {exc}") from None
    return case.id


# -- measuring --------------------------------------------------------------------------------------
