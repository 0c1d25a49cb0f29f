"""How many user turns a request takes, replayed from a persona (a benchmark, not a test).

A persona (evals/persona/<name>.yaml) is a manufacturer with a description of its request in its
head and a folder of PDFs. The replay goes through the service as the chat does: create the case,
tell the description (one typed turn), drop the PDFs (one upload turn), confirm the card of what was
understood (one confirmation), then answer what the assistant still asks (each typed answer, each
yes/no click, each grouped block is one turn), until the request is ready to export (no blocker),
then export (one click). A question the persona has no answer for stops the replay and is reported.

    python evals/bench_conversation.py [--persona cardio_fr] [--out evals/results]

Prints the turns per step and writes evals/results/conversation-<persona>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.case.store import CaseStore  # noqa: E402
from assistant.documents.pdf import text_pdf  # noqa: E402
from assistant.service import Actor, Service  # noqa: E402

PERSONAS = Path(__file__).resolve().parent / "persona"


def replay(persona: dict, folder: Path, home: Path) -> dict:
    svc = Service(CaseStore(home), knowledge=None)
    me = Actor(name="persona", role="manufacturer")
    lang = persona.get("lang", "fr")
    steps: list[dict] = []

    def step(name: str, turns: int, typed: int, detail: str = "") -> None:
        steps.append({"step": name, "turns": turns, "typed": typed, "detail": detail})

    case = svc.new_case(persona["authority"], persona["request_type"], persona["device"], me)
    step("create the case (device name typed, request type chosen)", 1, 1)

    description = (PERSONAS / persona["description"]).read_text(encoding="utf-8")
    told = svc.tell(case.id, description, lang, use_llm=False)
    step("tell it once: the description", 1, 1, f"{len(told.proposals)} facts understood")

    pdfs = folder / "pdfs"
    kinds = []
    for doc in persona["documents"]:
        path = text_pdf(doc["pages"], pdfs / doc["file"])
        kinds.append(svc.attach(case.id, path, me).file.kind)
    step("drop the documents (one upload)", 1, 0, f"{len(persona['documents'])} PDFs, read as: {', '.join(kinds)}")
    wrong = [(ev, doc["kind"]) for ev, doc in zip(svc.case(case.id).evidence, persona["documents"], strict=True)
             if doc.get("kind") and doc["kind"] != ev.kind]
    for ev, kind in wrong:  # the persona corrects what the assistant misread (one choice each)
        svc.set_evidence_kind(case.id, ev.id, kind, me)
    if wrong:
        step("correct a document's kind", len(wrong), 0, ", ".join(f"{ev.filename}: {k}" for ev, k in wrong))

    from_docs = svc.document_facts(case.id, lang)
    known = {p.question_id for p in told.proposals}
    card = told.proposals + [p for p in from_docs if p.question_id not in known]
    result = svc.confirm_told(case.id, card, me)
    step("confirm the card", 1, 0, f"{len(result.recorded)} answers recorded from {len(card)} proposed"
         + (f"; not recorded: {result.skipped}" if result.skipped else ""))
    # facts whose question opened with the card's answers (a document disagreeing with an answer is
    # shown to the user, not counted: the persona's documents agree with its description)
    late = [p for p in svc.document_facts(case.id, lang) if p.current is None]
    if late:
        result = svc.confirm_told(case.id, late, me)
        step("confirm the documents' remaining facts", 1, 0, f"{', '.join(result.recorded)}")

    answers = persona.get("answers") or {}
    asked: list[str] = []
    typed = clicks = 0
    missing: list[str] = []
    while True:
        group = svc.next_group(case.id, frozenset(missing))
        if not group:
            break
        for prompt in group:
            qid = prompt.question.id
            value = answers.get(f"{qid}+" if prompt.followup else qid)
            if value is None:
                missing.append(qid)
                continue
            svc.answer(case.id, qid, str(value), me, followup=prompt.followup)
        asked.append(", ".join(p.question.id + ("(follow-up)" if p.followup else "") for p in group))
        if all(p.question.type in ("yes_no", "choice") for p in group):
            clicks += 1
        else:
            typed += 1
    step("answer what is still asked", typed + clicks, typed, "; ".join(asked))
    for target, reason in (persona.get("waive") or {}).items():
        svc.waive(case.id, target, reason, me)
        step(f"waive {target} (with its reason)", 1, 1)
    blockers = [f.message for f in svc.check(case.id) if f.severity == "blocker" and not f.waived]
    ready = not blockers and not missing
    if ready:
        svc.export(case.id, "md", folder / "request.md", lang, me)
        step("export", 1, 0)
    route = svc.route(case.id, lang)
    return {
        "persona": persona["device"], "request_type": persona["request_type"], "ready_to_export": ready,
        "turns": sum(s["turns"] for s in steps), "typed": sum(s["typed"] for s in steps),
        "steps": steps, "unanswered": missing, "blockers": blockers, "route": route.conclusion,
        "configuration": "offline rules (no language model), service replay",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persona", action="append", help="persona name(s) (default: every one)")
    parser.add_argument("--out", default=str(ROOT / "evals" / "results"))
    args = parser.parse_args()
    names = args.persona or sorted(p.stem for p in PERSONAS.glob("*.yaml"))
    for name in names:
        persona = yaml.safe_load((PERSONAS / f"{name}.yaml").read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            report = replay(persona, Path(tmp), Path(tmp) / "home")
        for s in report["steps"]:
            print(f"{s['turns']:>3} turns ({s['typed']} typed)  {s['step']}  {s['detail'][:160]}")
        print(f"{name}: {report['turns']} turns, {report['typed']} typed; ready to export: {report['ready_to_export']}"
              f"; route: {report['route']}")
        if report["unanswered"]:
            print(f"  no answer in the persona for: {', '.join(report['unanswered'])}")
        for b in report["blockers"]:
            print(f"  blocker: {b}")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"conversation-{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
