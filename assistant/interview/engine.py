"""What to ask next: the first question whose answer the draft still needs.

Docassemble-style: the profile says what each section needs; screening (yes/no) questions come
first because other questions depend on them, and among them first those whose answer can change
the route the law offers (route screening: the answer "yes" and the answer "no" give different
conclusions), so the route is decided in as few questions as possible; a question whose condition
depends on a missing answer waits for it; nothing known is asked again; a thin answer to a
justification question gets one follow-up (the profile's wording). Questions a person answers
together (the applicant block, the certificate block…) are asked together (`next_group`).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.case.model import Answer, Case
from assistant.case.profile import Lang, Profile, Question, Section
from assistant.case.requirements import applies
from assistant.case.routes import load_routes, screen
from assistant.errors import AssistantError
from assistant.text import word_count


@dataclass(frozen=True)
class Prompt:
    question: Question
    section: Section
    followup: bool = False

    def text(self, lang: Lang) -> str:
        if self.followup and self.question.followup is not None:
            return self.question.followup.get(lang)
        return self.question.text.get(lang)

    def as_json(self, lang: Lang) -> dict:
        q = self.question
        return {
            "id": q.id,
            "section": self.section.id,
            "type": q.type,
            "text": self.text(lang),
            "label": q.label.get(lang),
            "followup": self.followup,
            "required": q.required,
            "options": list(q.options),
            "patient_data": q.patient_data,
        }



GROUPS: tuple[tuple[str, ...], ...] = (
    ("applicant_name", "applicant_address", "applicant_contact", "authorised_representative"),
    ("device_name", "device_references", "device_class"),
    ("patient_pseudonym", "patient_count", "healthcare_facilities", "quantities_duration"),
    ("previous_certificate_number", "previous_certificate_nb", "previous_certificate_expiry",
     "nb_application_date", "nb_written_agreement_date"),
    ("ci_status", "other_approvals"),
    ("sterility", "shelf_life", "storage_conditions"),
    ("precautions_signatory", "vigilance_contact"),
)
"""Short factual questions a person answers together, as one block (never a justification)."""


class _Values:
    """A case's answers with one more, for route screening ("what if the answer were …")."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def values(self) -> dict[str, str]:
        return self._values


def deciding(profile: Profile, case: Case, questions: list[Question]) -> set[str]:
    """The yes/no questions among `questions` whose answer changes the route's conclusion now."""
    try:
        routes = load_routes(profile)
    except (AssistantError, OSError):
        return set()
    values = case.values()
    out = set()
    for q in questions:
        if q.type != "yes_no":
            continue
        ends = {screen(routes, profile, _Values({**values, q.id: a}), "en").conclusion  # type: ignore[arg-type]
                for a in ("yes", "no")}
        if len(ends) > 1:
            out.add(q.id)
    return out


def ordered_questions(profile: Profile) -> list[Question]:
    questions = profile.all_questions()
    return [q for q in questions if q.screening] + [q for q in questions if not q.screening]


def is_thin(profile: Profile, question: Question, answer: Answer) -> bool:
    return question.justification and word_count(answer.value) < profile.min_words


def needs_followup(profile: Profile, question: Question, answer: Answer) -> bool:
    return is_thin(profile, question, answer) and answer.followups < profile.max_followups


def open_prompts(profile: Profile, case: Case) -> list[Prompt]:
    """Every question still to ask, in interview order (follow-ups where they belong)."""
    prompts = []
    questions = ordered_questions(profile)
    screening = [q for q in questions if q.screening and q.id not in case.answers
                 and q.id not in case.waivers and applies(profile, case, q) is True]
    decide = deciding(profile, case, screening) if screening else set()
    if decide:  # the questions that decide the route first, in the profile's order
        questions = [q for q in questions if q.id in decide] + [q for q in questions if q.id not in decide]
    for question in questions:
        if question.id in case.waivers or applies(profile, case, question) is not True:
            continue
        answer = case.answers.get(question.id)
        if answer is None:
            prompts.append(Prompt(question, profile.section_of(question.id)))
        elif needs_followup(profile, question, answer):
            prompts.append(Prompt(question, profile.section_of(question.id), followup=True))
    return prompts


def next_prompt(profile: Profile, case: Case, skipped: frozenset[str] = frozenset()) -> Prompt | None:
    for prompt in open_prompts(profile, case):
        if prompt.question.id not in skipped:
            return prompt
    return None


def next_group(profile: Profile, case: Case, skipped: frozenset[str] = frozenset()) -> list[Prompt]:
    """The next question, with the other open questions of its block (GROUPS) when it has one.
    A follow-up, a screening or a justification question is asked alone."""
    prompts = [p for p in open_prompts(profile, case) if p.question.id not in skipped]
    if not prompts:
        return []
    first = prompts[0]
    if first.followup or first.question.screening or first.question.justification:
        return [first]
    block = next((g for g in GROUPS if first.question.id in g), ())
    return [first] + [p for p in prompts[1:] if p.question.id in block and not p.followup
                      and not p.question.justification]
