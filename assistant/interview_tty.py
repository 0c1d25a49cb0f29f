"""The interview in a terminal: one question at a time, each answer saved as it is given."""

from __future__ import annotations

from collections.abc import Callable

from .profile import Lang
from .service import Actor, Service, ServiceError

HELP = "Type your answer and press Enter. 'skip' leaves a question for later, 'quit' stops (answers are saved)."


def run_interview(
    svc: Service,
    case_id: str,
    actor: Actor,
    lang: Lang = "en",
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> int:
    case = svc.case(case_id)
    write(f"Case {case.id} — {case.device or 'device not named yet'} ({case.request_type}). {HELP}")
    skipped: set[str] = set()
    current_section = None
    while True:
        prompt = svc.next_question(case_id, frozenset(skipped))
        if prompt is None:
            left = len(svc.questions(case_id))
            if left:
                write(f"\n{left} question(s) skipped: run `derogation interview {case_id}` again to answer them.")
            else:
                write("\nEvery question is answered. Next: `derogation check " + case_id + "`.")
            return 0
        if prompt.section.id != current_section:
            current_section = prompt.section.id
            write(f"\n== {prompt.section.title.get(lang)} ==")
        marker = "  (follow-up) " if prompt.followup else ""
        optional = " (optional)" if not prompt.question.required else ""
        try:
            text = read(f"{marker}{prompt.text(lang)}{optional}\n> ")
        except EOFError:
            write("\nStopped: every answer given so far is saved.")
            return 0
        command = text.strip().lower()
        if command in ("quit", "exit", ":q"):
            write("Stopped: every answer given so far is saved.")
            return 0
        if command in ("skip", "later", "passer"):
            skipped.add(prompt.question.id)
            continue
        if command in ("?", "help", "aide"):
            write(HELP)
            continue
        if not command:
            write("An answer cannot be empty. " + HELP)
            continue
        try:
            svc.answer(case_id, prompt.question.id, text, actor)
        except ServiceError as exc:
            write(f"Not recorded: {exc}")
