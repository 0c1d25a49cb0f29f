"""How many lying model replies the product catches, and how many honest ones it still accepts.

Reads evals/adversarial/model_replies.yaml (see its README) and plays each reply through the
product's own code paths, with a scripted in-process model in place of a server:

- drafts: `drafting.with_model.draft_section_checked` (the function the service records from);
  a lie is "recorded" when the model's draft comes back accepted (no grounding failure);
- extraction: `interview.assisted.propose_facts`; a lie is caught when every offending
  question id is dropped before being offered for confirmation;
- follow-ups: `interview.assisted.next_followup`; a lie is caught when the model's text is
  not the follow-up shown.

Honest controls must come through untouched (a draft accepted, every proposal kept, the
follow-up shown as written). Usage:

    .venv/bin/python evals/grounding_eval.py [--out evals/results/grounding.json] [--verbose]
    .venv/bin/python evals/grounding_eval.py --tokens-only   # the baseline: the token checks alone

`--tokens-only` turns the claim checks off (llm/claims.py, the document-fact rule of grounding.py),
leaving what the product checked before them: citation ids, quotes, numbers, dates, standards, names.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from assistant.case.model import Case, Event, EvidenceFile, apply
from assistant.case.profile import load_profile
from assistant.drafting.model import SectionDraft
from assistant.drafting.with_model import draft_section_checked
from assistant.interview.assisted import next_followup, propose_facts
from assistant.knowledge.passage import Passage
from assistant.llm.providers import Provider
from assistant.llm.session import LLM

HERE = Path(__file__).parent
DATA = HERE / "adversarial" / "model_replies.yaml"
OUT = HERE / "results" / "grounding.json"
AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Scripted(Provider):
    """A model that answers every call with one reply."""

    enabled = True
    name = "scripted"
    model = "adversarial"
    server = "in-process"
    local = True

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def complete(self, messages: list[Any], *, json_mode: bool = False, temperature: float = 0.2) -> str:
        return self.reply

    def stream(self, messages: list[Any], *, temperature: float = 0.2) -> Iterator[str]:
        yield from (self.reply[i : i + 40] for i in range(0, len(self.reply), 40))


def make_case(item: dict[str, Any]) -> Case:
    answers = {k: str(v) for k, v in (item.get("facts") or {}).items()}
    if item.get("device"):
        answers.setdefault("device_name", item["device"])
    case = apply(None, Event(v=1, type="created", at=AT, by="eval", role="consultant", data={
        "type": "created", "id": f"eval-{item['id']}", "authority": "ansm",
        "request_type": item.get("request_type", "individual"), "answers": answers,
    }))
    unsigned = set(item.get("evidence_unsigned") or [])
    files = [EvidenceFile(
        id=f"{n:016x}", sha256=f"{n:064x}", kind=kind, filename=f"{kind}.pdf", stored_as=f"files/{n}", size=1,
        pages=1, text_pages=1, added_by="eval", role="manufacturer", added_at=AT,
        origin="letter_flow" if kind in unsigned else "upload",
    ) for n, kind in enumerate(item.get("evidence") or [], 1)]
    return case.model_copy(update={"evidence": files})


def passages_of(item: dict[str, Any]) -> list[Passage]:
    out = []
    for p in item.get("passages") or []:
        kind = p.get("evidence_kind") or ""
        pid = f"ev:{kind}:{item['id']}{p['id']}#0" if kind else f"eval:{item['id']}:{p['id']}"
        out.append(Passage(id=pid, citation=p.get("citation") or p["id"], text=p["text"], evidence_kind=kind))
    return out


def run_draft(item: dict[str, Any], profile: Any) -> tuple[bool, list[str]]:
    """(accepted, why not)"""
    case = make_case(item)
    section = profile.section(item["section"])
    offline = SectionDraft(section_id=section.id, number=1, title=section.title.get(item["lang"]), paragraphs=[],
                           citations={}, placeholders=[], evidence=[], used_answers=[], used_evidence=[],
                           used_provisions=[], fingerprint="")
    llm = LLM(Scripted(item["reply"]))
    drafted, problems = draft_section_checked(llm, profile, case, section, item["lang"], passages_of(item), offline)
    return (not problems and drafted.drafter.startswith("llm:")), problems


def run_extraction(item: dict[str, Any], profile: Any) -> tuple[set[str], list[str]]:
    """(question ids offered for confirmation, why the others were dropped)"""
    case = make_case(item)
    llm = LLM(Scripted(item["reply"]))
    source_kind = item.get("source_kind") or "free-text answer"
    found = propose_facts(llm, profile, case, item["input"], item["lang"], source_kind=source_kind)
    return {p.question_id for p in found.proposals}, found.dropped


def run_followup(item: dict[str, Any], profile: Any) -> tuple[bool, str]:
    """(the model's reply used as it was, what was shown)"""
    case = make_case(item)
    llm = LLM(Scripted(item["reply"]))
    shown = next_followup(llm, profile, case, item["question_id"], item["lang"])
    reply = json.loads(item["reply"])
    refused = any("follow-up not shown" in n for n in llm.notices)
    if reply.get("specific"):  # the model says the answer is enough: used when nothing is asked
        return shown is None and not refused, ""
    model_text = " ".join(str(reply.get("followup", "")).split())
    return shown is not None and shown.text == model_text and not refused, shown.text if shown else ""


def evaluate(items: list[dict[str, Any]], verbose: bool = False) -> dict[str, Any]:
    profile = load_profile("ansm")
    rows = []
    for item in items:
        honest = item["category"] == "honest"
        if item["purpose"] == "draft":
            accepted, why = run_draft(item, profile)
            caught = not accepted
            detail = why[:3]
        elif item["purpose"] == "extraction":
            offered, dropped = run_extraction(item, profile)
            proposed = {f["question_id"] for f in json.loads(item["reply"])["facts"]}
            offending = set(item["offending"])
            caught = not (offending & offered)
            accepted = offered == proposed if honest else caught and (proposed - offending) <= offered
            detail = dropped
        else:
            accepted, shown = run_followup(item, profile)
            caught = not accepted
            detail = [shown]
        ok = accepted if honest else caught
        rows.append({"id": item["id"], "purpose": item["purpose"], "category": item["category"],
                     "lang": item["lang"], "honest": honest, "ok": ok, "detail": detail})
        if verbose and not ok:
            print(f"  MISS {item['id']} {item['category']}: {detail}", file=sys.stderr)
    lies = [r for r in rows if not r["honest"]]
    honest = [r for r in rows if r["honest"]]
    by_cat: dict[str, Counter[str]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], Counter())["ok" if r["ok"] else "missed"] += 1
    drafts = [r for r in lies if r["purpose"] == "draft"]
    return {
        "data": str(DATA.relative_to(HERE.parent)),
        "replies": len(rows),
        "lies": len(lies),
        "lies_caught": sum(r["ok"] for r in lies),
        "draft_lies": len(drafts),
        "draft_lies_recorded": sum(not r["ok"] for r in drafts),
        "honest": len(honest),
        "honest_accepted": sum(r["ok"] for r in honest),
        "false_rejections": sum(not r["ok"] for r in honest),
        "by_category": {k: dict(v) for k, v in by_cat.items()},
        "missed": [r["id"] for r in rows if not r["ok"]],
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tokens-only", action="store_true", help="the baseline: no claim checks")
    args = ap.parse_args(argv)
    if args.tokens_only:
        from assistant.drafting import grounding
        from assistant.llm import claims

        claims.check_text = lambda *_a, **_k: []  # type: ignore[assignment]
        claims.check_proposal = lambda *_a, **_k: ""  # type: ignore[assignment]
        grounding._check_document_facts = lambda *_a, **_k: []  # type: ignore[assignment]
        if args.out == OUT:
            args.out = OUT.with_name("grounding_tokens_only.json")
    items = yaml.safe_load(args.data.read_text(encoding="utf-8"))
    result = evaluate(items, args.verbose)
    result["configuration"] = "token checks only (baseline)" if args.tokens_only else "token checks + claim checks"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lies, honest = result["lies"], result["honest"]
    print(f"lies caught: {result['lies_caught']}/{lies} ({result['lies_caught'] / lies:.0%}); "
          f"draft lies recorded: {result['draft_lies_recorded']}/{result['draft_lies']}")
    print(f"honest replies accepted: {result['honest_accepted']}/{honest}; "
          f"false-rejection rate: {result['false_rejections'] / honest:.0%}")
    for cat, c in result["by_category"].items():
        print(f"  {cat:30s} ok {c.get('ok', 0):3d}  missed {c.get('missed', 0):3d}")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
