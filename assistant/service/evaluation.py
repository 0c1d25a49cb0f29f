"""Draft-quality evaluation: declarative scenarios built through the Service API, measured.

A scenario (YAML, `evals/scenarios/*.yaml`) describes a case as a user would build it: the request
type, the answers (a list gives successive answers, e.g. a thin one then its follow-up), the
evidence PDFs (rendered on the fly with `pdf.text_pdf`), waivers and approvals. A scenario may
start from a base file (`base: _individual`, files starting with `_` are bases, not scenarios):
its answers are merged (null removes one) and its evidence extended (`drop_evidence` removes files).

It declares what a careful reviewer expects: the findings of the check (section + kind, optionally
the question or evidence kind and whether it is waived), the facts the draft must state, the
phrases it must not state, and what the check must say. The evaluator measures, per scenario and
overall: findings precision and recall, required facts present, citations that resolve, the
placeholders left, the sentences without any source and, when a language model is configured, the
sections whose model draft failed the grounding checks.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.case import requirements
from assistant.case.profile import Lang, load_profile
from assistant.case.store import CaseStore
from assistant.config import Config, package_folder
from assistant.documents.pdf import text_pdf
from assistant.drafting import words as i18n
from assistant.drafting.model import Draft, Paragraph, SectionDraft, Span
from assistant.drafting.spans import render_text
from assistant.gate.findings import Finding
from assistant.interview.engine import ordered_questions
from assistant.knowledge.sources import NOTES_DIR
from assistant.service import Actor, NotFound, Service, ServiceError
from assistant.text import format_date

if TYPE_CHECKING:
    from assistant.case.model import Case
    from assistant.knowledge.index import KnowledgeBase

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


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    base = _with_base(base_path, _read_yaml(base_path), (*seen, base_name))
    answers = {**(base.get("answers") or {}), **(data.pop("answers", None) or {})}
    drop = set(data.pop("drop_evidence", None) or [])
    evidence = [e for e in base.get("evidence") or [] if e.get("file") not in drop] + (data.pop("evidence", None) or [])
    merged = {**{k: v for k, v in base.items() if k not in ("name", "description", "expect")}, **data}
    merged["answers"] = {k: v for k, v in answers.items() if v is not None}
    merged["evidence"] = evidence
    return merged


def load_scenario(path: Path) -> Scenario:
    data = _with_base(path, _read_yaml(path))
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
            path = text_pdf(spec.pages, workdir / scenario.name / spec.file, title=spec.file)
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
_ABBREVIATIONS = {"no", "art", "p", "pp", "seq", "n°", "dr", "pr", "cf", "e.g", "i.e", "etc", "vol", "fig"}
_BOUNDARY = re.compile(r"[.!?…](?=\s)")
_ANSWER, _CITE, _PLACEHOLDER = "\x01", "\x02", "\x03"


def paragraph_text(paragraph: Paragraph, section: SectionDraft) -> str:
    """The paragraph as a reader sees it: text, [citation labels] and [placeholders]."""
    def cite(span: Span, gap: str) -> str:
        citation = section.citations.get(span.ref)
        return f"{gap}[{citation.label if citation else span.ref}]"

    return render_text(paragraph, cite, lambda s, gap: f"{gap}[{s.text}]")


def draft_text(draft: Draft) -> str:
    lines = []
    for section in draft.sections:
        lines.append(f"{section.number}. {section.title}")
        lines += [paragraph_text(p, section) for p in section.paragraphs]
    return _squash("\n".join(lines))


def _squash(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


def _shown_values(value: str, lang: Lang) -> list[str]:
    """How a recorded answer may read in the draft (dates and yes/no are rendered)."""
    shown = {value, value.rstrip(".")}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        shown.add(format_date(value, lang))
    if value in ("yes", "no"):
        shown.add(i18n.t(value, lang))
    return sorted((v for v in shown if len(v) > 3), key=len, reverse=True)


def sentences(section: SectionDraft, case: Case, lang: Lang) -> list[tuple[str, bool]]:
    """Each sentence of a section with whether it rests on a source (a citation, a recorded answer,
    or a visible placeholder saying what is missing). A cited answer counts as one unit, whatever
    its punctuation: it is the user's own text, sourced by its citation."""
    values = [v for c in section.citations.values() if c.kind == "answer"
              for v in _shown_values(case.answers[c.source].value if c.source in case.answers else c.text, lang)]
    out = []
    for paragraph in section.paragraphs:
        text = render_text(paragraph, lambda _s, _gap: _CITE, lambda _s, _gap: _PLACEHOLDER)
        for value in values:
            text = text.replace(value, _ANSWER)
        start = 0
        for m in _BOUNDARY.finditer(text):
            word = re.split(r"[\s(]", text[start : m.start()])[-1].lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            out.append(text[start : m.end()])
            start = m.end()
        if text[start:].strip():
            out.append(text[start:])
    marks = (_ANSWER, _CITE, _PLACEHOLDER)
    return [(s.strip(), any(m in s for m in marks)) for s in out if s.strip(" .;:")]


