"""A run over the scenarios: the report, its table and JSON, and the regression thresholds."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.case.profile import load_profile
from assistant.case.store import CaseStore
from assistant.config import Config
from assistant.evaluation.measure import ScenarioResult, measure
from assistant.evaluation.scenarios import THRESHOLDS_FILE, Scenario, ScenarioError, build_case, read_yaml
from assistant.service import Actor, Service

if TYPE_CHECKING:
    from assistant.knowledge.index import KnowledgeBase

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
            "submission_markup": sum(len(r.submission_markup) for r in rs),
            "submission_sections_min": min((r.submission_section_share for r in rs), default=1.0),
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
            svc.save_llm_settings(llm_settings, Actor("evaluation", "consultant"))  # the settings' owner
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
    data = read_yaml(path)
    unknown = set(data) - set(THRESHOLD_KEYS) - {"unsourced_sentences_max", "grounding_failures_max",
                                                 "submission_markup_max", "submission_sections_min"}
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
    if "submission_markup_max" in thresholds and overall["submission_markup"] > thresholds["submission_markup_max"]:
        out.append(f"submission_markup {overall['submission_markup']} > {thresholds['submission_markup_max']:g}")
    if "submission_sections_min" in thresholds and overall["submission_sections_min"] < thresholds["submission_sections_min"]:
        out.append(f"submission_sections_min {overall['submission_sections_min']:.3f} < "
                   f"{thresholds['submission_sections_min']:.3f}")
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
                            ("unresolved citation", r.unresolved_citations),
                            ("markup in the submission", r.submission_markup)):
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
