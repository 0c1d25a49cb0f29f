"""`derogation attach` returns once the document is read and recorded: a worker process of its own
indexes it, and `check` never waits for that worker (it says the document is still being indexed)."""

import os
import signal
import time
from pathlib import Path

from assistant.service import indexer

LETTER = ["Lettre du Dr Martin, cardiologue au CHU de Montpellier-Sud.",
          "Le patient P-014 est en impasse thérapeutique : aucune alternative chirurgicale n'est possible, "
          "la valve Valvix TMV-28 est la seule option restante selon la réunion de concertation du 3 novembre."]


def _workers(home: Path) -> list[int]:
    """The index workers of this data home still alive."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"index-worker" in cmdline and f"DEROGATION_HOME={home}".encode() in environ:
            found.append(int(pid))
    return found


def test_attach_hands_indexing_to_a_worker_that_ends_on_its_own(cli, home, make_pdf, with_notes, monkeypatch):
    with_notes(home)
    monkeypatch.delenv("DEROGATION_ATTACH_WAIT")  # as a user's script runs it: not on a terminal, no --wait
    case_id = cli("new", "--type", "individual", "--device", "Valvix TMV-28", check=True).stdout.strip()
    try:
        done = cli("attach", case_id, str(make_pdf(LETTER, "lettre.pdf")), "--kind", "clinician_letter", check=True)
        assert done.stdout.startswith("attached lettre.pdf as clinician_letter")
        assert "indexing it in the background" in done.stderr
        deadline = time.monotonic() + 300
        while _workers(home) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not _workers(home), "the index worker did not end"
        checked = cli("check", case_id, check=True)
        assert "still being indexed" not in checked.stderr
        found = cli("search", "impasse thérapeutique du patient", "--case", case_id, "--json", check=True).stdout
        assert "lettre.pdf" in found  # the worker indexed the letter
    finally:
        for pid in _workers(home):
            os.kill(pid, signal.SIGKILL)


def test_check_does_not_wait_for_a_worker_and_says_the_document_is_being_indexed(cli, home, make_pdf, with_notes,
                                                                                 monkeypatch):
    with_notes(home)
    monkeypatch.delenv("DEROGATION_ATTACH_WAIT")
    case_id = cli("new", "--type", "individual", "--device", "Valvix TMV-28", check=True).stdout.strip()
    with indexer.held(home, case_id) as mine:  # this test is the worker indexing the case now
        assert mine
        done = cli("attach", case_id, str(make_pdf(LETTER, "lettre.pdf")), "--kind", "clinician_letter", check=True)
        assert "in the background" in done.stderr and not _workers(home)  # the running one will take it
        checked = cli("check", case_id, "--lang", "en", check=True)
        assert "1 document(s) still being indexed" in checked.stderr
        assert "blocker(s)" in checked.stdout  # the findings are given all the same
        fr = cli("check", case_id, "--lang", "fr", check=True)
        assert "1 document(s) en cours d'indexation" in fr.stderr
    # no worker after all (this one "died"): the next check indexes the document itself
    after = cli("check", case_id, check=True)
    assert "still being indexed" not in after.stderr
    assert not _workers(home)
