"""The app as the user meets it, in a real headless Chromium, in the DEFAULT configuration
(retrieval on, e5-small, the example individual case's five documents attached first), beside a
baseline tree measured in the same run (a benchmark, not a test):

- the 44-answer interview of examples/individual/build.sh replayed in the chat: per turn, from
  Enter to the next question rendered (the script idle again with one more chat message);
  median and p95;
- consultant actions, clicked as a user does (no reload): switch the role to the consultant's,
  approve a section, add a comment, switch the text language and back; and the consultant's page
  opened from its address (a full page load);
- Check & export: the panel rendered when opened from its address (a page load) and when reached
  from the interview (one click on the view), and the DOCX file ready to download (when no blocker
  remains: the 44 answers replayed leave some, so it is not timed).

A turn that draws no new question within 90 s stops the replay; what the page showed then is saved
(a screenshot and the page's text, in a temporary folder named on stderr).

    python evals/bench_browser.py --baseline /path/to/checkout-of-main

Chromium is Debian's (/usr/bin/chromium, never `playwright install`). Each tree runs its own
`streamlit run` (PYTHONPATH set to it, same virtual environment) on a data home of its own with the
same knowledge base (built once, copied). Writes evals/results/bench_browser.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict, deque
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "evals" / "results"
sys.path.insert(0, str(ROOT))

IDLE = """(before) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!(app && app.getAttribute('data-test-script-state') === 'notRunning'
          && app.getAttribute('data-test-connection-state') === 'CONNECTED')) return false;
    if (before === null) return true;
    const shown = document.querySelectorAll('[data-testid="stChatMessage"]');
    return shown.length > 0 && shown[shown.length - 1].innerText !== before;  // the next question is drawn
}"""
TIMEOUT_MS = 600_000
TURNS = 44
TURN_TIMEOUT_MS = 90_000  # a turn that draws no new question in this time ends the replay
FILLERS = {"date": "15/01/2025", "number": "1",
           "text": "Aucun autre élément à signaler à ce stade ; le dossier complet est joint à la demande."}


def _answers() -> dict[str, deque]:
    """The example's answers, by question, in the order given (a thin answer before its follow-up)."""
    out: dict[str, deque] = defaultdict(deque)
    for line in (ROOT / "examples" / "individual" / "build.sh").read_text(encoding="utf-8").splitlines():
        if line.startswith("a "):
            _, question, value = shlex.split(line)
            out[question].append(value)
    return out


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _idle(page, before: str | None = None, timeout: int = TIMEOUT_MS) -> None:
    page.wait_for_function(IDLE, arg=before, timeout=timeout)


def _timed(page, action, before: str | None = None, timeout: int = TIMEOUT_MS) -> float:
    start = time.perf_counter()
    action()
    page.wait_for_timeout(50)  # the rerun has started
    _idle(page, before, timeout)
    return time.perf_counter() - start


def _question(page) -> str:
    """The text of the last chat message: the question asked now."""
    return page.locator('[data-testid="stChatMessage"]').last.inner_text()


