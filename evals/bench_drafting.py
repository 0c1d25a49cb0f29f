"""Speed of the offline product, per scenario (evals/scenarios), each figure as a ratio to a
baseline measured in the same run on the same case:

- full offline draft (Service.draft, no LLM)            vs reading the case JSON from disk;
- export rendering (Markdown, DOCX, PDF) of that draft  vs reading the case JSON from disk;
- one chat turn on the server side without an LLM
  (Service.answer + next question + readiness)          vs a minimal answer commit to the journal;
- peak Python memory of a draft and its three exports   vs the peak of reading the case.

Retrieval is off (DEROGATION_RETRIEVAL has no effect here): the figures are the drafter's own.

    python evals/bench_drafting.py [--repeat N] [--only NAME]

Prints a table and writes evals/results/bench_drafting.json. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import evaluation  # noqa: E402
from assistant.case.store import CaseStore  # noqa: E402
from assistant.documents import request as export  # noqa: E402
from assistant.documents.pdf import PdfFontError  # noqa: E402
from assistant.service import Service  # noqa: E402

RESULTS = ROOT / "evals" / "results"
TURN_QUESTION = "urgency"  # a justification answered in every scenario: a typical chat turn


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def peak_kib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 1024, 1)
    finally:
        tracemalloc.stop()


def bench_scenario(svc: Service, scenario: evaluation.Scenario, work: Path, repeat: int) -> dict:
    case_id = evaluation.build_case(svc, scenario, work / "evidence")
    case = svc.case(case_id)
    profile = svc.profile(case)
    lang = scenario.lang
    answer = case.answers[TURN_QUESTION]

    load_ms = median_ms(lambda: svc.store.load(case_id), repeat)

    def minimal_commit() -> None:
        svc.store.commit(case_id, "answered", {"question_id": TURN_QUESTION, "value": answer.value,
                                               "source": "user", "followup": False}, by="bench", role="manufacturer")

    commit_ms = median_ms(minimal_commit, repeat)
    draft_ms = median_ms(lambda: svc.draft(case_id, lang, use_llm=False), repeat)
    draft = svc.draft(case_id, lang, use_llm=False)

    out = work / "exports" / scenario.name
    out.mkdir(parents=True, exist_ok=True)
    renderers = {
        "md": lambda: (out / "request.md").write_text(export.to_markdown(profile, case, draft), encoding="utf-8"),
        "docx": lambda: export.to_docx(profile, case, draft, out / "request.docx"),
        "pdf": lambda: export.to_pdf(profile, case, draft, out / "request.pdf"),
    }
    export_ms: dict[str, float | None] = {}
    for fmt, render in renderers.items():
        try:
            export_ms[fmt] = median_ms(render, max(1, repeat // 2))
        except PdfFontError as exc:  # no Unicode font on this machine: say so rather than guess a figure
            export_ms[fmt] = None
            print(f"{scenario.name}: {fmt} export skipped: {exc}", file=sys.stderr)

    def chat_turn() -> None:
        svc.answer(case_id, TURN_QUESTION, answer.value, evaluation.MANUFACTURER, replace=True)
        svc.next_question(case_id)
        svc.readiness(case_id)

    turn_ms = median_ms(chat_turn, repeat)

    def draft_and_exports() -> None:
        svc.draft(case_id, lang, use_llm=False)
        for fmt, render in renderers.items():
            if export_ms[fmt] is not None:
                render()

    load_peak = peak_kib(lambda: svc.store.load(case_id))
    draft_peak = peak_kib(draft_and_exports)

    def ratio(value: float | None, base: float) -> float | None:
        return None if value is None or not base else round(value / base, 1)

    return {
        "scenario": scenario.name,
        "case_version": svc.case(case_id).version,
        "baseline_load_case_ms": load_ms,
        "baseline_minimal_commit_ms": commit_ms,
        "draft_ms": draft_ms, "draft_ratio": ratio(draft_ms, load_ms),
        "export_ms": export_ms, "export_ratio": {f: ratio(v, load_ms) for f, v in export_ms.items()},
        "chat_turn_ms": turn_ms, "chat_turn_ratio": ratio(turn_ms, commit_ms),
        "baseline_load_peak_kib": load_peak,
        "draft_and_exports_peak_kib": draft_peak, "peak_memory_ratio": ratio(draft_peak, load_peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median kept)")
    parser.add_argument("--only", help="only this scenario")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="derogation-bench-") as tmp:
        work = Path(tmp)
        svc = Service(CaseStore(work / "home"), knowledge=None)
        for scenario in evaluation.load_scenarios(only=args.only):
            rows.append(bench_scenario(svc, scenario, work, args.repeat))
            r = rows[-1]
            e = r["export_ms"]
            print(f"{r['scenario']:34} draft {r['draft_ms']:7.1f} ms (x{r['draft_ratio']})  "
                  f"md {e['md']} docx {e['docx']} pdf {e['pdf']} ms  turn {r['chat_turn_ms']:7.1f} ms "
                  f"(x{r['chat_turn_ratio']})  peak {r['draft_and_exports_peak_kib']:.0f} KiB (x{r['peak_memory_ratio']})")

    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    summary = {
        "scenarios": len(rows),
        "median_draft_ms": med("draft_ms"), "median_draft_ratio": med("draft_ratio"),
        "median_export_ms": {f: round(statistics.median(r["export_ms"][f] for r in rows), 3)
                             for f in ("md", "docx", "pdf") if all(r["export_ms"][f] is not None for r in rows)},
        "median_chat_turn_ms": med("chat_turn_ms"), "median_chat_turn_ratio": med("chat_turn_ratio"),
        "median_baseline_load_case_ms": med("baseline_load_case_ms"),
        "median_baseline_minimal_commit_ms": med("baseline_minimal_commit_ms"),
        "max_draft_and_exports_peak_kib": max(r["draft_and_exports_peak_kib"] for r in rows),
        "process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(summary, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_drafting.json"
    out.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "repeat": args.repeat, "summary": summary, "scenarios": rows,
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
