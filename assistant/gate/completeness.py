"""Completeness: what the case still lacks for each section (answers, documents, placeholders left
in the text, reviewers' approvals) and the authority's advisories."""

from __future__ import annotations

from assistant.case import conditions
from assistant.case.facts import facts
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.case.requirements import applies, evidence_kinds_for
from assistant.drafting.model import Draft
from assistant.gate.finding import Finding, Severity
from assistant.interview.engine import is_thin
from assistant.words import t


def findings(profile: Profile, case: Case, draft: Draft, lang: Lang = "en", grounded: bool = False) -> list[Finding]:
    """What the case still lacks, section by section: answers, documents, placeholders, approvals,
    the profile's advisories."""
    out: list[Finding] = []
    by_section: dict[str, list[Finding]] = {s.section_id: [] for s in draft.sections}
    values = facts(profile, case)

    def add(f: Finding) -> None:
        waiver = case.waivers.get(f.question_id or f.evidence_kind or "")
        if waiver and f.kind in ("missing_answer", "missing_evidence", "placeholder", "thin_answer", "non_fact"):
            f.waived, f.waiver_reason = True, waiver.reason
        by_section.setdefault(f.section, []).append(f)

    missing_questions: set[str] = set()
    reported_kinds: set[str] = set()
    for section_draft in draft.sections:
        section = profile.section(section_draft.section_id)
        for q in section.questions:
            state = applies(profile, case, q)
            if state is not True:
                continue
            answer = case.answers.get(q.id)
            label = q.label.get(lang)
            if answer is None:
                missing_questions.add(q.id)
                add(Finding(
                    section=section.id, kind="missing_answer",
                    severity="blocker" if q.required else "warning",
                    message=t("missing_answer", lang, label), question_id=q.id,
                ))
            elif is_thin(profile, q, answer):
                add(Finding(
                    section=section.id, kind="thin_answer", severity="warning",
                    message=t("thin_answer", lang, len(answer.value.split()), label), question_id=q.id,
                ))
        for kind_id, mandatory in evidence_kinds_for(profile, case, section):
            if case.evidence_of_kind(kind_id):
                continue
            if kind_id in reported_kinds:
                continue  # a kind supporting several sections is reported once, where it first appears
            reported_kinds.add(kind_id)
            kind = profile.evidence_kind(kind_id)
            add(Finding(
                section=section.id, kind="missing_evidence",
                severity="blocker" if mandatory else "warning",
                message=t("missing_evidence" if mandatory else "recommended_evidence", lang, kind.name.get(lang)),
                evidence_kind=kind_id,
            ))
        for ph in section_draft.placeholders:
            if ph.question_id and ph.question_id not in missing_questions:
                question = profile.question(ph.question_id)
                if applies(profile, case, question) is None and question.id not in values:
                    severity: Severity = "blocker"  # a screening answer the section depends on
                else:
                    severity = "blocker" if question.required else "warning"
                add(Finding(
                    section=section.id, kind="placeholder", severity=severity,
                    message=t("placeholder", lang, ph.label), question_id=ph.question_id,
                ))
        if grounded and section.query is not None and not section_draft.used_passages:
            add(Finding(section=section.id, kind="no_supporting_passage", severity="warning",
                        message=t("no_supporting_passage", lang)))
        review = case.review(section.id)
        gate: Severity = "blocker" if case.settings.require_approval else "warning"
        if review.status == "approved" and review.fingerprint != section_draft.fingerprint:
            add(Finding(section=section.id, kind="stale_approval", severity=gate, message=t("stale_approval", lang)))
        elif review.status == "changes_requested":
            add(Finding(section=section.id, kind="not_approved", severity=gate, message=t("changes_requested", lang)))
        elif review.status != "approved":
            add(Finding(section=section.id, kind="not_approved", severity=gate, message=t("not_approved", lang)))

    for adv in profile.advisories:
        if adv.applies(case.request_type) and conditions.evaluate(adv.when, values) is True:
            by_section.setdefault(adv.section, []).append(Finding(
                section=adv.section, kind="advisory", severity=adv.severity, message=adv.message.get(lang),
            ))
    for ev in case.evidence:
        if ev.text_pages == 0:
            section = profile.evidence_kind(ev.kind).sections[0]
            by_section.setdefault(section, []).append(Finding(
                section=section, kind="no_text_layer", severity="warning",
                message=t("no_text_layer", lang, ev.filename), evidence_kind=ev.kind,
            ))
    for section_findings in by_section.values():
        out.extend(section_findings)
    return out
