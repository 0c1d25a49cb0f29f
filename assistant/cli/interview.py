"""The interview in a terminal: it opens by asking for the request in the manufacturer's own words
(every fact it states is listed to confirm), says the legal route once the screening decides it,
then asks only what is still missing, one question (or one block) at a time, each answer saved as
it is given."""

from __future__ import annotations

from collections.abc import Callable

from assistant.cli.tell import confirm
from assistant.service import Actor, Lang, Service, ServiceError, words

HELP = "Type your answer and press Enter. 'skip' leaves a question for later, 'quit' stops (answers are saved)."


def opening(svc: Service, case_id: str, actor: Actor, lang: Lang,
            read: Callable[[str], str], write: Callable[[str], None]) -> None:
    """"Tell it once": the request in the user's words; what it states, on one card to confirm."""
    try:
        text = read(words("chat_opening", lang) + "\n> ")
    except EOFError:
        return
    if not text.strip() or text.strip().lower() in ("skip", "passer", "later"):
        return
    try:
        told = svc.tell(case_id, text, lang)
    except ServiceError as exc:
        write(words("cli_tell_not_recorded", lang, exc))
        return
    for notice in told.notices:
        write(notice)
    confirm(svc, case_id, told.proposals, actor, lang, False, read, write)


def say_route(svc: Service, case_id: str, lang: Lang, write: Callable[[str], None]) -> str:
    """The route conclusion, with its reasons and provisions, once the screening decides it."""
    result = svc.route(case_id, lang)
    if result.conclusion == "undetermined":
        return result.conclusion
    write("\n" + words("route_conclusion", lang, words(f"route_{result.conclusion}", lang)))
    outcome = next((r for r in result.routes if r.id == result.conclusion), result.routes[-1])
    for reason in outcome.reasons:
        write(f"  - {reason}")
    for cite in outcome.citations:
        write(f"    {cite['label']} <{cite['url']}>")
    return result.conclusion


def run_interview(
    svc: Service,
    case_id: str,
    actor: Actor,
    lang: Lang | None = None,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> int:
    case = svc.case(case_id)
    lang = lang or case.settings.language
    write(f"Case {case.id} — {case.device or 'device not named yet'} ({case.request_type}). {HELP}")
    if set(case.answers) <= {"device_name"}:
        opening(svc, case_id, actor, lang, read, write)
    route = svc.route(case_id, lang).conclusion
    if route != "undetermined":
        say_route(svc, case_id, lang, write)
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
        if route == "undetermined" and prompt.question.screening:
            route = say_route(svc, case_id, lang, write)
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