def measure(tree: Path, index: Path, models: Path, browser) -> dict:
    from assistant.case.store import CaseStore
    from assistant.service import Service

    home = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    shutil.copytree(index, home / "index", ignore=shutil.ignore_patterns("passages", "cases", "jobs"))
    env = {**os.environ, "PYTHONPATH": str(tree), "DEROGATION_HOME": str(home), "DEROGATION_MODELS": str(models),
           "DEROGATION_USER": "bench", "PATH": f"{BIN}:{os.environ['PATH']}",
           "DEROGATION_ATTACH_WAIT": "1"}  # the documents indexed before the browser opens
    env.pop("DEROGATION_RETRIEVAL", None)
    d = str(BIN / "derogation")

    def cli(*args: str) -> str:
        return subprocess.run([d, *args], env=env, cwd=tree, capture_output=True, text=True, check=True).stdout

    case_id = cli("new", "--authority", "ansm", "--type", "individual", "--device", "Valvix TMV-28").strip().split()[-1]
    evidence = home / "evidence"
    subprocess.run([sys.executable, "examples/make_evidence.py", str(evidence)], env=env, cwd=tree, check=True,
                   capture_output=True)
    for name, kind in (("lettre-medecin-P-014.pdf", "clinician_letter"), ("rapport-evaluation-clinique.pdf", "clinical_data"),
                       ("certificat-ce-MDD.pdf", None),
                       ("organisme-notifie-accuse-reception.pdf", "notified_body_correspondence"),
                       ("declaration-conformite-annexe-I.pdf", "declaration_of_conformity")):
        cli("attach", case_id, str(evidence / "individual" / name), *(["--kind", kind] if kind else []))
    cli("check", case_id)  # what a user who ran the CLI first has: the documents indexed
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(tree / "ui" / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    out: dict = {}
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        svc = Service(CaseStore(home), knowledge=None)  # reads the store only: which question is asked
        answers = _answers()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/?case={case_id}&view=interview&user=bench&lang=en")
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=TIMEOUT_MS)
        _idle(page)
        # the chat opens on the facts read in the attached documents, then on "describe your request":
        # this replay answers question by question, as the example's script does
        # (each click waited for until its rerun has removed what was clicked: under load the rerun can
        # start later than any fixed pause, and an answer typed before it would be read with the
        # previous page's chat mode, as a description: the replay then stalled at its first answer)
        for label, container in (("Discard all", ".st-key-told-card"),
                                 ("I prefer to answer question by question", ".st-key-chat-opening")):
            button = page.get_by_role("button", name=label)
            if button.count():
                button.first.click()
                page.locator(container).wait_for(state="detached", timeout=TIMEOUT_MS)
                _idle(page)
        page.locator(".st-key-chat-question, .st-key-chat-block").first.wait_for(timeout=TIMEOUT_MS)
        turns = []
        while True:
            prompt = svc.next_question(case_id)
            if prompt is None or len(turns) >= TURNS:
                break
            q = prompt.question
            if answers.get(q.id):
                text = answers[q.id].popleft()
            elif q.type == "yes_no":  # a screening question the example's CLI script does not need
                text = "no"
            elif q.type == "choice":
                text = q.options[0]
            else:  # a question the example's CLI script leaves out (optional): a plausible answer
                text = FILLERS.get(q.type, FILLERS["text"])
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill(text)
            before = _question(page)
            try:
                turns.append(_timed(page, lambda box=box: box.press("Enter"), before, TURN_TIMEOUT_MS))
            except PlaywrightTimeout:  # the page did not move on (a tree that asks otherwise): stop here
                out["chat replay stopped at"] = q.id
                shot = Path(tempfile.mkdtemp(prefix="bench-browser-stall-"))
                page.screenshot(path=str(shot / "page.png"), full_page=True)
                (shot / "page.txt").write_text(page.locator("body").inner_text(), encoding="utf-8")
                print(f"stalled at {q.id}: what the page showed is in {shot}", file=sys.stderr, flush=True)
                _idle(page)
                break
        out["chat turns replayed"] = len(turns)
        out["chat turn median (s)"] = statistics.median(turns)
        out["chat turn p95 (s)"] = sorted(turns)[max(0, round(0.95 * len(turns)) - 1)]
        out["chat turn max (s)"] = max(turns)
        # the consultant's actions as a user makes them: clicks on the page (no reload), in open mode
        main = page.get_by_test_id("stMain")
        out["consultant: switch role (s)"] = _timed(
            page, lambda: page.get_by_test_id("stSidebar").get_by_text("Regulatory consultant").click())
        approve = page.get_by_role("button", name="Approve", exact=True)
        approve.wait_for(timeout=TIMEOUT_MS)

        def action(name: str, do) -> None:
            """One figure; an action this tree's page does not offer is reported, not fatal."""
            try:
                out[name] = do()
            except PlaywrightTimeout:
                out[name] = "failed"
                _idle(page)

        action("consultant: approve (s)", lambda: _timed(page, lambda: approve.click()))

        def comment() -> float:
            page.get_by_role("tab", name="Comments (0)").click()
            page.get_by_label("Your comment").fill("Préciser la source du chiffre de 88 %.")
            page.get_by_label("Your comment").press("Tab")  # the text is sent when the box loses focus
            _idle(page)
            add = page.get_by_role("button", name="Add the comment")
            return _timed(page, lambda: add.click(timeout=60_000))

        action("consultant: comment (s)", comment)
        action("consultant: switch text language (s)",
               lambda: _timed(page, lambda: main.get_by_text("English", exact=True).first.click()))
        action("consultant: switch text language back (s)",
               lambda: _timed(page, lambda: main.get_by_text("Français", exact=True).first.click()))
        out["consultant: open the page by its address (s)"] = _timed(
            page, lambda: page.goto(f"{url}/?role=consultant&case={case_id}&section=need&user=a.reviewer&lang=en"))
        cli("waive", case_id, "precautions_certificate", "--reason", "benchmark: waived to time the export")
        for section in svc.sections(case_id):
            cli("--role", "consultant", "approve", case_id, section.id)
        out["export panel (s)"] = _timed(page, lambda: page.goto(f"{url}/?case={case_id}&view=export&user=bench&lang=en"))
        # the same panel as a user reaches it from the interview: a click on the view, no page load
        page.goto(f"{url}/?case={case_id}&view=interview&user=bench&lang=en")
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=TIMEOUT_MS)
        _idle(page)
        action("export panel from the interview, one click (s)", lambda: _timed(
            page, lambda: page.get_by_text("Check & export", exact=True).first.click()))
        if page.get_by_text("No blocker").count():
            prepare = page.get_by_role("button", name="Prepare Word (DOCX)")
            start = time.perf_counter()
            if prepare.count():  # built on demand (the baseline builds every file with the panel)
                prepare.click()
            page.get_by_role("button", name="Word (DOCX)", exact=True).wait_for(timeout=TIMEOUT_MS)
            _idle(page)
            out["export: DOCX ready to download (s)"] = time.perf_counter() - start
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the baseline commit")
    parser.add_argument("--models", type=Path, default=None, help="converted models, shared (default: a temp dir)")
    parser.add_argument("--index", type=Path, default=None,
                        help="a built knowledge base's index folder to copy (default: build one with corpus sync)")
    parser.add_argument("--no-baseline", action="store_true", help="this tree only (a probe: nothing written)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    models = args.models or Path(tempfile.mkdtemp(prefix="bench-models-"))
    kb_home = Path(tempfile.mkdtemp(prefix="bench-kb-"))
    env = {**os.environ, "DEROGATION_HOME": str(kb_home), "DEROGATION_MODELS": str(models), "PYTHONPATH": str(ROOT)}
    if args.index is None:
        subprocess.run([str(BIN / "derogation"), "corpus", "sync"], env=env, cwd=ROOT, check=True, capture_output=True)
    index = args.index or kb_home / "index"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        new = measure(ROOT, index, models, browser)
        print("now:", json.dumps(new), flush=True)  # kept if the baseline's run fails
        base = measure(args.baseline.resolve(), index, models, browser) if not args.no_baseline else {}
        browser.close()
    print(f"{'in the browser (default configuration)':42} {'baseline':>9} {'now':>9}")
    for k in new:
        print(f"{k:42} {base.get(k, float('nan')):9} {new[k]:9}")
    if args.no_baseline:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_browser.json").write_text(json.dumps({
        "configuration": "default: retrieval on, e5-small, examples/individual's 44 answers and 5 documents",
        "baseline": str(args.baseline), "baseline_figures": base, "figures": new,
    }, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
