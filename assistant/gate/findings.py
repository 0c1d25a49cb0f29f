"""The check: every finding about a case, in section order, blockers first (the export gate)."""

from __future__ import annotations

from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.drafting.model import Draft
from assistant.gate import collaboration, completeness, consistency, privacy, routes
from assistant.gate.finding import Finding, Severity, blockers

__all__ = ["Finding", "Severity", "blockers", "collect"]


def collect(
    profile: Profile, case: Case, draft: Draft, generated: Draft, pages_of: PagesOf, lang: Lang = "en",
    grounded: bool = False,
) -> list[Finding]:
    """`draft`: the text in force (reviewers' edits applied); `generated`: the drafter's own text,
    against which edits are found stale. `grounded`: retrieval ran, so a section without a
    supporting passage is worth a warning."""
    content = consistency.findings(profile, case, pages_of, lang)
    not_facts = {f.question_id for f in content if f.kind == "non_fact"}
    found = routes.findings(profile, case, lang)
    found += [f for f in completeness.findings(profile, case, draft, lang, grounded=grounded)
              if not (f.kind in ("placeholder", "thin_answer") and f.question_id in not_facts)]
    covered = consistency.covered_questions(profile.id)
    found += [f for f in collaboration.findings(profile, case, generated, pages_of, lang)
              if not (f.kind == "document_mismatch" and f.question_id in covered)]
    found += content
    found += privacy.findings(profile, case, pages_of, lang)  # patient data in answers and documents
    order = {s.section_id: n for n, s in enumerate(draft.sections)}
    indexed = sorted(enumerate(found), key=lambda item: (  # the route first: everything depends on it
        item[1].kind != "route", order.get(item[1].section, len(order)), item[1].severity != "blocker",
        item[1].waived, item[0]))
    return [f for _, f in indexed]
