"""Faults: the process killed (SIGKILL) in the middle of saving, attaching and exporting; two
writers on one case; the vector store deleted or corrupted. Nothing acknowledged is ever lost,
the case always loads, and the user is told what happened."""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CLI_TIMEOUT, ROOT, run_cli
from docx import Document
from helpers import answer_all, attach_all_mandatory
from pydantic import ValidationError

from assistant import words as i18n
from assistant.case.model import Event
from assistant.case.store import CaseStore
from assistant.documents.pdf import text_pdf
from assistant.knowledge.index import KnowledgeBase
from assistant.service import Actor, ConflictError, Service, ServiceError

TRIALS = int(os.environ.get("FAULT_TRIALS", "220"))
MAX_TRIALS = 10 * TRIALS  # more trials only if the coverage below is not reached yet; never on time
LINE_TIMEOUT = 600  # seconds: only a hung worker fails, never a busy machine


# -- SIGKILL in the middle of the work ---------------------------------------------------------------
class Worker:
    """tests/e2e/fault_worker.py, and the lines it writes, read by a thread so a kill never blocks us."""

    def __init__(self, home: Path, case_id: str, pdf_dir: Path, out_dir: Path) -> None:
        env = {**os.environ, "DEROGATION_HOME": str(home), "DEROGATION_RETRIEVAL": "off", "DEROGATION_USER": "w"}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "e2e" / "fault_worker.py"), str(home), case_id, str(pdf_dir), str(out_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.pending: list[str] = []
        self.pid = 0
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next() == "ready", self.proc.stderr.read() if self.proc.poll() is not None else ""

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout: float = LINE_TIMEOUT) -> str:
        return self.lines.get(timeout=timeout)

    def run(self, trial: int, seed: int) -> int:
        """Start a trial's worker; its pid (what it said before we learnt it is kept for `until_exit`)."""
        self.proc.stdin.write(f"{trial} {seed}\n")
        self.proc.stdin.flush()
        self.pending = []
        while not (line := self.next()).startswith(f"{trial} pid "):
            self.pending.append(line)
        self.pid = int(line.split()[2])
        return self.pid

    def until_acknowledged(self, trial: int, count: int) -> None:
        """Wait until the trial's worker has acknowledged `count` calls (what it says is kept for
        `until_exit`), or has stopped by itself."""
        acked = sum(line.split(" ", 2)[1] == "ack" for line in self.pending)
        while acked < count and not any(line.split(" ", 2)[1] in ("exit", "crash") for line in self.pending):
            line = self.next()
            self.pending.append(line)
            acked += line.split(" ", 2)[1] == "ack"

    def until_exit(self, trial: int) -> list[list[str]]:
        said = []
        while True:
            words = (self.pending.pop(0) if self.pending else self.next()).split(" ", 4)
            assert words[0] == str(trial), words
            if words[1] == "exit":
                return said
            assert words[1] != "crash", " ".join(words)
            said.append(words[1:])

    def close(self) -> None:
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # a worker left running by a failed check
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=LINE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def export_is_whole(path: Path, lang: str) -> bool:
    last_heading = i18n.t("sub_exceptions", lang)
    if path.suffix == ".md":
        text = path.read_text(encoding="utf-8")
        return text.endswith("\n") and f"## {last_heading}" in text
    headings = [p.text for p in Document(str(path)).paragraphs if p.style.name.startswith("Heading")]
    return headings[-1] == last_heading


