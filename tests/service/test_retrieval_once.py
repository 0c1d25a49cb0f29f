"""Retrieval computed once: each section's passages are kept with the index per (corpus generation,
excluded instruments, documents indexed), so a new process (a CLI command) checks a case without
opening the knowledge base; a case's documents are indexed when attached, never when composing."""

from __future__ import annotations

import time

from assistant.case.store import CaseStore
from assistant.service import Service


def _service(home) -> Service:
    return Service(CaseStore(home), knowledge="auto")


def test_a_second_process_checks_the_case_without_the_embedder_and_finds_the_same(home, with_notes, actor, make_pdf):
    with_notes(home)
    first = _service(home)
    case = first.new_case("ansm", "individual", "Valve", actor)
    first.attach(case.id, make_pdf(["Certificat CE n° CM-734215, organisme notifié 0459"], "cert.pdf"), actor,
                 kind="previous_ce_certificate")  # indexed now, and the sections' passages found
    assert not first.retrieval_cache.pending(first.case(case.id), first.config.embedder)
    found = first.check(case.id)
    draft = first.draft(case.id, use_llm=False)

    second = _service(home)  # as `derogation check` in a new process
    assert second.check(case.id) == found
    assert second.draft(case.id, use_llm=False).model_dump() == draft.model_dump()
    assert isinstance(second._knowledge, str), "the knowledge base (embedder, Chroma, BM25) was opened"
    cited = {c.label for s in draft.sections for c in s.citations.values()}
    assert any("cert.pdf" in c for c in cited)  # the document's own passages are cited


def test_passages_kept_by_a_previous_version_of_the_search_are_found_again(home, with_notes, actor, monkeypatch):
    with_notes(home)
    first = _service(home)
    case = first.new_case("ansm", "individual", "Valve", actor)
    first.draft(case.id, use_llm=False)  # the sections' passages found, and kept
    same = _service(home)
    same.draft(case.id, use_llm=False)
    assert isinstance(same._knowledge, str)  # read back: the knowledge base was not opened
    import assistant.service.base as base

    monkeypatch.setattr(base, "search_version", lambda: "an-upgraded-search", raising=False)  # settings or data changed
    upgraded = _service(home)
    upgraded.draft(case.id, use_llm=False)
    assert not isinstance(upgraded._knowledge, str), "the previous version's passages were served"


def test_an_answer_changing_the_excluded_instruments_finds_new_passages(home, with_notes, actor):
    with_notes(home)
    svc = _service(home)
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.check(case.id)
    before = set(svc.retrieval_cache._entries(svc.retrieval_cache.corpus_scope(), _stamp(svc)))
    svc.answer(case.id, "is_ivd", "yes", actor)  # an IVD: the MDR passages are excluded, others found
    svc.check(case.id)
    after = set(svc.retrieval_cache._entries(svc.retrieval_cache.corpus_scope(), _stamp(svc)))
    assert before < after


def test_documents_attached_in_the_app_are_indexed_in_the_background_then_cited(home, with_notes, actor, make_pdf):
    with_notes(home)
    svc = _service(home)
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.check(case.id)
    pdf = make_pdf(["Rapport d'évaluation clinique : 412 patients suivis deux ans."], "rapport.pdf")
    svc.attach(case.id, pdf, actor, kind="clinical_data", index="later")
    deadline = time.monotonic() + 120
    while svc.indexing(case.id) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert svc.indexing(case.id) is None
    assert not svc.retrieval_cache.pending(svc.case(case.id), svc.config.embedder)
    draft = svc.draft(case.id, use_llm=False)
    assert any("rapport.pdf" in c.label for s in draft.sections for c in s.citations.values())


def _stamp(svc: Service) -> str:
    return svc._corpus_stamp()


def test_the_warm_up_thread_and_a_request_never_check_the_knowledge_base_at_once(home, with_notes, actor):
    """The app's warm-up thread and the first answer open the knowledge base together: one at a time
    checks it (two at once could add the notes twice, or judge the store damaged mid-write)."""
    import threading

    with_notes(home)
    svc = _service(home)
    kb = svc.knowledge
    inside, most = [0], [0]
    real = kb.ensure_notes

    def ensure_notes():
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.2)  # long enough for the other threads to arrive meanwhile
        try:
            return real()
        finally:
            inside[0] -= 1

    kb.ensure_notes = ensure_notes
    threads = [threading.Thread(target=svc._ready_knowledge) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert most[0] == 1
    assert kb.notices == []  # nothing judged damaged, nothing rebuilt


def test_the_app_warm_up_starts_no_search_while_an_answer_is_served(home, with_notes, actor):
    """The app's start-up warm-up (every section's passages, ~80 searches on a copied index) and a
    user's answer share one embedder: once the answer searches, the warm-up starts no search of its
    own until the answer is served (the one under way finishes), then goes on to the end."""
    import shutil
    import threading

    with_notes(home)
    shutil.rmtree(home / "index" / "passages", ignore_errors=True)  # as after a corpus change
    svc = _service(home)
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "is_ivd", "yes", actor)  # its passages are the warm-up's last set: the answer finds them itself
    kb = svc.knowledge
    real = kb.search
    events: list[tuple[str, str]] = []  # (who, "start" | "end"), in order
    warm_searching, answer_searching = threading.Event(), threading.Event()

    def search(*args, **kwargs):
        who = "warm" if threading.current_thread().name == "warm-passages" else "answer"
        events.append((who, "start"))
        (warm_searching if who == "warm" else answer_searching).set()
        try:
            return real(*args, **kwargs)
        finally:
            events.append((who, "end"))
            if who == "warm":  # the warm-up goes on only once the answer is searching (the order forced)
                answer_searching.wait(timeout=120)

    kb.search = search
    warm = svc.warm_in_background()
    assert warm is not None and warm_searching.wait(timeout=120)
    svc.readiness(case.id)  # what the page computes after the answer
    warm.join(timeout=300)
    assert not warm.is_alive()
    first = events.index(("answer", "start"))
    last = len(events) - 1 - events[::-1].index(("answer", "end"))
    assert [e for e in events[first:last] if e == ("warm", "start")] == [], "the warm-up searched while the answer waited"
    assert events.count(("warm", "start")) > 20  # and it went on afterwards: every other section's passages
    assert svc.warm_passages() == 0  # nothing left to find
