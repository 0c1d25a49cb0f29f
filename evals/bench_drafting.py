"""Server-side time of what a user waits for, in the DEFAULT configuration (retrieval on, the
e5-small embedder, the two example cases with their documents, built through the CLI by
examples/*/build.sh), each figure beside a baseline tree measured in the same run (a benchmark,
not a test):

- the first `check` of a case in a new process (what `derogation check` does after its imports);
- a chat turn: an answer recorded, the next question, the readiness (what the app computes
  between submit and the next question), median and p95 over `--turns` turns;
- consultant actions: a comment, an approval, the readiness in the other language (switching
  the text language), the section's versions (back to the generated text);
- each export (Markdown, DOCX, PDF) of the current version.

    python evals/bench_drafting.py --baseline /path/to/checkout-of-main [--turns 20]

Each tree runs in processes of its own with PYTHONPATH set to it (same virtual environment) and a
data home of its own; the knowledge base is built once and copied (the same notes, the same
vectors). Prints a table and writes evals/results/bench_drafting.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "evals" / "results"
TURN_QUESTIONS = ("urgency", "expected_benefit")  # justifications answered in both examples


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def worker(case_ids: list[str], turns: int) -> dict:
    """Runs inside the tree under test (PYTHONPATH): the figures for each case, in ms."""
    from assistant.config import Config
    from assistant.service import Actor, Service

    svc = Service.from_config(Config.from_env())
    maker, consultant = Actor("bench", "manufacturer"), Actor("reviewer", "consultant")
    return {case_id: _one_case(svc, case_id, turns, maker, consultant) for case_id in case_ids}


def _one_case(svc, case_id: str, turns: int, maker, consultant) -> dict:
    row: dict = {"first check in a new process": _ms(lambda: svc.check(case_id))}
    case = svc.case(case_id)
    values = {q: case.answers[q].value for q in TURN_QUESTIONS}
    times = []
    for n in range(turns):
        q = TURN_QUESTIONS[n % 2]
        text = values[q] + ("" if n % 4 < 2 else " ")  # a new case version every turn

        def turn(q=q, text=text) -> None:
            svc.answer(case_id, q, text, maker, replace=True)
            svc.next_question(case_id)
            svc.readiness(case_id)

        times.append(_ms(turn))
    row["chat turn (median)"] = statistics.median(times)
    row["chat turn (p95)"] = sorted(times)[max(0, int(round(0.95 * len(times))) - 1)]
    lang = case.settings.language
    other = "en" if lang == "fr" else "fr"
    section = svc.sections(case_id)[1].id

    def comment() -> None:
        svc.comment(case_id, section, "Préciser la source du chiffre.", consultant)
        svc.readiness(case_id, lang)

    def approve() -> None:
        svc.approve(case_id, section, consultant)
        svc.readiness(case_id, lang)

    row["consultant: comment"] = _ms(comment)
    row["consultant: approve"] = _ms(approve)
    row["consultant: switch text language"] = _ms(lambda: (svc.draft(case_id, other, use_llm=False),
                                                           svc.readiness(case_id, other)))
    row["consultant: section versions"] = _ms(lambda: svc.section_versions(case_id, section, lang))
    found = svc.check(case_id)
    for f in found:  # the examples keep one blocker until their complete.sh: waive it to export
        if f.blocks and not f.waived and (f.question_id or f.evidence_kind):
            svc.waive(case_id, f.question_id or f.evidence_kind, "benchmark: waived to time the export", maker)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("md", "docx", "pdf"):
            try:
                row[f"export {fmt}"] = _ms(lambda fmt=fmt: svc.export(case_id, fmt, Path(tmp) / f"r.{fmt}", None, maker))
            except Exception as exc:  # e.g. a blocker without a waivable target: say so, no figure
                print(f"{case_id}: export {fmt}: {exc}", file=sys.stderr)
    return {k: round(v, 1) for k, v in row.items()}


def _env(tree: Path, home: Path, models: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "DEROGATION_HOME": str(home), "DEROGATION_MODELS": str(models),
           "DEROGATION_USER": "bench", "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHON": sys.executable,
           "DEROGATION_ATTACH_WAIT": "1"}  # the examples' documents indexed before anything is timed
    env.pop("DEROGATION_RETRIEVAL", None)
    return env


def measure(tree: Path, index: Path, models: Path, turns: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix="bench-drafting-"))
    shutil.copytree(index, home / "index", ignore=shutil.ignore_patterns("passages", "cases", "jobs"))
    env = _env(tree, home, models)
    cases = []
    for example in ("individual", "global"):
        built = subprocess.run(["bash", f"examples/{example}/build.sh"], env=env, cwd=tree, capture_output=True,
                               text=True, check=True)
        cases.append(built.stdout.strip().splitlines()[-1])
    done = subprocess.run([sys.executable, __file__, "--worker", *cases, "--turns", str(turns)], env=env, cwd=tree,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return dict(zip(("individual", "global"), result.values(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the baseline commit")
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--models", type=Path, default=None, help="converted models, shared (default: a temp dir)")
    parser.add_argument("--index", type=Path, default=None,
                        help="a built knowledge base's index folder to copy (default: build one with corpus sync)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.turns)))
        return
    if args.baseline is None:
        parser.error("--baseline is required")
    models = args.models or Path(tempfile.mkdtemp(prefix="bench-models-"))
    kb_home = Path(tempfile.mkdtemp(prefix="bench-kb-"))
    if args.index is None:
        subprocess.run([str(BIN / "derogation"), "corpus", "sync"], env=_env(ROOT, kb_home, models), cwd=ROOT,
                       check=True, capture_output=True)
    index = args.index or kb_home / "index"
    base = measure(args.baseline.resolve(), index, models, args.turns)
    new = measure(ROOT, index, models, args.turns)
    rows = []
    print(f"{'server time, ms (default configuration)':44} {'case':11} {'baseline':>10} {'now':>9}")
    for example in ("individual", "global"):
        for what, now in new[example].items():
            rows.append({"case": example, "what": what, "baseline_ms": base[example].get(what), "now_ms": now})
            print(f"{what:44} {example:11} {base[example].get(what, float('nan')):10.1f} {now:9.1f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_drafting.json").write_text(json.dumps({
        "configuration": "default: retrieval on, e5-small, the example cases (examples/*/build.sh) with their documents",
        "baseline": str(args.baseline), "turns": args.turns, "rows": rows,
    }, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
