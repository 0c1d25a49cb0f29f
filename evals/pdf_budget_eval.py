"""Hostile and real-world PDFs against the attach path, as a user meets it (issue 12).

Every file is attached to one case of a real Service in the DEFAULT configuration (retrieval on), the
way the app does it: the document is read in the budgeted worker and recorded, and the attach
returns; it is then indexed in the background (`index="later"`), which is waited for and timed
apart, before the next file. Then the case is checked once. A file *stalls* when the attach keeps
the user waiting longer than the reading budget allows (`STALL_SECONDS`, the worker's wall-clock
limit plus a margin), when its background indexing does not end within `INDEX_SECONDS`, or when it
ends in anything but a recorded document or a clear refusal (a `ServiceError`). Files:

- the 9 hostile PDFs of `evals/adversarial/pdfs.py` (written afresh, each < 2 MB);
- the 31 real-world PDFs of `../shared/reference/pdfs` (read in place, never copied).

Run: `.venv/bin/python evals/pdf_budget_eval.py` (a few minutes; needs the knowledge base, built on
first use). Writes evals/results/pdf_budget.json and prints one line per file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "evals" / "adversarial"))

import pdfs as hostile  # noqa: E402

from assistant.config import Config  # noqa: E402
from assistant.service import Actor, Service, ServiceError  # noqa: E402

REAL_PDFS = ROOT.parent / "shared" / "reference" / "pdfs"
STALL_SECONDS = 60.0  # the reading worker is killed after 40 s of wall clock
INDEX_SECONDS = 900.0  # a background indexing still running after this long counts as stalled
ACTOR = Actor(name="eval", role="manufacturer")


def attach_one(svc: Service, case_id: str, path: Path) -> dict:
    start = time.monotonic()
    try:
        result = svc.attach(case_id, path, ACTOR, kind="clinical_data", index="later")  # as the app does
        outcome, message = "recorded", "; ".join(result.warnings)[:300]
    except ServiceError as exc:
        outcome, message = "refused", str(exc)[:300]
    except Exception as exc:  # noqa: BLE001 - what is measured: anything else is a failure
        outcome, message = "crashed", f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.monotonic() - start
    if outcome == "recorded":
        svc.index_evidence_later(case_id)
    while svc.indexing(case_id) is not None and time.monotonic() - start < seconds + INDEX_SECONDS:
        time.sleep(0.2)
    indexed = time.monotonic() - start - seconds
    stalled = seconds > STALL_SECONDS or indexed > INDEX_SECONDS or outcome == "crashed"
    return {"file": path.name, "outcome": outcome, "seconds": round(seconds, 2), "indexing_s": round(indexed, 1),
            "stalled": stalled, "message": message}


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="pdf-budget-"))
    config = Config.from_env({**os.environ, "DEROGATION_HOME": str(home)})
    svc = Service.from_config(config)
    start = time.monotonic()
    svc.prepare_knowledge()  # the first start's knowledge-base build, timed apart: it is not a document's cost
    build_seconds = time.monotonic() - start
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", ACTOR)
    files = [Path(item["path"]) for item in hostile.make_all(home / "hostile")]
    files += sorted(REAL_PDFS.rglob("*.pdf")) if REAL_PDFS.is_dir() else []
    rows = []
    for path in files:
        row = attach_one(svc, case.id, path)
        row["set"] = "hostile" if path.is_relative_to(home) else "real-world"
        rows.append(row)
        print(f"{row['set']:10} {row['file'][:44]:44} {row['outcome']:8} {row['seconds']:6.1f} s"
              f"  (indexed in the background: {row['indexing_s']:6.1f} s)"
              + ("  STALLED" if row["stalled"] else "") + (f"  {row['message'][:70]}" if row["message"] else ""))
    start = time.monotonic()
    findings = svc.check(case.id, "en")
    check_seconds = time.monotonic() - start
    summary = {
        "configuration": "default (retrieval on), one case, files attached in sequence, then one check",
        "files": len(rows), "stalled": sum(r["stalled"] for r in rows),
        "crashed": sum(r["outcome"] == "crashed" for r in rows),
        "refused": sum(r["outcome"] == "refused" for r in rows),
        "recorded": sum(r["outcome"] == "recorded" for r in rows),
        "slowest_attach_s": max(r["seconds"] for r in rows),
        "slowest_background_indexing_s": max(r["indexing_s"] for r in rows),
        "check_after_all_s": round(check_seconds, 2), "knowledge_base_build_s": round(build_seconds, 1), "check_findings": len(findings),
        "load_average": os.getloadavg()[0],
    }
    out = ROOT / "evals" / "results" / "pdf_budget.json"
    out.write_text(json.dumps({"summary": summary, "files": rows}, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 1 if summary["stalled"] else 0


if __name__ == "__main__":
    sys.exit(main())
