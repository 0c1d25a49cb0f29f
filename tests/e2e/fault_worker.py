"""A process made to be killed (tests/e2e/test_faults.py): it loads the product once, then for each
`<trial> <seed>` line on stdin forks a worker that saves answers, attaches PDFs and exports in a
loop, writing `<trial> begin …` before each call and `<trial> ack …` once the call has returned.
The test kills the worker with SIGKILL; this process reaps it and writes `<trial> exit <status>`.

Usage: python tests/e2e/fault_worker.py HOME CASE_ID PDF_DIR OUT_DIR
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

SHORT = ["applicant_contact", "device_references", "healthcare_facilities", "other_approvals"]
LONG = ["clinical_data_summary", "vigilance_history"]


def say(trial: str, message: str) -> None:
    os.write(1, f"{trial} {message}\n".encode())  # unbuffered: nothing said is lost with the process


def work(svc, case_id: str, pdfs: list[Path], out_dir: Path, trial: str, rng: random.Random) -> None:
    from assistant.service import Actor

    actor = Actor("fault-worker", "manufacturer")
    for n in range(1, 10_000):
        op = rng.choices(["answer", "long", "attach", "md", "docx"], weights=[5, 1, 3, 2, 1])[0]
        if op in ("answer", "long"):
            question, token = rng.choice(SHORT if op == "answer" else LONG), f"t{trial}-{n}"
            # a long answer is a journal line of several pages: a kill can tear its write
            text = f"{token} " + ("réponse détaillée " * rng.randint(300, 500) if op == "long" else "valeur")
            say(trial, f"begin answer {question} {token}")
            svc.answer(case_id, question, text, actor, replace=True)
            say(trial, f"ack answer {question} {token}")
        elif op == "attach":
            pdf = rng.choice(pdfs)
            say(trial, f"begin attach {pdf.name}")
            svc.attach(case_id, pdf, actor, kind="clinical_data")
            say(trial, f"ack attach {pdf.name}")
        else:
            out = out_dir / f"t{trial}-{n}.{op}"
            say(trial, f"begin export {out.name}")
            svc.export(case_id, op, out)
            say(trial, f"ack export {out.name}")


def main() -> None:
    home, case_id, pdf_dir, out_dir = sys.argv[1:5]
    from assistant.case import evidence
    from assistant.case.store import CaseStore
    from assistant.service import Service

    svc = Service(CaseStore(Path(home)))  # no knowledge base: nothing is embedded
    pdfs = sorted(Path(pdf_dir).glob("*.pdf"))
    evidence.read_pdf(pdfs[0])  # load what every call needs once, before forking: a worker starts warm
    with tempfile.TemporaryDirectory() as tmp:
        svc.export(case_id, "docx", Path(tmp) / "warm.docx")
    os.write(1, b"ready\n")
    for line in sys.stdin:
        trial, seed = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                work(svc, case_id, pdfs, Path(out_dir), trial, random.Random(int(seed)))
            except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails
                say(trial, f"crash {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
            os._exit(1)
        say(trial, f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        say(trial, f"exit {status}")


if __name__ == "__main__":
    main()
