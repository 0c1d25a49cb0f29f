"""The knowledge base as the user reaches it: search (and, from the CLI, the corpus)."""

from __future__ import annotations

from assistant.errors import ServiceError
from assistant.knowledge.passage import Passage
from assistant.service.base import ServiceBase


class KnowledgeOps(ServiceBase):
    def search(
        self, query: str, k: int = 5, case_id: str | None = None, instrument: str | None = None,
        language: str | None = None,
    ) -> list[Passage]:
        kb = self._ready_knowledge()
        if kb is None:
            raise ServiceError("no knowledge base is configured")
        if case_id:
            self._sync_case_index(case_id)
        return kb.search(query, k=k, case_id=case_id, instrument=instrument, language=language)