def _page_problem(evidence_id: str, page: int | None, case: Case, pages_of: Callable[[str], list[str]]) -> str:
    ev = next((e for e in case.evidence if e.id == evidence_id), None)
    if ev is None:
        return f"no attached document {evidence_id!r}"
    if page is None:
        return ""
    pages = pages_of(ev.sha256)
    return "" if 1 <= page <= len(pages) and pages[page - 1].strip() else f"{ev.filename} has no page {page} with text"


def _citation_problem(citation, case: Case, profile, pages_of: Callable[[str], list[str]], passages: set[str]) -> str:
    """Why a citation does not resolve, or '' when it points to something a reader can open."""
    if citation.kind == "provision":
        try:
            provision = profile.provision(citation.source)
        except NotFound:
            return f"unknown provision {citation.source!r}"
        return "" if provision.url and citation.url == provision.url else f"provision {citation.source} has no URL"
    if citation.kind == "answer":
        answer = case.answers.get(citation.source)
        return "" if answer is not None and answer.value == citation.text else f"no recorded answer {citation.source!r}"
    if citation.kind == "evidence":
        return _page_problem(citation.id.split(":")[1], citation.page, case, pages_of)
    # a passage: retrieved for this section (or given to the model), with its text and a way to open it
    if citation.id not in passages:
        return f"passage {citation.id!r} was not retrieved for this draft"
    if not citation.text.strip():
        return f"passage {citation.id!r} has no text"
    own = [e for e in case.evidence if e.filename == citation.source]
    if own:  # a page of one of the case's own documents
        problems = [_page_problem(e.id, citation.page, case, pages_of) for e in own]
        return "" if "" in problems else problems[0]
    opened = citation.url or Path(citation.source).exists() or any(
        (NOTES_DIR / lang / citation.source).exists() for lang in ("fr", "en"))
    return "" if opened else f"passage {citation.id!r} has no URL or source file"


@dataclass
class ScenarioResult:
    name: str
    description: str
    request_type: str
    expected_findings: int = 0
    actual_findings: int = 0
    findings_matched_expected: int = 0
    findings_matched_actual: int = 0
    missing_findings: list[str] = field(default_factory=list)
    unexpected_findings: list[str] = field(default_factory=list)
    facts_required: int = 0
    facts_present: int = 0
    missing_facts: list[str] = field(default_factory=list)
    forbidden_present: list[str] = field(default_factory=list)
    citations: int = 0
    citations_by_kind: dict[str, int] = field(default_factory=dict)  # answer, evidence, provision, passage
    citations_resolved: int = 0
    unresolved_citations: list[str] = field(default_factory=list)
    placeholders: int = 0
    sentences: int = 0
    unsourced_sentences: int = 0
    unsourced_examples: list[str] = field(default_factory=list)
    grounding_failures: int | None = None  # None: no language model configured (n/a)
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return self.findings_matched_actual / self.actual_findings if self.actual_findings else 1.0

    @property
    def recall(self) -> float:
        return self.findings_matched_expected / self.expected_findings if self.expected_findings else 1.0

    @property
    def facts_ratio(self) -> float:
        total = self.facts_required + len(self.forbidden_present)
        return self.facts_present / total if total else 1.0

    @property
    def citations_ratio(self) -> float:
        return self.citations_resolved / self.citations if self.citations else 1.0

    def as_json(self) -> dict:
        return {**asdict(self), "findings_precision": round(self.precision, 4), "findings_recall": round(self.recall, 4),
                "facts_present_ratio": round(self.facts_ratio, 4), "citations_resolve": round(self.citations_ratio, 4)}


