"""What to ask next: the first question whose answer the draft still needs.

Docassemble-style: the profile says what each section needs; screening (yes/no) questions come
first because other questions depend on them; a question whose condition depends on a missing
answer waits for it; nothing known is asked again; a thin answer to a justification question gets
one follow-up (the profile's wording).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.case.model import Answer, Case
from assistant.case.profile import Lang, Profile, Question, Section
from assistant.case.requirements import applies
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
    for question in ordered_questions(profile):
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
