"""The CLI as the user meets it: whole `derogation …` processes, timed from outside, in the DEFAULT
configuration (retrieval on, the e5-small embedder, the example individual case with its five
documents, built by examples/individual/build.sh), beside `python -c pass` and beside a baseline
tree measured in the same run (a benchmark, not a test).

    python evals/bench_cli.py --baseline /path/to/checkout-of-main [--rounds 5]

Each tree runs with PYTHONPATH set to it (same virtual environment), in a data home of its own,
sharing only the converted embedding model (DEROGATION_MODELS). Per tree: the first knowledge-base
build (`corpus sync` on an empty home) and the second (nothing to do), the example case built
through the CLI (its five `attach`), then each command `--rounds` times (median, and the peak
resident memory from /usr/bin/time), then one more small PDF attached and the `check` right after
(this tree's `attach` returns once the PDF is recorded and a worker process indexes it: the time
until that worker is done, and a `check` then, are measured too).
Prints a table and writes evals/results/bench_cli.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "evals" / "results"


def run(cmd: list[str], env: dict, cwd: Path) -> tuple[float, int, str]:
    """Seconds, peak RSS (MB) and stdout of one whole process."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr[-800:]}")
    rss = int(out.stderr.strip().splitlines()[-1]) // 1024
    return seconds, rss, out.stdout


def _wait_for_worker(home: Path, case: str, limit: float = 600) -> None:
    """Until the case's index worker (`derogation attach` in the background) is done."""
    from assistant.service import indexer

    start = time.perf_counter()
    while indexer.running(home, case) and time.perf_counter() - start < limit:
        time.sleep(0.05)


def measure(tree: Path, models: Path, rounds: int, index: Path | None, prepared: Path | None = None) -> dict:
    home = prepared or Path(tempfile.mkdtemp(prefix="bench-cli-"))
    if index is not None and prepared is None:  # a built knowledge base, copied: the first build is not measured
        import shutil

        shutil.copytree(index, home / "index", ignore=shutil.ignore_patterns("passages", "cases", "jobs"))
    env = {**os.environ, "PYTHONPATH": str(tree), "DEROGATION_HOME": str(home), "DEROGATION_MODELS": str(models),
           "DEROGATION_USER": "bench", "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHON": sys.executable}
    env.pop("DEROGATION_RETRIEVAL", None)
    d = str(BIN / "derogation")
    out: dict = {}
    if index is None and prepared is None:
        out["first knowledge-base build (corpus sync)"] = [run([d, "corpus", "sync"], env, tree)[:2]]
    out["second start (corpus sync, nothing to do)"] = [run([d, "corpus", "sync"], env, tree)[:2]]
    if prepared is None:  # its documents indexed as they are attached (this tree's attach waits for it)
        seconds, rss, built = run(["bash", "examples/individual/build.sh"], {**env, "DEROGATION_ATTACH_WAIT": "1"}, tree)
        out["example case built through the CLI (44 answers, 5 attach)"] = [(seconds, rss)]
        case = built.strip().splitlines()[-1]
    else:  # a home where that tree built the example before (and checked it once, as a user would)
        case = json.loads(run([d, "cases", "--json"], env, tree)[2])[-1]["id"]
        run([d, "check", case], env, tree)
    # the example keeps one blocker until its complete.sh: waived, so that `export` writes the file
    run([d, "waive", case, "precautions_certificate", "--reason", "benchmark: waived to time the export"], env, tree)
    run([d, "check", case], env, tree)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "derogation --help": [d, "--help"],
        "answer": [d, "answer", case, "other_approvals", "aucune", "--replace"],
        "questions": [d, "questions", case],
        "cases": [d, "cases"],
        "check": [d, "check", case],
        "draft": [d, "draft", case, "--lang", "fr"],
        "export --format docx": [d, "export", case, "--format", "docx", "--out", str(home / "out.docx")],
        "search": [d, "search", "accès dérogatoire"],
    }
    for name, cmd in commands.items():
        out[name] = [run(cmd, env, tree)[:2] for _ in range(rounds)]
    from assistant.documents.pdf import text_pdf

    pdf = text_pdf(["Instructions d'utilisation : à conserver entre 5 et 25 °C."], home / "notice.pdf")
    out["attach one small PDF"] = [run([d, "attach", case, str(pdf), "--kind", "clinical_data"], env, tree)[:2]]
    out["check just after that attach"] = [run([d, "check", case], env, tree)[:2]]
    _wait_for_worker(home, case)
    out["check once it is indexed"] = [run([d, "check", case], env, tree)[:2]]
    pdf = text_pdf(["Notice : stérilisé à l'oxyde d'éthylène, à usage unique."], home / "notice-2.pdf")
    start = time.perf_counter()
    run([d, "attach", case, str(pdf), "--kind", "clinical_data"], env, tree)
    _wait_for_worker(home, case)  # this tree indexes in a worker process; the baseline before attach returns
    out["attach a small PDF until it is indexed"] = [(time.perf_counter() - start, 0)]
    return {name: {"median_s": round(statistics.median(s for s, _ in v), 3), "peak_rss_mb": max(r for _, r in v),
                   "runs": len(v)} for name, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the baseline commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", type=Path, default=None, help="converted models, shared (default: a temp dir)")
    parser.add_argument("--index", type=Path, default=None,
                        help="a built knowledge base's index folder to copy (then the first build is not measured)")
    parser.add_argument("--prepared", type=Path, nargs=2, metavar=("BASELINE_HOME", "NOW_HOME"),
                        help="data homes where each tree already built examples/individual (nothing is built)")
    args = parser.parse_args()
    models = args.models or Path(tempfile.mkdtemp(prefix="bench-models-"))
    homes = args.prepared or (None, None)
    base = measure(args.baseline.resolve(), models, args.rounds, args.index, homes[0])
    new = measure(ROOT, models, args.rounds, args.index, homes[1])
    rows = [{"what": k, "baseline_s": base[k]["median_s"], "now_s": new[k]["median_s"],
             "baseline_rss_mb": base[k]["peak_rss_mb"], "now_rss_mb": new[k]["peak_rss_mb"]} for k in new]
    print(f"{'whole process (median)':58} {'baseline':>9} {'now':>8} {'RSS base':>9} {'RSS now':>8}")
    for r in rows:
        print(f"{r['what']:58} {r['baseline_s']:8.2f}s {r['now_s']:7.2f}s {r['baseline_rss_mb']:7d}MB {r['now_rss_mb']:6d}MB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_cli.json").write_text(json.dumps({
        "configuration": "default: retrieval on, e5-small, the example individual case with its 5 documents",
        "baseline": str(args.baseline), "rounds": args.rounds, "rows": rows,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
