"""The conversation benchmark replayed in a real browser (a benchmark, not a test): the persona of
evals/persona/<name>.yaml uses the app as a person would, in headless Chromium against `streamlit
run`, and each of its actions is counted as a turn: typing (the device name, the description, an
answer, a block of short answers), a click (a yes/no button, "confirm" on a card, export), an upload
(the PDFs dropped in the chat at once). Offline rules, no language model, retrieval off.

    python evals/bench_conversation_browser.py [--persona cardio_fr]

Prints the turns per step and writes evals/results/conversation-browser-<persona>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.case.store import CaseStore  # noqa: E402
from assistant.documents.pdf import text_pdf  # noqa: E402
from assistant.service import Service, words  # noqa: E402

PERSONAS = Path(__file__).resolve().parent / "persona"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
MAX_TURNS = 80  # a replay that goes on longer is stuck: it stops and says where


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _idle(page) -> None:
    page.wait_for_timeout(600)  # the rerun an action triggers has started
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && app.getAttribute('data-test-connection-state') === 'CONNECTED';
        }""", timeout=180_000)
    page.wait_for_timeout(300)


def replay(persona: dict, page, url: str, svc: Service, folder: Path) -> dict:
    lang = persona.get("lang", "fr")
    steps: list[dict] = []

    def step(name: str, turns: int, typed: int, detail: str = "") -> None:
        steps.append({"step": name, "turns": turns, "typed": typed, "detail": detail})

    page.goto(f"{url}/?lang={lang}")
    _idle(page)
    page.get_by_label(words("home_device", lang)).fill(persona["device"])
    page.get_by_label(words("home_device", lang)).press("Enter")
    _idle(page)
    profile = svc.authorities()[0]
    page.get_by_text(profile.request_type_labels[persona["request_type"]].get(lang), exact=True).click()
    _idle(page)
    page.get_by_role("button", name=words("home_create", lang)).click()
    _idle(page)
    step("create the case (device name typed, request type chosen)", 1, 1)
    case_id = svc.cases()[0].id

    def send(text: str) -> None:
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(text)
        box.press("Enter")
        _idle(page)

    send((PERSONAS / persona["description"]).read_text(encoding="utf-8"))
    step("tell it once: the description", 1, 1)
    pdfs = [str(text_pdf(d["pages"], folder / d["file"])) for d in persona["documents"]]
    page.get_by_test_id("stChatInput").locator("input[type=file]").set_input_files(pdfs)
    page.wait_for_function(  # every file uploaded before sending (the chips show no spinner)
        "() => !document.querySelector('[data-testid=\"stChatInput\"] [data-testid=\"stSpinner\"]')")
    page.wait_for_timeout(6000)
    page.get_by_test_id("stChatInputSubmitButton").click()
    _idle(page)
    attached = len(svc.case(case_id).evidence)
    if attached < len(pdfs):
        alerts = page.get_by_test_id("stAlertContainer")
        print("ALERTS:", [alerts.nth(i).inner_text()[:200] for i in range(alerts.count())])
    step("drop the documents in the chat (one upload)", 1, 0, f"{len(pdfs)} PDFs dropped, {attached} attached")
    cards = 0
    corrected = []
    card = page.locator(".st-key-told-card")
    for doc in persona["documents"]:  # a document the assistant misread: its kind chosen on the card
        ev = next((e for e in svc.case(case_id).evidence if e.filename == doc["file"]), None)
        if doc.get("kind") and ev is not None and ev.kind != doc["kind"]:
            names = {k.id: k.name.get(lang) for k in svc.profile(svc.case(case_id)).evidence_kinds}
            card.get_by_label(doc["file"]).click()
            page.get_by_role("option", name=names[doc["kind"]], exact=True).click()
            corrected.append(doc["file"])
    if corrected:
        step("correct a document's kind on the card", len(corrected), 0, ", ".join(corrected))
    while page.locator(".st-key-told-card").count():
        page.locator(".st-key-told-card").get_by_role("button", name=words("chat_told_confirm", lang)).click()
        _idle(page)
        cards += 1
    step("confirm the card", cards, 0, f"{len(svc.case(case_id).answers)} answers known")

    answers = persona.get("answers") or {}
    by_text = {}
    for q in svc.profile(svc.case(case_id)).all_questions():
        by_text[q.text.get(lang)] = q
    typed = clicks = 0
    asked: list[str] = []
    while typed + clicks < MAX_TURNS:
        block = page.locator(".st-key-chat-block")
        question = page.locator(".st-key-chat-question")
        if block.count():
            inputs = block.locator("input[type=text]")
            ids = []
            for i in range(inputs.count()):
                label = inputs.nth(i).get_attribute("aria-label") or ""
                q = next((q for t, q in by_text.items() if label.startswith(t)), None)
                if q is None or q.id not in answers:
                    raise SystemExit(f"no answer in the persona for the block field {label!r}; known: "
                                     f"{sorted(svc.case(case_id).answers)}")
                inputs.nth(i).fill(str(answers[q.id]))
                ids.append(q.id)
            block.get_by_role("button", name=words("chat_save_block", lang)).click()
            _idle(page)
            typed += 1
            asked.append("+".join(ids))
            continue
        if page.locator(".st-key-told-card").count():  # facts a newly opened question can take
            page.locator(".st-key-told-card").get_by_role("button", name=words("chat_told_confirm", lang)).click()
            _idle(page)
            clicks += 1
            asked.append("(card)")
            continue
        if not question.count():
            if os.environ.get("BENCH_SHOTS"):
                page.screenshot(path=os.path.join(os.environ["BENCH_SHOTS"], "stopped.png"), full_page=True)
                msgs = page.get_by_test_id("stChatMessage")
                print("LAST:", [msgs.nth(i).inner_text()[:300] for i in range(max(0, msgs.count() - 3), msgs.count())])
            break
        text = question.inner_text()
        q = next((q for t, q in by_text.items() if t in text), None)
        followup = q is not None and words("chat_followup_short", lang).split("(")[0].strip() in text
        key = (q.id + "+") if followup and q else (q.id if q else None)
        if key is None or key not in answers:
            raise SystemExit(f"no answer in the persona for: {text[:200]!r}")
        value = str(answers[key])
        if q.type == "yes_no" and not followup:
            label = words(f"chat_{value}", lang).capitalize()
            page.locator(".st-key-chat-question button").filter(has_text=label).first.click()
            _idle(page)
            clicks += 1
        else:
            send(value)
            typed += 1
        asked.append(key)
    step("answer what is still asked", typed + clicks, typed, "; ".join(asked))
    for target, reason in (persona.get("waive") or {}).items():  # in the export panel, with its reason
        page.goto(f"{url}/?case={case_id}&lang={lang}&view=export")
        _idle(page)
        page.get_by_role("button", name="Waive").first.click()
        page.get_by_label("Why can the request go without it?").fill(reason)
        page.get_by_test_id("stPopoverBody").get_by_role("button", name="Waive").click()
        _idle(page)
        step(f"waive {target} (with its reason)", 1, 1)
    blockers = [f.message for f in svc.check(case_id) if f.severity == "blocker" and not f.waived]
    ready = not blockers
    if ready:
        step("export", 1, 0)
    return {
        "persona": persona["device"], "request_type": persona["request_type"], "ready_to_export": ready,
        "turns": sum(s["turns"] for s in steps), "typed": sum(s["typed"] for s in steps), "steps": steps,
        "blockers": blockers, "configuration": "offline rules (no language model), headless Chromium against "
                                                "streamlit run, retrieval off",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persona", default="cardio_fr")
    parser.add_argument("--out", default=str(ROOT / "evals" / "results"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    persona = yaml.safe_load((PERSONAS / f"{args.persona}.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="bench-conv-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {**os.environ, "DEROGATION_HOME": str(home), "DEROGATION_USER": "persona",
               "DEROGATION_RETRIEVAL": "off"}
        port = _port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            os.environ["DEROGATION_HOME"] = str(home)
            svc = Service(CaseStore(home), knowledge=None)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(180_000)
                report = replay(persona, page, f"http://127.0.0.1:{port}", svc, Path(tmp))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    for s in report["steps"]:
        print(f"{s['turns']:>3} turns ({s['typed']} typed)  {s['step']}  {s['detail'][:160]}")
    print(f"{args.persona} (browser): {report['turns']} turns, {report['typed']} typed; "
          f"ready to export: {report['ready_to_export']}")
    for b in report["blockers"]:
        print(f"  blocker: {b}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"conversation-browser-{args.persona}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