def measure(svc: Service, scenario: Scenario, case_id: str, use_llm: bool) -> ScenarioResult:
    case = svc.case(case_id)
    profile = svc.profile(case)
    result = ScenarioResult(scenario.name, scenario.description.strip(), scenario.request_type)

    found = svc.check(case_id, "en")
    expected = scenario.expect.findings
    result.expected_findings, result.actual_findings = len(expected), len(found)
    hit = [e for e in expected if any(e.matches(f) for f in found)]
    result.findings_matched_expected = len(hit)
    result.missing_findings = [e.label() for e in expected if e not in hit]
    for f in found:
        if any(e.matches(f) for e in expected):
            result.findings_matched_actual += 1
        else:
            ref = f.question_id or f.evidence_kind
            result.unexpected_findings.append(f"{f.section}/{f.kind}" + (f"[{ref}]" if ref else ""))

    draft = svc.draft(case_id, scenario.lang, use_llm=use_llm)
    if use_llm:
        result.grounding_failures = sum(
            1 for s in draft.sections if any(n.startswith(GROUNDING_NOTICE) for n in s.notices))
    text = draft_text(draft)
    result.facts_required = len(scenario.expect.facts) + len(scenario.expect.check_mentions)
    messages = _squash(" ".join(f.message for f in found))
    result.missing_facts = [f for f in scenario.expect.facts if _squash(f) not in text]
    result.missing_facts += [f"(check) {f}" for f in scenario.expect.check_mentions if _squash(f) not in messages]
    result.facts_present = result.facts_required - len(result.missing_facts)
    result.forbidden_present = [f for f in scenario.expect.absent if _squash(f) in text]

    pages_of = svc.pages(case_id)
    for section in draft.sections:
        passages = set(section.used_passages) | {c for c, v in section.citations.items() if v.kind == "passage"
                                                 and section.drafter.startswith("llm:")}
        for paragraph in section.paragraphs:
            for span in paragraph.spans:
                if span.kind == "placeholder":
                    result.placeholders += 1
                if span.kind != "cite":
                    continue
                result.citations += 1
                citation = section.citations.get(span.ref)
                kind = citation.kind if citation else "dangling"
                result.citations_by_kind[kind] = result.citations_by_kind.get(kind, 0) + 1
                problem = "dangling reference" if citation is None else _citation_problem(
                    citation, case, profile, pages_of, passages)
                if problem:
                    result.unresolved_citations.append(f"{section.section_id}: {span.ref}: {problem}")
        for sentence, sourced in sentences(section, case, draft.lang):
            result.sentences += 1
            if not sourced:
                result.unsourced_sentences += 1
                result.unsourced_examples.append(f"{section.section_id}: {sentence}")
    result.citations_resolved = result.citations - len(result.unresolved_citations)
    return result


# -- running ----------------------------------------------------------------------------------------
@dataclass
class Report:
    scenarios: list[ScenarioResult]
    retrieval: bool
    llm: str  # the configured model, or "none"

    def overall(self) -> dict:
        rs = self.scenarios

        def ratio(num: int, den: int) -> float:
            return round(num / den, 4) if den else 1.0

        grounding = [r.grounding_failures for r in rs if r.grounding_failures is not None]
        return {
            "scenarios": len(rs),
            "findings_precision": ratio(sum(r.findings_matched_actual for r in rs), sum(r.actual_findings for r in rs)),
            "findings_recall": ratio(sum(r.findings_matched_expected for r in rs), sum(r.expected_findings for r in rs)),
            "facts_present": ratio(sum(r.facts_present for r in rs),
                                   sum(r.facts_required + len(r.forbidden_present) for r in rs)),
            "citations_resolve": ratio(sum(r.citations_resolved for r in rs), sum(r.citations for r in rs)),
            "citations": sum(r.citations for r in rs),
            "placeholders": sum(r.placeholders for r in rs),
            "sentences": sum(r.sentences for r in rs),
            "unsourced_sentences": sum(r.unsourced_sentences for r in rs),
            "grounding_failures": sum(grounding) if grounding else None,
        }

    def as_json(self) -> dict:
        return {"retrieval": self.retrieval, "llm": self.llm, "overall": self.overall(),
                "scenarios": [r.as_json() for r in self.scenarios]}


