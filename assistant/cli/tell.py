""""Tell it once" in a terminal: `derogation tell CASE "text"` prints what the assistant understood
(field, value, where it came from) and records it with --yes (or after asking); `derogation attach
… --yes` does the same for the facts a document states."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from assistant.cli.output import acting
from assistant.service import Actor, FactProposal, Lang, Service, words

YES = ("y", "yes", "o", "oui")


def show_card(proposals: Sequence[FactProposal], lang: Lang, write: Callable[[str], None] = print) -> None:
    """One line per fact: field, value, where it came from (and the recorded answer it would replace)."""
    if not proposals:
        write(words("cli_tell_nothing", lang))
        return
    write(words("cli_tell_understood", lang, len(proposals)))
    for n, p in enumerate(proposals, 1):
        value = " ".join(p.value.split())
        if value in ("yes", "no"):
            value = words(f"chat_{value}", lang)
        value = value if len(value) <= 160 else value[:157] + "…"
        was = words("cli_tell_was", lang, " ".join(p.current.split())[:80]) if p.current else ""
        write(f"  {n:>2}. {p.label}: {value}  [{p.where}]{was}")


def choose(proposals: Sequence[FactProposal], answer: str) -> list[FactProposal]:
    """The proposals kept by an answer: yes (all), no (none) or the numbers to keep (e.g. 1 3 5)."""
    answer = answer.strip().lower()
    if answer in YES:
        return list(proposals)
    picks = [int(tok) for tok in answer.replace(",", " ").split() if tok.isdigit()]
    return [proposals[i - 1] for i in picks if 0 < i <= len(proposals)]


def confirm(svc: Service, case_id: str, proposals: Sequence[FactProposal], actor: Actor, lang: Lang, yes: bool,
            read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> int:
    """Show the card; record what the user keeps (everything with `yes`). Returns how many were recorded."""
    show_card(proposals, lang, write)
    if not proposals:
        return 0
    if yes:
        keep = list(proposals)
    else:
        try:
            keep = choose(proposals, read(words("cli_tell_ask", lang) + "\n> "))
        except EOFError:
            keep = []
    if not keep:
        write(words("cli_tell_none_recorded", lang))
        return 0
    result = svc.confirm_told(case_id, keep, actor)
    write(words("cli_tell_recorded", lang, len(result.recorded)))
    for why in result.skipped:
        write(words("cli_tell_not_recorded", lang, why))
    return len(result.recorded)


def cmd_tell(svc: Service, args: argparse.Namespace) -> int:
    lang: Lang = args.lang or svc.case(args.case).settings.language
    text = args.text if args.text != "-" else sys.stdin.read()
    told = svc.tell(args.case, text, lang, use_llm=not args.offline)
    for notice in told.notices:
        print(notice, file=sys.stderr)
    confirm(svc, args.case, told.proposals, acting(args), lang, args.yes)
    return 0


def record_document_facts(svc: Service, case_id: str, evidence_id: str, actor: Actor, lang: Lang, yes: bool) -> int:
    """After `attach`: the facts that document states, on the same card."""
    mine = [p for p in svc.document_facts(case_id, lang) if p.source == f"document:{evidence_id}"]
    return confirm(svc, case_id, mine, actor, lang, yes)
