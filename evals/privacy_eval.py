"""Patient identifiers against the product, end to end (issue 12; data: evals/adversarial/identifiers.yaml).

For each of the 58 texts (44 patient identifiers, 14 controls), on a fresh individual case of a real
Service (real store, real PDF, no knowledge base):

1. **Screen.** The text is typed as the answer to its question (`svc.answer`; a patient field
   refuses an identifier, any other field records it and the check warns), or, for
   `document:<kind>`, written into a PDF attached as that kind (`svc.attach` returns the warnings).
   An answer the question's type refuses (a sentence for a date question) is screened with the
   same detectors directly. *Caught*: the identifier was refused or warned about. *Wrongly
   flagged*: a control's value is quoted in a refusal or warning.
2. **Sent.** The text goes to a language model the way the product sends it (`propose_facts` for
   an answer, `propose_facts_from_document` for a document), with DEFAULT settings, to the local
   scripted OpenAI-compatible server (tests/llm_server.py) listening on a NON-loopback address of
   this machine, so the product treats it as a server elsewhere. *Reached*: the identifier (as
   written) is in what the server received. *Control altered*: a control's value is not.

Run: `.venv/bin/python evals/privacy_eval.py` (about 10 s). Writes evals/results/privacy.json.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from llm_server import ScriptedLLMServer, machine_address  # noqa: E402

from assistant.case.privacy import screen  # noqa: E402
from assistant.case.store import CaseStore  # noqa: E402
from assistant.config import Config  # noqa: E402
from assistant.documents.pdf import text_pdf  # noqa: E402
from assistant.service import Actor, Service, ServiceError  # noqa: E402

DATA = ROOT / "evals" / "adversarial" / "identifiers.yaml"
OUT = ROOT / "evals" / "results" / "privacy.json"
ACTOR = Actor("eval", "manufacturer")


def _flagged(messages: list[str], value: str) -> bool:
    """A refusal or warning quotes `value` (or a part of it at least 4 characters long) as an
    identifier (the pseudonym field's own format rule, which cites "P-014" as its example, aside)."""
    parts = [value, *[p for p in value.replace(",", " ").split() if len(p) >= 4]]
    messages = [re.sub(r"(?:; )?a pseudonym is a short code[^;]*", "", m) for m in messages]
    return any(p in m for m in messages for p in parts)


def run_item(svc: Service, server: ScriptedLLMServer, item: dict, folder: Path) -> dict:
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", ACTOR)
    svc.answer(case.id, "patient_pseudonym", "P-014", ACTOR)
    svc.answer(case.id, "previously_ce_marked", "oui", ACTOR)
    field, text, value = item["field"], item["text"], item["identifier"]
    before = len(server.requests)
    messages: list[str] = []
    how = ""
    if field.startswith("document:"):
        kind = field.split(":", 1)[1]
        pdf = text_pdf([text], folder / f"{item['id']}.pdf")
        attached = svc.attach(case.id, pdf, ACTOR, kind=kind)
        messages += attached.warnings
        how = "attach"
        svc.propose_facts_from_document(case.id, attached.file.id, item["lang"])
    else:
        try:
            svc.answer(case.id, field, text, ACTOR)
            messages += svc.privacy_warnings(case.id, item["lang"])
            how = "answer"
        except ServiceError as exc:
            if "patient data" in str(exc):
                messages.append(str(exc))
                how = "refused"
            else:  # not an answer of this question's type: the same detectors on the text
                messages += [f"{f.kind}: {f.value}" for f in screen(text)]
                how = "screen"
        svc.propose_facts(case.id, text, item["lang"])
    sent = "\n".join(r.text for r in server.requests[before:])
    flagged = bool(messages) if item["must_redact"] else _flagged(messages, value)
    return {
        "id": item["id"], "kind": item["kind"], "must_redact": item["must_redact"], "field": field, "how": how,
        "screen_flagged": flagged, "calls": len(server.requests) - before,
        "reached_server": (value in sent) if item["must_redact"] else None,
        "control_kept": (value in sent) if not item["must_redact"] else None,
    }


def main() -> int:
    address = machine_address()
    if address is None:
        print("error: this machine has no non-loopback address to serve the model from", file=sys.stderr)
        return 2
    items = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    server = ScriptedLLMServer(address)
    server.always('{"facts": []}')
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Config.from_env({
                "DEROGATION_HOME": str(Path(tmp) / "home"), "DEROGATION_RETRIEVAL": "off",
                "DEROGATION_LLM": "openai-compatible", "DEROGATION_LLM_MODEL": "scripted-model",
                "OPENAI_BASE_URL": server.url, "DEROGATION_LLM_MAX_RETRIES": "0",
            })
            svc = Service(CaseStore(config.ensure_home()), knowledge=None, config=config)
            status = svc.llm_status()
            assert status["server_on_this_machine"] is False and status["redacting"], status
            rows = [run_item(svc, server, item, Path(tmp)) for item in items]
    finally:
        server.close()
    ids = [r for r in rows if r["must_redact"]]
    controls = [r for r in rows if not r["must_redact"]]
    reached = [r for r in ids if r["reached_server"]]
    kinds = Counter(r["kind"] for r in ids)
    result = {
        "configuration": f"default LLM settings; scripted OpenAI-compatible server on {address} (not loopback: "
                         "treated as not on this machine); no knowledge base",
        "identifiers": len(ids), "identifier_kinds": len(kinds), "controls": len(controls),
        "screen_caught": sum(r["screen_flagged"] for r in ids),
        "controls_wrongly_flagged": sum(r["screen_flagged"] for r in controls),
        "identifiers_reaching_server": len(reached),
        "identifier_kinds_reaching_server": len({r["kind"] for r in reached}),
        "controls_altered_before_sending": sum(not r["control_kept"] for r in controls),
        "calls_to_server": sum(r["calls"] for r in rows),
        "seconds": round(time.monotonic() - started, 1),
        "items": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"identifiers caught by the screen:        {result['screen_caught']} of {len(ids)}")
    print(f"controls wrongly flagged by the screen:  {result['controls_wrongly_flagged']} of {len(controls)}")
    print(f"identifiers reaching a non-local server: {len(reached)} of {len(ids)} "
          f"({result['identifier_kinds_reaching_server']} of {len(kinds)} kinds)")
    print(f"controls altered before sending:         {result['controls_altered_before_sending']} of {len(controls)}")
    for r in rows:
        bad = (r["must_redact"] and (r["reached_server"] or not r["screen_flagged"])) or (
            not r["must_redact"] and (r["screen_flagged"] or not r["control_kept"]))
        if bad:
            print(f"  {r['id']} {r['kind']} ({r['field']}, {r['how']}): flagged={r['screen_flagged']} "
                  f"reached={r['reached_server']} kept={r['control_kept']}")
    print(f"({result['calls_to_server']} calls, {result['seconds']} s) -> {OUT.relative_to(ROOT)}")
    return 0 if not reached and not result["controls_wrongly_flagged"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
