"""The app's cold start, measured in a real headless Chromium (a benchmark, not a test).

For each of: a one-line Streamlit app (the baseline, same run, same machine) and the product's app
on a case: start `streamlit run` as a fresh process, open the page, and time until (a) the server
answers its health check and (b) the first chat input is rendered in the browser. Retrieval is on,
as a user gets it (the knowledge base is built beforehand, as `make run` does), on the example
individual case with its five documents (examples/individual/build.sh).

    python evals/bench_app.py [--rounds 3]

Prints a table and writes evals/results/bench_app.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
BASELINE_APP = "import streamlit as st\nst.chat_input('Say something')\n"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(app: Path, env: dict[str, str], query: str, browser) -> tuple[float, float]:
    """Seconds from process start to a healthy server, and to a rendered chat input."""
    port = _port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        healthy = time.perf_counter() - start
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/{query}")
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=120_000)
        rendered = time.perf_counter() - start
        page.close()
        return healthy, rendered
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="bench-app-"))
    env = {**os.environ, "DEROGATION_HOME": str(home), "DEROGATION_USER": "bench"}
    env.pop("DEROGATION_RETRIEVAL", None)  # the default: retrieval on
    subprocess.run([sys.executable, "-m", "assistant", "corpus", "sync"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    # the example individual case with its five documents, built through the CLI (indexed: --wait)
    built = subprocess.run(["bash", "examples/individual/build.sh"], cwd=ROOT, check=True, capture_output=True,
                           text=True, env={**env, "DEROGATION_ATTACH_WAIT": "1", "PYTHON": sys.executable,
                                           "DEROGATION": f"{sys.executable} -m assistant"})
    case_id = built.stdout.strip().splitlines()[-1]
    baseline = home / "baseline_app.py"
    baseline.write_text(BASELINE_APP, encoding="utf-8")
    results: dict[str, dict[str, float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, app, query in (("baseline one-line app", baseline, ""),
                                 ("product, manufacturer chat on a case", ROOT / "ui" / "app.py",
                                  f"?role=manufacturer&case={case_id}")):
            runs = [cold_start(app, env, query, browser) for _ in range(args.rounds)]
            results[name] = {
                "healthy_s": round(statistics.median(r[0] for r in runs), 2),
                "first_chat_rendered_s": round(statistics.median(r[1] for r in runs), 2),
            }
        browser.close()
    base, prod = results["baseline one-line app"], results["product, manufacturer chat on a case"]
    out = {"configuration": "default: retrieval on, e5-small, the knowledge base built, examples/individual with its "
                            "5 documents (indexed)", "rounds": args.rounds, "results": results,
           "ratio_first_chat_vs_baseline": round(prod["first_chat_rendered_s"] / base["first_chat_rendered_s"], 1)}
    print(f"{'':40} {'healthy (s)':>12} {'first chat (s)':>15}")
    for name, r in results.items():
        print(f"{name:40} {r['healthy_s']:>12} {r['first_chat_rendered_s']:>15}")
    print(f"ratio (first chat, product / baseline): {out['ratio_first_chat_vs_baseline']}")
    dest = ROOT / "evals" / "results"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "bench_app.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