def test_sigkill_at_random_points_never_loses_an_acknowledged_change(home, actor, make_pdf, tmp_path):
    svc = Service(CaseStore(home))
    case_id = svc.new_case("ansm", "individual", "Valve", actor).id
    answer_all(svc, case_id, actor)
    attach_all_mandatory(svc, case_id, actor, make_pdf)
    svc.check(case_id)
    pdf_dir, out_dir = tmp_path / "uploads", tmp_path / "exports"
    sha_of = {}
    for n in range(12):
        pdf = text_pdf([f"Rapport clinique {n}", "Résultats " * (n + 1)], pdf_dir / f"rapport-{n}.pdf")
        sha_of[pdf.name] = hashlib.sha256(pdf.read_bytes()).hexdigest()
    out_dir.mkdir()
    store, lang = CaseStore(home), svc.case(case_id).settings.language
    last_acked: dict[str, str] = {}  # question -> token of the last acknowledged answer
    acked_tokens: set[str] = set()
    acked_files: set[str] = set()
    checked_exports: set[str] = set()
    stats = dict.fromkeys(["ops acknowledged", "killed mid-call", "killed in answer", "killed in attach",
                           "killed in export", "torn journal tails", "exports"], 0)
    rng = random.Random(os.environ.get("FAULT_SEED", "derogation"))
    journal_path = store.folder(case_id) / "journal.jsonl"
    seen = journal_path.read_bytes()  # the journal's complete lines already checked, byte for byte
    history = {e.data["value"].split(" ", 1)[0] for e in store.events(case_id) if e.type == "answered"}  # grows below

    def covered() -> bool:
        """What the trials must have exercised (checked below): counts of events, never of seconds."""
        return (stats["killed mid-call"] >= TRIALS // 2
                and min(stats["killed in answer"], stats["killed in attach"], stats["killed in export"]) >= 20
                and len(acked_tokens) >= TRIALS // 3 and len(acked_files) >= 5 and len(checked_exports) >= 10)

    worker = Worker(home, case_id, pdf_dir, out_dir)
    start = time.monotonic()
    trial = 0
    try:
        while trial < TRIALS or (not covered() and trial < MAX_TRIALS):
            pid = worker.run(trial, rng.randrange(2**32))
            # Progress, not time, decides where the kill lands: after the worker's k-th acknowledged
            # call, then a random instant into the next one (a slow machine only moves it earlier).
            worker.until_acknowledged(trial, rng.randrange(4))
            time.sleep(rng.uniform(0, 0.02))
            os.kill(pid, signal.SIGKILL)
            said = worker.until_exit(trial)

            in_flight = said[-1] if said and said[-1][0] == "begin" else None
            for words in said:
                if words[0] != "ack":
                    continue
                stats["ops acknowledged"] += 1
                if words[1] == "answer":
                    last_acked[words[2]] = words[3]
                    acked_tokens.add(words[3])
                elif words[1] == "attach":
                    acked_files.add(words[2])
            stats["killed mid-call"] += in_flight is not None
            if in_flight:
                stats[f"killed in {in_flight[1]}"] += 1
            journal = journal_path.read_bytes()
            stats["torn journal tails"] += not journal.endswith(b"\n")

            case = store.load(case_id)  # the case always loads
            # Only the lines added since the last trial are read; what was checked before is still
            # there byte for byte (a repair of a torn tail never eats an acknowledged line).
            assert journal.startswith(seen), f"trial {trial}: the journal's checked lines were changed"
            complete = journal[: journal.rfind(b"\n") + 1]
            for n, line in enumerate(complete[len(seen):].splitlines()):
                try:
                    event = Event.model_validate_json(line)
                except ValidationError as exc:
                    raise AssertionError(f"trial {trial}: new journal line {n + 1} is unreadable: {line[:200]!r}") from exc
                if event.type == "answered":
                    history.add(event.data["value"].split(" ", 1)[0])
            seen = complete
            assert acked_tokens <= history, f"trial {trial}: acknowledged answers lost: {acked_tokens - history}"
            if in_flight and in_flight[1] == "answer" and in_flight[3] in history:
                last_acked[in_flight[2]] = in_flight[3]  # saved, though killed before it could say so
            for question, token in last_acked.items():
                now = case.value(question).split(" ", 1)[0]
                assert now == token, f"trial {trial}: {question} is {now}, last saved {token}"
            held = {e.sha256 for e in case.evidence}
            for name in acked_files:
                sha = sha_of[name]
                assert sha in held, f"trial {trial}: acknowledged attachment {name} lost"
                stored = store.files_dir(case_id) / f"{sha}.pdf"
                assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
                assert (store.files_dir(case_id) / f"{sha}.pages.json").exists()
            acked_exports = {w[2] for w in said if w[:2] == ["ack", "export"]}
            finals = {p.name for p in out_dir.iterdir() if not p.name.startswith(".")}
            assert acked_exports <= finals, f"trial {trial}: acknowledged export missing"
            for name in finals - checked_exports:  # every file under a final name is whole
                assert export_is_whole(out_dir / name, lang), f"trial {trial}: partial export {name}"
                checked_exports.add(name)
            trial += 1
    finally:
        worker.close()
    stats["exports"] = len(checked_exports)
    seconds = time.monotonic() - start
    print(f"\n{trial} SIGKILL trials in {seconds:.1f} s: {stats}")
    assert trial >= TRIALS
    assert stats["killed mid-call"] >= TRIALS // 2  # the kills did land inside calls
    assert min(stats["killed in answer"], stats["killed in attach"], stats["killed in export"]) >= 20
    assert len(acked_tokens) >= TRIALS // 3 and len(acked_files) >= 5 and stats["exports"] >= 10
    assert history == {e.data["value"].split(" ", 1)[0] for e in store.events(case_id) if e.type == "answered"}
    final = store.load(case_id)
    assert final.model_dump() == store.load(case_id, version=final.version).model_dump()  # snapshot == replay


def test_an_append_torn_by_a_crash_does_not_swallow_the_next_acknowledged_answer(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "applicant_name", "Valvix", actor)
    journal = svc.store.folder(case.id) / "journal.jsonl"
    with open(journal, "ab") as fh:
        fh.write(b'{"v": 3, "type": "answered", "at": "2025-')  # the process died inside write()
    acknowledged = svc.answer(case.id, "applicant_address", "12 rue des Tanneurs, Montpellier", actor)
    assert acknowledged.version == 3
    assert svc.case(case.id).value("applicant_address") == "12 rue des Tanneurs, Montpellier"
    svc.answer(case.id, "applicant_contact", "C. Roussel", actor)
    assert Service(CaseStore(svc.store.home)).case(case.id).version == 4
    assert all(line.startswith(b'{"v":') and line.endswith(b"}") for line in journal.read_bytes().splitlines())


# -- two writers on one case ----------------------------------------------------------------------------
def test_a_cli_write_between_read_and_save_gives_the_ui_a_conflict_and_the_cli_write_stands(home, actor):
    ui = Service(CaseStore(home))
    case = ui.new_case("ansm", "individual", "Valve", actor)
    seen = ui.case(case.id).version  # the page was rendered at this version
    done = run_cli("answer", case.id, "applicant_name", "Written from the terminal", home=home)
    assert done.returncode == 0, done.stderr
    with pytest.raises(ConflictError) as err:
        ui.answer(case.id, "applicant_name", "Written in the browser", actor, expected_version=seen)
    message = str(err.value)
    assert "was changed by someone else" in message and "reload it" in message and "\n" not in message
    assert ui.case(case.id).value("applicant_name") == "Written from the terminal"
    assert Service(CaseStore(home)).case(case.id).version == seen + 1


HAMMER = """
import os, sys, time
from pathlib import Path
from assistant.service import Actor, Service
from assistant.case.store import CaseStore
case_id, who, go, n = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
svc, actor = Service(CaseStore()), Actor(who, "manufacturer")
questions = ["applicant_contact", "device_references"] if who == "a" else ["healthcare_facilities", "other_approvals"]
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
for i in range(n):
    svc.answer(case_id, questions[i % 2], f"{who}-{i} valeur", actor, replace=True)
    print(f"{who}-{i}", flush=True)
"""


def test_two_processes_saving_different_answers_at_once_lose_nothing(home, actor, tmp_path):
    svc = Service(CaseStore(home))
    case = svc.new_case("ansm", "individual", "Valve", actor)
    go, n = tmp_path / "go", 60
    env = {**os.environ, "DEROGATION_HOME": str(home), "DEROGATION_RETRIEVAL": "off"}
    procs = [subprocess.Popen([sys.executable, "-c", HAMMER, case.id, who, str(go), str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env) for who in "ab"]
    ready = [p.stdout.readline() for p in procs]  # both have loaded the product and wait for the start
    go.touch()
    outputs = [p.communicate(timeout=CLI_TIMEOUT) for p in procs]
    for p, said, (out, err) in zip(procs, ready, outputs, strict=True):
        assert p.returncode == 0 and said == "ready\n", err
        assert len(out.split()) == n
    events = svc.store.events(case.id)
    assert [e.v for e in events] == list(range(1, 2 * n + 2))  # no version written twice
    answered = [e.data["value"].split()[0] for e in events if e.type == "answered"]
    assert sorted(answered) == sorted(f"{w}-{i}" for w in "ab" for i in range(n))
    final = svc.case(case.id)
    assert [final.value(q).split()[0] for q in ("applicant_contact", "device_references")] == [f"a-{n - 2}", f"a-{n - 1}"]
    assert [final.value(q).split()[0] for q in ("healthcare_facilities", "other_approvals")] == [f"b-{n - 2}", f"b-{n - 1}"]
    assert sum(len(final.answers[q].entries) for q in final.answers if q != "device_name") == 2 * n


# -- the vector store deleted or corrupted ----------------------------------------------------------------
class HashEmbedder:
    """Deterministic bag-of-words vectors: the store and its repair are under test, not the model."""

    model_id = "test-hash-embedder@1"
    dimension = 256

    def _vector(self, text: str) -> list[float]:
        v = np.zeros(self.dimension)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        return list(v / (np.linalg.norm(v) or 1.0))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


GUIDANCE = "# Article 97\n\n1. Where a competent authority finds a quokka-valve non-compliant, it acts at once.\n"


@pytest.fixture(scope="module")
def indexed_once(tmp_path_factory):
    """A data home with the notes, one added guidance file, and a case with one document, indexed."""
    root = tmp_path_factory.mktemp("indexed")
    guidance = root / "texts" / "quokka-guidance.md"
    guidance.parent.mkdir()
    guidance.write_text(GUIDANCE, encoding="utf-8")
    home, actor = root / "home", Actor("tester", "manufacturer")
    svc = Service(CaseStore(home), knowledge=KnowledgeBase(home, embedder=HashEmbedder()))
    svc.knowledge.add([guidance])
    case = svc.new_case("ansm", "individual", "Valve", actor)
    pdf = text_pdf(["Certificat CE du dispositif wombat-valve, organisme notifié 0459"], root / "ce.pdf")
    svc.attach(case.id, pdf, actor, kind="previous_ce_certificate")
    assert case.id in {h.case_id for h in svc.search("wombat-valve certificat", k=10, case_id=case.id)}
    return home, case.id, guidance


@pytest.fixture
def indexed(indexed_once, tmp_path):
    """A copy of that home for one test to damage (the guidance file stays where it was ingested from)."""
    source, case_id, guidance = indexed_once
    home = tmp_path / "home"
    shutil.copytree(source, home)
    return home, case_id, guidance


def fresh(home: Path) -> Service:
    return Service(CaseStore(home), knowledge=KnowledgeBase(home, embedder=HashEmbedder()))


def assert_rebuilt(svc: Service, case_id: str, guidance: Path, damage: str) -> None:
    hits = svc.search("quokka-valve non-compliant competent authority", k=3)
    assert hits and "quokka-valve" in hits[0].text  # the added source is back, not only the shipped notes
    assert {s for s, _ in svc.knowledge.sources()} >= {str(guidance.resolve())}
    own = svc.search("wombat-valve certificat", k=10, case_id=case_id)
    assert case_id in {h.case_id for h in own}  # the case's documents are searchable again
    assert len(svc.knowledge.notices) == 1
    notice = svc.knowledge.notices[0]
    assert notice.startswith(damage) and "rebuilt it from its sources" in notice and "\n" not in notice
    assert svc.knowledge.health() is None


def test_a_vector_store_overwritten_with_garbage_is_reported_and_rebuilt(indexed):
    home, case_id, guidance = indexed
    (home / "index" / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(64 * 1024))
    assert_rebuilt(fresh(home), case_id, guidance, "the vector store was unreadable")


def test_a_vector_store_corrupted_under_a_running_service_is_reported_and_rebuilt(indexed):
    home, case_id, guidance = indexed
    svc = fresh(home)
    assert svc.search("quokka-valve", k=1)
    db = home / "index" / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"garbage" * 4096 + db.read_bytes()[28672:])
    assert_rebuilt(svc, case_id, guidance, "the vector store was unreadable")


def test_a_corrupted_list_of_sources_is_reported_and_the_sources_recovered_from_the_store(indexed):
    home, case_id, guidance = indexed
    (home / "index" / "records.sqlite").write_bytes(os.urandom(8192))
    assert_rebuilt(fresh(home), case_id, guidance, "the index's list of sources was unreadable")


def test_a_store_folder_deleted_under_a_running_service_is_rebuilt_on_disk(indexed):
    home, case_id, guidance = indexed
    svc = fresh(home)
    assert svc.search("quokka-valve", k=1)
    shutil.rmtree(home / "index" / "chroma")
    assert_rebuilt(svc, case_id, guidance, "the vector store had lost")
    assert (home / "index" / "chroma" / "chroma.sqlite3").exists()  # written to disk, not into a deleted file
    later = fresh(home)
    assert later.search("quokka-valve", k=1) and not later.knowledge.notices


def test_search_with_a_traversal_case_id_is_refused(indexed):
    home, _, _ = indexed
    with pytest.raises(ServiceError, match="invalid case id"):
        fresh(home).search("certificat", case_id="../../etc")


def test_derogation_search_reports_a_corrupted_store_rebuilds_it_and_answers(corrupted_store_search, with_notes, home):
    """The real command, real embedder, in a data home whose vector store is garbage (b"SQLite format 3"
    and 32 KiB of random bytes): the slowest run of the suite, as it embeds the shipped notes. It is made
    once per session (tests/conftest.py: `NotesIndex`), and the store it rebuilt is the one the other
    tests that need the notes copy; its exit code and output are checked here."""
    done = corrupted_store_search
    assert done.returncode == 0, done.stderr
    notices = [line for line in done.stderr.splitlines() if line.startswith("notice:")]
    assert len(notices) == 1 and "the vector store was unreadable" in notices[0] and "rebuilt it from its sources" in notices[0]
    assert "Traceback" not in done.stderr
    # only the shipped notes in this home: no official text yet, said so, then the notes in their own
    # list (a French question: French headings)
    head, none, _blank, notes, first = done.stdout.splitlines()[:5]
    assert head == "Textes officiels" and notes.startswith("Notes du projet (")
    assert "Aucun texte officiel trouvé" in none and first.startswith("1. ") and "59" in done.stdout
    with_notes(home)  # the store that run rebuilt
    again = run_cli("search", "Article 59", "--k", "1", home=home)
    assert again.returncode == 0 and "notice:" not in again.stderr
