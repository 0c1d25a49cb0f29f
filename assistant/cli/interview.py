"""The interview in a terminal: one question at a time, each answer saved as it is given."""

from __future__ import annotations

from collections.abc import Callable

from assistant.service import Actor, Lang, Service, ServiceError

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
    session = svc.llm_session(case_id)
    use_llm = session.enabled
    if use_llm:
        write(f"Language model: {session.provider.model} — it may propose facts from your answers and ask follow-ups.")
    elif session.problem:
        write(f"Offline mode: {session.problem}")
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
            svc.answer(case_id, prompt.question.id, text, actor, followup=prompt.followup)
        except ServiceError as exc:
            write(f"Not recorded: {exc}")
            continue
        if use_llm:
            _with_llm(svc, case_id, prompt.question.id, text, actor, lang, read, write)


def _with_llm(
    svc: Service, case_id: str, qid: str, text: str, actor: Actor, lang: Lang,
    read: Callable[[str], str], write: Callable[[str], None],
) -> None:
    """With a language model: offer the other facts the answer holds, then its follow-up, if any."""
    question = svc.profile(svc.case(case_id)).question(qid)
    if question.type in ("text", "long_text") and len(text.split()) >= 8:
        found = svc.propose_facts(case_id, text, lang)
        others = [p for p in found.proposals if p.question_id != qid]
        if others:
            write("This answer also seems to tell:")
            for n, p in enumerate(others, 1):
                was = f" (currently: {p.current})" if p.current else ""
                write(f"  {n}. {p.label}: {p.value}{was}")
            choice = read("Record them? yes / no / the numbers to keep (e.g. 1 3)\n> ").strip().lower()
            keep = others if choice in ("y", "yes", "o", "oui") else [
                others[int(t) - 1] for t in choice.replace(",", " ").split() if t.isdigit() and 0 < int(t) <= len(others)
            ]
            if keep:
                result = svc.confirm_facts(case_id, keep, actor)
                write(f"Recorded: {', '.join(result.recorded) or 'nothing'}.")
                for why in result.skipped:
                    write(f"Not recorded: {why}")
    followup = svc.llm_followup(case_id, qid, lang)
    while followup is not None and followup.source == "llm":
        more = read(f"  (follow-up) {followup.text}\n> ").strip()
        if not more or more.lower() in ("skip", "later", "passer", "quit", "exit", ":q"):
            return
        try:
            svc.answer(case_id, qid, more, actor, followup=True)
        except ServiceError as exc:
            write(f"Not recorded: {exc}")
            return
        followup = svc.llm_followup(case_id, qid, lang)
