"""The knowledge base as the user reaches it: search (and, from the CLI, the corpus)."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import ServiceError
from assistant.knowledge.passage import Passage
from assistant.service.base import ServiceBase

if TYPE_CHECKING:
    from assistant.knowledge.index import IngestReport, KnowledgeBase


class KnowledgeOps(ServiceBase):
    def search(
        self, query: str, k: int = 5, case_id: str | None = None, instrument: str | None = None,
        language: str | None = None, notes: int | None = None, notes_language: str | None = None,
    ) -> list[Passage]:
        """The `k` best passages of the official texts (and of the case's documents with `case_id`),
        then up to `notes` of the project's notes ranked on their own (`Passage.is_note`; the search
        settings' number when None, 0: none), in `notes_language` only when it is given."""
        if not query.strip():
            raise ServiceError("give a question to search for")
        if k < 1 or (notes is not None and notes < 0):
            raise ServiceError("the number of passages must be 1 or more, and of notes 0 or more")
        kb = self._ready_knowledge()
        if kb is None:
            raise ServiceError("no knowledge base is configured")
        if case_id and self.retrieval_cache.pending(self.case(case_id), self.config.embedder):
            self.index_evidence(case_id)  # documents attached before they were indexed at attach time
        with self._serving():
            return kb.search(query, k=k, case_id=case_id, instrument=instrument, language=language, notes=notes,
                             notes_language=notes_language)

    @staticmethod
    def query_language(text: str) -> str:
        """The language a question is written in ("fr" or "en"), as the search reads it."""
        from assistant.knowledge.expansion import query_language

        return query_language(text)

    # -- the corpus (derogation corpus …) -------------------------------------------------------
    def _corpus(self) -> KnowledgeBase:
        kb = self.knowledge
        if kb is None:
            raise ServiceError("retrieval is turned off (DEROGATION_RETRIEVAL=off)")
        return kb

    def corpus_sources(self) -> tuple[list[tuple[str, int]], str]:
        """Each ingested source with its chunk count, and the embedding model of the store."""
        kb = self._corpus()
        return kb.sources(), kb.embedder.model_id

    def corpus_add(self, paths: list[Path], progress: bool = False) -> IngestReport:
        if not paths:
            raise ServiceError("give at least one file or folder to add")
        paths = [_usable(Path(p)) for p in paths]
        return self._corpus().add(paths, progress=progress)

    def corpus_remove(self, paths: list[Path]) -> int:
        paths = [_usable(Path(p)) for p in paths]
        kb = self._corpus()
        return sum(kb.remove_source(str(p.resolve())) for p in paths)

    def corpus_sync(self, progress: bool = False) -> IngestReport:
        report = self._corpus().sync(progress=progress)
        self.warm_passages()  # the sections' passages, found once now rather than during an interview
        return report

    def corpus_rebuild(self, progress: bool = False) -> IngestReport:
        return self._corpus().rebuild(progress=progress)

    def knowledge_built(self) -> bool:
        """True when the knowledge base was built at least once (nothing to prepare), or retrieval is
        off; cheap (reads one small file), for a face to decide whether to show a build's progress."""
        from assistant.knowledge import generation

        return self._knowledge is None or generation.read(self.store.home) > 0

    def prepare_knowledge(self, on_progress=None) -> None:
        """Build the knowledge base from the shipped notes, a file at a time with
        `on_progress(files done, files)`; nothing to do when it is built."""
        kb = self.knowledge
        if kb is None:
            return
        from assistant.knowledge.sources import NOTES_DIR, source_files

        files, _ = source_files([NOTES_DIR])
        for done, path in enumerate(files, start=1):
            kb.add([path])
            if on_progress is not None:
                on_progress(done, len(files))
        self._ready_knowledge()
        self.warm_passages()

    def warm_in_background(self) -> threading.Thread | None:
        """`warm_passages` in a background thread (the app, when it starts on a built knowledge base:
        a corpus changed since by `derogation corpus add` is searched then, not during an interview).
        It yields to the users: no search of its own starts while a request is served. Returns the
        thread (None when there is nothing to warm)."""
        if self._knowledge is None or not self.knowledge_built():
            return None

        def run() -> None:
            with contextlib.suppress(Exception):  # an optimisation only: a draft finds its passages itself
                self.warm_passages(yielding=True)

        thread = threading.Thread(target=run, name="warm-passages", daemon=True)
        thread.start()
        return thread

    def knowledge_notices(self) -> list[str]:
        """What the user should know about the knowledge base (e.g. a damaged store was rebuilt)."""
        kb = self._knowledge
        return list(kb.notices) if kb is not None and not isinstance(kb, str) else []


def _usable(path: Path) -> Path:
    """`path`, or a ServiceError when it is a loop of symbolic links or a link to nothing."""
    try:
        path.resolve()
        if path.is_symlink():
            os.stat(path)  # follows the link: ELOOP or ENOENT when it leads nowhere
    except RuntimeError:  # Path.resolve on a loop (Python < 3.13)
        raise ServiceError(f"{path}: a loop of symbolic links (it leads back to itself); "
                           "give the real file or folder") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ServiceError(f"{path}: a loop of symbolic links (it leads back to itself); "
                               "give the real file or folder") from None
        if exc.errno == errno.ENOENT:
            raise ServiceError(f"{path}: a symbolic link to nothing (its target does not exist)") from None
        raise ServiceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return path
