"""The service composes a case version's draft once: one user action composes at most once, a change
to the case (or to the corpus) composes again."""

from __future__ import annotations

import pytest
from helpers import answer_all

from assistant.drafting import offline
from assistant.knowledge import generation


@pytest.fixture
def composes(monkeypatch):
    calls: list[str] = []
    real = offline.compose

    def counted(profile, case, lang, *args, **kw):
        calls.append(f"{case.id}@{case.version}:{lang}")
        return real(profile, case, lang, *args, **kw)

    monkeypatch.setattr(offline, "compose", counted)
    return calls


def test_a_consultant_screen_composes_the_draft_once_per_case_version(svc, actor, composes):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor)
    composes.clear()
    lang = svc.case(case.id).settings.language
    # what the review desk asks for on one render
    svc.draft(case.id, lang, use_llm=False)
    svc.readiness(case.id, lang)
    svc.check(case.id)
    svc.generated_section(case.id, "need", lang)
    svc.section_versions(case.id, "need", lang)
    svc.history(case.id, "need")
    svc.cases()
    assert composes == [f"{case.id}@{svc.case(case.id).version}:{lang}"]
    svc.comment(case.id, "need", "Préciser la date", actor)
    svc.readiness(case.id, lang)
    svc.check(case.id)
    assert len(composes) == 2  # a new version: composed again, once


def test_a_change_to_the_corpus_makes_the_cached_drafts_stale(home, actor, composes):
    from assistant.case.store import CaseStore
    from assistant.service import Service

    svc = Service(CaseStore(home), knowledge="auto")
    svc._knowledge = type("NoSearch", (), {"ensure_notes": lambda self: None, "sync_case": lambda *a: None,
                                           "search": lambda *a, **k: [], "notices": []})()
    case = svc.new_case("ansm", "individual", "Valvix", actor)
    svc.check(case.id)
    svc.check(case.id)
    assert len(composes) == 1
    generation.bump(home)  # what `derogation corpus add` does when passages are added or removed
    svc.check(case.id)
    assert len(composes) == 2


def test_a_failing_knowledge_base_gives_the_offline_draft_with_a_notice(home, actor):
    from assistant.case.store import CaseStore
    from assistant.errors import KnowledgeError
    from assistant.service import Service

    class Broken:
        notices: list[str] = []

        def ensure_notes(self):
            raise KnowledgeError("the vector store is unreachable")

    svc = Service(CaseStore(home), knowledge=Broken())
    case = svc.new_case("ansm", "individual", "Valvix", actor)
    draft = svc.draft(case.id, "en", use_llm=False)
    assert draft.sections and "knowledge base is unavailable" in draft.notices[0]
    assert "unreachable" in svc.readiness(case.id).notices[0]
    assert not any(f.kind == "no_supporting_passage" for f in svc.check(case.id))