def knowledge_base(home: Path, config: Config) -> KnowledgeBase:
    """A knowledge base of its own for the scenarios (the notes indexed on first use)."""
    from assistant.knowledge.index import KnowledgeBase

    return KnowledgeBase(home, config=config)


def run(
    scenarios: Iterable[Scenario],
    knowledge: KnowledgeBase | None = None,
    home: Path | None = None,
    llm_settings: Any | None = None,
) -> Report:
    """Build and measure each scenario in a fresh case store (a temporary one unless `home`).
    `llm_settings`: the language model to evaluate (None or provider "none": offline, n/a)."""
    with tempfile.TemporaryDirectory(prefix="derogation-eval-") as tmp:
        store_home = home or Path(tmp) / "home"
        svc = Service(CaseStore(store_home), knowledge=knowledge)
        use_llm = llm_settings is not None and llm_settings.provider != "none"
        if use_llm:
            svc.save_llm_settings(llm_settings)
        results = []
        for scenario in scenarios:
            load_profile(scenario.authority)
            start = time.perf_counter()
            case_id = build_case(svc, scenario, Path(tmp) / "evidence")
            result = measure(svc, scenario, case_id, use_llm)
            result.seconds = round(time.perf_counter() - start, 3)
            results.append(result)
            if knowledge is not None:
                knowledge.sync_case(case_id, [])  # leave no evaluation case in a shared index
        label = f"{llm_settings.provider}:{llm_settings.model}" if use_llm else "none"
        return Report(results, retrieval=knowledge is not None, llm=label)


# -- thresholds and output --------------------------------------------------------------------------
THRESHOLD_KEYS = ("findings_precision", "findings_recall", "facts_present", "citations_resolve")


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    data = _read_yaml(path)
    unknown = set(data) - set(THRESHOLD_KEYS) - {"unsourced_sentences_max", "grounding_failures_max"}
    if unknown:
        raise ScenarioError(f"{path.name}: unknown threshold(s): {', '.join(sorted(unknown))}")
    return {k: float(v) for k, v in data.items()}


def below_thresholds(report: Report, thresholds: dict[str, float]) -> list[str]:
    """One line per overall metric that misses its threshold (empty: the evaluation passes)."""
    overall = report.overall()
    out = [f"{k} {overall[k]:.3f} < {thresholds[k]:.3f}" for k in THRESHOLD_KEYS
           if k in thresholds and overall[k] < thresholds[k]]
    for key, metric in (("unsourced_sentences_max", "unsourced_sentences"), ("grounding_failures_max", "grounding_failures")):
        if key in thresholds and overall[metric] is not None and overall[metric] > thresholds[key]:
            out.append(f"{metric} {overall[metric]} > {thresholds[key]:g}")
    return out


def table(report: Report) -> str:
    head = ["scenario", "type", "prec", "recall", "facts", "cites ok", "placeh.", "unsourced", "grounding", "s"]
    rows = []
    for r in report.scenarios:
        rows.append([
            r.name, r.request_type, f"{r.precision:.2f}", f"{r.recall:.2f}",
            f"{r.facts_present}/{r.facts_required + len(r.forbidden_present)}",
            f"{r.citations_resolved}/{r.citations}", str(r.placeholders),
            f"{r.unsourced_sentences}/{r.sentences}",
            "n/a" if r.grounding_failures is None else str(r.grounding_failures), f"{r.seconds:.2f}",
        ])
    o = report.overall()
    rows.append([
        "OVERALL", "", f"{o['findings_precision']:.2f}", f"{o['findings_recall']:.2f}", f"{o['facts_present']:.0%}",
        f"{o['citations_resolve']:.0%}", str(o["placeholders"]), f"{o['unsourced_sentences']}/{o['sentences']}",
        "n/a" if o["grounding_failures"] is None else str(o["grounding_failures"]), "",
    ])
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    for r in report.scenarios:
        for what, items in (("missing finding", r.missing_findings), ("unexpected finding", r.unexpected_findings),
                            ("missing fact", r.missing_facts), ("forbidden text present", r.forbidden_present),
                            ("unresolved citation", r.unresolved_citations)):
            lines += [f"  {r.name}: {what}: {item}" for item in items]
    lines.append(f"retrieval: {'on' if report.retrieval else 'off'}; language model: {report.llm}")
    return "\n".join(lines)


def write_json(report: Report, out_dir: Path) -> Path:
    import json

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "scenarios.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
