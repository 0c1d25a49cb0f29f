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

from assistant.evaluation.measure import (
    ScenarioResult,
    citation_problem,
    draft_text,
    measure,
    paragraph_text,
    sentences,
)
from assistant.evaluation.report import (
    THRESHOLD_KEYS,
    Report,
    below_thresholds,
    knowledge_base,
    load_thresholds,
    run,
    table,
    write_json,
)
from assistant.evaluation.scenarios import (
    CONSULTANT,
    MANUFACTURER,
    SCENARIO_DIR,
    THRESHOLDS_FILE,
    ExpectedFinding,
    Scenario,
    ScenarioError,
    build_case,
    load_scenario,
    load_scenarios,
)

__all__ = [
    "CONSULTANT", "MANUFACTURER", "SCENARIO_DIR", "THRESHOLDS_FILE", "THRESHOLD_KEYS", "ExpectedFinding", "Report",
    "Scenario", "ScenarioError", "ScenarioResult", "below_thresholds", "build_case", "citation_problem", "draft_text",
    "knowledge_base", "load_scenario", "load_scenarios", "load_thresholds", "measure", "paragraph_text", "run",
    "sentences", "table", "write_json",
]
